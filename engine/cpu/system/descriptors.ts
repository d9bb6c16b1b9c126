// Descriptor-table access: fetching 8-byte descriptors from the GDT/LDT/IDT,
// decoding their fields, setting accessed/busy bits, and filling segment caches.
import type { CpuCore } from '../core';
import { CpuFault, Seg, Vec, CR0_PE, FLAG_VM, SEG_ACCESS_P } from '../state';

/** System-descriptor types (S=0), SDM Vol. 3 table 3-2. */
export const enum SysType {
  Tss16Avail = 1,
  Ldt = 2,
  Tss16Busy = 3,
  CallGate16 = 4,
  TaskGate = 5,
  IntGate16 = 6,
  TrapGate16 = 7,
  Tss32Avail = 9,
  Tss32Busy = 11,
  CallGate32 = 12,
  IntGate32 = 14,
  TrapGate32 = 15,
}

/** A descriptor as read from memory: low and high dwords, plus its linear address for write-backs. */
export interface Descriptor {
  lo: number;
  hi: number;
  addr: number;
}

export const isProtected = (cpu: CpuCore): boolean => (cpu.cr0 & CR0_PE) !== 0;
export const isV86 = (cpu: CpuCore): boolean => (cpu.cr0 & CR0_PE) !== 0 && (cpu.getEflags() & FLAG_VM) !== 0;

export const descPresent = (d: Descriptor): boolean => (d.hi & 0x8000) !== 0;
export const descDpl = (d: Descriptor): number => (d.hi >>> 13) & 3;
/** S bit: code/data (true) vs system (false). */
export const descIsSegment = (d: Descriptor): boolean => (d.hi & 0x1000) !== 0;
export const descType = (d: Descriptor): number => (d.hi >>> 8) & 0xf;
export const descIsCode = (d: Descriptor): boolean => (d.hi & 0x1800) === 0x1800;
export const descIsData = (d: Descriptor): boolean => (d.hi & 0x1800) === 0x1000;
/** Code: conforming. Data: expand-down. */
export const descBit2 = (d: Descriptor): boolean => (d.hi & 0x400) !== 0;
/** Code: readable. Data: writable. */
export const descBit1 = (d: Descriptor): boolean => (d.hi & 0x200) !== 0;

export function descBase(d: Descriptor): number {
  return ((d.lo >>> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000)) | 0;
}

/** Byte-granular limit (G applied: 4 KiB units with the low 12 bits set). */
export function descLimit(d: Descriptor): number {
  const raw = (d.lo & 0xffff) | (d.hi & 0xf0000);
  return (d.hi & 0x800000) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

/** Access byte in bits 0-7, flags nibble (AVL, L, D/B, G) in bits 8-11 — the segAccess layout. */
export function descAccess(d: Descriptor): number {
  return ((d.hi >>> 8) & 0xff) | ((d.hi >>> 12) & 0xf00);
}

/** Gate fields. 286 gates carry a 16-bit offset. */
export const gateSelector = (d: Descriptor): number => d.lo >>> 16;
export function gateOffset(d: Descriptor): number {
  const t = descType(d);
  return (t & 8) !== 0 ? ((d.lo & 0xffff) | (d.hi & 0xffff0000)) >>> 0 : d.lo & 0xffff;
}
export const gateParamCount = (d: Descriptor): number => d.hi & 0x1f;

/**
 * Read the descriptor for a selector from the GDT or (TI=1) the LDT. A selector
 * beyond the table limit, or an LDT reference with no valid LDT loaded, raises
 * `vector` with the selector (RPL cleared) plus EXT as the error code.
 */
export function fetchDescriptor(cpu: CpuCore, sel: number, vector: number = Vec.GP, ext = 0): Descriptor {
  let base: number;
  let limit: number;
  if ((sel & 4) !== 0) {
    if ((cpu.segSel[Seg.LDTR] & 0xfffc) === 0 || (cpu.segAccess[Seg.LDTR] & SEG_ACCESS_P) === 0) {
      throw new CpuFault(vector, (sel & 0xfffc) | ext);
    }
    base = cpu.segBase[Seg.LDTR];
    limit = cpu.segLimit[Seg.LDTR];
  } else {
    base = cpu.gdtrBase;
    limit = cpu.gdtrLimit;
  }
  const off = sel & 0xfff8;
  if (off + 7 > limit) throw new CpuFault(vector, (sel & 0xfffc) | ext);
  const addr = (base + off) | 0;
  return { lo: cpu.readSys32(addr), hi: cpu.readSys32(addr + 4), addr };
}

/** Like fetchDescriptor but returns null instead of faulting (LAR/LSL/VERR/VERW). */
export function tryFetchDescriptor(cpu: CpuCore, sel: number): Descriptor | null {
  if ((sel & 0xfffc) === 0) return null;
  if ((sel & 4) !== 0) {
    if ((cpu.segSel[Seg.LDTR] & 0xfffc) === 0 || (cpu.segAccess[Seg.LDTR] & SEG_ACCESS_P) === 0) return null;
    if ((sel & 0xfff8) + 7 > cpu.segLimit[Seg.LDTR]) return null;
  } else if ((sel & 0xfff8) + 7 > cpu.gdtrLimit) return null;
  return fetchDescriptor(cpu, sel);
}

/** Code/data segments: the processor sets the accessed bit in memory when it loads the descriptor. */
export function markAccessed(cpu: CpuCore, d: Descriptor): void {
  if ((d.hi & 0x100) === 0) {
    d.hi |= 0x100;
    cpu.writeSys8(d.addr + 5, (d.hi >>> 8) & 0xff);
  }
}

/** TSS descriptors: set or clear the busy bit (type bit 1) in memory. */
export function setBusy(cpu: CpuCore, d: Descriptor, busy: boolean): void {
  d.hi = busy ? d.hi | 0x200 : d.hi & ~0x200;
  cpu.writeSys8(d.addr + 5, (d.hi >>> 8) & 0xff);
}

/** Fill a segment cache from a descriptor. */
export function loadCache(cpu: CpuCore, seg: Seg, sel: number, d: Descriptor): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = descBase(d);
  cpu.segLimit[seg] = descLimit(d);
  cpu.segAccess[seg] = descAccess(d);
}

/** A null selector in a data segment register: unusable until reloaded (P clear). */
export function loadNull(cpu: CpuCore, seg: Seg, sel: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0;
  cpu.segAccess[seg] = 0;
}

/**
 * Real-mode load: only selector and base change. The limit and attributes stay
 * whatever protected mode left there, which is what makes "unreal mode" work.
 */
export function loadReal(cpu: CpuCore, seg: Seg, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = (sel & 0xffff) << 4;
}

/** Virtual-8086 load: base = sel*16, 64 KiB limit, DPL 3, present, accessed (code for CS, RW data else). */
export function loadV86(cpu: CpuCore, seg: Seg, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = (sel & 0xffff) << 4;
  cpu.segLimit[seg] = 0xffff;
  cpu.segAccess[seg] = seg === Seg.CS ? 0xfb : 0xf3;
}
