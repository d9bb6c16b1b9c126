// Node-side helpers shared by `boxwood run` and the guest boot tests: open disk images as
// BlockDevices, recognise bare images by content, and find SeaBIOS/QEMU firmware files.
import fs from 'node:fs';
import path from 'node:path';
import { NodeFile } from '../electron/node/storage/node-file';
import { IsoImage, RawImage, detectImageKind, type ImageKind } from '../engine/storage/raw-image';
import type { BlockDevice } from '../engine/storage/block-device';
import type { FirmwareImages, FirmwareKind } from '../engine/machine/machine-config';

export class ImageError extends Error {}

function openFile(file: string, writable: boolean): NodeFile {
  try {
    return NodeFile.open(file, { writable });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ImageError(`cannot open image ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/** Read the start of a file (enough for the MBR and the ISO primary volume descriptor). */
function readHead(f: NodeFile): Uint8Array {
  const n = Math.min(f.size(), 0x8800);
  const head = new Uint8Array(n);
  f.read(0, head, 0, n);
  return head;
}

/** Classify a bare image by content (ISO 9660 → cdrom, MBR/size → hda or fda). */
export function classifyImage(file: string): ImageKind {
  const f = openFile(file, false);
  try {
    const size = f.size();
    if (size === 0) throw new ImageError(`image ${file} is empty`);
    return detectImageKind(readHead(f), size);
  } finally {
    f.close();
  }
}

/**
 * Open an image for a drive. CDs are read-only; disks and floppies are opened read-only
 * too unless `writable` (so test runs never modify the reference images).
 */
export function openImage(file: string, kind: ImageKind, writable = false): BlockDevice {
  const f = openFile(file, writable && kind !== 'cdrom');
  if (f.size() === 0) throw new ImageError(`image ${file} is empty`);
  if (kind === 'cdrom') return new IsoImage(f);
  return new RawImage(f, { readOnly: !writable });
}

export function readFileOrThrow(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new ImageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

const SEABIOS_DIRS = ['/usr/share/seabios', '/usr/share/qemu'];
const QEMU_ROM_DIRS = ['/usr/share/qemu', '/usr/lib/qemu', '/usr/share/qemu-system-data'];

function findFile(dirs: string[], names: string[]): string | null {
  const extra = process.env.BOXWOOD_FIRMWARE_DIR ? [process.env.BOXWOOD_FIRMWARE_DIR] : [];
  for (const d of [...extra, ...dirs]) for (const n of names) if (fs.existsSync(path.join(d, n))) return path.join(d, n);
  return null;
}

/**
 * SeaBIOS + VGA BIOS (Debian packages seabios) and, for direct kernel boot, QEMU's
 * linuxboot_dma.bin (package qemu-system-data). BOXWOOD_FIRMWARE_DIR is searched first.
 */
export function loadFirmwareImages(firmware: FirmwareKind, needLinuxBoot: boolean): FirmwareImages | undefined {
  if (firmware !== 'seabios') return undefined;
  const bios = findFile(SEABIOS_DIRS, ['bios-256k.bin', 'bios.bin']);
  if (!bios) throw new ImageError('SeaBIOS not found: install the Debian package "seabios" (bios-256k.bin) or set BOXWOOD_FIRMWARE_DIR');
  const vga = findFile(SEABIOS_DIRS, ['vgabios-stdvga.bin']);
  if (!vga) throw new ImageError('vgabios-stdvga.bin not found (Debian package "seabios")');
  const images: FirmwareImages = { bios: readFileOrThrow(bios, 'BIOS'), vgaBios: readFileOrThrow(vga, 'VGA BIOS') };
  if (needLinuxBoot) {
    const lb = findFile(QEMU_ROM_DIRS, ['linuxboot_dma.bin']);
    if (!lb) throw new ImageError('direct kernel boot with SeaBIOS needs linuxboot_dma.bin (Debian package "qemu-system-data")');
    images.linuxBoot = readFileOrThrow(lb, 'option ROM');
  }
  return images;
}
