// Virtual time. Devices never read the host clock; they ask the machine's Clock.
// In deterministic mode time is a pure function of executed instructions (plus
// time skipped while the CPU is halted), so identical inputs give identical runs.
export interface Clock {
  /** Current virtual time in nanoseconds since machine power-on (a float64). */
  nowNs(): number;
}

/** Something that must be called back at a virtual time (PIT, RTC, APIC timer, UART). */
export interface TimedDevice {
  /**
   * Bring the device up to `nowNs` (raise due interrupts) and return the virtual
   * time of its next deadline, or Infinity when it has none.
   */
  advance(nowNs: number): number;
}
