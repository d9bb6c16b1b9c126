// The one interface the engine's disk devices and firmware use to reach an image.
// Synchronous on purpose: the VM process runs the emulator loop on its own thread,
// and a blocking read of a few sectors is cheaper and simpler than suspending the CPU.
// Implementations (raw file, qcow2, ISO, in-memory) are injected by the host side,
// so the engine never imports Node's fs.
export interface BlockDevice {
  /** Size in bytes (a multiple of 512 for disks, of 2048 for CD images). */
  readonly size: number;
  readonly readOnly: boolean;
  /** Read `length` bytes at byte `offset` into `into` (at intoOffset). Throws on I/O error. */
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void;
  /** Write bytes at byte `offset`. Throws when readOnly or on I/O error. */
  write(offset: number, data: Uint8Array): void;
  /** Make every completed write durable (guest FLUSH CACHE / virtio flush). */
  flush(): void;
}

/** An in-memory disk: tests, and images the host has already loaded whole. */
export class MemoryBlockDevice implements BlockDevice {
  readonly size: number;
  constructor(
    private readonly data: Uint8Array,
    readonly readOnly = false,
  ) {
    this.size = data.length;
  }
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || offset + length > this.size) throw new RangeError(`read of ${length} bytes at ${offset} is past the end (${this.size})`);
    into.set(this.data.subarray(offset, offset + length), intoOffset);
  }
  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('medium is read-only');
    if (offset < 0 || offset + data.length > this.size) throw new RangeError(`write of ${data.length} bytes at ${offset} is past the end (${this.size})`);
    this.data.set(data, offset);
  }
  flush(): void {}
}
