// Versioned per-component state descriptions (QEMU vmstate-style).
// Every stateful component (CPU, each device, the memory map) implements
// Snapshottable. A state is a plain structured-clone-friendly object: numbers,
// strings, booleans, arrays, plain objects and typed arrays only — no class
// instances, no functions — so it can cross a MessagePort or be written to disk.
export type StateValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | Float64Array
  | StateValue[]
  | { [key: string]: StateValue };

export type ComponentState = { [key: string]: StateValue };

export interface Snapshottable {
  /** Stable identifier of this component inside a machine state file. */
  readonly stateId: string;
  /** Bumped whenever the shape of saveState() changes incompatibly. */
  readonly stateVersion: number;
  saveState(): ComponentState;
  /** Must accept exactly what saveState() produced for the same stateVersion. */
  loadState(state: ComponentState, version: number): void;
}

export class StateVersionError extends Error {
  constructor(stateId: string, found: number, supported: number) {
    super(`state of ${stateId} has version ${found}; this build reads version ${supported}`);
    this.name = 'StateVersionError';
  }
}
