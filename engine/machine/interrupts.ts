// Interrupt wiring between devices, interrupt controllers and the CPU.

/** An edge/level interrupt input (an ISA IRQ pin, a GSI on the I/O APIC). */
export interface IrqLine {
  raise(): void;
  lower(): void;
}

/** What the CPU sees: the INTR pin and the INTA cycle (8259A or local APIC). */
export interface InterruptSource {
  /** True while a maskable interrupt is pending for the CPU (the INTR pin). */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector and marks it in service. */
  acknowledge(): number;
}
