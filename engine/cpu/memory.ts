// Guest memory as the interpreter sees it: segment checks, linear addresses,
// the software TLB, and the stack.
//
// TLB design: one Int32Array entry per 4 KiB linear page. An entry holds the
// physical page base (bits 12-31) and permission bits for the four access classes
// (supervisor/user x read/write). A bit is only ever set for RAM or ROM pages
// (ROM: read bits only), so a set bit means "access RAM directly"; everything else
// (MMIO, unmapped, ROM writes, pages holding decoded code, not-yet-translated pages)
// takes the slow path through translate() and PhysicalMemory.
import type { CpuBus, CpuCore } from './core';
import { PageKind, type PhysicalMemory } from '../machine/physical-memory';
import { LazyFlags } from './flags';
import { CpuFault, CR0_AM as CR0_AM_, FLAG_AC as FLAG_AC_, CR0_PG as CR0_PG_, CR0_PE as CR0_PE_, FLAG_VM as FLAG_VM_, Reg, Seg, SEG_ACCESS_DB as SEG_ACCESS_DB_, Vec } from './state';
import { checkDataBreakpoint, translate } from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_ESP = Reg.ESP;
const Seg_SS = Seg.SS;
const Vec_AC = Vec.AC;
const Vec_GP = Vec.GP;
const Vec_SS = Vec.SS;
const PageKind_Ram = PageKind.Ram;
const PageKind_Rom = PageKind.Rom;
const PageKind_Unmapped = PageKind.Unmapped;
const CR0_PG = CR0_PG_;
const CR0_AM = CR0_AM_;
const FLAG_AC = FLAG_AC_;
const CR0_PE = CR0_PE_;
const FLAG_VM = FLAG_VM_;
const SEG_ACCESS_DB = SEG_ACCESS_DB_;

export const TLB_SYS_READ = 1;
export const TLB_SYS_WRITE = 2;
export const TLB_USER_READ = 4;
export const TLB_USER_WRITE = 8;
const TLB_PAGE = -4096;

/** After this many distinct pages the flush clears the whole table instead of the list. */
const TLB_TRACKED_MAX = 2048;

export abstract class CpuMemory extends LazyFlags {
  abstract readonly bus: CpuBus;
  protected abstract readonly mem: PhysicalMemory;
  protected abstract readonly ram: Uint8Array;
  protected abstract readonly ram16: Uint16Array;
  protected abstract readonly ram32: Int32Array;

  readonly tlb = new Int32Array(1 << 20);
  private readonly tlbUsed = new Int32Array(TLB_TRACKED_MAX);
  private tlbUsedCount = 0;

  /** TLB bits granting the current privilege a read / a write. */
  protected readBit = TLB_SYS_READ;
  protected writeBit = TLB_SYS_WRITE;
  /** CR0.PG: linear addresses go through translate(). */
  protected pagingOn = false;
  /** Protected mode outside v86: segment types are enforced. */
  protected protectedMode = false;
  /** DR7 enables a breakpoint: data accesses are reported to the system layer. */
  debugActive = false;
  /** CR0.AM, EFLAGS.AC and CPL 3: misaligned data accesses raise #AC(0). */
  protected alignmentCheck = false;

  /** This object as the system layer sees it (the final class implements CpuCore). */
  protected get core(): CpuCore {
    return this as unknown as CpuCore;
  }

  // ---- TLB ----

  flushTlb(_global: boolean): void {
    // Global pages (CR4.PGE) are flushed too: translate() does not report the G bit,
    // and flushing more than required is always architecturally correct.
    if (this.tlbUsedCount > TLB_TRACKED_MAX) this.tlb.fill(0);
    else for (let i = 0; i < this.tlbUsedCount; i++) this.tlb[this.tlbUsed[i]] = 0;
    this.tlbUsedCount = 0;
  }

  invlpg(lin: number): void {
    this.tlb[lin >>> 12] = 0;
  }

  /**
   * Physical page `ppage` now holds decoded code (mem.codePages): no TLB entry may keep
   * granting direct writes to it, so writes reach PhysicalMemory, which calls onCodeWrite.
   * (translateLin never grants them while the page is marked.)
   */
  protected revokeDirectWrites(ppage: number): void {
    if (this.tlbUsedCount > TLB_TRACKED_MAX) {
      this.flushTlb(true);
      return;
    }
    const tlb = this.tlb;
    for (let i = 0; i < this.tlbUsedCount; i++) {
      const lpage = this.tlbUsed[i];
      const e = tlb[lpage];
      if (e >>> 12 === ppage && (e & (TLB_SYS_WRITE | TLB_USER_WRITE)) !== 0) tlb[lpage] = e & ~(TLB_SYS_WRITE | TLB_USER_WRITE);
    }
  }

