// A minimal CpuCore for the system layer's unit tests: flat memory over
// PhysicalMemory, paging through translate(), SS:ESP stack helpers, and helpers
// to build descriptor tables. Not an interpreter: nothing here decodes instructions.
import type { CpuBus, CpuCore, FpuUnit } from '../core';
import { CpuFault, CpuRegisters, Reg, Seg, Vec, CR0_PE, CR0_PG, SEG_ACCESS_DB } from '../state';
import { PhysicalMemory } from '../../machine/physical-memory';
import { translate } from './paging';

const WRITABLE_FLAGS = 0x003f7fd5;

export class FakeCpu extends CpuRegisters implements CpuCore {
  readonly bus: CpuBus;
  readonly fpu = {} as FpuUnit;
  readonly mem: PhysicalMemory;
  eflags = 2;
  nowNs = 0;
  shutdownReason: string | null = null;
  tlbFlushes: boolean[] = [];
  modeUpdates = 0;

  constructor(ramBytes = 4 * 1024 * 1024) {
    super();
    this.mem = new PhysicalMemory(ramBytes);
    this.bus = {
      mem: this.mem,
      io: {} as CpuBus['io'],
      interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
      clock: { nowNs: () => this.nowNs },
      onShutdown: () => {},
    };
    // Power-on real mode: 64 KiB read/write data and code caches.
    for (let s = 0; s < 6; s++) {
      this.segLimit[s] = 0xffff;
      this.segAccess[s] = s === Seg.CS ? 0x9b : 0x93;
    }
    this.idtrLimit = 0x3ff;
    this.dr[6] = 0xffff0ff0;
    this.dr[7] = 0x400;
  }

  get esp(): number {
    return this.reg32[Reg.ESP] >>> 0;
  }
  set esp(v: number) {
    this.reg32[Reg.ESP] = v;
  }

  getEflags(): number {
    return this.eflags | 2;
  }
  setEflags(value: number, mask: number = WRITABLE_FLAGS): void {
    mask &= WRITABLE_FLAGS;
    this.eflags = ((this.eflags & ~mask) | (value & mask) | 2) >>> 0;
  }

  private phys(lin: number, write: boolean, user: boolean): number {
    lin >>>= 0;
    return (this.cr0 & CR0_PG) !== 0 ? translate(this, lin, write, user) : lin;
  }
  private user(): boolean {
    return (this.cr0 & CR0_PE) !== 0 && this.cpl === 3;
  }
  private rd(lin: number, n: number, user: boolean): number {
    let v = 0;
    for (let i = 0; i < n; i++) v |= this.mem.read8(this.phys(lin + i, false, user)) << (8 * i);
    return v;
  }
  private wr(lin: number, n: number, v: number, user: boolean): void {
    // Translate every byte first so a fault leaves memory untouched.
    const addrs: number[] = [];
    for (let i = 0; i < n; i++) addrs.push(this.phys(lin + i, true, user));
    for (let i = 0; i < n; i++) this.mem.write8(addrs[i], (v >>> (8 * i)) & 0xff);
  }

  readLin8(lin: number): number {
    return this.rd(lin, 1, this.user());
  }
  readLin16(lin: number): number {
    return this.rd(lin, 2, this.user());
  }
  readLin32(lin: number): number {
    return this.rd(lin, 4, this.user()) | 0;
  }
  writeLin8(lin: number, v: number): void {
    this.wr(lin, 1, v, this.user());
  }
  writeLin16(lin: number, v: number): void {
    this.wr(lin, 2, v, this.user());
  }
  writeLin32(lin: number, v: number): void {
    this.wr(lin, 4, v, this.user());
  }
  readSys8(lin: number): number {
    return this.rd(lin, 1, false);
  }
  readSys16(lin: number): number {
    return this.rd(lin, 2, false);
  }
  readSys32(lin: number): number {
    return this.rd(lin, 4, false) | 0;
  }
  writeSys8(lin: number, v: number): void {
    this.wr(lin, 1, v, false);
  }
  writeSys16(lin: number, v: number): void {
    this.wr(lin, 2, v, false);
  }
  writeSys32(lin: number, v: number): void {
    this.wr(lin, 4, v, false);
  }

