// FileHandle over a Node file descriptor (synchronous, positional I/O): what the engine's
// image formats use on the node side (CLI, VM process).
import fs from 'node:fs';
import type { FileHandle } from '../../../engine/storage/file-handle';

export class NodeFile implements FileHandle {
  private fd: number;

  private constructor(
    fd: number,
    readonly readOnly: boolean,
    readonly path: string,
  ) {
    this.fd = fd;
  }

  /** Open an existing file; read-only unless writable is set. Throws a readable error. */
  static open(path: string, opts: { writable?: boolean } = {}): NodeFile {
    const fd = fs.openSync(path, opts.writable ? 'r+' : 'r');
    return new NodeFile(fd, !opts.writable, path);
  }

  /** Create (or truncate) a file for writing. */
  static create(path: string): NodeFile {
    return new NodeFile(fs.openSync(path, 'w+'), false, path);
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  read(position: number, buf: Uint8Array, offset: number, length: number): void {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    // Past EOF reads as zeros (the FileHandle contract).
    if (done < length) buf.fill(0, offset + done, offset + length);
  }

  write(position: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path} is open read-only`);
    let done = 0;
    while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, position + done);
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }

  sync(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