  /** Linear -> physical for one access, filling the TLB when the page is RAM/ROM. */
  protected translateLin(lin: number, write: boolean, user: boolean): number {
    let phys = this.pagingOn ? translate(this.core, lin, write, user) : lin;
    phys = (phys & this.mem.a20Mask) >>> 0;
    const ppage = phys >>> 12;
    const kind = ppage < this.mem.ramSize >>> 12 ? this.mem.pageKind[ppage] : PageKind_Unmapped;
    if (kind === PageKind_Ram || kind === PageKind_Rom) {
      let bits: number;
      if (!this.pagingOn) bits = TLB_SYS_READ | TLB_USER_READ | TLB_SYS_WRITE | TLB_USER_WRITE;
      else if (user) bits = write ? TLB_USER_WRITE | TLB_USER_READ | TLB_SYS_WRITE | TLB_SYS_READ : TLB_USER_READ | TLB_SYS_READ;
      else bits = write ? TLB_SYS_WRITE | TLB_SYS_READ : TLB_SYS_READ;
      // Writes to ROM are dropped and writes to pages holding decoded code must reach
      // PhysicalMemory (onCodeWrite): both stay on the slow path.
      if (kind === PageKind_Rom || this.mem.codePages[ppage]) bits &= TLB_SYS_READ | TLB_USER_READ;
      const lpage = lin >>> 12;
      const old = this.tlb[lpage];
      const base = phys & TLB_PAGE;
      if (old !== 0 && (old & TLB_PAGE) === base) bits |= old & 0xf;
      else if (old === 0) {
        if (this.tlbUsedCount < TLB_TRACKED_MAX) this.tlbUsed[this.tlbUsedCount] = lpage;
        this.tlbUsedCount++;
      }
      this.tlb[lpage] = base | bits;
    }
    return phys;
  }

  /** Physical address of a linear address as the current privilege would read it (may #PF). */
  linearToPhysical(lin: number): number {
    return this.translateLin(lin, false, this.cpl === 3);
  }

  // ---- Linear accesses ----

  protected linRead8(lin: number, user: boolean, bit: number): number {
    const e = this.tlb[lin >>> 12];
    if (e & bit) return this.ram[((e & TLB_PAGE) | (lin & 0xfff)) >>> 0];
    return this.mem.read8(this.translateLin(lin, false, user));
  }

  protected linRead16(lin: number, user: boolean, bit: number): number {
    if ((lin & 0xfff) !== 0xfff) {
      const e = this.tlb[lin >>> 12];
      if (e & bit) {
        const p = ((e & TLB_PAGE) | (lin & 0xfff)) >>> 0;
        return p & 1 ? this.ram[p] | (this.ram[p + 1] << 8) : this.ram16[p >>> 1];
      }
      return this.mem.read16(this.translateLin(lin, false, user));
    }
    return this.linRead8(lin, user, bit) | (this.linRead8(lin + 1, user, bit) << 8);
  }

  protected linRead32(lin: number, user: boolean, bit: number): number {
    if ((lin & 0xfff) <= 0xffc) {
      const e = this.tlb[lin >>> 12];
      if (e & bit) {
        const p = ((e & TLB_PAGE) | (lin & 0xfff)) >>> 0;
        return p & 3 ? this.ram[p] | (this.ram[p + 1] << 8) | (this.ram[p + 2] << 16) | (this.ram[p + 3] << 24) : this.ram32[p >>> 2];
      }
      return this.mem.read32(this.translateLin(lin, false, user));
    }
    // Crosses a page: read byte by byte (each byte's page translated on its own).
    let v = 0;
    for (let i = 0; i < 4; i++) v |= this.linRead8(lin + i, user, bit) << (8 * i);
    return v;
  }

  protected linWrite8(lin: number, v: number, user: boolean, bit: number): void {
    const e = this.tlb[lin >>> 12];
    if (e & bit) this.ram[((e & TLB_PAGE) | (lin & 0xfff)) >>> 0] = v;
    else this.mem.write8(this.translateLin(lin, true, user), v);
  }

  protected linWrite16(lin: number, v: number, user: boolean, bit: number): void {
    if ((lin & 0xfff) !== 0xfff) {
      const e = this.tlb[lin >>> 12];
      if (e & bit) {
        const p = ((e & TLB_PAGE) | (lin & 0xfff)) >>> 0;
        this.ram[p] = v;
        this.ram[p + 1] = v >>> 8;
      } else this.mem.write16(this.translateLin(lin, true, user), v);
      return;
    }
    this.linWriteSplit(lin, v, 2, user);
  }

