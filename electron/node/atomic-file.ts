// Crash-safe file replacement: write a temp file beside the target, fsync it,
// rename over the target, fsync the directory. A reader sees the old or the new
// content, never half a file.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const dir = path.dirname(target);
  mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      /* the temp file may not exist; the original error matters */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(temp, target);
  syncDirectory(dir);
}

/** fsync a directory so a rename/create inside it survives a host crash (no-op where unsupported). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync directories; rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
