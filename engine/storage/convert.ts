// The copy loop behind conversion, cloning, compaction and snapshot-layer merges:
// reads the source in 1 MiB chunks, skips grains (destination clusters) that are all
// zero — a fresh destination already reads them as zero, so the result stays sparse —
// reports progress and stops between chunks when the AbortSignal fires. Works on any
// BlockDevice pair; the node side (electron/node/storage/disk-operations.ts) adds temp
// files, renames and locks around it.
import type { BlockDevice } from './block-device';

export interface ProgressOptions {
  /** Called with bytes processed and the total (virtual size). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export class CancelledError extends Error {
  constructor() {
    super('operation cancelled');
  }
}

/** Whether buf[start, end) is all zero: word compares over the aligned middle (hot loop). */
function isZero(buf: Uint8Array, start: number, end: number): boolean {
  const abs = buf.byteOffset + start;
  const head = Math.min(end - start, (4 - (abs & 3)) & 3);
  let i = start;
  for (; i < start + head; i++) if (buf[i]) return false;
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (w[k]) return false;
    i += words * 4;
  }
  for (; i < end; i++) if (buf[i]) return false;
  return true;
}

const CHUNK = 1024 * 1024;

export interface CopyPlan {
  src: BlockDevice;
  /** Destination opened writable; zero regions are skipped (reads as zero already). */
  dst: BlockDevice;
  /** Granularity of zero detection (the destination's cluster size). */
  grain: number;
  /** Skip the grain at `offset` (e.g. unallocated in the top layer when compacting). */
  skip?: (offset: number) => boolean;
  /** When set, zero grains are written as zero clusters (compact of an overlay). */
  zeroWriter?: (offset: number, length: number) => void;
}

/** Copy `plan.src` into `plan.dst` (same offsets); throws CancelledError when aborted. */
export async function copyData(plan: CopyPlan, opts: ProgressOptions): Promise<void> {
  const { src, dst, grain } = plan;
  const total = src.size;
  const buf = new Uint8Array(CHUNK);
  let lastYield = Date.now();
  for (let off = 0; off < total; off += CHUNK) {
    if (opts.signal?.aborted) throw new CancelledError();
    const n = Math.min(CHUNK, total - off);
    let wanted = !plan.skip;
    for (let g = 0; !wanted && g < n; g += grain) wanted = !plan.skip!(off + g);
    if (wanted) {
      src.read(off, buf, 0, n);
      for (let g = 0; g < n; g += grain) {
        const e = Math.min(g + grain, n);
        if (plan.skip?.(off + g)) continue;
        if (isZero(buf, g, e)) plan.zeroWriter?.(off + g, e - g);
        else dst.write(off + g, buf.subarray(g, e));
      }
    }
    opts.onProgress?.(off + n, total);
    // Let timers and abort signals run during long copies.
    if (Date.now() - lastYield > 50) {
      await new Promise((r) => setTimeout(r, 0));
      lastYield = Date.now();
    }
  }
}
