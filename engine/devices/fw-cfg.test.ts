import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { FwCfg, FwCfgKey } from './fw-cfg';

function setup() {
  const ctx = makeTestContext();
  const fw = new FwCfg(ctx);
  const read = (key: number, n: number) => {
    ctx.io.out16(0x510, key);
    return [...Array(n)].map(() => ctx.io.in8(0x511));
  };
  return { ctx, fw, read };
}

const be32 = (b: number[], o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

describe('fw_cfg', () => {
  it('signature, id and numeric items', () => {
    const { fw, read } = setup();
    expect(String.fromCharCode(...read(FwCfgKey.Signature, 4))).toBe('QEMU');
    expect(read(FwCfgKey.Id, 4)).toEqual([3, 0, 0, 0]);
    fw.addU64(FwCfgKey.RamSize, 128 * 1024 * 1024);
    expect(read(FwCfgKey.RamSize, 8)).toEqual([0, 0, 0, 8, 0, 0, 0, 0]);
    expect(read(0x1234, 2)).toEqual([0, 0]); // unknown key reads zeros
  });

  it('lists files in a sorted big-endian directory', () => {
    const { fw, read } = setup();
    fw.addFile('etc/e820', new Uint8Array(20));
    fw.addFile('bootorder', new TextEncoder().encode('/x\n'));
    const dir = read(FwCfgKey.FileDir, 4 + 64 * 2);
    expect(be32(dir, 0)).toBe(2);
    const name = (i: number) => String.fromCharCode(...dir.slice(4 + i * 64 + 8, 4 + i * 64 + 8 + 20)).replace(/\0.*$/, '');
    expect(name(0)).toBe('bootorder');
    expect(name(1)).toBe('etc/e820');
    expect(be32(dir, 4)).toBe(3);
    const sel = (dir[8] << 8) | dir[9];
    expect(String.fromCharCode(...read(sel, 3))).toBe('/x\n');
  });

  it('DMA reads with select and skip', () => {
    const { ctx, fw } = setup();
    const key = fw.addFile('genroms/test.bin', Uint8Array.from([1, 2, 3, 4, 5, 6]));
    const desc = 0x1000;
    const dv = new DataView(ctx.mem.ram.buffer);
    // control = select(key) | read, length 4, address 0x2000
    dv.setUint32(desc, ((key << 16) | 0x08 | 0x02) >>> 0);
    dv.setUint32(desc + 4, 4);
    dv.setUint32(desc + 8, 0);
    dv.setUint32(desc + 12, 0x2000);
    ctx.io.out32(0x514, 0);
    ctx.io.out32(0x518, ((desc >>> 24) | ((desc >>> 8) & 0xff00) | ((desc << 8) & 0xff0000) | (desc << 24)) >>> 0);
    expect([...ctx.mem.ram.subarray(0x2000, 0x2004)]).toEqual([1, 2, 3, 4]);
    expect(dv.getUint32(desc)).toBe(0);
    // Continue with a plain read: past the end reads zero.
    dv.setUint32(desc, 0x02);
    dv.setUint32(desc + 4, 4);
    ctx.io.out32(0x518, ((desc >>> 24) | ((desc >>> 8) & 0xff00) | ((desc << 8) & 0xff0000) | (desc << 24)) >>> 0);
    expect([...ctx.mem.ram.subarray(0x2000, 0x2004)]).toEqual([5, 6, 0, 0]);
  });

  it('DMA signature and saves the selector', () => {
    const { ctx, fw, read } = setup();
    expect(ctx.io.in32(0x514)).toBe(0x51454d55);
    read(FwCfgKey.Signature, 2);
    const s = fw.saveState();
    const c2 = makeTestContext();
    const f2 = new FwCfg(c2);
    f2.loadState(structuredClone(s), 1);
    expect(c2.io.in8(0x511)).toBe('M'.charCodeAt(0));
  });
});