  protected linWrite32(lin: number, v: number, user: boolean, bit: number): void {
    if ((lin & 0xfff) <= 0xffc) {
      const e = this.tlb[lin >>> 12];
      if (e & bit) {
        const p = ((e & TLB_PAGE) | (lin & 0xfff)) >>> 0;
        if (p & 3) {
          this.ram[p] = v;
          this.ram[p + 1] = v >>> 8;
          this.ram[p + 2] = v >>> 16;
          this.ram[p + 3] = v >>> 24;
        } else this.ram32[p >>> 2] = v;
      } else this.mem.write32(this.translateLin(lin, true, user), v);
      return;
    }
    this.linWriteSplit(lin, v, 4, user);
  }

  /** A write crossing a page boundary: both pages are translated (and may fault) before any byte is written. */
  private linWriteSplit(lin: number, v: number, size: number, user: boolean): void {
    const firstLen = 0x1000 - (lin & 0xfff);
    const p1 = this.translateLin(lin, true, user);
    const p2 = this.translateLin((lin + firstLen) | 0, true, user);
    for (let i = 0; i < size; i++) {
      const phys = i < firstLen ? p1 + i : p2 + (i - firstLen);
      this.mem.write8(phys, v >>> (8 * i));
    }
  }

  readLin8(lin: number): number {
    return this.linRead8(lin, this.cpl === 3, this.readBit);
  }
  readLin16(lin: number): number {
    return this.linRead16(lin, this.cpl === 3, this.readBit);
  }
  readLin32(lin: number): number {
    return this.linRead32(lin, this.cpl === 3, this.readBit);
  }
  writeLin8(lin: number, v: number): void {
    this.linWrite8(lin, v, this.cpl === 3, this.writeBit);
  }
  writeLin16(lin: number, v: number): void {
    this.linWrite16(lin, v, this.cpl === 3, this.writeBit);
  }
  writeLin32(lin: number, v: number): void {
    this.linWrite32(lin, v, this.cpl === 3, this.writeBit);
  }
  readSys8(lin: number): number {
    return this.linRead8(lin, false, TLB_SYS_READ);
  }
  readSys16(lin: number): number {
    return this.linRead16(lin, false, TLB_SYS_READ);
  }
  readSys32(lin: number): number {
    return this.linRead32(lin, false, TLB_SYS_READ);
  }
  writeSys8(lin: number, v: number): void {
    this.linWrite8(lin, v, false, TLB_SYS_WRITE);
  }
  writeSys16(lin: number, v: number): void {
    this.linWrite16(lin, v, false, TLB_SYS_WRITE);
  }
  writeSys32(lin: number, v: number): void {
    this.linWrite32(lin, v, false, TLB_SYS_WRITE);
  }

  /** Make sure a write of `size` bytes at lin will not fault (used before multi-part updates). */
  probeWrite(lin: number, size: number): void {
    const user = this.cpl === 3;
    if (!(this.tlb[lin >>> 12] & this.writeBit)) this.translateLin(lin, true, user);
    const last = (lin + size - 1) | 0;
    if ((last ^ lin) >>> 12 !== 0 && !(this.tlb[last >>> 12] & this.writeBit)) this.translateLin(last, true, user);
  }

  // ---- Segmented accesses ----

  /**
   * Check offset..offset+size-1 against the segment's type and limit and return the
   * linear address. Real and v86 mode check only the limit (segment types are not
   * enforced there).
   */
  segAddr(seg: number, offset: number, size: number, write: boolean): number {
    const off = offset >>> 0;
    const end = off + size - 1;
    // Fast path: an expand-up segment whose type allows the access (see refreshSegmentChecks).
    if (end <= (write ? this.segWriteEnd[seg] : this.segReadEnd[seg]) && !this.alignmentCheck && !this.debugActive) {
      return (this.segBase[seg] + off) | 0;
    }
    return this.segAddrChecked(seg, off, end, size, write);
  }

  /** Highest offset a read / write may reach through the fast path of segAddr, or -1 (always check). */
  private readonly segReadEnd = new Float64Array(6);
  private readonly segWriteEnd = new Float64Array(6);

  /**
   * Recompute the fast-path limits from the segment caches and the mode. Called by
   * updateModeCaches and after every data segment load: whoever changes segment caches
   * directly must call updateModeCaches (the CpuCore contract).
   */
  refreshSegmentChecks(): void {
    for (let seg = 0; seg < 6; seg++) {
      const acc = this.segAccess[seg];
      const limit = this.segLimit[seg];
      let read = limit;
      let write = limit;
      if ((acc & 0x1c) === 0x14) read = write = -1; // expand-down: checked path
      else if (this.protectedMode) {
        if ((acc & 0x90) !== 0x90) read = write = -1;
        else {
          if ((acc & 0x0a) === 0x08) read = -1;
          if ((acc & 0x0a) !== 0x02) write = -1;
        }
      }
      this.segReadEnd[seg] = read;
      this.segWriteEnd[seg] = write;
    }
  }

