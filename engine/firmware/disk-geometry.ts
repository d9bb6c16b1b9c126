// Drive geometry for INT 13h's CHS functions.
//  - Floppies: the standard formats, picked by image size (anything else, e.g. a lone
//    512-byte boot sector, is presented as a 1.44 MB diskette).
//  - Hard disks: the geometry an existing MBR was partitioned with, when its partition
//    entries agree on one (as QEMU/SeaBIOS infer it), else LBA-assisted translation
//    (63 sectors, 16/32/64/128/255 heads, at most 1024 cylinders).

export interface Chs {
  cylinders: number;
  heads: number;
  sectors: number;
}

const FLOPPY_FORMATS: [number, Chs, number][] = [
  // bytes, geometry, INT 13h AH=08h drive type (BL)
  [163840, { cylinders: 40, heads: 1, sectors: 8 }, 1],
  [184320, { cylinders: 40, heads: 1, sectors: 9 }, 1],
  [327680, { cylinders: 40, heads: 2, sectors: 8 }, 1],
  [368640, { cylinders: 40, heads: 2, sectors: 9 }, 1],
  [737280, { cylinders: 80, heads: 2, sectors: 9 }, 3],
  [1228800, { cylinders: 80, heads: 2, sectors: 15 }, 2],
  [1474560, { cylinders: 80, heads: 2, sectors: 18 }, 4],
  [1720320, { cylinders: 80, heads: 2, sectors: 21 }, 4],
  [2949120, { cylinders: 80, heads: 2, sectors: 36 }, 5],
];

export function floppyGeometry(bytes: number): { chs: Chs; type: number } {
  for (const [size, chs, type] of FLOPPY_FORMATS) if (size === bytes) return { chs, type };
  return { chs: { cylinders: 80, heads: 2, sectors: 18 }, type: 4 };
}

/** Geometry from the partition table's ending CHS values, if consistent. */
export function mbrGeometry(mbr: Uint8Array): Chs | null {
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return null;
  for (let i = 0; i < 4; i++) {
    const e = 446 + 16 * i;
    const type = mbr[e + 4];
    const lbaSize = mbr[e + 12] | (mbr[e + 13] << 8) | (mbr[e + 14] << 16) | (mbr[e + 15] << 24);
    if (type === 0 || lbaSize === 0) continue;
    const endHead = mbr[e + 5];
    const endSector = mbr[e + 6] & 0x3f;
    if (endSector === 0) continue;
    const heads = endHead + 1;
    if (heads > 255) continue;
    return { cylinders: 0, heads, sectors: endSector };
  }
  return null;
}

export function hardDiskGeometry(bytes: number, mbr?: Uint8Array): Chs {
  const total = Math.floor(bytes / 512);
  const hint = mbr ? mbrGeometry(mbr) : null;
  if (hint) {
    const cylinders = Math.max(1, Math.min(1024, Math.floor(total / (hint.heads * hint.sectors))));
    return { cylinders, heads: hint.heads, sectors: hint.sectors };
  }
  const sectors = 63;
  let heads = 16;
  for (const h of [16, 32, 64, 128, 255]) {
    heads = h;
    if (total <= 1024 * h * sectors) break;
  }
  const cylinders = Math.max(1, Math.min(1024, Math.floor(total / (heads * sectors))));
  return { cylinders, heads, sectors };
}

export function chsToLba(g: Chs, c: number, h: number, s: number): number {
  return (c * g.heads + h) * g.sectors + (s - 1);
}
