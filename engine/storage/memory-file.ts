// A FileHandle over a growable in-memory buffer: unit tests of the image formats, and
// small images built in memory. `syncs` counts sync() calls so tests can check ordering.
import type { FileHandle } from './file-handle';

export class MemoryFile implements FileHandle {
  private buf: Uint8Array;
  private length: number;
  syncs = 0;
  writes = 0;
  closed = false;

  constructor(
    initial: Uint8Array = new Uint8Array(0),
    readonly readOnly = false,
  ) {
    this.buf = new Uint8Array(Math.max(initial.length, 4096));
    this.buf.set(initial);
    this.length = initial.length;
  }

  /** A copy of the current content. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  size(): number {
    return this.length;
  }

  read(position: number, buf: Uint8Array, offset: number, length: number): void {
    const avail = Math.max(0, Math.min(length, this.length - position));
    if (avail > 0) buf.set(this.buf.subarray(position, position + avail), offset);
    if (avail < length) buf.fill(0, offset + avail, offset + length);
  }

  write(position: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('file is read-only');
    this.writes++;
    const end = position + data.length;
    this.ensure(end);
    this.buf.set(data, position);
    if (end > this.length) this.length = end;
  }

  private ensure(n: number): void {
    if (n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(n, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  truncate(length: number): void {
    this.ensure(length);
    if (length < this.length) this.buf.fill(0, length, this.length);
    this.length = length;
  }

  sync(): void {
    this.syncs++;
  }

  close(): void {
    this.closed = true;
  }
}
