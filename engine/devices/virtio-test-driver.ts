// Test support: a minimal virtio-pci guest driver (modern or legacy) that programs a device
// through its BARs exactly as Linux's virtio_pci does, with a split queue in guest RAM.
import type { TestContext } from './test-context';
import type { PciBus } from './pci-bus';

export const MMIO_BASE = 0xfe000000;
export const IO_BASE = 0xc040;

export interface Seg {
  addr: number;
  len: number;
  write?: boolean;
}

export class TestVirtioDriver {
  /** Per queue: desc/avail/used addresses, size, next free descriptor, our avail index, last seen used index. */
  q: { desc: number; avail: number; used: number; size: number; nextDesc: number; availIdx: number; usedSeen: number }[] = [];
  private memTop = 0x100000;

  constructor(
    readonly ctx: TestContext,
    readonly bus: PciBus,
    readonly devfn: number,
    readonly legacy: boolean,
  ) {
    bus.writeConfig(devfn, 0x10, 4, IO_BASE);
    bus.writeConfig(devfn, 0x20, 4, MMIO_BASE);
    bus.writeConfig(devfn, 0x04, 2, 0x7);
  }

  /** Find the vendor capability of cfg_type `type`: returns [bar, offset]. */
  cap(type: number): [number, number] {
    let p = this.bus.readConfig(this.devfn, 0x34, 1);
    while (p) {
      if (this.bus.readConfig(this.devfn, p, 1) === 0x09 && this.bus.readConfig(this.devfn, p + 3, 1) === type) {
        return [this.bus.readConfig(this.devfn, p + 4, 1), this.bus.readConfig(this.devfn, p + 8, 4)];
      }
      p = this.bus.readConfig(this.devfn, p + 1, 1);
    }
    throw new Error(`no virtio cap ${type}`);
  }

  private get common(): number {
    return MMIO_BASE + this.cap(1)[1];
  }

  alloc(bytes: number, align = 4096): number {
    this.memTop = Math.ceil(this.memTop / align) * align;
    const a = this.memTop;
    this.memTop += bytes;
    return a;
  }

  status(v?: number): number {
    const m = this.ctx.mem;
    if (this.legacy) {
      if (v !== undefined) this.ctx.io.out8(IO_BASE + 0x12, v);
      return this.ctx.io.in8(IO_BASE + 0x12);
    }
    if (v !== undefined) m.write8(this.common + 0x14, v);
    return m.read8(this.common + 0x14);
  }

  /** Reset, acknowledge, negotiate `want` ∩ offered (plus VERSION_1 for modern); returns [offeredLo, offeredHi]. */
  init(want: number[], queues: number, queueSize = 16): [number, number] {
    const m = this.ctx.mem;
    const io = this.ctx.io;
    this.status(0);
    this.status(1);
    this.status(3);
    let offered: [number, number];
    if (this.legacy) {
      offered = [io.in32(IO_BASE) >>> 0, 0];
      const mine = want.filter((b) => b < 32).reduce((a, b) => a | (1 << b), 0);
      io.out32(IO_BASE + 4, mine & offered[0]);
    } else {
      m.write32(this.common + 0x00, 0);
      const lo = m.read32(this.common + 0x04) >>> 0;
      m.write32(this.common + 0x00, 1);
      const hi = m.read32(this.common + 0x04) >>> 0;
      offered = [lo, hi];
      const wlo = want.filter((b) => b < 32).reduce((a, b) => a | (1 << b), 0) & lo;
      const whi = (want.filter((b) => b >= 32).reduce((a, b) => a | (1 << (b - 32)), 0) | 1) & hi;
      m.write32(this.common + 0x08, 0);
      m.write32(this.common + 0x0c, wlo);
      m.write32(this.common + 0x08, 1);
      m.write32(this.common + 0x0c, whi);
      this.status(0x0b);
      if (!(this.status() & 8)) throw new Error('FEATURES_OK refused');
    }
    for (let i = 0; i < queues; i++) this.setupQueue(i, queueSize);
    this.status(this.legacy ? 0x07 : 0x0f);
    return offered;
  }

