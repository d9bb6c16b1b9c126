import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { floppyGeometry, hardDiskGeometry, chsToLba, mbrGeometry } from './disk-geometry';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Shared guest images live next to the repository: ../shared/guests.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guestPath = (name: string) => path.resolve(repoRoot, '../shared/guests', name);
const haveGuest = (name: string) => fs.existsSync(guestPath(name));


describe('CHS geometry', () => {
  it('recognises floppy formats and treats odd sizes as 1.44 MB', () => {
    expect(floppyGeometry(1474560).chs).toEqual({ cylinders: 80, heads: 2, sectors: 18 });
    expect(floppyGeometry(737280).chs).toEqual({ cylinders: 80, heads: 2, sectors: 9 });
    expect(floppyGeometry(2949120).chs.sectors).toBe(36);
    expect(floppyGeometry(512)).toEqual({ chs: { cylinders: 80, heads: 2, sectors: 18 }, type: 4 });
  });

  it('uses LBA-assisted translation without a partition table', () => {
    expect(hardDiskGeometry(16 * 1024 * 1024)).toEqual({ cylinders: 32, heads: 16, sectors: 63 });
    expect(hardDiskGeometry(1024 * 1024 * 1024)).toEqual({ cylinders: 520, heads: 64, sectors: 63 });
    expect(hardDiskGeometry(100 * 1024 * 1024 * 1024).heads).toBe(255);
    expect(hardDiskGeometry(100 * 1024 * 1024 * 1024).cylinders).toBe(1024);
    expect(hardDiskGeometry(512).cylinders).toBe(1);
  });

  it('maps CHS to LBA', () => {
    const g = { cylinders: 80, heads: 2, sectors: 18 };
    expect(chsToLba(g, 0, 0, 1)).toBe(0);
    expect(chsToLba(g, 0, 1, 1)).toBe(18);
    expect(chsToLba(g, 1, 0, 2)).toBe(37);
  });

  it.skipIf(!haveGuest('linux-686.hdd.img'))('follows the geometry of the guest disk partition table', () => {
    const fd = fs.openSync(guestPath('linux-686.hdd.img'), 'r');
    const mbr = new Uint8Array(512);
    fs.readSync(fd, mbr, 0, 512, 0);
    fs.closeSync(fd);
    const hint = mbrGeometry(mbr);
    expect(hint).not.toBeNull();
    const g = hardDiskGeometry(16 * 1024 * 1024, mbr);
    expect(g.heads).toBe(hint!.heads);
    expect(g.sectors).toBe(hint!.sectors);
  });
});
