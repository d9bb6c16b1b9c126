// SYSENTER/SYSEXIT (SDM Vol. 2): fast ring transitions to flat segments derived
// from IA32_SYSENTER_CS, loaded directly into the caches without reading the GDT.
import type { CpuCore } from '../core';
import { CpuFault, Reg, Seg, Vec, CR0_PE, FLAG_IF, FLAG_RF, FLAG_VM } from '../state';

/** Flat 4 GiB caches: access byte + G and D/B flags (segAccess layout). */
const CODE_DPL0 = 0xc9b; // P, DPL0, code exec/read, accessed; G, D
const DATA_DPL0 = 0xc93; // P, DPL0, data read/write, accessed; G, B
const CODE_DPL3 = 0xcfb;
const DATA_DPL3 = 0xcf3;

function flat(cpu: CpuCore, seg: Seg, sel: number, access: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0xffffffff;
  cpu.segAccess[seg] = access;
}

export function sysenter(cpu: CpuCore): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.sysenterCs & 0xfffc) === 0) throw new CpuFault(Vec.GP, 0);
  cpu.setEflags(cpu.getEflags() & ~(FLAG_VM | FLAG_IF | FLAG_RF));
  const cs = cpu.sysenterCs & 0xfffc;
  flat(cpu, Seg.CS, cs, CODE_DPL0);
  flat(cpu, Seg.SS, cs + 8, DATA_DPL0);
  cpu.cpl = 0;
  cpu.reg32[Reg.ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip >>> 0;
  cpu.updateModeCaches();
}

export function sysexit(cpu: CpuCore): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.getEflags() & FLAG_VM) !== 0 || cpu.cpl !== 0 || (cpu.sysenterCs & 0xfffc) === 0) {
    throw new CpuFault(Vec.GP, 0);
  }
  const cs = cpu.sysenterCs & 0xffff;
  flat(cpu, Seg.CS, (cs + 16) | 3, CODE_DPL3);
  flat(cpu, Seg.SS, (cs + 24) | 3, DATA_DPL3);
  cpu.cpl = 3;
  cpu.reg32[Reg.ESP] = cpu.reg32[Reg.ECX];
  cpu.eip = cpu.reg32[Reg.EDX] >>> 0;
  cpu.updateModeCaches();
}
