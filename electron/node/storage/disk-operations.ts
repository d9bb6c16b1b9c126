// Disk operations behind `boxwood disk …` and the manager UI: create, info, resize,
// convert, clone, compact, delete. Anything that produces a file writes a temp file
// beside the destination (`.NAME.PID.boxwood-partial`), fsyncs it, renames it into
// place and fsyncs the directory — so the source is never touched, and a cancelled,
// failed or killed operation leaves no destination at all (a killed one leaves only
// the temp file, which the next operation on that destination removes).
// Long operations report progress and honour an AbortSignal between chunks.
import fs from 'node:fs';
import path from 'node:path';
import { NodeFile } from './node-file';
import { syncDirectory } from '../atomic-file';
import { openDiskImage, probeFile, resolveBacking, type ChainLink, type ImageFormat, type OpenedImage } from './open-image';
import { createQcow2 } from '../../../engine/storage/qcow2-create';
import { Qcow2Image } from '../../../engine/storage/qcow2-image';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY } from '../../../engine/storage/qcow2-header';
import { checkQcow2, type Qcow2CheckResult } from '../../../engine/storage/qcow2-check';
import type { BlockDevice } from '../../../engine/storage/block-device';
import { CancelledError, copyData, type ProgressOptions } from '../../../engine/storage/convert';
import { ImageInUseError, cleanStaleTemps, lockHolder, lockImage, tempPathFor } from './image-lock';

export { cleanStaleTemps, CancelledError, type ProgressOptions };

/** Refuse to read an image another process is writing (its metadata may be unflushed). */
function notInUse(file: string, what: string): void {
  const pid = lockHolder(file);
  if (pid !== null) throw new ImageInUseError(`${file} is in use by process ${pid}; ${what}`);
}

export type TargetFormat = 'qcow2' | 'raw';

/**
 * Build a new file at `dst` through a temp file: `fill` writes it; on success it is
 * fsynced and renamed into place, on any failure (or cancellation) the temp is removed.
 */
