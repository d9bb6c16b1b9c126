import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { PciBus } from './pci-bus';
import { PiixIde, type IdeDriveConfig } from './ide';
import { MemoryBlockDevice } from '../storage/block-device';

const BM = 0xc000;

function diskImage(sectors: number): Uint8Array {
  const d = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) for (let i = 0; i < 512; i++) d[s * 512 + i] = (s * 7 + i) & 0xff;
  return d;
}

function isoImage(sectors: number): Uint8Array {
  const d = new Uint8Array(sectors * 2048);
  for (let s = 0; s < sectors; s++) {
    d[s * 2048] = s & 0xff;
    d[s * 2048 + 1] = 0xcd;
    d[s * 2048 + 2047] = 0xef;
  }
  return d;
}

function setup(drives: (IdeDriveConfig | undefined)[]) {
  const ctx = makeTestContext(4 * 1024 * 1024);
  const bus = new PciBus(ctx);
  const ide = new PiixIde(ctx, bus, { drives });
  // What firmware does: BAR4 at 0xC000, IO + bus master enabled.
  bus.writeConfig(0x09, 0x20, 4, BM);
  bus.writeConfig(0x09, 0x04, 2, 0x0005);
  const io = ctx.io;
  const readBlock = (base: number, bytes: number) => {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 2) {
      const w = io.in16(base);
      out[i] = w & 0xff;
      out[i + 1] = w >>> 8;
    }
    return out;
  };
  return { ctx, bus, ide, io, readBlock };
}

function identifyWords(io: ReturnType<typeof setup>['io'], base: number, readBlock: (b: number, n: number) => Uint8Array) {
  const b = readBlock(base, 512);
  return new Uint16Array(b.buffer);
}

function ataString(words: Uint16Array, first: number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += String.fromCharCode(words[first + i] >>> 8, words[first + i] & 0xff);
  return s.trim();
}

function sendPacket(io: ReturnType<typeof setup>['io'], base: number, cdb: number[], byteLimit = 0xfffe, dma = false) {
  io.out8(base + 1, dma ? 1 : 0);
  io.out8(base + 4, byteLimit & 0xff);
  io.out8(base + 5, byteLimit >>> 8);
  io.out8(base + 7, 0xa0);
  const p = new Uint8Array(12);
  p.set(cdb);
  for (let i = 0; i < 12; i += 2) io.out16(base, p[i] | (p[i + 1] << 8));
}

