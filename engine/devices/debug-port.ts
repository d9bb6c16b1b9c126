// The Bochs/QEMU debug console: bytes written to port 0xE9 (Bochs, many hobby OSes) or
// 0x402 (SeaBIOS's debug output under QEMU) go to the host as 'debug-output'. Reading
// returns 0xE9, the value SeaBIOS and others probe for before using the port.
import type { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';

export const DEBUG_PORTS = [0xe9, 0x402];

export class DebugPort {
  private buffer: number[] = [];
  private readonly events: Emitter<MachineEvents>;

  constructor(ctx: DeviceContext) {
    this.events = ctx.events;
    for (const port of DEBUG_PORTS) {
      ctx.io.register(port, 1, {
        read8: () => 0xe9,
        write8: (_p, v) => {
          this.buffer.push(v);
          if (v === 0x0a || this.buffer.length >= 4096) this.flush();
        },
      });
    }
  }

  /** Emit what has been buffered (the machine calls this after each slice). */
  flush(): void {
    if (!this.buffer.length) return;
    const data = Uint8Array.from(this.buffer);
    this.buffer = [];
    this.events.emit('debug-output', data);
  }
}