  private setupQueue(i: number, size: number): void {
    const m = this.ctx.mem;
    const io = this.ctx.io;
    if (this.legacy) {
      io.out16(IO_BASE + 0x0e, i);
      size = io.in16(IO_BASE + 0x0c);
      const bytes = Math.ceil((16 * size + 6 + 2 * size) / 4096) * 4096 + 6 + 8 * size;
      const base = this.alloc(bytes);
      const desc = base;
      const avail = base + 16 * size;
      const used = Math.ceil((avail + 6 + 2 * size) / 4096) * 4096;
      io.out32(IO_BASE + 0x08, base / 4096);
      this.q[i] = { desc, avail, used, size, nextDesc: 0, availIdx: 0, usedSeen: 0 };
      return;
    }
    m.write16(this.common + 0x16, i);
    m.write16(this.common + 0x18, size);
    const desc = this.alloc(16 * size);
    const avail = this.alloc(6 + 2 * size, 2);
    const used = this.alloc(6 + 8 * size, 4);
    m.write32(this.common + 0x20, desc);
    m.write32(this.common + 0x28, avail);
    m.write32(this.common + 0x30, used);
    m.write16(this.common + 0x1c, 1);
    this.q[i] = { desc, avail, used, size, nextDesc: 0, availIdx: 0, usedSeen: 0 };
  }

  writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const m = this.ctx.mem;
    m.write32(table + 16 * i, addr);
    m.write32(table + 16 * i + 4, 0);
    m.write32(table + 16 * i + 8, len);
    m.write16(table + 16 * i + 12, flags);
    m.write16(table + 16 * i + 14, next);
  }

  /** Put a chain on queue qi (direct descriptors, or one indirect table) and return its head. */
  submit(qi: number, segs: Seg[], indirect = false): number {
    const q = this.q[qi];
    const m = this.ctx.mem;
    const head = q.nextDesc % q.size;
    if (indirect) {
      const table = this.alloc(16 * segs.length, 16);
      segs.forEach((s, i) => this.writeDesc(table, i, s.addr, s.len, (s.write ? 2 : 0) | (i < segs.length - 1 ? 1 : 0), i + 1));
      this.writeDesc(q.desc, head, table, 16 * segs.length, 4, 0);
      q.nextDesc++;
    } else {
      segs.forEach((s, i) => {
        const idx = (q.nextDesc + i) % q.size;
        this.writeDesc(q.desc, idx, s.addr, s.len, (s.write ? 2 : 0) | (i < segs.length - 1 ? 1 : 0), (idx + 1) % q.size);
      });
      q.nextDesc += segs.length;
    }
    m.write16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    m.write16(q.avail + 2, q.availIdx);
    return head;
  }

  notify(qi: number): void {
    if (this.legacy) {
      this.ctx.io.out16(IO_BASE + 0x10, qi);
      return;
    }
    const [, off] = this.cap(2);
    const p = this.bus.readConfig(this.devfn, 0x34, 1);
    void p;
    this.ctx.mem.write16(MMIO_BASE + off + 4 * qi, qi);
  }

  /** Used elements not yet seen: [id, len][]. */
  used(qi: number): [number, number][] {
    const q = this.q[qi];
    const m = this.ctx.mem;
    const idx = m.read16(q.used + 2);
    const out: [number, number][] = [];
    while (q.usedSeen !== idx) {
      const e = q.used + 4 + 8 * (q.usedSeen % q.size);
      out.push([m.read32(e) >>> 0, m.read32(e + 4) >>> 0]);
      q.usedSeen = (q.usedSeen + 1) & 0xffff;
    }
    return out;
  }

  readIsr(): number {
    if (this.legacy) return this.ctx.io.in8(IO_BASE + 0x13);
    return this.ctx.mem.read8(MMIO_BASE + this.cap(3)[1]);
  }

  config8(off: number): number {
    if (this.legacy) return this.ctx.io.in8(IO_BASE + 0x14 + off);
    return this.ctx.mem.read8(MMIO_BASE + this.cap(4)[1] + off);
  }

  config32(off: number): number {
    if (this.legacy) return this.ctx.io.in32(IO_BASE + 0x14 + off) >>> 0;
    return this.ctx.mem.read32(MMIO_BASE + this.cap(4)[1] + off) >>> 0;
  }
}