describe('PIIX3 IDE: ATA disk', () => {
  const sectors = 20000;
  it('is 8086:7010 with class 0x010180 and IDE decode enabled', () => {
    const { bus } = setup([]);
    expect(bus.readConfig(0x09, 0, 4)).toBe(0x70108086);
    expect(bus.readConfig(0x09, 0x08, 4) >>> 8).toBe(0x010180);
    expect(bus.readConfig(0x09, 0x41, 1) & 0x80).toBe(0x80);
  });

  it('IDENTIFY DEVICE reports geometry, LBA28 and LBA48 capacity', () => {
    const { io, readBlock, ctx } = setup([{ kind: 'disk', image: new MemoryBlockDevice(diskImage(sectors)) }]);
    io.out8(0x1f6, 0xa0);
    io.out8(0x1f7, 0xec);
    expect(io.in8(0x3f6) & 0x08).toBe(0x08);
    expect(ctx.irqLevel[14]).toBe(true);
    expect(io.in8(0x1f7)).toBe(0x58);
    expect(ctx.irqLevel[14]).toBe(false);
    const w = identifyWords(io, 0x1f0, readBlock);
    expect(w[0]).toBe(0x0040);
    expect(w[1]).toBe(Math.floor(sectors / (16 * 63)));
    expect(w[3]).toBe(16);
    expect(w[6]).toBe(63);
    expect(w[49] & 0x300).toBe(0x300);
    expect(w[60] | (w[61] << 16)).toBe(sectors);
    expect(w[83] & (1 << 10)).toBeTruthy();
    expect(w[100] + w[101] * 65536).toBe(sectors);
    expect(ataString(w, 27, 20)).toBe('BOXWOOD HARDDISK');
    expect(io.in8(0x1f7) & 0x08).toBe(0);
  });

  it('PIO READ SECTORS (LBA28 and CHS), READ MULTIPLE and WRITE SECTORS', () => {
    const img = diskImage(sectors);
    const { io, readBlock, ctx } = setup([{ kind: 'disk', image: new MemoryBlockDevice(img) }]);
    io.out8(0x1f2, 2);
    io.out8(0x1f3, 100);
    io.out8(0x1f4, 0);
    io.out8(0x1f5, 0);
    io.out8(0x1f6, 0xe0);
    io.out8(0x1f7, 0x20);
    const a = readBlock(0x1f0, 512);
    expect(io.in8(0x1f7) & 0x08).toBe(0x08); // second sector ready
    const b = readBlock(0x1f0, 512);
    expect(a).toEqual(img.subarray(100 * 512, 101 * 512));
    expect(b).toEqual(img.subarray(101 * 512, 102 * 512));
    expect(io.in8(0x1f7)).toBe(0x50);
    // CHS: cylinder 1, head 2, sector 3 → LBA (1*16+2)*63+2
    io.out8(0x1f2, 1);
    io.out8(0x1f3, 3);
    io.out8(0x1f4, 1);
    io.out8(0x1f5, 0);
    io.out8(0x1f6, 0xa2);
    io.out8(0x1f7, 0x20);
    const lba = (1 * 16 + 2) * 63 + 2;
    expect(readBlock(0x1f0, 512)).toEqual(img.subarray(lba * 512, lba * 512 + 512));
    // READ MULTIPLE with 4 sectors per block: one DRQ block of 2048 bytes per interrupt
    io.out8(0x1f2, 4);
    io.out8(0x1f7, 0xc6);
    expect(io.in8(0x1f7) & 1).toBe(0);
    io.out8(0x1f2, 8);
    io.out8(0x1f3, 0);
    io.out8(0x1f4, 0);
    io.out8(0x1f5, 0);
    io.out8(0x1f6, 0xe0);
    const edges = ctx.irqEdges[14];
    io.out8(0x1f7, 0xc4);
    io.in8(0x1f7); // the driver acknowledges each block's interrupt
    readBlock(0x1f0, 2048);
    io.in8(0x1f7);
    const second = readBlock(0x1f0, 2048);
    expect(second).toEqual(img.subarray(4 * 512, 8 * 512));
    expect(ctx.irqEdges[14] - edges).toBe(2);
    // WRITE SECTORS: data first, interrupt after the sector is written
    io.out8(0x1f2, 1);
    io.out8(0x1f3, 5);
    io.out8(0x1f6, 0xe0);
    io.out8(0x1f7, 0x30);
    expect(io.in8(0x3f6) & 0x08).toBe(0x08);
    for (let i = 0; i < 256; i++) io.out16(0x1f0, 0xbeef);
    expect(img[5 * 512]).toBe(0xef);
    expect(img[5 * 512 + 1]).toBe(0xbe);
    expect(io.in8(0x1f7)).toBe(0x50);
    expect(ctx.emitted.some((e) => e.name === 'storage-activity')).toBe(true);
  });

  it('READ DMA EXT through a PRD table into guest memory; WRITE DMA from memory', () => {
    const img = diskImage(sectors);
    const { io, ctx } = setup([{ kind: 'disk', image: new MemoryBlockDevice(img) }]);
    const mem = ctx.mem;
    // Two PRD entries: 512 bytes at 0x10000 and 1024 bytes at 0x20000 (EOT).
    mem.write32(0x1000, 0x10000);
    mem.write32(0x1004, 512);
    mem.write32(0x1008, 0x20000);
    mem.write32(0x100c, 0x80000000 | 1024);
    io.out32(BM + 4, 0x1000);
    io.out8(BM, 0x08); // direction: to memory
    io.out8(0x1f6, 0x40);
    io.out8(0x1f2, 0); // HOB count
    io.out8(0x1f2, 3);
    io.out8(0x1f3, 0); // HOB LBA
    io.out8(0x1f3, 50);
    io.out8(0x1f4, 0);
    io.out8(0x1f4, 0);
    io.out8(0x1f5, 0);
    io.out8(0x1f5, 0);
    io.out8(0x1f7, 0x25);
    expect(ctx.irqLevel[14]).toBe(false); // waits for the bus master
    io.out8(BM, 0x09);
    expect(ctx.irqLevel[14]).toBe(true);
    expect(io.in8(BM + 2) & 0x07).toBe(0x04); // not active, interrupt
    expect(mem.ram.subarray(0x10000, 0x10200)).toEqual(img.subarray(50 * 512, 51 * 512));
    expect(mem.ram.subarray(0x20000, 0x20400)).toEqual(img.subarray(51 * 512, 53 * 512));
    expect(io.in8(0x1f7)).toBe(0x50);
    io.out8(BM, 0x08);
    io.out8(BM + 2, 0x04);
    expect(io.in8(BM + 2) & 0x04).toBe(0);
    // WRITE DMA (LBA28): memory → disk
    mem.ram.fill(0x5a, 0x30000, 0x30200);
    mem.write32(0x1000, 0x30000);
    mem.write32(0x1004, 0x80000000 | 512);
    io.out8(BM, 0x00); // direction: from memory
    io.out8(0x1f2, 1);
    io.out8(0x1f3, 9);
    io.out8(0x1f4, 0);
    io.out8(0x1f5, 0);
    io.out8(0x1f6, 0xe0);
    io.out8(0x1f7, 0xca);
    io.out8(BM, 0x01);
    expect(io.in8(0x1f7)).toBe(0x50);
    expect(img.subarray(9 * 512, 10 * 512).every((x) => x === 0x5a)).toBe(true);
  });

  it('bad guest programming is reported to the guest, never thrown', () => {
    const img = diskImage(sectors);
    const { io, ctx } = setup([{ kind: 'disk', image: new MemoryBlockDevice(img) }]);
    const start = (cmd: number, lba: number, count: number) => {
      io.out8(0x1f2, count);
      io.out8(0x1f3, lba & 0xff);
      io.out8(0x1f4, (lba >> 8) & 0xff);
      io.out8(0x1f5, (lba >> 16) & 0xff);
      io.out8(0x1f6, 0xe0 | ((lba >> 24) & 0xf));
      io.out8(0x1f7, cmd);
    };
    // Out-of-range LBA → IDNF
    start(0x20, sectors - 1, 2);
    expect(io.in8(0x1f7) & 0x01).toBe(1);
    expect(io.in8(0x1f1) & 0x10).toBe(0x10);
    // Unknown command → ABRT
    io.out8(0x1f7, 0xfe);
    expect(io.in8(0x1f7) & 0x01).toBe(1);
    expect(io.in8(0x1f1)).toBe(0x04);
    // DMA into memory outside RAM
    ctx.mem.write32(0x1000, 0xf0000000);
    ctx.mem.write32(0x1004, 0x80000000 | 512);
    io.out32(BM + 4, 0x1000);
    io.out8(BM, 0x08);
    start(0xc8, 0, 1);
    io.out8(BM, 0x09);
    expect(io.in8(BM + 2) & 0x02).toBe(0x02);
    expect(io.in8(0x1f7) & 0x01).toBe(1);
    // PRD table without EOT made of zeroes (64 KiB each) at the end of RAM: runs off RAM → error
    io.out8(BM, 0x08);
    io.out8(BM + 2, 0x06);
    io.out32(BM + 4, ctx.mem.ramSize - 8);
    ctx.mem.write32(ctx.mem.ramSize - 8, 0x10000);
    ctx.mem.write32(ctx.mem.ramSize - 4, 512);
    start(0xc8, 0, 1);
    io.out8(BM, 0x09);
    expect(io.in8(BM + 2) & 0x02).toBe(0x02);
    // PRD too short for the transfer
    io.out8(BM, 0x08);
    ctx.mem.write32(0x1000, 0x10000);
    ctx.mem.write32(0x1004, 0x80000000 | 512);
    io.out32(BM + 4, 0x1000);
    start(0xc8, 0, 4);
    io.out8(BM, 0x09);
    expect(io.in8(0x1f7) & 0x01).toBe(1);
    // A disk that fails reads → UNC
    const broken = { size: 512 * 100, readOnly: false, read() { throw new Error('I/O error'); }, write() {}, flush() {} };
    const s2 = setup([{ kind: 'disk', image: broken }]);
    s2.io.out8(0x1f2, 1);
    s2.io.out8(0x1f6, 0xe0);
    s2.io.out8(0x1f7, 0x20);
    expect(s2.io.in8(0x1f7) & 0x01).toBe(1);
    expect(s2.io.in8(0x1f1) & 0x40).toBe(0x40);
    // Writing a read-only disk → ABRT
    const s3 = setup([{ kind: 'disk', image: new MemoryBlockDevice(diskImage(10), true) }]);
    s3.io.out8(0x1f2, 1);
    s3.io.out8(0x1f6, 0xe0);
    s3.io.out8(0x1f7, 0x30);
    expect(s3.io.in8(0x1f1)).toBe(0x04);
  });

  it('FLUSH CACHE calls BlockDevice.flush; SET FEATURES transfer mode; INITIALIZE DEVICE PARAMETERS', () => {
    let flushed = 0;
    const dev = new MemoryBlockDevice(diskImage(2000));
    dev.flush = () => void flushed++;
    const { io, readBlock } = setup([{ kind: 'disk', image: dev }]);
    io.out8(0x1f7, 0xe7);
    expect(flushed).toBe(1);
    expect(io.in8(0x1f7)).toBe(0x50);
    io.out8(0x1f1, 0x03);
    io.out8(0x1f2, 0x22); // MWDMA2
    io.out8(0x1f7, 0xef);
    expect(io.in8(0x1f7) & 1).toBe(0);
    io.out8(0x1f2, 32);
    io.out8(0x1f6, 0xa0 | 7); // 8 heads
    io.out8(0x1f7, 0x91);
    io.out8(0x1f7, 0xec);
    const w = identifyWords(io, 0x1f0, readBlock);
    expect(w[63] >>> 8).toBe(0x04);
    expect(w[55]).toBe(8);
    expect(w[56]).toBe(32);
  });

  it('absent devices: empty channel reads 0, missing slave status 0, soft reset signatures', () => {
    const { io } = setup([{ kind: 'disk', image: new MemoryBlockDevice(diskImage(100)) }, undefined, { kind: 'cdrom', image: null }]);
    io.out8(0x1f6, 0xb0); // slave
    expect(io.in8(0x1f7)).toBe(0);
    io.out8(0x1f2, 0x55);
    expect(io.in8(0x1f2)).toBe(0x55);
    // soft reset on the secondary channel: ATAPI signature, DRDY clear
    io.out8(0x376, 0x04);
    expect(io.in8(0x177) & 0x80).toBe(0x80);
    io.out8(0x376, 0x00);
    expect(io.in8(0x174)).toBe(0x14);
    expect(io.in8(0x175)).toBe(0xeb);
    expect(io.in8(0x177)).toBe(0);
    // ATAPI device answers IDENTIFY DEVICE with ABRT and its signature
    io.out8(0x177, 0xec);
    expect(io.in8(0x177) & 1).toBe(1);
    expect(io.in8(0x175)).toBe(0xeb);
  });
});

