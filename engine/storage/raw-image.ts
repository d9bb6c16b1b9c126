// Raw disk images (a byte-for-byte copy of a disk, floppy or CD) over an injected
// FileHandle. Reads past the end of a file that is not a whole number of sectors read
// as zeros, so odd-sized images (a 512-byte boot sector, a truncated ISO) still work.
import type { BlockDevice } from './block-device';
import type { FileHandle } from './file-handle';

export class RawImage implements BlockDevice {
  readonly size: number;
  readonly readOnly: boolean;

  /**
   * @param sectorSize the device's sector size: the size is rounded up to it (512 for
   *   disks and floppies, 2048 for CDs).
   */
  constructor(
    private readonly file: FileHandle,
    opts: { readOnly?: boolean; sectorSize?: number } = {},
  ) {
    const sector = opts.sectorSize ?? 512;
    this.size = Math.ceil(file.size() / sector) * sector;
    this.readOnly = opts.readOnly ?? file.readOnly;
  }

  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read of ${length} bytes at ${offset} is past the end of the image (${this.size})`);
    }
    this.file.read(offset, into, intoOffset, length);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('image is read-only');
    if (offset < 0 || offset + data.length > this.size) {
      throw new RangeError(`write of ${data.length} bytes at ${offset} is past the end of the image (${this.size})`);
    }
    this.file.write(offset, data);
  }

  flush(): void {
    if (!this.readOnly) this.file.sync();
  }

  close(): void {
    this.file.close();
  }
}

/**
 * An ISO 9660 / El Torito CD image: read-only, 2048-byte sectors. `isIso9660` checks the
 * primary volume descriptor's "CD001" at byte 0x8001 (sector 16).
 */
export class IsoImage extends RawImage {
  constructor(file: FileHandle) {
    super(file, { readOnly: true, sectorSize: 2048 });
  }

  static isIso9660(head: Uint8Array): boolean {
    if (head.length < 0x8006) return false;
    return String.fromCharCode(...head.subarray(0x8001, 0x8006)) === 'CD001';
  }
}

/** What a bare image most likely is, from its size and first bytes (CLI and VM import use it). */
export type ImageKind = 'cdrom' | 'hda' | 'fda';

const FLOPPY_SIZES = new Set([163840, 184320, 327680, 368640, 737280, 1228800, 1474560, 1720320, 2949120]);

/**
 * Classify an image: ISO 9660 → CD; an MBR with a plausible partition table, or a size
 * that is not a floppy's → hard disk; floppy sizes and lone boot sectors → floppy.
 * `head` is the first 0x8800 bytes (or the whole file when smaller).
 */
export function detectImageKind(head: Uint8Array, size: number): ImageKind {
  if (IsoImage.isIso9660(head)) return 'cdrom';
  const bootSig = head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa;
  if (bootSig && size > 2949120) return 'hda';
  if (bootSig && hasPartitionTable(head) && !FLOPPY_SIZES.has(size) && size > 512) return 'hda';
  if (FLOPPY_SIZES.has(size) || size <= 512 || (bootSig && size <= 2949120)) return 'fda';
  return 'hda';
}

function hasPartitionTable(mbr: Uint8Array): boolean {
  let any = false;
  for (let i = 0; i < 4; i++) {
    const e = 0x1be + i * 16;
    const status = mbr[e];
    if (status !== 0 && status !== 0x80) return false;
    if (mbr[e + 4] !== 0) any = true;
  }
  return any;
}
