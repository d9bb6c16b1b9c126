import { describe, expect, it } from 'vitest';
import { IsoImage, RawImage, detectImageKind } from './raw-image';
import type { FileHandle } from './file-handle';

function memFile(data: Uint8Array, readOnly = false): FileHandle {
  let buf = data;
  return {
    readOnly,
    size: () => buf.length,
    read(pos, out, off, len) {
      out.fill(0, off, off + len);
      out.set(buf.subarray(pos, Math.min(buf.length, pos + len)), off);
    },
    write(pos, d) {
      buf.set(d, pos);
    },
    truncate(n) {
      const b = new Uint8Array(n);
      b.set(buf.subarray(0, n));
      buf = b;
    },
    sync() {},
    close() {},
  };
}

function bootSector(size: number, partition = false): Uint8Array {
  const b = new Uint8Array(size);
  b[510] = 0x55;
  b[511] = 0xaa;
  if (partition) {
    b[0x1be] = 0x80;
    b[0x1be + 4] = 0x06;
  }
  return b;
}

describe('raw images', () => {
  it('recognises ISO 9660, hard disks and floppies by content', () => {
    const iso = new Uint8Array(0x9000);
    iso.set([1, ...'CD001'.split('').map((c) => c.charCodeAt(0))], 0x8000);
    expect(detectImageKind(iso, iso.length)).toBe('cdrom');
    expect(detectImageKind(bootSector(512), 512)).toBe('fda');
    expect(detectImageKind(bootSector(512), 1474560)).toBe('fda');
    expect(detectImageKind(bootSector(512, true), 16 * 1024 * 1024)).toBe('hda');
    expect(detectImageKind(new Uint8Array(512), 10 * 1024 * 1024)).toBe('hda');
  });

  it('rounds odd sizes up to whole sectors and reads zeros past the end', () => {
    const img = new RawImage(memFile(Uint8Array.from([1, 2, 3])));
    expect(img.size).toBe(512);
    const out = new Uint8Array(8).fill(9);
    img.read(0, out, 0, 8);
    expect([...out]).toEqual([1, 2, 3, 0, 0, 0, 0, 0]);
    expect(() => img.read(510, out, 0, 8)).toThrow(RangeError);
  });

  it('writes unless read-only; CDs are read-only with 2048-byte sectors', () => {
    const disk = new RawImage(memFile(new Uint8Array(1024)));
    disk.write(512, Uint8Array.from([7]));
    const out = new Uint8Array(1);
    disk.read(512, out, 0, 1);
    expect(out[0]).toBe(7);
    const cd = new IsoImage(memFile(new Uint8Array(3000)));
    expect(cd.size).toBe(4096);
    expect(cd.readOnly).toBe(true);
    expect(() => cd.write(0, new Uint8Array(1))).toThrow();
  });
});