  private segAddrChecked(seg: number, off: number, end: number, size: number, write: boolean): number {
    const acc = this.segAccess[seg];
    if (this.protectedMode) {
      // Present, S=1 and the type allows the access (data: write needs W; code: read needs R, never write).
      if ((acc & 0x90) !== 0x90 || (write ? (acc & 0x0a) !== 0x02 : (acc & 0x0a) === 0x08)) this.segFault(seg);
    }
    if ((acc & 0x1c) === 0x14) {
      // Expand-down data: valid offsets are limit+1 .. 0xFFFF (or 0xFFFFFFFF with B set).
      const upper = acc & SEG_ACCESS_DB ? 0xffffffff : 0xffff;
      if (off <= this.segLimit[seg] || end > upper) this.segFault(seg);
    } else if (end > this.segLimit[seg]) this.segFault(seg);
    const lin = (this.segBase[seg] + off) | 0;
    // Natural alignment for 2/4/8-byte operands (descriptor-table images of 6/10 bytes are not checked).
    if (this.alignmentCheck && (size & (size - 1)) === 0 && (lin & (size - 1)) !== 0) throw new CpuFault(Vec_AC, 0);
    if (this.debugActive) checkDataBreakpoint(this.core, lin, size, write);
    return lin;
  }

  private segFault(seg: number): never {
    throw new CpuFault(seg === Seg_SS ? Vec_SS : Vec_GP, 0);
  }

  readSeg8(seg: number, offset: number): number {
    return this.readLin8(this.segAddr(seg, offset, 1, false));
  }
  readSeg16(seg: number, offset: number): number {
    return this.readLin16(this.segAddr(seg, offset, 2, false));
  }
  readSeg32(seg: number, offset: number): number {
    return this.readLin32(this.segAddr(seg, offset, 4, false));
  }
  writeSeg8(seg: number, offset: number, v: number): void {
    this.writeLin8(this.segAddr(seg, offset, 1, true), v);
  }
  writeSeg16(seg: number, offset: number, v: number): void {
    this.writeLin16(this.segAddr(seg, offset, 2, true), v);
  }
  writeSeg32(seg: number, offset: number, v: number): void {
    this.writeLin32(this.segAddr(seg, offset, 4, true), v);
  }

  // ---- Stack ----

  /** SS.B: 32-bit stack pointer. */
  stackIs32(): boolean {
    return (this.segAccess[Seg_SS] & SEG_ACCESS_DB) !== 0;
  }

  /** ESP after moving it by delta, honouring the stack size (a 16-bit SP wraps, ESP's top half stays). */
  stackAdd(delta: number): number {
    const esp = this.reg32[Reg_ESP];
    return this.stackIs32() ? (esp + delta) | 0 : (esp & ~0xffff) | ((esp + delta) & 0xffff);
  }

  /** Stack offset (SP or ESP) of ESP value `esp`. */
  stackOffset(esp: number): number {
    return this.stackIs32() ? esp : esp & 0xffff;
  }

  push16(v: number): void {
    const esp = this.stackAdd(-2);
    this.writeSeg16(Seg_SS, this.stackOffset(esp), v);
    this.reg32[Reg_ESP] = esp;
  }
  push32(v: number): void {
    const esp = this.stackAdd(-4);
    this.writeSeg32(Seg_SS, this.stackOffset(esp), v);
    this.reg32[Reg_ESP] = esp;
  }
  pop16(): number {
    const v = this.readSeg16(Seg_SS, this.stackOffset(this.reg32[Reg_ESP]));
    this.reg32[Reg_ESP] = this.stackAdd(2);
    return v;
  }
  pop32(): number {
    const v = this.readSeg32(Seg_SS, this.stackOffset(this.reg32[Reg_ESP]));
    this.reg32[Reg_ESP] = this.stackAdd(4);
    return v;
  }

  /** Recompute the memory fast-path state from CR0, EFLAGS.VM, CPL and DR7. */
  protected updateMemoryModes(): void {
    const user = this.cpl === 3;
    this.readBit = user ? 0x4 : 0x1;
    this.writeBit = user ? 0x8 : 0x2;
    this.pagingOn = (this.cr0 & CR0_PG) !== 0;
    this.protectedMode = (this.cr0 & CR0_PE) !== 0 && (this.flagsReg & FLAG_VM) === 0;
    this.debugActive = (this.dr[7] & 0xff) !== 0;
    this.alignmentCheck = user && (this.cr0 & CR0_AM) !== 0 && (this.flagsReg & FLAG_AC) !== 0;
    this.refreshSegmentChecks();
  }
}
