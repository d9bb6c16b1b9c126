// A DeviceContext for unit tests of the PCI/IDE/APIC/virtio devices: real memory and
// I/O bus, a hand-driven virtual clock, recorded IRQ levels and events.
import { Emitter } from '../common/events';
import { PhysicalMemory } from '../machine/physical-memory';
import { IoBus } from '../machine/io-bus';
import type { TimedDevice } from '../machine/clock';
import type { IrqLine } from '../machine/interrupts';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';

export interface TestContext extends DeviceContext {
  /** Current level of each ISA IRQ line. */
  irqLevel: boolean[];
  /** Count of rising edges per ISA IRQ. */
  irqEdges: number[];
  timers: TimedDevice[];
  setTime(ns: number): void;
  /** Set the clock and advance every registered timer. */
  advanceTo(ns: number): void;
  emitted: { name: string; payload: unknown }[];
}

export function makeTestContext(ramBytes = 4 * 1024 * 1024): TestContext {
  let now = 0;
  const irqLevel = new Array<boolean>(16).fill(false);
  const irqEdges = new Array<number>(16).fill(0);
  const lines: IrqLine[] = [];
  for (let i = 0; i < 16; i++) {
    lines.push({
      raise() {
        if (!irqLevel[i]) irqEdges[i]++;
        irqLevel[i] = true;
      },
      lower() {
        irqLevel[i] = false;
      },
    });
  }
  const events = new Emitter<MachineEvents>();
  const emitted: { name: string; payload: unknown }[] = [];
  const origEmit = events.emit.bind(events);
  events.emit = ((name: string, payload: unknown) => {
    emitted.push({ name, payload });
    origEmit(name, payload as never);
  }) as typeof events.emit;
  const io = new IoBus();
  io.logUnclaimed = false;
  const timers: TimedDevice[] = [];
  const ctx: TestContext = {
    mem: new PhysicalMemory(ramBytes),
    io,
    clock: { nowNs: () => now },
    events,
    isaIrq: (n) => lines[n],
    addTimer: (d) => timers.push(d),
    requestYield: () => {},
    irqLevel,
    irqEdges,
    timers,
    setTime(ns) {
      now = ns;
    },
    advanceTo(ns) {
      now = ns;
      for (const t of timers) t.advance(ns);
    },
    emitted,
  };
  return ctx;
}