async function produce(dst: string, overwrite: boolean, fill: (temp: string) => Promise<void> | void): Promise<void> {
  if (!overwrite && fs.existsSync(dst)) throw new Error(`${dst} already exists`);
  cleanStaleTemps(dst);
  const temp = tempPathFor(dst);
  try {
    await fill(temp);
    const fd = fs.openSync(temp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (!overwrite && fs.existsSync(dst)) throw new Error(`${dst} already exists`);
    fs.renameSync(temp, dst);
    syncDirectory(path.dirname(dst));
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

// ---- size parsing ------------------------------------------------------------------

/** "8G", "512M", "100K", "1T", "1048576" → bytes (binary units, as qemu-img). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size "${s}" (use e.g. 8G, 512M, 100K or bytes)`);
  const mult = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`invalid size "${s}"`);
  return Math.ceil(bytes / 512) * 512;
}

// ---- create --------------------------------------------------------------------------

export interface CreateOptions {
  /** Virtual size in bytes; defaults to the backing file's size. */
  size?: number;
  format?: TargetFormat;
  /** Backing file (qcow2 only); stored as given, resolved relative to the new image. */
  backing?: string;
  clusterSize?: number;
}

export async function createDisk(dst: string, opts: CreateOptions): Promise<void> {
  const format = opts.format ?? 'qcow2';
  let size = opts.size;
  let backingFormat: ImageFormat | undefined;
  if (opts.backing) {
    if (format !== 'qcow2') throw new Error('a backing file needs the qcow2 format');
    notInUse(resolveBacking(dst, opts.backing), 'a backing file must not change while overlays use it');
    const b = openDiskImage(resolveBacking(dst, opts.backing));
    try {
      backingFormat = b.format;
      if (b.format !== 'qcow2' && b.format !== 'raw') throw new Error(`backing file ${opts.backing} is ${b.format}; convert it to qcow2 or raw first`);
      size ??= b.size;
    } finally {
      b.close();
    }
  }
  if (!size) throw new Error('a size is needed (e.g. --size 8G)');
  const sz = size;
  await produce(dst, false, (temp) => {
    const f = NodeFile.create(temp);
    try {
      if (format === 'qcow2') createQcow2(f, { size: sz, clusterSize: opts.clusterSize, backingFile: opts.backing, backingFormat });
      else f.truncate(Math.ceil(sz / 512) * 512);
      f.sync();
    } finally {
      f.close();
    }
  });
}

// ---- info ------------------------------------------------------------------------------

export interface DiskInfo {
  path: string;
  format: ImageFormat;
  virtualSize: number;
  /** Bytes allocated on the host file system. */
  actualSize: number;
  fileSize: number;
  /** This image first, then its backing files. */
  chain: ChainLink[];
  backingFile?: string;
  clusterSize?: number;
  qcow2Version?: number;
  refcountBits?: number;
  dirty?: boolean;
  corrupt?: boolean;
  snapshots?: number;
}

export function diskInfo(file: string): DiskInfo {
  const img = openDiskImage(file);
  try {
    const st = fs.statSync(file);
    const info: DiskInfo = {
      path: file,
      format: img.format,
      virtualSize: img.size,
      actualSize: st.blocks * 512,
      fileSize: st.size,
      chain: img.chain,
    };
    if (img.image instanceof Qcow2Image) {
      const h = img.image.header;
      info.clusterSize = img.image.clusterSize;
      info.qcow2Version = h.version;
      info.refcountBits = 2 ** h.refcountOrder;
      info.dirty = (h.incompatible & INCOMPAT_DIRTY) !== 0n;
      info.corrupt = (h.incompatible & INCOMPAT_CORRUPT) !== 0n;
      info.snapshots = h.nbSnapshots;
      if (h.backingFile) info.backingFile = h.backingFile;
    }
    return info;
  } finally {
    img.close();
  }
}

// ---- check -----------------------------------------------------------------------------

/** Metadata consistency of a qcow2 image (errors = corruption, leaks = wasted clusters). */
export function checkDisk(file: string): Qcow2CheckResult {
  if (probeFile(file) !== 'qcow2') throw new Error(`${file}: only qcow2 images have metadata to check`);
  const f = NodeFile.open(file);
  try {
    return checkQcow2(f);
  } catch (e) {
    return { errors: [(e as Error).message], leaks: 0, allocated: 0 };
  } finally {
    f.close();
  }
}

// ---- resize ------------------------------------------------------------------------------

/** Grow an image in place (qcow2: crash-safe L1 growth; raw: extend the file). */
export function resizeDisk(file: string, newSize: number): void {
  const img = openDiskImage(file, { writable: true });
  try {
    if (newSize < img.size) throw new Error(`shrinking is not supported (${newSize} < current ${img.size})`);
    if (img.image instanceof Qcow2Image) img.image.resize(Math.ceil(newSize / 512) * 512);
    else if (img.format === 'raw') {
      // A second handle while the image (and its lock) stays open.
      const f = NodeFile.open(file, { writable: true });
      try {
        f.truncate(Math.ceil(newSize / 512) * 512);
        f.sync();
      } finally {
        f.close();
      }
    } else throw new Error(`resizing ${img.format} images is not supported`);
  } finally {
    img.close();
  }
}

// ---- convert / clone / compact (the copy loop is engine/storage/convert.ts) ---------------

/** Write `src` as a new standalone image at `temp` (flattening any backing chain). */
async function writeImage(src: OpenedImage, temp: string, format: TargetFormat, opts: ProgressOptions & { clusterSize?: number }): Promise<void> {
  const f = NodeFile.create(temp);
  try {
    if (format === 'raw') {
      f.truncate(src.size);
      const dst = { size: src.size, readOnly: false, read() {}, write: (o: number, d: Uint8Array) => f.write(o, d), flush: () => f.sync() };
      await copyData({ src, dst, grain: 4096 }, opts);
    } else {
      createQcow2(f, { size: src.size, clusterSize: opts.clusterSize });
      const q = new Qcow2Image(f, { readOnly: false });
      await copyData({ src, dst: q, grain: q.clusterSize }, opts);
      q.flush();
    }
    f.sync();
  } finally {
    f.close();
  }
}

export interface ConvertOptions extends ProgressOptions {
  format: TargetFormat;
  clusterSize?: number;
  /** Replace an existing destination (atomically, by rename). */
  overwrite?: boolean;
}

/** Convert any readable image (raw, qcow2 chain, VDI, VMDK, ISO) to a standalone qcow2 or raw file. */
export async function convertDisk(srcPath: string, dst: string, opts: ConvertOptions): Promise<void> {
  if (path.resolve(srcPath) === path.resolve(dst)) throw new Error('source and destination are the same file');
  notInUse(srcPath, 'stop the VM using it first');
  const src = openDiskImage(srcPath);
  try {
    await produce(dst, !!opts.overwrite, (temp) => writeImage(src, temp, opts.format, opts));
  } finally {
    src.close();
  }
}

export interface CloneOptions extends ProgressOptions {
  /** A qcow2 overlay with the source as its backing file (the source must then stay unchanged). */
  linked?: boolean;
}

export async function cloneDisk(srcPath: string, dst: string, opts: CloneOptions = {}): Promise<void> {
  const fmt = probeFile(srcPath);
  if (opts.linked) {
    if (fmt !== 'qcow2' && fmt !== 'raw') throw new Error(`a linked clone needs a qcow2 or raw source, not ${fmt}`);
    // Store the backing name relative to the clone when they share a tree.
    const rel = path.relative(path.dirname(path.resolve(dst)), path.resolve(srcPath));
    return createDisk(dst, { format: 'qcow2', backing: rel });
  }
  return convertDisk(srcPath, dst, { ...opts, format: fmt === 'raw' ? 'raw' : 'qcow2' });
}

/**
 * Remove the middle of a backing chain, for deleting an external snapshot: the clusters
 * of `overlay`'s backing image that the overlay does not have are copied into the
 * overlay, then the overlay's header switches to the backing's own backing file (or to
 * none). The dropped image itself is left alone (delete it once nothing else uses it).
 * Crash-safe and restartable: the copy only adds data the chain already showed, and the
 * switch is one header-sector write after everything else is durable.
 */
export async function mergeBackingIntoOverlay(overlayPath: string, opts: ProgressOptions = {}): Promise<{ dropped: string; newBacking: string | null }> {
  const top = openDiskImage(overlayPath, { writable: true });
  try {
    if (!(top.image instanceof Qcow2Image) || top.chain.length < 2) throw new Error(`${overlayPath} is not a qcow2 image with a backing file`);
    const q = top.image;
    const mid = q.backingDevice as OpenedImage;
    const midImg = mid.image;
    const grand = top.chain[2] ?? null;
    const cs = q.clusterSize;
    // A cluster of the dropped layer that the overlay does not have: copy it in (data
    // read through the chain; a zero cluster over a deeper backing stays a zero cluster).
    // Whether the dropped layer holds anything in [off, off+cs) (its clusters may be smaller).
    const midHas = (off: number) => {
      if (!(midImg instanceof Qcow2Image)) return true;
      for (let o = off; o < Math.min(off + cs, mid.size); o += Math.min(cs, midImg.clusterSize)) if (midImg.clusterKind(o) !== 'unallocated') return true;
      return false;
    };
    // The chain as the overlay sees it: past the end of the dropped image it reads zeros,
    // which must stay so even if the deeper image is larger.
    const src: BlockDevice = {
      size: q.size,
      readOnly: true,
      read(off, into, at, n) {
        const avail = Math.max(0, Math.min(n, mid.size - off));
        if (avail) mid.read(off, into, at, avail);
        into.fill(0, at + avail, at + n);
      },
      write() {},
      flush() {},
    };
    await copyData(
      {
        src,
        dst: q,
        grain: cs,
        skip: (off) => q.clusterKind(off) !== 'unallocated' || (!midHas(off) && off + cs <= mid.size),
        // Zeros over a deeper backing file must become zero clusters; with none, unallocated reads as zero already.
        zeroWriter: (off, len) => {
          if (grand) q.writeZeroes(off, len);
        },
      },
      opts,
    );
    const newBacking = grand ? path.relative(path.dirname(path.resolve(overlayPath)), path.resolve(grand.path)) : null;
    q.setBackingFile(newBacking, grand?.format ?? null);
    return { dropped: mid.path, newBacking };
  } finally {
    top.close();
  }
}

/**
 * Compact an image: qcow2 is rewritten (same size, cluster size and backing file) with
 * only the clusters this layer really needs; raw becomes a sparse file. Temp + rename:
 * a crash leaves the original untouched.
 */
export async function compactDisk(file: string, opts: ProgressOptions = {}): Promise<{ before: number; after: number }> {
  const before = fs.statSync(file).blocks * 512;
  const release = lockImage(file); // nobody may write while the rewrite runs
  let src: OpenedImage;
  try {
    src = openDiskImage(file);
  } catch (e) {
    release();
    throw e;
  }
  try {
    await produce(file, true, async (temp) => {
      if (src.format === 'raw') return writeImage(src, temp, 'raw', opts);
      if (!(src.image instanceof Qcow2Image)) throw new Error(`compacting ${src.format} images is not supported (convert them to qcow2)`);
      const q = src.image;
      const h = q.header;
      if (h.nbSnapshots > 0) throw new Error(`${file} has internal snapshots, which compaction would drop; delete them with qemu-img snapshot -d first`);
      const f = NodeFile.create(temp);
      try {
        createQcow2(f, { size: q.size, clusterSize: q.clusterSize, backingFile: h.backingFile ?? undefined, backingFormat: h.backingFormat ?? undefined });
        const backing = q.backingDevice;
        const dst = new Qcow2Image(f, { readOnly: false, ignoreBacking: true });
        const cs = q.clusterSize;
        await copyData(
          {
            src: q,
            dst,
            grain: cs,
            // Only clusters this layer owns are copied; the rest keeps reading from the backing file.
            skip: (off) => q.clusterKind(off) === 'unallocated',
            zeroWriter: (off, len) => {
              // A zero cluster over a backing file must stay a zero cluster; without a backing file it needs nothing.
              if (backing && q.clusterKind(off) !== 'unallocated') dst.writeZeroes(off, len);
            },
          },
          opts,
        );
        dst.flush();
      } finally {
        f.close();
      }
    });
  } finally {
    src.close();
    release();
  }
  return { before, after: fs.statSync(file).blocks * 512 };
}

// ---- delete --------------------------------------------------------------------------------

/** Delete an image file (only the file itself, never its backing files). */
export function deleteDisk(file: string): void {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  if (!fs.statSync(file).isFile()) throw new Error(`${file} is not a regular file`);
  notInUse(file, 'stop the VM using it first');
  fs.unlinkSync(file);
  syncDirectory(path.dirname(path.resolve(file)));
  cleanStaleTemps(file);
}
