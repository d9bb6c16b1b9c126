import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { PciBus } from './pci-bus';
import { Piix3 } from './piix3';
import { VirtioBlk } from './virtio-blk';
import { MemoryBlockDevice } from '../storage/block-device';
import { TestVirtioDriver } from './virtio-test-driver';

const F_FLUSH = 9;
const SLOT = 4;

function image(sectors: number): Uint8Array {
  const d = new Uint8Array(sectors * 512);
  for (let i = 0; i < d.length; i++) d[i] = ((i >> 9) * 13 + i) & 0xff;
  return d;
}

function setup(legacy: boolean, readOnly = false) {
  const ctx = makeTestContext(8 * 1024 * 1024);
  const bus = new PciBus(ctx);
  new Piix3(ctx, bus);
  const img = image(64);
  const dev = new MemoryBlockDevice(img, readOnly);
  let flushes = 0;
  dev.flush = () => void flushes++;
  const blk = new VirtioBlk(ctx, bus, SLOT, dev);
  bus.writeConfig(SLOT << 3, 0x3c, 1, 11);
  bus.writeConfig(0x08, 0x60 + ((SLOT - 1) & 3), 1, 11); // PIRQ for slot 4 INTA → IRQ 11
  const drv = new TestVirtioDriver(ctx, bus, SLOT << 3, legacy);
  return { ctx, bus, blk, drv, img, flushes: () => flushes };
}

/** Build a request header at addr. */
function header(ctx: ReturnType<typeof setup>['ctx'], addr: number, type: number, sector: number) {
  ctx.mem.write32(addr, type);
  ctx.mem.write32(addr + 4, 0);
  ctx.mem.write32(addr + 8, sector);
  ctx.mem.write32(addr + 12, 0);
}