  private segCheck(seg: number, offset: number, n: number): number {
    if ((offset >>> 0) + n - 1 > this.segLimit[seg]) throw new CpuFault(seg === Seg.SS ? Vec.SS : Vec.GP, 0);
    return (this.segBase[seg] + offset) | 0;
  }
  readSeg8(seg: number, offset: number): number {
    return this.readLin8(this.segCheck(seg, offset, 1));
  }
  readSeg16(seg: number, offset: number): number {
    return this.readLin16(this.segCheck(seg, offset, 2));
  }
  readSeg32(seg: number, offset: number): number {
    return this.readLin32(this.segCheck(seg, offset, 4));
  }
  writeSeg8(seg: number, offset: number, v: number): void {
    this.writeLin8(this.segCheck(seg, offset, 1), v);
  }
  writeSeg16(seg: number, offset: number, v: number): void {
    this.writeLin16(this.segCheck(seg, offset, 2), v);
  }
  writeSeg32(seg: number, offset: number, v: number): void {
    this.writeLin32(this.segCheck(seg, offset, 4), v);
  }

  private get b32(): boolean {
    return (this.segAccess[Seg.SS] & SEG_ACCESS_DB) !== 0;
  }
  private spMove(delta: number): number {
    const esp = this.reg32[Reg.ESP];
    const next = this.b32 ? (esp + delta) | 0 : (esp & ~0xffff) | ((esp + delta) & 0xffff);
    return next;
  }
  private spOffset(v: number): number {
    return this.b32 ? v >>> 0 : v & 0xffff;
  }
  push16(v: number): void {
    const next = this.spMove(-2);
    this.writeSeg16(Seg.SS, this.spOffset(next), v);
    this.reg32[Reg.ESP] = next;
  }
  push32(v: number): void {
    const next = this.spMove(-4);
    this.writeSeg32(Seg.SS, this.spOffset(next), v);
    this.reg32[Reg.ESP] = next;
  }
  pop16(): number {
    const v = this.readSeg16(Seg.SS, this.spOffset(this.reg32[Reg.ESP]));
    this.reg32[Reg.ESP] = this.spMove(2);
    return v;
  }
  pop32(): number {
    const v = this.readSeg32(Seg.SS, this.spOffset(this.reg32[Reg.ESP]));
    this.reg32[Reg.ESP] = this.spMove(4);
    return v;
  }

  flushTlb(global: boolean): void {
    this.tlbFlushes.push(global);
  }
  invlpg(_lin: number): void {}
  updateModeCaches(): void {
    this.modeUpdates++;
  }
  shutdown(reason: string): void {
    this.shutdownReason = reason;
  }

  // ---- test conveniences ----
  r32(a: number): number {
    return this.mem.read32(a) >>> 0;
  }
  r16(a: number): number {
    return this.mem.read16(a);
  }
  w32(a: number, v: number): void {
    this.mem.write32(a, v);
  }
  w16(a: number, v: number): void {
    this.mem.write16(a, v);
  }
  /** Words on the stack from ESP upward. */
  stack16(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.r16((this.segBase[Seg.SS] + ((this.esp + 2 * i) & (this.b32 ? -1 : 0xffff))) >>> 0));
    return out;
  }
  stack32(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.r32((this.segBase[Seg.SS] + this.esp + 4 * i) >>> 0));
    return out;
  }
}

/** Encode a code/data or system descriptor. `access` is the access byte, `flags` the G/DB nibble (0xC = 4K granular 32-bit). */
export function descriptor(base: number, limit: number, access: number, flags = 0): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo | 0, hi | 0];
}

/** Encode a gate: type 4/5/6/7/12/14/15, DPL, present. */
export function gateDescriptor(selector: number, offset: number, type: number, dpl: number, params = 0, present = true): [number, number] {
  const lo = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | (present ? 0x8000 : 0) | ((dpl & 3) << 13) | ((type & 0xf) << 8) | (params & 0x1f);
  return [lo | 0, hi | 0];
}

