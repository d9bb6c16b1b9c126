// Named events from a running machine to its host (the VM process forwards them
// over its protocol; the CLI prints them). Payloads are plain data.
export interface MachineEvents {
  [name: string]: unknown;
  /** Bytes written by the guest to a UART, per port index (0 = COM1). */
  'serial-output': { port: number; data: Uint8Array };
  /** Bytes written to the 0xE9/0x402 debug port. */
  'debug-output': Uint8Array;
  /** The display mode changed (text or graphics, size in pixels or cells). */
  'display-mode': { mode: 'text' | 'graphics'; width: number; height: number; cols?: number; rows?: number };
  /** A region of the framebuffer changed (pixels), or the text screen changed. */
  'display-dirty': { x: number; y: number; width: number; height: number };
  /** ACPI S5 / APM power-off, or the guest halted the machine for good. */
  'power-off': { reason: string };
  /** The guest asked for a reset (keyboard controller, port 0xCF9, triple fault). */
  'reset-request': { reason: string };
  /** Disk or CD activity, for the status bar. */
  'storage-activity': { device: string; kind: 'read' | 'write' };
  /** Guest misbehaviour or device diagnostics worth surfacing. */
  log: { level: 'debug' | 'info' | 'warn' | 'error'; source: string; message: string };
}
