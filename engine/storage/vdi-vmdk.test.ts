// VDI and VMDK readers over hand-built in-memory images, format probing, and clear
// errors for damaged headers. (qemu-img-made images are covered by test/storage/interop.ts.)
import { describe, expect, it } from 'vitest';
import { MemoryFile } from './memory-file';
import { VdiImage } from './vdi';
import { VmdkImage, parseVmdkDescriptor } from './vmdk';
import { probeImageFormat } from './image-formats';

const BLOCK = 1024 * 1024;

function vdi(map: number[], type = 1): Uint8Array {
  const allocated = map.filter((e) => e < 0xfffffffe).length;
  const b = new Uint8Array(0x400 + allocated * BLOCK);
  const dv = new DataView(b.buffer);
  b.set(new TextEncoder().encode('<<< Oracle VM VirtualBox Disk Image >>>\n'));
  dv.setUint32(0x40, 0xbeda107f, true);
  dv.setUint32(0x44, 0x00010001, true);
  dv.setUint32(0x48, 0x180, true);
  dv.setUint32(0x4c, type, true);
  dv.setUint32(0x154, 0x200, true);
  dv.setUint32(0x158, 0x400, true);
  dv.setBigUint64(0x170, BigInt(map.length * BLOCK), true);
  dv.setUint32(0x178, BLOCK, true);
  dv.setUint32(0x180, map.length, true);
  map.forEach((e, i) => dv.setUint32(0x200 + i * 4, e, true));
  for (let k = 0; k < allocated; k++) b.fill(0x10 + k, 0x400 + k * BLOCK, 0x400 + (k + 1) * BLOCK);
  return b;
}

describe('VDI', () => {
  it('reads allocated, unallocated and zero blocks across block boundaries', () => {
    const img = new VdiImage(new MemoryFile(vdi([1, 0xffffffff, 0, 0xfffffffe])));
    expect(img.size).toBe(4 * BLOCK);
    expect(img.imageType).toBe('dynamic');
    const out = new Uint8Array(4 * BLOCK);
    img.read(0, out, 0, out.length);
    expect(out[0]).toBe(0x11); // block 0 stored in slot 1
    expect(out[BLOCK - 1]).toBe(0x11);
    expect(out[BLOCK]).toBe(0);
    expect(out[2 * BLOCK]).toBe(0x10);
    expect(out[3 * BLOCK + 5]).toBe(0);
    expect(img.isAllocated(0)).toBe(true);
    expect(img.isAllocated(BLOCK)).toBe(false);
    expect(() => img.write()).toThrow(/read-only/);
    expect(probeImageFormat(vdi([0]).subarray(0, 0x8800))).toBe('vdi');
  });
  it('damaged headers give clear errors', () => {
    const bad = vdi([0]);
    new DataView(bad.buffer).setUint32(0x40, 0, true);
    expect(() => new VdiImage(new MemoryFile(bad))).toThrow(/bad signature/);
    expect(() => new VdiImage(new MemoryFile(vdi([7])))).toThrow(/block map entry 0 \(7\) is out of range/);
    expect(() => new VdiImage(new MemoryFile(vdi([0]).slice(0, 0x201)))).toThrow(/block map lies outside the file/);
    expect(() => new VdiImage(new MemoryFile(vdi([0], 5)))).toThrow(/unsupported image type 5/);
    expect(() => new VdiImage(new MemoryFile(new Uint8Array(10)))).toThrow(/too short/);
  });
});

function vmdkSparse(): Uint8Array {
  // 256 sectors, 8-sector grains, 512 GTEs per table: GD at sector 1, GT at sector 2, grains from sector 6.
  const b = new Uint8Array(512 * 6 + 2 * 4096);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x564d444b, true);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, 3, true);
  dv.setBigUint64(12, 256n, true);
  dv.setBigUint64(20, 8n, true);
  dv.setUint32(44, 512, true);
  dv.setBigUint64(56, 1n, true);
  dv.setUint32(512, 2, true); // GD[0] → GT at sector 2
  dv.setUint32(1024, 6, true); // grain 0 at sector 6
  dv.setUint32(1024 + 4, 1, true); // grain 1: zero grain
  dv.setUint32(1024 + 12, 14, true); // grain 3 at sector 14
  b.fill(0xaa, 6 * 512, 14 * 512);
  b.fill(0xbb, 14 * 512, 22 * 512);
  return b;
}

describe('VMDK', () => {
  it('reads a hosted sparse extent', () => {
    const img = new VmdkImage(new MemoryFile(vmdkSparse()));
    expect(img.size).toBe(256 * 512);
    const out = new Uint8Array(img.size);
    img.read(0, out, 0, out.length);
    expect(out[0]).toBe(0xaa);
    expect(out[4095]).toBe(0xaa);
    expect(out[4096]).toBe(0); // zero grain
    expect(out[2 * 4096]).toBe(0); // unallocated
    expect(out[3 * 4096 + 100]).toBe(0xbb);
    const part = new Uint8Array(10);
    img.read(4090, part, 0, 10); // unaligned, straddling grains
    expect(Array.from(part)).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0, 0, 0, 0]);
    expect(probeImageFormat(vmdkSparse())).toBe('vmdk');
  });
  it('reads a descriptor with FLAT and ZERO extents through the opener', () => {
    const text = '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 4 FLAT "x-flat.vmdk" 1\nRW 2 ZERO\n';
    const flat = new Uint8Array(5 * 512).map((_, i) => i >> 9);
    const img = new VmdkImage(new MemoryFile(new TextEncoder().encode(text)), (name) => {
      expect(name).toBe('x-flat.vmdk');
      return new MemoryFile(flat);
    });
    expect(img.size).toBe(6 * 512);
    const out = new Uint8Array(img.size);
    img.read(0, out, 0, out.length);
    expect([out[0], out[512], out[3 * 512], out[4 * 512], out[5 * 512 + 7]]).toEqual([1, 2, 4, 0, 0]);
    expect(parseVmdkDescriptor(text)).toHaveLength(2);
    expect(probeImageFormat(new TextEncoder().encode(text))).toBe('vmdk');
  });
  it('damaged images give clear errors', () => {
    const b = vmdkSparse();
    new DataView(b.buffer).setBigUint64(56, 1000n, true);
    expect(() => new VmdkImage(new MemoryFile(b))).toThrow(/grain directory lies outside the file/);
    const g = vmdkSparse();
    new DataView(g.buffer).setBigUint64(20, 3n, true);
    expect(() => new VmdkImage(new MemoryFile(g))).toThrow(/grain size 3/);
    expect(() => new VmdkImage(new MemoryFile(new TextEncoder().encode('hello')))).toThrow(/neither a sparse extent nor a text descriptor/);
  });
});

describe('probe', () => {
  it('raw and ISO', () => {
    expect(probeImageFormat(new Uint8Array(1024))).toBe('raw');
    const iso = new Uint8Array(0x8800);
    iso.set(new TextEncoder().encode('CD001'), 0x8001);
    expect(probeImageFormat(iso)).toBe('iso');
    const q = new Uint8Array([0x51, 0x46, 0x49, 0xfb]);
    expect(probeImageFormat(q)).toBe('qcow2');
  });
});
