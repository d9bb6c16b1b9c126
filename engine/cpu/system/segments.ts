// Segment register loads (MOV/POP/LDS.. to DS/ES/FS/GS/SS), LLDT, LTR and the
// descriptor probes LAR/LSL/VERR/VERW (SDM Vol. 2 instruction pages; Vol. 3 5.5-5.10).
import type { CpuCore } from '../core';
import { CpuFault, Seg, Vec, FLAG_VM, CR0_PE } from '../state';
import {
  SysType,
  descDpl,
  descIsCode,
  descIsData,
  descIsSegment,
  descBit1,
  descBit2,
  descPresent,
  descType,
  descLimit,
  fetchDescriptor,
  tryFetchDescriptor,
  loadCache,
  loadNull,
  loadReal,
  loadV86,
  markAccessed,
  setBusy,
} from './descriptors';

/** Load DS/ES/FS/GS/SS (never CS: far transfers do that) with the checks of the current mode. */
export function loadSegment(cpu: CpuCore, seg: Seg, selector: number): void {
  const sel = selector & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0) {
    loadReal(cpu, seg, sel);
    return;
  }
  if ((cpu.getEflags() & FLAG_VM) !== 0) {
    loadV86(cpu, seg, sel);
    if (seg === Seg.SS) cpu.updateModeCaches();
    return;
  }
  loadProtected(cpu, seg, sel, cpu.cpl, Vec.GP, 0);
  if (seg === Seg.SS) cpu.updateModeCaches();
}

/**
 * Protected-mode data/stack segment load for privilege level `cpl`. Task switches
 * reuse it with vector = #TS (all errors except not-present become #TS(sel)) and ext.
 */
export function loadProtected(cpu: CpuCore, seg: Seg, sel: number, cpl: number, vector: number, ext: number): void {
  const err = (sel & 0xfffc) | ext;
  if ((sel & 0xfffc) === 0) {
    if (seg === Seg.SS) throw new CpuFault(vector, ext);
    loadNull(cpu, seg, sel);
    return;
  }
  const d = fetchDescriptor(cpu, sel, vector, ext);
  const dpl = descDpl(d);
  if (seg === Seg.SS) {
    // Only a writable data segment at exactly the current privilege can be a stack.
    if ((sel & 3) !== cpl || dpl !== cpl || !descIsData(d) || !descBit1(d)) throw new CpuFault(vector, err);
    if (!descPresent(d)) throw new CpuFault(Vec.SS, err);
  } else {
    if (!descIsSegment(d)) throw new CpuFault(vector, err);
    if (descIsCode(d) && !descBit1(d)) throw new CpuFault(vector, err); // execute-only code
    // Data and non-conforming code need DPL >= max(CPL, RPL); conforming code is exempt.
    if (!(descIsCode(d) && descBit2(d)) && ((sel & 3) > dpl || cpl > dpl)) throw new CpuFault(vector, err);
    if (!descPresent(d)) throw new CpuFault(Vec.NP, err);
  }
  markAccessed(cpu, d);
  loadCache(cpu, seg, sel, d);
}

function requireProtected(cpu: CpuCore): void {
  // LLDT/LTR/LAR/LSL/VERR/VERW are not recognised in real and virtual-8086 mode.
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.getEflags() & FLAG_VM) !== 0) throw new CpuFault(Vec.UD);
}

export function lldt(cpu: CpuCore, selector: number): void {
  requireProtected(cpu);
  if (cpu.cpl !== 0) throw new CpuFault(Vec.GP, 0);
  const sel = selector & 0xffff;
  if ((sel & 0xfffc) === 0) {
    // A null LDTR is legal; references through it fault until a real LDT is loaded.
    loadNull(cpu, Seg.LDTR, sel);
    return;
  }
  if ((sel & 4) !== 0) throw new CpuFault(Vec.GP, sel & 0xfffc);
  const d = fetchDescriptor(cpu, sel);
  if (descIsSegment(d) || descType(d) !== SysType.Ldt) throw new CpuFault(Vec.GP, sel & 0xfffc);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, sel & 0xfffc);
  loadCache(cpu, Seg.LDTR, sel, d);
}

export function ltr(cpu: CpuCore, selector: number): void {
  requireProtected(cpu);
  if (cpu.cpl !== 0) throw new CpuFault(Vec.GP, 0);
  const sel = selector & 0xffff;
  if ((sel & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  if ((sel & 4) !== 0) throw new CpuFault(Vec.GP, sel & 0xfffc);
  const d = fetchDescriptor(cpu, sel);
  const t = descType(d);
  if (descIsSegment(d) || (t !== SysType.Tss16Avail && t !== SysType.Tss32Avail)) throw new CpuFault(Vec.GP, sel & 0xfffc);
  if (!descPresent(d)) throw new CpuFault(Vec.NP, sel & 0xfffc);
  setBusy(cpu, d, true);
  loadCache(cpu, Seg.TR, sel, d);
}

/** DPL >= CPL and DPL >= RPL, except for conforming code (the probes' visibility rule). */
function visible(cpu: CpuCore, sel: number, d: ReturnType<typeof fetchDescriptor>): boolean {
  if (descIsCode(d) && descBit2(d)) return true;
  const dpl = descDpl(d);
  return dpl >= cpu.cpl && dpl >= (sel & 3);
}

/** LAR: the access-rights dword (masked 00F0FF00) or null when ZF must be cleared. */
export function lar(cpu: CpuCore, selector: number): number | null {
  requireProtected(cpu);
  const d = tryFetchDescriptor(cpu, selector & 0xffff);
  if (!d) return null;
  if (!descIsSegment(d)) {
    const t = descType(d);
    // Valid system types: TSSs, LDT, call gates and task gates — not interrupt/trap gates.
    if (t === 0 || t === 8 || t === 10 || t === 13 || t === 6 || t === 7 || t === 14 || t === 15) return null;
  }
  if (!visible(cpu, selector, d)) return null;
  return (d.hi & 0x00f0ff00) >>> 0;
}

/** LSL: the byte-granular limit, or null when ZF must be cleared. */
export function lsl(cpu: CpuCore, selector: number): number | null {
  requireProtected(cpu);
  const d = tryFetchDescriptor(cpu, selector & 0xffff);
  if (!d) return null;
  if (!descIsSegment(d)) {
    const t = descType(d);
    // Only descriptors that have a limit: TSSs and the LDT.
    if (t !== SysType.Tss16Avail && t !== SysType.Tss16Busy && t !== SysType.Ldt && t !== SysType.Tss32Avail && t !== SysType.Tss32Busy) return null;
  }
  if (!visible(cpu, selector, d)) return null;
  return descLimit(d);
}

export function verr(cpu: CpuCore, selector: number): boolean {
  requireProtected(cpu);
  const d = tryFetchDescriptor(cpu, selector & 0xffff);
  if (!d || !descIsSegment(d)) return false;
  if (descIsCode(d) && !descBit1(d)) return false;
  return visible(cpu, selector, d);
}

export function verw(cpu: CpuCore, selector: number): boolean {
  requireProtected(cpu);
  const d = tryFetchDescriptor(cpu, selector & 0xffff);
  if (!d || !descIsData(d) || !descBit1(d)) return false;
  return visible(cpu, selector, d);
}
