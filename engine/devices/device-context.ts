// What every device is constructed with. Devices never import the machine: they
// get their buses, interrupt lines, clock and event channel through this context.
import type { Emitter } from '../common/events';
import type { PhysicalMemory } from '../machine/physical-memory';
import type { IoBus } from '../machine/io-bus';
import type { Clock, TimedDevice } from '../machine/clock';
import type { IrqLine } from '../machine/interrupts';
import type { MachineEvents } from '../machine/events';

export interface DeviceContext {
  mem: PhysicalMemory;
  io: IoBus;
  clock: Clock;
  events: Emitter<MachineEvents>;
  /** ISA IRQ line n (0-15). The machine routes it to the 8259A pair and, when present, the I/O APIC. */
  isaIrq(n: number): IrqLine;
  /** Register a device that must be advanced in virtual time. */
  addTimer(device: TimedDevice): void;
  /** Ask the machine loop to return to the host soon (e.g. new serial output, a device needs service). */
  requestYield(): void;
}
