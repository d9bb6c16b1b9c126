// Miscellaneous system control ports of the PC/AT and PIIX:
//  - 0x61 (port B): bit 0 PIT channel 2 gate, bit 1 speaker data; reads add bit 4
//    (refresh toggle, flips every 15.085 µs — old BIOS delay loops) and bit 5 (channel 2 OUT).
//  - 0x92 (system control port A, "fast A20"): bit 1 A20 gate, bit 0 fast CPU reset.
//  - 0xCF9 (PIIX reset control) when no PCI ISA bridge claims it: bit 2 set = reset.
//  - 0xB2/0xB3 (APM control/status): plain registers. A write to 0xB2 would raise an SMI
//    on a PIIX4; there is no SMM here, so it is only recorded.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { Clock } from '../machine/clock';
import type { PhysicalMemory } from '../machine/physical-memory';
import type { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';
import type { Pit } from './pit';

const REFRESH_NS = 15085;

export class SystemControl implements Snapshottable {
  readonly stateId = 'system-control';
  readonly stateVersion = 1;
  private portB = 0;
  private port92 = 0;
  private rcr = 0;
  private apmControl = 0;
  private apmStatus = 0;
  private readonly clock: Clock;
  private readonly mem: PhysicalMemory;
  private readonly events: Emitter<MachineEvents>;

  constructor(
    ctx: DeviceContext,
    private readonly pit: Pit,
    opts: { resetControl: boolean },
  ) {
    this.clock = ctx.clock;
    this.mem = ctx.mem;
    this.events = ctx.events;
    ctx.io.register(0x61, 1, { read8: () => this.readPortB(), write8: (_p, v) => this.writePortB(v) });
    ctx.io.register(0x92, 1, {
      read8: () => (this.port92 & ~2) | (this.mem.a20Enabled ? 2 : 0),
      write8: (_p, v) => {
        this.port92 = v & 0x03;
        this.mem.setA20((v & 2) !== 0);
        if (v & 1) this.events.emit('reset-request', { reason: 'port 0x92 fast reset' });
      },
    });
    ctx.io.register(0xb2, 1, { read8: () => this.apmControl, write8: (_p, v) => (this.apmControl = v) });
    ctx.io.register(0xb3, 1, { read8: () => this.apmStatus, write8: (_p, v) => (this.apmStatus = v) });
    if (opts.resetControl) {
      ctx.io.register(0xcf9, 1, {
        read8: () => this.rcr,
        write8: (_p, v) => {
          this.rcr = v & 0x02;
          if (v & 0x04) this.events.emit('reset-request', { reason: `port 0xCF9 written with 0x${v.toString(16)}` });
        },
      });
    }
  }

  private readPortB(): number {
    const refresh = Math.floor(this.clock.nowNs() / REFRESH_NS) & 1;
    return (this.portB & 0x0f) | (refresh << 4) | (this.pit.out2() ? 0x20 : 0);
  }

  private writePortB(v: number): void {
    this.portB = v & 0x0f;
    this.pit.setGate2((v & 1) !== 0);
  }

  reset(): void {
    this.portB = 0;
    this.port92 = 0;
    this.rcr = 0;
    this.pit.setGate2(false);
  }

  saveState(): ComponentState {
    return { portB: this.portB, port92: this.port92, rcr: this.rcr, apmControl: this.apmControl, apmStatus: this.apmStatus };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.portB = state.portB as number;
    this.port92 = state.port92 as number;
    this.rcr = state.rcr as number;
    this.apmControl = state.apmControl as number;
    this.apmStatus = state.apmStatus as number;
  }
}