export const FLAT_CODE = 0x9a; // P, DPL0, code exec/read
export const FLAT_DATA = 0x92; // P, DPL0, data read/write

/** Standard test layout (physical = linear, paging off). */
export const GDT_BASE = 0x1000;
export const IDT_BASE = 0x2000;
export const TSS_BASE = 0x3000;
export const TSS2_BASE = 0x3800;
export const LDT_BASE = 0x4000;

export function writeDescriptor(cpu: FakeCpu, tableBase: number, index: number, d: [number, number]): void {
  cpu.w32(tableBase + index * 8, d[0]);
  cpu.w32(tableBase + index * 8 + 4, d[1]);
}

/**
 * Protected mode at CPL 0 with a flat GDT:
 *   0x08 code DPL0 32-bit, 0x10 data DPL0, 0x18 code DPL3 32-bit, 0x20 data DPL3,
 *   0x28 32-bit TSS (at TSS_BASE, loaded in TR, busy), 0x30 16-bit code DPL0, 0x38 16-bit data DPL0,
 *   0x40 code DPL1 32-bit, 0x48 data DPL1, 0x50 LDT (at LDT_BASE, 4 entries).
 * ESP0 in the TSS = 0x9000 with SS0 = 0x10; ESP1 = 0x8800 / SS1 = 0x49.
 */
export function protectedCpu(): FakeCpu {
  const cpu = new FakeCpu();
  const g = (i: number, d: [number, number]) => writeDescriptor(cpu, GDT_BASE, i, d);
  g(1, descriptor(0, 0xfffff, FLAT_CODE, 0xc));
  g(2, descriptor(0, 0xfffff, FLAT_DATA, 0xc));
  g(3, descriptor(0, 0xfffff, FLAT_CODE | 0x60, 0xc));
  g(4, descriptor(0, 0xfffff, FLAT_DATA | 0x60, 0xc));
  g(5, descriptor(TSS_BASE, 0x67, 0x8b)); // 32-bit TSS, busy
  g(6, descriptor(0, 0xffff, FLAT_CODE, 0));
  g(7, descriptor(0, 0xffff, FLAT_DATA, 0));
  g(8, descriptor(0, 0xfffff, FLAT_CODE | 0x20, 0xc));
  g(9, descriptor(0, 0xfffff, FLAT_DATA | 0x20, 0xc));
  g(10, descriptor(LDT_BASE, 0x1f, 0x82));
  cpu.gdtrBase = GDT_BASE;
  cpu.gdtrLimit = 16 * 8 - 1;
  cpu.idtrBase = IDT_BASE;
  cpu.idtrLimit = 256 * 8 - 1;
  cpu.cr0 = CR0_PE | 0x10;
  setCache(cpu, Seg.CS, 0x08, 0, 0xffffffff, 0xc9b);
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) setCache(cpu, s, 0x10, 0, 0xffffffff, 0xc93);
  setCache(cpu, Seg.TR, 0x28, TSS_BASE, 0x67, 0x8b);
  cpu.w32(TSS_BASE + 4, 0x9000);
  cpu.w32(TSS_BASE + 8, 0x10);
  cpu.w32(TSS_BASE + 12, 0x8800);
  cpu.w32(TSS_BASE + 16, 0x49);
  cpu.w16(TSS_BASE + 0x66, 0x68); // I/O bitmap right after the TSS (beyond the limit unless raised)
  cpu.esp = 0x7000;
  cpu.eip = 0x1234;
  return cpu;
}

export function setCache(cpu: FakeCpu, seg: Seg, sel: number, base: number, limit: number, access: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = base;
  cpu.segLimit[seg] = limit;
  cpu.segAccess[seg] = access;
}

/** Run fn, expecting a CpuFault; returns [vector, errorCode]. */
export function faultOf(fn: () => void): [number, number] | null {
  try {
    fn();
  } catch (e) {
    if (e instanceof CpuFault) return [e.vector, e.errorCode];
    throw e;
  }
  return null;
}
