// El Torito (bootable CD-ROM format specification 1.0): find the boot catalog through the
// Boot Record Volume Descriptor at sector 17 and read its initial/default entry.
import type { BlockDevice } from '../storage/block-device';

export const enum BootMedia {
  NoEmulation = 0,
  Floppy12 = 1,
  Floppy144 = 2,
  Floppy288 = 3,
  HardDisk = 4,
}

export interface BootEntry {
  media: BootMedia;
  /** Real-mode segment to load at (0 means the default 0x07C0). */
  loadSegment: number;
  systemType: number;
  /** Count of 512-byte virtual sectors to load (no-emulation). */
  sectorCount: number;
  /** 2048-byte sector (LBA) of the image. */
  lba: number;
  /** LBA of the boot catalog (for INT 13h 4B01h's specification packet). */
  catalogLba: number;
}

const EL_TORITO_ID = 'EL TORITO SPECIFICATION';

function readSector(cd: BlockDevice, lba: number): Uint8Array {
  const b = new Uint8Array(2048);
  cd.read(lba * 2048, b, 0, 2048);
  return b;
}

/** The bootable default entry, or a reason string when the CD is not El Torito bootable. */
export function readBootCatalog(cd: BlockDevice): BootEntry | string {
  if (cd.size < 18 * 2048) return 'medium too small';
  const brvd = readSector(cd, 17);
  const std = String.fromCharCode(...brvd.subarray(1, 6));
  if (brvd[0] !== 0 || std !== 'CD001') return 'no boot record volume descriptor';
  const id = String.fromCharCode(...brvd.subarray(7, 7 + EL_TORITO_ID.length));
  if (id !== EL_TORITO_ID) return 'not an El Torito boot record';
  const catalogLba = brvd[0x47] | (brvd[0x48] << 8) | (brvd[0x49] << 16) | (brvd[0x4a] << 24);
  if (catalogLba * 2048 + 2048 > cd.size) return 'boot catalog outside the medium';
  const cat = readSector(cd, catalogLba);
  // Validation entry: header 01, key 55 AA, words sum to zero.
  if (cat[0] !== 0x01 || cat[0x1e] !== 0x55 || cat[0x1f] !== 0xaa) return 'invalid validation entry';
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + (cat[i] | (cat[i + 1] << 8))) & 0xffff;
  if (sum !== 0) return 'validation entry checksum mismatch';
  const e = 0x20;
  if (cat[e] !== 0x88) return 'default entry is not bootable';
  return {
    media: (cat[e + 1] & 0x0f) as BootMedia,
    loadSegment: cat[e + 2] | (cat[e + 3] << 8),
    systemType: cat[e + 4],
    sectorCount: cat[e + 6] | (cat[e + 7] << 8),
    lba: (cat[e + 8] | (cat[e + 9] << 8) | (cat[e + 10] << 16) | (cat[e + 11] << 24)) >>> 0,
    catalogLba,
  };
}

/** Size in bytes of an emulated floppy image. */
export function emulatedFloppyBytes(media: BootMedia): number {
  switch (media) {
    case BootMedia.Floppy12: return 1228800;
    case BootMedia.Floppy144: return 1474560;
    case BootMedia.Floppy288: return 2949120;
    default: return 0;
  }
}

/** A window onto part of another block device (the emulated floppy inside the ISO). */
export class SliceBlockDevice implements BlockDevice {
  readonly readOnly = true;
  constructor(
    private readonly base: BlockDevice,
    private readonly offset: number,
    readonly size: number,
  ) {}
  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || offset + length > this.size) throw new RangeError('read past the end of the emulated image');
    // Past the end of the ISO (a truncated image) reads as zeros.
    const avail = Math.max(0, Math.min(length, this.base.size - (this.offset + offset)));
    if (avail > 0) this.base.read(this.offset + offset, into, intoOffset, avail);
    into.fill(0, intoOffset + avail, intoOffset + length);
  }
  write(): void {
    throw new Error('medium is read-only');
  }
  flush(): void {}
}
