import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';
import { I440fx } from './i440fx';
import { Piix3 } from './piix3';

function cfgAddr(dev: number, fn: number, reg: number): number {
  return (0x80000000 | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
}

function setup() {
  const ctx = makeTestContext();
  const bus = new PciBus(ctx);
  const host = new I440fx(ctx, bus);
  const isa = new Piix3(ctx, bus);
  const rd32 = (dev: number, fn: number, reg: number) => {
    ctx.io.out32(0xcf8, cfgAddr(dev, fn, reg));
    return ctx.io.in32(0xcfc) >>> 0;
  };
  const wr32 = (dev: number, fn: number, reg: number, v: number) => {
    ctx.io.out32(0xcf8, cfgAddr(dev, fn, reg));
    ctx.io.out32(0xcfc, v);
  };
  const wr8 = (dev: number, fn: number, reg: number, v: number) => {
    ctx.io.out32(0xcf8, cfgAddr(dev, fn, reg));
    ctx.io.out8(0xcfc + (reg & 3), v);
  };
  const rd8 = (dev: number, fn: number, reg: number) => {
    ctx.io.out32(0xcf8, cfgAddr(dev, fn, reg));
    return ctx.io.in8(0xcfc + (reg & 3));
  };
  return { ctx, bus, host, isa, rd32, wr32, wr8, rd8 };
}

class TestDev implements PciFunction {
  readonly pci: PciConfigSpace;
  ioLog: number[] = [];
  mmioBase: number | null = null;
  constructor() {
    this.pci = new PciConfigSpace('testdev', {
      vendorId: 0x1234,
      deviceId: 0x5678,
      classCode: 0xff0000,
      interruptPin: 1,
      bars: [
        { kind: 'io', size: 0x20, io: { read8: (p) => p & 0xff, write8: (p, v) => this.ioLog.push(p, v) } },
        { kind: 'mem', size: 0x1000, mmio: { read8: (o) => o & 0xff, write8: () => {} }, onMap: (b) => (this.mmioBase = b) },
      ],
    });
  }
}

describe('PCI configuration mechanism #1', () => {
  it('enumerates the host bridge and ISA bridge, empty slots read all ones', () => {
    const { rd32, ctx } = setup();
    expect(rd32(0, 0, 0)).toBe(0x12378086);
    expect(rd32(1, 0, 0)).toBe(0x70008086);
    expect(rd32(5, 0, 0)).toBe(0xffffffff);
    expect(rd32(0, 0, 8) >>> 8).toBe(0x060000);
    // Mechanism #1 detection as Linux does it.
    ctx.io.out32(0xcf8, 0x80000000);
    expect(ctx.io.in32(0xcf8) >>> 0).toBe(0x80000000);
    // Mechanism #2 probe must fail: bytes to 0xCFB/0xCFA do not read back as written.
    ctx.io.out8(0xcfb, 0);
    ctx.io.out8(0xcfa, 0);
    expect(ctx.io.in8(0xcfa)).not.toBe(0);
  });

  it('byte and word data-port accesses hit the right config bytes', () => {
    const { ctx } = setup();
    ctx.io.out32(0xcf8, cfgAddr(0, 0, 0));
    expect(ctx.io.in16(0xcfe)).toBe(0x1237);
    expect(ctx.io.in8(0xcfd)).toBe(0x80);
  });

  it('sizes and maps BARs, follows the command register', () => {
    const { bus, rd32, wr32, ctx } = setup();
    const d = new TestDev();
    bus.attach(3, 0, d);
    wr32(3, 0, 0x10, 0xffffffff);
    expect(rd32(3, 0, 0x10)).toBe(0xffffffe1); // 32-byte IO BAR, 32-bit decode like QEMU
    wr32(3, 0, 0x14, 0xffffffff);
    expect(rd32(3, 0, 0x14)).toBe(0xfffff000); // 4 KiB memory BAR
    wr32(3, 0, 0x18, 0xffffffff);
    expect(rd32(3, 0, 0x18)).toBe(0); // unimplemented BAR
    wr32(3, 0, 0x10, 0xc000);
    wr32(3, 0, 0x14, 0xfebf0000);
    expect(ctx.io.isClaimed(0xc000)).toBe(false);
    wr32(3, 0, 0x04, 0x3); // IO + MEM enable
    expect(ctx.io.in8(0xc005)).toBe(0x05);
    expect(d.mmioBase).toBe(0xfebf0000);
    expect(ctx.mem.read8(0xfebf0012)).toBe(0x12);
    // Moving the IO BAR unmaps the old range.
    wr32(3, 0, 0x10, 0xc100);
    expect(ctx.io.isClaimed(0xc000)).toBe(false);
    expect(ctx.io.in8(0xc101)).toBe(0x01);
    // Disabling memory decode unmaps the MMIO BAR.
    wr32(3, 0, 0x04, 0x1);
    expect(d.mmioBase).toBe(null);
    expect(ctx.mem.read8(0xfebf0012)).toBe(0xff);
  });

  it('sets the multi-function bit on function 0 when other functions exist', () => {
    const { bus, rd8 } = setup();
    expect(rd8(1, 0, 0x0e)).toBe(0x00);
    bus.attach(1, 1, new TestDev());
    expect(rd8(1, 0, 0x0e)).toBe(0x80);
  });

  it('routes INTx through PIIX3 PIRQ registers, shared lines are ORed', () => {
    const { bus, wr8, ctx, wr32 } = setup();
    const a = new TestDev();
    const b = new TestDev();
    bus.attach(3, 0, a); // INTA → PIRQC
    bus.attach(7, 0, b); // INTA → PIRQC as well ((7+1-2)&3 = 2)
    expect(PciBus.pirqOf(3, 1)).toBe(2);
    a.pci.setIrq(true);
    expect(ctx.irqLevel.some((x) => x)).toBe(false); // routing disabled
    wr8(1, 0, 0x62, 11);
    expect(ctx.irqLevel[11]).toBe(true);
    b.pci.setIrq(true);
    a.pci.setIrq(false);
    expect(ctx.irqLevel[11]).toBe(true);
    b.pci.setIrq(false);
    expect(ctx.irqLevel[11]).toBe(false);
    // Interrupt Disable in the command register masks the pin.
    a.pci.setIrq(true);
    expect(ctx.irqLevel[11]).toBe(true);
    wr32(3, 0, 0x04, 0x400);
    expect(ctx.irqLevel[11]).toBe(false);
    // Re-routing moves the level.
    wr32(3, 0, 0x04, 0);
    wr8(1, 0, 0x62, 10);
    expect(ctx.irqLevel[11]).toBe(false);
    expect(ctx.irqLevel[10]).toBe(true);
  });

  it('PAM registers write-protect and unprotect the BIOS area', () => {
    const { wr8, ctx } = setup();
    ctx.mem.loadRom(0xf0000, new Uint8Array(0x10000).fill(0x90));
    ctx.mem.write8(0xf1234, 0x11);
    expect(ctx.mem.read8(0xf1234)).toBe(0x90);
    wr8(0, 0, 0x59, 0x30); // RE|WE for 0xF0000
    ctx.mem.write8(0xf1234, 0x11);
    expect(ctx.mem.read8(0xf1234)).toBe(0x11);
    wr8(0, 0, 0x59, 0x10); // RE only: shadow is read-only again
    ctx.mem.write8(0xf1234, 0x22);
    expect(ctx.mem.read8(0xf1234)).toBe(0x11);
    wr8(0, 0, 0x5a, 0x02); // 0xC0000-0xC3FFF WE
    ctx.mem.write8(0xc0010, 0x33);
    expect(ctx.mem.read8(0xc0010)).toBe(0x33);
  });

  it('port 0xCF9 reset request', () => {
    const { ctx } = setup();
    ctx.io.out8(0xcf9, 0x02);
    expect(ctx.emitted.length).toBe(0);
    ctx.io.out8(0xcf9, 0x06);
    expect(ctx.emitted[0].name).toBe('reset-request');
  });

  it('saves and restores config space and remaps BARs', () => {
    const s = setup();
    const d = new TestDev();
    s.bus.attach(3, 0, d);
    s.wr32(3, 0, 0x10, 0xc000);
    s.wr32(3, 0, 0x04, 1);
    const state = d.pci.saveState();
    const t = setup();
    const d2 = new TestDev();
    t.bus.attach(3, 0, d2);
    d2.pci.loadState(state);
    expect(t.ctx.io.in8(0xc003)).toBe(3);
  });
});
