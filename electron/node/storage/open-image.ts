// Open any supported image file as a BlockDevice on the node side (VM process, CLI,
// disk operations): the format comes from the file's magic, qcow2 backing files are
// resolved relative to the image that names them and opened read-only, recursively.
// Every image is validated through a read-only handle before a writable one is opened,
// so a corrupt or truncated image fails with a clear error and is never written to.
import fs from 'node:fs';
import path from 'node:path';
import { NodeFile } from './node-file';
import type { BlockDevice } from '../../../engine/storage/block-device';
import { IsoImage, RawImage } from '../../../engine/storage/raw-image';
import { Qcow2Image } from '../../../engine/storage/qcow2-image';
import { VdiImage } from '../../../engine/storage/vdi';
import { VmdkImage } from '../../../engine/storage/vmdk';
import { PROBE_BYTES, probeImageFormat, type ImageFormat } from '../../../engine/storage/image-formats';
import { cleanStaleTemps, lockImage } from './image-lock';

export type { ImageFormat };

const MAX_CHAIN = 16;

export interface ChainLink {
  path: string;
  format: ImageFormat;
}

/** An opened image plus its backing chain; close() closes them all. */
export interface OpenedImage extends BlockDevice {
  readonly format: ImageFormat;
  readonly path: string;
  /** This image first, then each backing file. */
  readonly chain: ChainLink[];
  /** The format-specific object (Qcow2Image for clusterKind/resize/writeZeroes…). */
  readonly image: BlockDevice;
  close(): void;
}

export interface OpenImageOptions {
  writable?: boolean;
  /** Open as this format instead of probing (e.g. a qcow2 header's backing format). */
  format?: ImageFormat;
  /** Attach as a CD: raw/ISO files become read-only 2048-byte-sector IsoImages. */
  cdrom?: boolean;
}

function openFile(file: string, writable: boolean): NodeFile {
  try {
    return NodeFile.open(file, { writable });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`cannot open image ${file}: no such file`);
    if (err.code === 'EACCES' || err.code === 'EROFS') throw new Error(`cannot open image ${file} ${writable ? 'for writing' : ''}: permission denied`);
    throw new Error(`cannot open image ${file}: ${err.message}`);
  }
}

/** The format of an image file, from its content. */
export function probeFile(file: string): ImageFormat {
  const f = openFile(file, false);
  try {
    const head = new Uint8Array(Math.min(f.size(), PROBE_BYTES));
    f.read(0, head, 0, head.length);
    return probeImageFormat(head);
  } finally {
    f.close();
  }
}

/** Where a qcow2 image's backing file name points: relative names are relative to the image. */
export function resolveBacking(imagePath: string, backing: string): string {
  return path.isAbsolute(backing) ? backing : path.join(path.dirname(imagePath), backing);
}

class ImageChain implements OpenedImage {
  constructor(
    readonly image: BlockDevice & { close?(): void },
    readonly format: ImageFormat,
    readonly path: string,
    readonly chain: ChainLink[],
    private readonly backing: OpenedImage | null,
    private readonly release: () => void = () => {},
  ) {}
  get size(): number {
    return this.image.size;
  }
  get readOnly(): boolean {
    return this.image.readOnly;
  }
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    this.image.read(offset, into, intoOffset, length);
  }
  write(offset: number, data: Uint8Array): void {
    this.image.write(offset, data);
  }
  flush(): void {
    this.image.flush();
  }
  close(): void {
    try {
      this.image.close?.();
    } finally {
      this.release();
      this.backing?.close();
    }
  }
}

function construct(f: NodeFile, format: ImageFormat, file: string, writable: boolean, backing: OpenedImage | null): BlockDevice & { close(): void } {
  switch (format) {
    case 'qcow2':
      return new Qcow2Image(f, { backing, readOnly: !writable });
    case 'raw':
      return new RawImage(f, { readOnly: !writable });
    case 'iso':
      return new IsoImage(f);
    case 'vdi':
      return new VdiImage(f);
    case 'vmdk':
      return new VmdkImage(f, (name) => openFile(resolveBacking(file, name), false));
  }
}

function openChain(file: string, opts: OpenImageOptions, depth: number, seen: Set<string>): OpenedImage {
  if (depth > MAX_CHAIN) throw new Error(`backing chain of ${file} is longer than ${MAX_CHAIN} images`);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    throw new Error(`cannot open image ${file}: no such file`);
  }
  if (seen.has(real)) throw new Error(`backing chain loops back to ${file}`);
  seen.add(real);
  const format = opts.format ?? probeFile(file);
  const writable = !!opts.writable;
  if (writable && (format === 'vdi' || format === 'vmdk')) throw new Error(`${file}: ${format.toUpperCase()} images are read-only in Boxwood; convert to qcow2 first`);
  if (writable && format === 'iso') throw new Error(`${file}: ISO images attach read-only`);

  // Validate through a read-only handle first (never writes), including the backing chain.
  let backing: OpenedImage | null = null;
  const ro = openFile(file, false);
  let probe: (BlockDevice & { close(): void }) | null = null;
  try {
    if (ro.size() === 0 && format !== 'raw') throw new Error(`image ${file} is empty`);
    if (format === 'qcow2') {
      const q = new Qcow2Image(ro, { readOnly: true, ignoreBacking: true });
      const h = q.header;
      if (h.backingFile) {
        const bpath = resolveBacking(file, h.backingFile);
        const bfmt = h.backingFormat === 'qcow2' || h.backingFormat === 'raw' ? h.backingFormat : undefined;
        try {
          backing = openChain(bpath, { format: bfmt }, depth + 1, seen);
        } catch (e) {
          throw new Error(`backing file of ${file}: ${(e as Error).message}`);
        }
      }
      if (!writable) probe = construct(ro, format, file, false, backing);
    } else if (!writable) probe = construct(ro, format, file, false, null);
    else construct(ro, format, file, false, null);
  } catch (e) {
    ro.close();
    backing?.close();
    const msg = (e as Error).message;
    throw new Error(msg.includes(file) ? msg : `${file}: ${msg}`);
  }
  let release = () => {};
  if (!probe) {
    ro.close();
    let rw: NodeFile | null = null;
    try {
      release = lockImage(file); // one writer per image
      cleanStaleTemps(file); // leftovers of a killed compaction of this image
      rw = openFile(file, true);
      probe = construct(rw, format, file, true, backing);
    } catch (e) {
      rw?.close();
      release();
      backing?.close();
      const msg = (e as Error).message;
      throw new Error(msg.includes(file) ? msg : `${file}: ${msg}`);
    }
  }
  const chain = [{ path: file, format }, ...(backing?.chain ?? [])];
  return new ImageChain(probe, format, file, chain, backing, release);
}

/**
 * Open an image for a VM or a disk operation. Raw → RawImage, qcow2 → Qcow2Image (with
 * its backing chain), ISO → IsoImage (read-only), VDI/VMDK → read-only readers.
 */
export function openDiskImage(file: string, opts: OpenImageOptions = {}): OpenedImage {
  if (opts.cdrom) {
    if (opts.writable) throw new Error(`${file}: CD images attach read-only`);
    const format = opts.format ?? probeFile(file);
    if (format === 'raw') return openChain(file, { format: 'iso' }, 0, new Set());
    return openChain(file, { format }, 0, new Set());
  }
  return openChain(file, opts, 0, new Set());
}
