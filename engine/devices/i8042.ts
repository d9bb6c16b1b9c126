// The Intel 8042 keyboard controller (ports 0x60 data, 0x64 status/command) with a
// PS/2 keyboard on its first port (IRQ 1) and a PS/2 mouse on the aux port (IRQ 12).
// Besides the keyboard, it owns two system lines: the A20 gate (output port bit 1)
// and the CPU reset (output port bit 0, pulsed by command 0xFE).
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { IrqLine } from '../machine/interrupts';
import type { PhysicalMemory } from '../machine/physical-memory';
import type { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';
import { Ps2Keyboard } from './ps2-keyboard';
import { Ps2Mouse } from './ps2-mouse';

const STAT_OBF = 0x01;
const STAT_SYS = 0x04;
const STAT_CMD = 0x08;
const STAT_UNLOCKED = 0x10;
const STAT_AUX_OBF = 0x20;

const CB_KBD_INT = 0x01;
const CB_AUX_INT = 0x02;
const CB_SYS = 0x04;
const CB_KBD_DISABLE = 0x10;
const CB_AUX_DISABLE = 0x20;
const CB_TRANSLATE = 0x40;

const OUT_RESET = 0x01; // active low: 0 holds the CPU in reset
const OUT_A20 = 0x02;

/** Who put the byte in the output buffer. */
const enum Src {
  None = 0,
  Controller = 1,
  Keyboard = 2,
  Aux = 3,
}

export class I8042 implements Snapshottable {
  readonly stateId = 'i8042';
  readonly stateVersion = 1;
  readonly keyboard = new Ps2Keyboard();
  readonly mouse = new Ps2Mouse();
  private status = STAT_UNLOCKED;
  /** Controller RAM; byte 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  private outPort = OUT_RESET | OUT_A20;
  private outByte = 0;
  private outSrc = Src.None;
  /** Replies of controller commands waiting for the output buffer. */
  private ctrlQueue: number[] = [];
  /**
   * Bytes written with 0xD2/0xD3 ("as if from the keyboard/mouse"): the controller puts
   * them in its output buffer itself, even while that interface is disabled — Linux's
   * AUX loopback probe depends on it. Entries are (source << 8) | byte.
   */
  private injectQueue: number[] = [];
  /** Controller command awaiting a data byte on port 0x60 (0 = none). */
  private pendingCommand = 0;
  private irq1High = false;
  private irq12High = false;
  private readonly irq1: IrqLine;
  private readonly irq12: IrqLine;
  private readonly mem: PhysicalMemory;
  private readonly events: Emitter<MachineEvents>;

  constructor(ctx: DeviceContext) {
    this.irq1 = ctx.isaIrq(1);
    this.irq12 = ctx.isaIrq(12);
    this.mem = ctx.mem;
    this.events = ctx.events;
    this.ram[0] = CB_KBD_INT | CB_AUX_INT | CB_SYS | CB_TRANSLATE;
    this.keyboard.translate = true;
    this.keyboard.onData = () => this.refill();
    this.mouse.onData = () => this.refill();
    ctx.io.register(0x60, 1, { read8: () => this.readData(), write8: (_p, v) => this.writeData(v) });
    ctx.io.register(0x64, 1, { read8: () => this.status, write8: (_p, v) => this.writeCommand(v) });
  }

  get commandByte(): number {
    return this.ram[0];
  }

  private setCommandByte(v: number): void {
    this.ram[0] = v;
    this.keyboard.translate = (v & CB_TRANSLATE) !== 0;
    this.status = (this.status & ~STAT_SYS) | (v & CB_SYS ? STAT_SYS : 0);
    this.refill();
  }

  /** Move the next byte into the empty output buffer: controller replies first, then keyboard, then aux. */
  private refill(): void {
    if (!(this.status & STAT_OBF)) {
      if (this.ctrlQueue.length) this.load(this.ctrlQueue.shift()!, Src.Controller);
      else if (this.injectQueue.length) {
        const e = this.injectQueue.shift()!;
        this.load(e & 0xff, e >> 8);
      }
      else if (this.keyboard.queue.length && !(this.ram[0] & CB_KBD_DISABLE)) this.load(this.keyboard.queue.shift()!, Src.Keyboard);
      else if (this.mouse.queue.length && !(this.ram[0] & CB_AUX_DISABLE)) this.load(this.mouse.queue.shift()!, Src.Aux);
    }
    this.updateIrq();
  }

  private load(b: number, src: Src): void {
    this.outByte = b;
    this.outSrc = src;
    this.status |= STAT_OBF;
    if (src === Src.Aux) this.status |= STAT_AUX_OBF;
    else this.status &= ~STAT_AUX_OBF;
  }

  private updateIrq(): void {
    const full = (this.status & STAT_OBF) !== 0;
    const kbd = full && this.outSrc === Src.Keyboard && (this.ram[0] & CB_KBD_INT) !== 0;
    const aux = full && this.outSrc === Src.Aux && (this.ram[0] & CB_AUX_INT) !== 0;
    if (kbd !== this.irq1High) {
      this.irq1High = kbd;
      if (kbd) this.irq1.raise();
      else this.irq1.lower();
    }
    if (aux !== this.irq12High) {
      this.irq12High = aux;
      if (aux) this.irq12.raise();
      else this.irq12.lower();
    }
  }

  private reply(b: number): void {
    this.ctrlQueue.push(b);
    this.refill();
  }

  readData(): number {
    const b = this.outByte;
    this.status &= ~(STAT_OBF | STAT_AUX_OBF);
    this.outSrc = Src.None;
    // Drop IRQ1/IRQ12 before the next byte is loaded, so a queued byte raises a fresh
    // edge: the 8259A is edge-triggered and would otherwise never see it.
    this.updateIrq();
    this.refill();
    return b;
  }

  private setOutputPort(v: number): void {
    this.outPort = v;
    this.mem.setA20((v & OUT_A20) !== 0);
    if (!(v & OUT_RESET)) this.events.emit('reset-request', { reason: 'keyboard controller output port reset line' });
  }

  writeCommand(v: number): void {
    this.status |= STAT_CMD;
    switch (v) {
      case 0x20:
        this.reply(this.ram[0]);
        return;
      case 0xa7:
        this.setCommandByte(this.ram[0] | CB_AUX_DISABLE);
        return;
      case 0xa8:
        this.setCommandByte(this.ram[0] & ~CB_AUX_DISABLE);
        return;
      case 0xa9: // aux interface test: OK
      case 0xab: // keyboard interface test: OK
        this.reply(0x00);
        return;
      case 0xaa: // self test
        this.status |= STAT_SYS;
        this.ram[0] |= CB_SYS;
        this.reply(0x55);
        return;
      case 0xad:
        this.setCommandByte(this.ram[0] | CB_KBD_DISABLE);
        return;
      case 0xae:
        this.setCommandByte(this.ram[0] & ~CB_KBD_DISABLE);
        return;
      case 0xc0: // input port: keyboard not inhibited, colour display
        this.reply(0x80);
        return;
      case 0xd0: // read output port
        this.reply(
          (this.outPort & (OUT_RESET | OUT_A20)) |
            (this.status & STAT_OBF && this.outSrc !== Src.Aux ? 0x10 : 0) |
            (this.status & STAT_AUX_OBF ? 0x20 : 0),
        );
        return;
      case 0xe0: // test inputs
        this.reply(0x00);
        return;
      case 0xdd: // A20 off / on (HP Vectra extension, supported by many BIOSes and QEMU)
        this.setOutputPort(this.outPort & ~OUT_A20);
        return;
      case 0xdf:
        this.setOutputPort(this.outPort | OUT_A20);
        return;
      case 0x60:
      case 0xd1:
      case 0xd2:
      case 0xd3:
      case 0xd4:
        this.pendingCommand = v;
        return;
    }
    if (v > 0x20 && v < 0x40) {
      this.reply(this.ram[v & 0x1f]);
      return;
    }
    if (v > 0x60 && v < 0x80) {
      this.pendingCommand = v;
      return;
    }
    if (v >= 0xf0) {
      // Pulse output lines low for 6 µs: bit 0 clear pulses the CPU reset.
      if (!(v & 1)) this.events.emit('reset-request', { reason: 'keyboard controller reset pulse (0xFE)' });
      return;
    }
    logGuestError('i8042', `cmd${v}`, `i8042: unknown controller command 0x${v.toString(16)}`);
  }

  writeData(v: number): void {
    this.status &= ~STAT_CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    switch (cmd) {
      case 0:
        // To the keyboard; writing also re-enables its interface (as on real 8042s).
        if (this.ram[0] & CB_KBD_DISABLE) this.setCommandByte(this.ram[0] & ~CB_KBD_DISABLE);
        this.keyboard.write(v);
        return;
      case 0x60:
        this.setCommandByte(v);
        return;
      case 0xd1:
        this.setOutputPort(v);
        return;
      case 0xd2: // as if from the keyboard
        this.injectQueue.push((Src.Keyboard << 8) | (v & 0xff));
        this.refill();
        return;
      case 0xd3: // as if from the mouse
        this.injectQueue.push((Src.Aux << 8) | (v & 0xff));
        this.refill();
        return;
      case 0xd4:
        this.mouse.write(v);
        return;
      default:
        this.ram[cmd & 0x1f] = v;
    }
  }

  reset(): void {
    this.status = STAT_UNLOCKED;
    this.ram.fill(0);
    this.ram[0] = CB_KBD_INT | CB_AUX_INT | CB_SYS | CB_TRANSLATE;
    this.keyboard.translate = true;
    this.outPort = OUT_RESET | OUT_A20;
    this.ctrlQueue = [];
    this.injectQueue = [];
    this.pendingCommand = 0;
    this.outSrc = Src.None;
    this.keyboard.reset();
    this.mouse.reset();
    this.updateIrq();
  }

  saveState(): ComponentState {
    return {
      status: this.status, ram: this.ram.slice(), outPort: this.outPort, outByte: this.outByte, outSrc: this.outSrc,
      ctrlQueue: this.ctrlQueue.slice(), injectQueue: this.injectQueue.slice(), pendingCommand: this.pendingCommand, irq1High: this.irq1High,
      irq12High: this.irq12High, keyboard: this.keyboard.saveState(), mouse: this.mouse.saveState(),
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const s = state as Record<string, never>;
    this.status = s.status;
    this.ram.set(s.ram as Uint8Array);
    this.outPort = s.outPort;
    this.outByte = s.outByte;
    this.outSrc = s.outSrc;
    this.ctrlQueue = [...(s.ctrlQueue as number[])];
    this.injectQueue = [...((s.injectQueue as number[] | undefined) ?? [])];
    this.pendingCommand = s.pendingCommand;
    this.irq1High = s.irq1High;
    this.irq12High = s.irq12High;
    this.keyboard.loadState(s.keyboard, this.keyboard.stateVersion);
    this.mouse.loadState(s.mouse, this.mouse.stateVersion);
  }
}
