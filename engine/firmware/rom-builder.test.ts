import { describe, expect, it } from 'vitest';
import { RomBuilder, fixChecksum, sum8 } from './rom-builder';
import { buildRomCode, FIXED, ROM_BASE, ROM_SIZE, TS_VECTORS } from './rom-image';
import { font8x8 } from './font';

describe('RomBuilder', () => {
  it('resolves short, near and absolute fix-ups', () => {
    const b = new RomBuilder(0x100, 0xf0000, 0xf0000);
    b.at(0x10).label('top').u8(0x90).jmpShort('top').jmpNear('far').abs16('far').abs32('top');
    b.at(0x80).label('far').hlt();
    const img = b.finish();
    expect([...img.subarray(0x11, 0x13)]).toEqual([0xeb, 0xfd]); // jmp short -3
    expect(img[0x13]).toBe(0xe9);
    expect(img[0x14] | (img[0x15] << 8)).toBe(0x80 - 0x16);
    expect(img[0x16] | (img[0x17] << 8)).toBe(0x80);
    expect((img[0x18] | (img[0x19] << 8) | (img[0x1a] << 16) | (img[0x1b] << 24)) >>> 0).toBe(0xf0010);
  });

  it('rejects short jumps out of range and unknown labels', () => {
    const b = new RomBuilder(0x200);
    b.jmpShort('x').at(0x150).label('x');
    expect(() => b.finish()).toThrow(/out of range/);
    const c = new RomBuilder(0x10);
    c.jmpNear('nowhere');
    expect(() => c.finish()).toThrow(/unknown ROM label/);
  });

  it('computes checksums', () => {
    const b = new Uint8Array([1, 2, 3, 0, 5]);
    fixChecksum(b, 0, 5, 3);
    expect(sum8(b)).toBe(0);
  });
});

describe('ROM image', () => {
  const rom = buildRomCode(font8x8());
  const img = rom.builder.finish();
  const at = (phys: number) => img[phys - ROM_BASE];

  it('has the reset vector, model byte and classic entry points', () => {
    expect(img.length).toBe(ROM_SIZE);
    // FFFF0: JMP F000:E05B
    expect([0xffff0, 0xffff1, 0xffff2, 0xffff3, 0xffff4].map(at)).toEqual([0xea, 0x5b, 0xe0, 0x00, 0xf0]);
    expect(at(0xffffe)).toBe(0xfc);
    expect(rom.off.post).toBe(FIXED.post);
    expect(at(0xf0000 + FIXED.dummyIret)).toBe(0xcf);
  });

  it('gives each TypeScript vector a hypercall + IRET entry and a HLT wait loop', () => {
    for (const v of TS_VECTORS) {
      const e = 0xf0000 + rom.entry.get(v)!;
      expect([at(e), at(e + 1), at(e + 2), at(e + 3)]).toEqual([0x0f, 0x3f, v, 0xcf]);
      const w = 0xf0000 + rom.wait.get(v)!;
      expect([at(w), at(w + 1), at(w + 2)]).toEqual([0xfb, 0xf4, 0xfa]);
    }
  });

  it('keeps the 8x8 font at F000:FA6E', () => {
    const f = font8x8();
    expect([...img.subarray(0xffa6e - ROM_BASE, 0xffa6e - ROM_BASE + 1024)]).toEqual([...f.subarray(0, 1024)]);
  });
});
