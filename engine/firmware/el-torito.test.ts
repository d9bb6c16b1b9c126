import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { readBootCatalog, BootMedia, SliceBlockDevice, emulatedFloppyBytes } from './el-torito';
import { MemoryBlockDevice } from '../storage/block-device';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Shared guest images live next to the repository: ../shared/guests.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guestPath = (name: string) => path.resolve(repoRoot, '../shared/guests', name);
const haveGuest = (name: string) => fs.existsSync(guestPath(name));


const iso = (name: string) => new MemoryBlockDevice(new Uint8Array(fs.readFileSync(guestPath(name))), true);

describe('El Torito', () => {
  it.skipIf(!haveGuest('linux-686.iso'))('finds the isolinux no-emulation entry', () => {
    const e = readBootCatalog(iso('linux-686.iso'));
    if (typeof e === 'string') throw new Error(e);
    expect(e.media).toBe(BootMedia.NoEmulation);
    expect(e.sectorCount).toBe(4);
    expect(e.lba).toBeGreaterThan(17);
  });

  it.skipIf(!haveGuest('memtest86+ia32.iso'))('finds the memtest 1.44 MB floppy emulation image', () => {
    const cd = iso('memtest86+ia32.iso');
    const e = readBootCatalog(cd);
    if (typeof e === 'string') throw new Error(e);
    expect(e.media).toBe(BootMedia.Floppy144);
    const fd = new SliceBlockDevice(cd, e.lba * 2048, emulatedFloppyBytes(e.media));
    const boot = new Uint8Array(512);
    fd.read(0, boot, 0, 512);
    expect([boot[510], boot[511]]).toEqual([0x55, 0xaa]);
  });

  it('rejects media without a boot record', () => {
    expect(readBootCatalog(new MemoryBlockDevice(new Uint8Array(40 * 2048)))).toMatch(/boot record/);
  });
});