describe('PIIX3 IDE: ATAPI CD-ROM', () => {
  const base = 0x170;
  function cd(image: Uint8Array | null) {
    return setup([undefined, undefined, { kind: 'cdrom', image: image ? new MemoryBlockDevice(image, true) : null }]);
  }
  function status(io: ReturnType<typeof setup>['io']) {
    return io.in8(base + 7);
  }
  function dataIn(s: ReturnType<typeof setup>): Uint8Array {
    const chunks: number[] = [];
    while (s.io.in8(base + 7) & 0x08) {
      const n = s.io.in8(base + 4) | (s.io.in8(base + 5) << 8);
      expect(s.io.in8(base + 2)).toBe(2);
      chunks.push(...s.readBlock(base, n));
    }
    return Uint8Array.from(chunks);
  }

  it('IDENTIFY PACKET DEVICE', () => {
    const s = cd(null);
    s.io.out8(base + 6, 0xa0);
    s.io.out8(base + 7, 0xa1);
    const w = identifyWords(s.io, base, s.readBlock);
    expect(w[0]).toBe(0x85c0);
    expect(ataString(w, 27, 20)).toBe('BOXWOOD DVD-ROM');
  });

  it('empty drive: TEST UNIT READY fails with NOT READY / MEDIUM NOT PRESENT', () => {
    const s = cd(null);
    sendPacket(s.io, base, [0x00]);
    expect(status(s.io) & 1).toBe(1);
    expect(s.io.in8(base + 1) >>> 4).toBe(2);
    sendPacket(s.io, base, [0x03, 0, 0, 0, 18]);
    const sense = dataIn(s);
    expect(sense[2]).toBe(2);
    expect(sense[12]).toBe(0x3a);
  });

  it('INQUIRY, READ CAPACITY, READ(10) in byte-count-limited chunks, READ(12)', () => {
    const iso = isoImage(64);
    const s = cd(iso);
    sendPacket(s.io, base, [0x12, 0, 0, 0, 36]);
    const inq = dataIn(s);
    expect(inq[0]).toBe(5);
    expect(String.fromCharCode(...inq.subarray(8, 15))).toBe('BOXWOOD');
    expect(s.io.in8(base + 2)).toBe(3);
    sendPacket(s.io, base, [0x25]);
    const cap = dataIn(s);
    expect((cap[2] << 8) | cap[3]).toBe(63);
    expect((cap[6] << 8) | cap[7]).toBe(2048);
    sendPacket(s.io, base, [0x28, 0, 0, 0, 0, 16, 0, 0, 3], 4096);
    const data = dataIn(s);
    expect(data).toEqual(iso.subarray(16 * 2048, 19 * 2048));
    expect(status(s.io)).toBe(0x50);
    sendPacket(s.io, base, [0xa8, 0, 0, 0, 0, 2, 0, 0, 0, 1]);
    expect(dataIn(s)).toEqual(iso.subarray(2 * 2048, 3 * 2048));
    // Out of range READ → ILLEGAL REQUEST / LBA OUT OF RANGE
    sendPacket(s.io, base, [0x28, 0, 0, 0, 0, 63, 0, 0, 2]);
    expect(status(s.io) & 1).toBe(1);
    sendPacket(s.io, base, [0x03, 0, 0, 0, 18]);
    const sense = dataIn(s);
    expect(sense[2]).toBe(5);
    expect(sense[12]).toBe(0x21);
    // Unknown opcode → INVALID OPCODE
    sendPacket(s.io, base, [0xd9]);
    expect(s.io.in8(base + 1) >>> 4).toBe(5);
  });

  it('READ(10) by DMA', () => {
    const iso = isoImage(32);
    const s = cd(iso);
    s.ctx.mem.write32(0x1000, 0x40000);
    s.ctx.mem.write32(0x1004, 0x80000000 | 4096);
    s.io.out32(BM + 8 + 4, 0x1000);
    s.io.out8(BM + 8, 0x08);
    sendPacket(s.io, base, [0x28, 0, 0, 0, 0, 5, 0, 0, 2], 0xfffe, true);
    s.io.out8(BM + 8, 0x09);
    expect(s.ctx.mem.ram.subarray(0x40000, 0x41000)).toEqual(iso.subarray(5 * 2048, 7 * 2048));
    expect(status(s.io)).toBe(0x50);
    expect(s.io.in8(BM + 10) & 4).toBe(4);
  });

  it('READ TOC, GET CONFIGURATION, MODE SENSE(10), GET EVENT STATUS', () => {
    const s = cd(isoImage(100));
    sendPacket(s.io, base, [0x43, 0, 0, 0, 0, 0, 0, 0, 100]);
    const toc = dataIn(s);
    expect((toc[0] << 8) | toc[1]).toBe(18);
    expect(toc[6]).toBe(1);
    expect(toc[14]).toBe(0xaa);
    expect((toc[18] << 8) | toc[19]).toBe(100);
    sendPacket(s.io, base, [0x43, 2, 0, 0, 0, 0, 0, 0, 100]); // MSF
    const msf = dataIn(s);
    expect(Array.from(msf.subarray(8, 12))).toEqual([0, 0, 2, 0]);
    sendPacket(s.io, base, [0x46, 0, 0, 0, 0, 0, 0, 0, 64]);
    const conf = dataIn(s);
    expect((conf[6] << 8) | conf[7]).toBe(0x0008); // CD-ROM profile current
    sendPacket(s.io, base, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64]);
    const ms = dataIn(s);
    expect(ms[8]).toBe(0x2a);
    sendPacket(s.io, base, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]);
    const ev = dataIn(s);
    expect(ev[2]).toBe(4);
    expect(ev[5]).toBe(2); // medium present
    sendPacket(s.io, base, [0x52, 1, 0, 0, 0, 1, 0, 0, 36]); // READ TRACK INFORMATION, track 1
    const ti = dataIn(s);
    expect(ti[2]).toBe(1);
    expect((ti[26] << 8) | ti[27]).toBe(100);
    sendPacket(s.io, base, [0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8]); // not polled → error
    expect(status(s.io) & 1).toBe(1);
  });

  it('medium change raises a unit attention; PREVENT blocks eject; START STOP ejects', () => {
    const s = cd(null);
    s.ide.changeMedium(2, new MemoryBlockDevice(isoImage(10), true));
    sendPacket(s.io, base, [0x00]);
    expect(s.io.in8(base + 1) >>> 4).toBe(6);
    sendPacket(s.io, base, [0x00]);
    expect(status(s.io) & 1).toBe(0);
    sendPacket(s.io, base, [0x1e, 0, 0, 0, 1]);
    sendPacket(s.io, base, [0x1b, 0, 0, 0, 2]);
    expect(status(s.io) & 1).toBe(1);
    sendPacket(s.io, base, [0x1e, 0, 0, 0, 0]);
    let ejected = '';
    s.ide.onEject = (n) => (ejected = n);
    sendPacket(s.io, base, [0x1b, 0, 0, 0, 2]);
    expect(ejected).toBe('ide1-0');
    sendPacket(s.io, base, [0x00]);
    expect(s.io.in8(base + 1) >>> 4).toBe(2);
  });

  it('snapshot mid-transfer resumes the PIO data phase', () => {
    const iso = isoImage(8);
    const a = cd(iso);
    sendPacket(a.io, base, [0x28, 0, 0, 0, 0, 1, 0, 0, 2], 2048);
    a.readBlock(base, 2048); // first chunk
    const st = a.ide.saveState();
    const b = cd(iso);
    b.ide.loadState(st, 1);
    expect(b.io.in8(base + 7) & 0x08).toBe(0x08);
    expect(b.readBlock(base, 2048)).toEqual(iso.subarray(2 * 2048, 3 * 2048));
  });
});
