// Byte-addressed file access injected into the engine's image formats (raw, qcow2,
// ISO...). The node side implements it over fs file descriptors; tests use memory.
export interface FileHandle {
  /** Current length in bytes. */
  size(): number;
  /** Read exactly `length` bytes at `position` into buf[offset..]; bytes past EOF read as zero. */
  read(position: number, buf: Uint8Array, offset: number, length: number): void;
  write(position: number, data: Uint8Array): void;
  truncate(length: number): void;
  /** fsync: data written so far survives a crash of the process or the host. */
  sync(): void;
  close(): void;
  readonly readOnly: boolean;
}