describe('virtio-blk over transitional virtio-pci', () => {
  it('PCI identity: 1af4:1001, subsystem 2, modern capabilities in BAR4', () => {
    const { bus, drv } = setup(false);
    expect(bus.readConfig(SLOT << 3, 0, 4)).toBe(0x10011af4);
    expect(bus.readConfig(SLOT << 3, 0x2e, 2)).toBe(2);
    expect(bus.readConfig(SLOT << 3, 0x06, 2) & 0x10).toBe(0x10);
    for (const t of [1, 2, 3, 4]) expect(drv.cap(t)[0]).toBe(4);
  });

  for (const legacy of [false, true]) {
    it(`${legacy ? 'legacy' : 'modern'}: reads a sector through the queue, raises INTx, ISR acknowledges`, () => {
      const { ctx, drv, img } = setup(legacy);
      const offered = drv.init([F_FLUSH, 28], 1);
      expect(offered[0] & (1 << F_FLUSH)).toBeTruthy();
      expect(drv.config32(0)).toBe(64); // capacity
      expect(drv.config32(0x14)).toBe(512); // blk_size
      const hdr = drv.alloc(16, 16);
      const data = drv.alloc(1024);
      const st = drv.alloc(1, 1);
      header(ctx, hdr, 0, 3);
      ctx.mem.write8(st, 0xff);
      const head = drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len: 1024, write: true }, { addr: st, len: 1, write: true }]);
      drv.notify(0);
      expect(ctx.mem.read8(st)).toBe(0);
      expect(ctx.mem.ram.subarray(data, data + 1024)).toEqual(img.subarray(3 * 512, 5 * 512));
      expect(drv.used(0)).toEqual([[head, 1025]]);
      expect(ctx.irqLevel[11]).toBe(true);
      expect(drv.readIsr()).toBe(1);
      expect(ctx.irqLevel[11]).toBe(false);
    });
  }

  it('indirect descriptors, writes, flush, GET_ID', () => {
    const { ctx, drv, img, flushes } = setup(false);
    drv.init([F_FLUSH, 28], 1);
    const hdr = drv.alloc(16, 16);
    const data = drv.alloc(512);
    const st = drv.alloc(1, 1);
    ctx.mem.ram.fill(0xa5, data, data + 512);
    header(ctx, hdr, 1, 10);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len: 512 }, { addr: st, len: 1, write: true }], true);
    drv.notify(0);
    expect(ctx.mem.read8(st)).toBe(0);
    expect(img.subarray(10 * 512, 11 * 512).every((b) => b === 0xa5)).toBe(true);
    expect(flushes()).toBe(0); // FLUSH negotiated: no write-through
    header(ctx, hdr, 4, 0);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: st, len: 1, write: true }]);
    drv.notify(0);
    expect(flushes()).toBe(1);
    const id = drv.alloc(20, 1);
    header(ctx, hdr, 8, 0);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: id, len: 20, write: true }, { addr: st, len: 1, write: true }]);
    drv.notify(0);
    expect(String.fromCharCode(...ctx.mem.ram.subarray(id, id + 8))).toBe('BWVIRTIO');
  });

  it('without FLUSH negotiated every write is flushed (write-through)', () => {
    const { ctx, drv, flushes } = setup(true);
    drv.init([], 1);
    const hdr = drv.alloc(16, 16);
    const data = drv.alloc(512);
    const st = drv.alloc(1, 1);
    header(ctx, hdr, 1, 1);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len: 512 }, { addr: st, len: 1, write: true }]);
    drv.notify(0);
    expect(flushes()).toBe(1);
  });

  it('bad requests complete with an error status', () => {
    const { ctx, drv } = setup(false, true);
    const offered = drv.init([], 1);
    expect(offered[0] & (1 << 5)).toBeTruthy(); // VIRTIO_BLK_F_RO
    const hdr = drv.alloc(16, 16);
    const data = drv.alloc(1024);
    const st = drv.alloc(1, 1);
    const run = (type: number, sector: number, len: number, write: boolean) => {
      header(ctx, hdr, type, sector);
      drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len, write }, { addr: st, len: 1, write: true }]);
      drv.notify(0);
      return ctx.mem.read8(st);
    };
    expect(run(0, 63, 1024, true)).toBe(1); // past the end
    expect(run(0, 0, 100, true)).toBe(1); // not a multiple of 512
    expect(run(1, 0, 512, false)).toBe(1); // read-only image
    expect(run(77, 0, 512, true)).toBe(2); // unsupported type
    expect(run(0, 2, 512, true)).toBe(0); // the device still works
  });

  it('malformed rings: a descriptor loop and a buffer outside RAM set DEVICE_NEEDS_RESET, never throw', () => {
    const { ctx, drv } = setup(false);
    drv.init([], 1);
    const q = drv.q[0];
    // Descriptor 0 → 1 → 0 ...
    drv.writeDesc(q.desc, 0, drv.alloc(16, 16), 16, 1, 1);
    drv.writeDesc(q.desc, 1, drv.alloc(16, 16), 16, 1, 0);
    ctx.mem.write16(q.avail + 4, 0);
    ctx.mem.write16(q.avail + 2, 1);
    drv.notify(0);
    expect(drv.status() & 0x40).toBe(0x40);
    expect(drv.readIsr() & 2).toBe(2);
    // After a reset the device works again; then a DMA target outside RAM.
    drv.init([], 1);
    const hdr = drv.alloc(16, 16);
    const st = drv.alloc(1, 1);
    header(ctx, hdr, 0, 0);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: 0xf0000000, len: 512, write: true }, { addr: st, len: 1, write: true }]);
    drv.notify(0);
    expect(drv.status() & 0x40).toBe(0x40);
    // Nested indirect table
    drv.init([28], 1);
    const inner = drv.alloc(16, 16);
    drv.writeDesc(inner, 0, drv.alloc(16, 16), 16, 4, 0);
    const q2 = drv.q[0];
    drv.writeDesc(q2.desc, 0, inner, 16, 4, 0);
    ctx.mem.write16(q2.avail + 4, 0);
    ctx.mem.write16(q2.avail + 2, 1);
    drv.notify(0);
    expect(drv.status() & 0x40).toBe(0x40);
  });

  it('refuses FEATURES_OK for a modern driver without VERSION_1', () => {
    const { ctx, drv } = setup(false);
    const common = 0xfe000000 + drv.cap(1)[1];
    drv.status(0);
    drv.status(3);
    ctx.mem.write32(common + 0x08, 1);
    ctx.mem.write32(common + 0x0c, 0);
    drv.status(0x0b);
    expect(drv.status() & 8).toBe(0);
  });

  it('snapshot round trip keeps the queue position', () => {
    const a = setup(false);
    a.drv.init([], 1);
    const hdr = a.drv.alloc(16, 16);
    const data = a.drv.alloc(512);
    const st = a.drv.alloc(1, 1);
    header(a.ctx, hdr, 0, 5);
    a.drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len: 512, write: true }, { addr: st, len: 1, write: true }]);
    a.drv.notify(0);
    const state = a.blk.saveState();
    const b = setup(false);
    b.ctx.mem.ram.set(a.ctx.mem.ram);
    b.blk.loadState(state, 1);
    // Continue with b using a's driver bookkeeping against b's memory/ports.
    const drv = Object.assign(Object.create(Object.getPrototypeOf(a.drv)), a.drv, { ctx: b.ctx, bus: b.bus });
    header(b.ctx, hdr, 0, 6);
    drv.submit(0, [{ addr: hdr, len: 16 }, { addr: data, len: 512, write: true }, { addr: st, len: 1, write: true }]);
    drv.notify(0);
    expect(b.ctx.mem.ram.subarray(data, data + 512)).toEqual(b.img.subarray(6 * 512, 7 * 512));
  });
});
