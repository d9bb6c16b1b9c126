// A PS/2 (MF2) keyboard behind the i8042. It answers the keyboard command set
// (LEDs, echo, scan-code set, identify, typematic, enable/disable, reset) and queues
// scan codes from the host. The host supplies set-2 make/break bytes (the i8042
// translates to set 1 when its command byte asks); typematic repeat is the host's job.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';

export const PS2_ACK = 0xfa;
export const PS2_RESEND = 0xfe;
export const PS2_BAT_OK = 0xaa;

/** Set-2 → set-1 translation table of the 8042 (IBM PC/AT technical reference). */
export const SET2_TO_SET1 = new Uint8Array([
  0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
  0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
  0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
  0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
  0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
  0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
  0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
  0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
  0x80, 0x81, 0x82, 0x41, 0x54, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
  0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
  0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
  0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
  0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
  0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
  0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
  0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
]);

const QUEUE_MAX = 256;

export class Ps2Keyboard implements Snapshottable {
  readonly stateId = 'ps2-keyboard';
  readonly stateVersion = 1;
  /** Bytes waiting for the controller, already in the form the guest reads. */
  readonly queue: number[] = [];
  /** Command awaiting its parameter byte (0 = none). */
  private pendingCommand = 0;
  scanSet = 2;
  enabled = true;
  leds = 0;
  /** Controller translation (command byte bit 6); set by the i8042. */
  translate = true;
  /** A set-2 F0 prefix was seen while translating: the next code gets bit 7. */
  private breakPrefix = false;
  /** Called when bytes were queued, so the controller can fill its output buffer. */
  onData: () => void = () => {};

  /** Host → keyboard: set-2 scan-code bytes (make codes, F0 break prefix, E0/E1 prefixes). */
  sendScancodes(bytes: number[]): void {
    if (!this.enabled) return;
    for (const b of bytes) {
      if (this.translate) {
        if (b === 0xf0) {
          this.breakPrefix = true;
          continue;
        }
        this.push(b === 0xe0 || b === 0xe1 ? b : SET2_TO_SET1[b] | (this.breakPrefix ? 0x80 : 0));
        this.breakPrefix = false;
      } else {
        this.push(b);
      }
    }
    this.onData();
  }

  private push(b: number): void {
    if (this.queue.length < QUEUE_MAX) this.queue.push(b);
  }

  private reply(...bytes: number[]): void {
    for (const b of bytes) this.push(b);
    this.onData();
  }

  /** A byte from the guest (port 0x60 write with no controller command pending). */
  write(v: number): void {
    if (this.pendingCommand) {
      const cmd = this.pendingCommand;
      this.pendingCommand = 0;
      switch (cmd) {
        case 0xed:
          this.leds = v & 7;
          this.reply(PS2_ACK);
          return;
        case 0xf0:
          if (v === 0) {
            // Query: the answer is translated like scan codes (set 2 reads as 0x41 through the 8042).
            const id = this.translate ? [0, 0x43, 0x41, 0x3f][this.scanSet] : this.scanSet;
            this.reply(PS2_ACK, id);
          } else if (v >= 1 && v <= 3) {
            this.scanSet = v;
            this.reply(PS2_ACK);
          } else {
            this.reply(PS2_RESEND);
          }
          return;
        case 0xf3:
          this.reply(PS2_ACK); // typematic rate/delay: repeat is the host's
          return;
      }
    }
    switch (v) {
      case 0xed: // set LEDs
      case 0xf0: // get/set scan code set
      case 0xf3: // typematic
        this.pendingCommand = v;
        this.reply(PS2_ACK);
        return;
      case 0xee: // echo
        this.reply(0xee);
        return;
      case 0xf2: // identify: MF2 keyboard (0x83 reads as 0x41 when the controller translates)
        this.reply(PS2_ACK, 0xab, this.translate ? 0x41 : 0x83);
        return;
      case 0xf4:
        this.enabled = true;
        this.reply(PS2_ACK);
        return;
      case 0xf5: // disable and restore defaults
        this.setDefaults();
        this.enabled = false;
        this.reply(PS2_ACK);
        return;
      case 0xf6: // defaults, keep scanning
        this.setDefaults();
        this.reply(PS2_ACK);
        return;
      case 0xff: // reset + BAT
        this.queue.length = 0;
        this.setDefaults();
        this.enabled = true;
        this.reply(PS2_ACK, PS2_BAT_OK);
        return;
      case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        this.reply(PS2_ACK); // set-3 key type commands: accepted, no effect
        return;
      case 0xfe: // resend
        this.reply(PS2_ACK);
        return;
      default:
        logGuestError('ps2-keyboard', `cmd${v}`, `PS/2 keyboard: unknown command 0x${v.toString(16)}`);
        this.reply(PS2_RESEND);
    }
  }

  private setDefaults(): void {
    this.scanSet = 2;
    this.leds = 0;
    this.pendingCommand = 0;
    this.breakPrefix = false;
  }

  reset(): void {
    this.queue.length = 0;
    this.setDefaults();
    this.enabled = true;
  }

  saveState(): ComponentState {
    return {
      queue: this.queue.slice(), pendingCommand: this.pendingCommand, scanSet: this.scanSet, enabled: this.enabled,
      leds: this.leds, translate: this.translate, breakPrefix: this.breakPrefix,
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.queue.length = 0;
    this.queue.push(...(state.queue as number[]));
    this.pendingCommand = state.pendingCommand as number;
    this.scanSet = state.scanSet as number;
    this.enabled = state.enabled as boolean;
    this.leds = state.leds as number;
    this.translate = state.translate as boolean;
    this.breakPrefix = state.breakPrefix as boolean;
  }
}
