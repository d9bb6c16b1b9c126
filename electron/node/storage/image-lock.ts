// One writer per image: a lock file `.NAME.boxwood-lock` beside the image, created
// exclusively and holding the owner's pid. A second writer (another VM, `boxwood disk
// resize|compact` on a running VM's disk, a linked clone of a disk being written) gets a
// clear "in use" error instead of silently corrupting the image. A lock whose process is
// gone (kill -9, host crash) is stale and is taken over. Best effort: where the directory
// is not writable, no lock is taken (the image file's own permissions still apply).
// Also here: the temp files operations that produce an image write beside it
// (`.NAME.PID.boxwood-partial`), and their cleanup once their process is gone.
import fs from 'node:fs';
import path from 'node:path';

export class ImageInUseError extends Error {}

function lockPath(image: string): string {
  return path.join(path.dirname(image), `.${path.basename(image)}.boxwood-lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding a live lock on `image`, or null. */
export function lockHolder(image: string): number | null {
  try {
    const pid = Number(fs.readFileSync(lockPath(image), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Take the write lock; returns the release function. Throws ImageInUseError when held. */
export function lockImage(image: string): () => void {
  const lp = lockPath(image);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lp, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lp, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lp);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return () => {};
      if (code !== 'EEXIST') throw e;
      const holder = lockHolder(image);
      if (holder !== null) throw new ImageInUseError(`${image} is in use by process ${holder}${holder === process.pid ? ' (this process)' : ''}`);
      // Stale (its process died): remove and retry.
      fs.rmSync(lp, { force: true });
    }
  }
  throw new ImageInUseError(`${image}: could not take the image lock`);
}

// ---- temp files of image-producing operations ---------------------------------------

const PARTIAL_SUFFIX = '.boxwood-partial';

export function tempPathFor(dst: string): string {
  return path.join(path.dirname(dst), `.${path.basename(dst)}.${process.pid}${PARTIAL_SUFFIX}`);
}

/** Remove temp files left for `dst` by operations whose process is gone (killed). */
export function cleanStaleTemps(dst: string): string[] {
  const dir = path.dirname(dst);
  const prefix = `.${path.basename(dst)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(PARTIAL_SUFFIX)) continue;
    const pid = Number(n.slice(prefix.length, -PARTIAL_SUFFIX.length));
    if (!Number.isInteger(pid) || (pid !== process.pid && alive(pid))) continue;
    fs.rmSync(path.join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

