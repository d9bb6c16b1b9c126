// A PS/2 mouse on the i8042 aux port: the standard command set, stream and remote
// modes, wrap mode, and the IntelliMouse (wheel, id 3) and Explorer (5 buttons, id 4)
// extensions unlocked by the sample-rate knock sequences.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import { PS2_ACK, PS2_BAT_OK, PS2_RESEND } from './ps2-keyboard';

const QUEUE_MAX = 256;

export class Ps2Mouse implements Snapshottable {
  readonly stateId = 'ps2-mouse';
  readonly stateVersion = 1;
  readonly queue: number[] = [];
  private pendingCommand = 0;
  enabled = false;
  private remote = false;
  private wrap = false;
  private scaling21 = false;
  private resolution = 2;
  private sampleRate = 100;
  /** 0 = standard, 3 = IntelliMouse, 4 = Explorer. */
  private id = 0;
  private lastRates: number[] = [];
  private buttons = 0;
  /** Movement accumulated while not yet reported. */
  private dx = 0;
  private dy = 0;
  private dz = 0;
  onData: () => void = () => {};

  private reply(...bytes: number[]): void {
    for (const b of bytes) if (this.queue.length < QUEUE_MAX) this.queue.push(b);
    this.onData();
  }

  /**
   * Host → mouse: relative motion (dy positive = up, as PS/2 counts) and buttons
   * (bit 0 left, 1 right, 2 middle, 3/4 side buttons).
   */
  move(dx: number, dy: number, dz: number, buttons: number): void {
    this.dx += dx;
    this.dy += dy;
    this.dz += dz;
    const changed = buttons !== this.buttons;
    this.buttons = buttons;
    if (this.enabled && !this.remote && !this.wrap && (changed || this.dx || this.dy || this.dz)) {
      // Do not pile up packets the guest is not reading.
      if (this.queue.length < QUEUE_MAX - 8) this.reply(...this.packet());
    }
  }

  private packet(): number[] {
    const clamp = (v: number) => Math.max(-256, Math.min(255, v));
    const dx = clamp(this.dx);
    const dy = clamp(this.dy);
    const b0 = 0x08 | (this.buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    const bytes = [b0, dx & 0xff, dy & 0xff];
    this.dx -= dx;
    this.dy -= dy;
    if (this.id === 3 || this.id === 4) {
      const dz = Math.max(-8, Math.min(7, this.dz));
      this.dz -= dz;
      bytes.push(this.id === 4 ? (dz & 0x0f) | ((this.buttons & 0x18) << 1) : dz & 0xff);
    } else {
      this.dz = 0;
    }
    return bytes;
  }

  write(v: number): void {
    if (this.wrap && v !== 0xec && v !== 0xff) {
      this.reply(v); // wrap mode echoes everything but reset commands
      return;
    }
    if (this.pendingCommand) {
      const cmd = this.pendingCommand;
      this.pendingCommand = 0;
      if (cmd === 0xe8) {
        this.resolution = v & 3;
      } else {
        this.sampleRate = v;
        this.lastRates = [...this.lastRates.slice(-2), v];
        const seq = this.lastRates.join(',');
        if (seq === '200,100,80' && this.id === 0) this.id = 3;
        else if (seq === '200,200,80' && this.id === 3) this.id = 4;
      }
      this.reply(PS2_ACK);
      return;
    }
    switch (v) {
      case 0xe6:
        this.scaling21 = false;
        this.reply(PS2_ACK);
        return;
      case 0xe7:
        this.scaling21 = true;
        this.reply(PS2_ACK);
        return;
      case 0xe8: // set resolution
      case 0xf3: // set sample rate
        this.pendingCommand = v;
        this.reply(PS2_ACK);
        return;
      case 0xe9: // status request
        this.reply(
          PS2_ACK,
          (this.remote ? 0x40 : 0) | (this.enabled ? 0x20 : 0) | (this.scaling21 ? 0x10 : 0) | (this.buttons & 1 ? 4 : 0) | (this.buttons & 4 ? 2 : 0) | (this.buttons & 2 ? 1 : 0),
          this.resolution,
          this.sampleRate,
        );
        return;
      case 0xea:
        this.remote = false;
        this.reply(PS2_ACK);
        return;
      case 0xeb: // read data (remote mode)
        this.reply(PS2_ACK, ...this.packet());
        return;
      case 0xec:
        this.wrap = false;
        this.reply(PS2_ACK);
        return;
      case 0xee:
        this.wrap = true;
        this.reply(PS2_ACK);
        return;
      case 0xf0:
        this.remote = true;
        this.reply(PS2_ACK);
        return;
      case 0xf2:
        this.reply(PS2_ACK, this.id);
        return;
      case 0xf4:
        this.enabled = true;
        this.reply(PS2_ACK);
        return;
      case 0xf5:
        this.enabled = false;
        this.reply(PS2_ACK);
        return;
      case 0xf6:
        this.setDefaults();
        this.reply(PS2_ACK);
        return;
      case 0xff:
        this.queue.length = 0;
        this.setDefaults();
        this.id = 0;
        this.wrap = false;
        this.reply(PS2_ACK, PS2_BAT_OK, 0x00);
        return;
      case 0xfe:
        this.reply(PS2_ACK);
        return;
      default:
        logGuestError('ps2-mouse', `cmd${v}`, `PS/2 mouse: unknown command 0x${v.toString(16)}`);
        this.reply(PS2_RESEND);
    }
  }

  private setDefaults(): void {
    this.enabled = false;
    this.remote = false;
    this.scaling21 = false;
    this.resolution = 2;
    this.sampleRate = 100;
    this.pendingCommand = 0;
    this.dx = this.dy = this.dz = 0;
  }

  reset(): void {
    this.queue.length = 0;
    this.setDefaults();
    this.id = 0;
    this.wrap = false;
    this.lastRates = [];
  }

  saveState(): ComponentState {
    return {
      queue: this.queue.slice(), pendingCommand: this.pendingCommand, enabled: this.enabled, remote: this.remote,
      wrap: this.wrap, scaling21: this.scaling21, resolution: this.resolution, sampleRate: this.sampleRate,
      id: this.id, lastRates: this.lastRates.slice(), buttons: this.buttons, dx: this.dx, dy: this.dy, dz: this.dz,
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const { queue, lastRates, ...rest } = state as Record<string, never>;
    this.queue.length = 0;
    this.queue.push(...(queue as number[]));
    this.lastRates = [...(lastRates as number[])];
    Object.assign(this, rest);
  }
}
