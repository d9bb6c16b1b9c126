// MOV to/from CR0-CR4 and DR0-DR7 (SDM Vol. 2 "MOV—Move to/from Control/Debug
// Registers"; Vol. 3 2.5, 17.2). Privilege: CPL 0 only (v86 mode is CPL 3).
import type { CpuCore } from '../core';
import {
  CpuFault,
  Vec,
  CR0_CD,
  CR0_ET,
  CR0_NW,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_DE,
  CR4_OSFXSR,
  CR4_PCE,
  CR4_PGE,
  CR4_PSE,
  CR4_PVI,
  CR4_TSD,
  CR4_VME,
  FLAG_VM,
} from '../state';

/** CR0 bits a P6 implements; other bits read as 0 and writes to them are ignored on 32-bit processors. */
const CR0_IMPLEMENTED = 0xe005003f;
/** CR4 bits this core implements (matching CPUID); setting any other bit is #GP(0). PAE is absent. */
const CR4_IMPLEMENTED = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_OSFXSR;

const DR6_BD = 1 << 13;
const DR7_GD = 1 << 13;

function requireCpl0(cpu: CpuCore): void {
  if ((cpu.cr0 & CR0_PE) !== 0 && (cpu.cpl !== 0 || (cpu.getEflags() & FLAG_VM) !== 0)) throw new CpuFault(Vec.GP, 0);
}

export function readCr(cpu: CpuCore, n: number): number {
  requireCpl0(cpu);
  switch (n) {
    case 0:
      return cpu.cr0 | CR0_ET;
    case 2:
      return cpu.cr2;
    case 3:
      return cpu.cr3;
    case 4:
      return cpu.cr4;
  }
  throw new CpuFault(Vec.UD);
}

export function writeCr(cpu: CpuCore, n: number, value: number): void {
  requireCpl0(cpu);
  switch (n) {
    case 0: {
      const v = (value & CR0_IMPLEMENTED) | CR0_ET; // ET is hardwired to 1 on P6
      if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) throw new CpuFault(Vec.GP, 0);
      if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) throw new CpuFault(Vec.GP, 0);
      const old = cpu.cr0;
      cpu.cr0 = v | 0;
      // Paging, write protection and protection-enable all change how linear addresses are translated.
      if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) cpu.flushTlb(true);
      if ((v & CR0_PE) === 0) cpu.cpl = 0; // real mode runs at privilege 0
      cpu.updateModeCaches();
      return;
    }
    case 2:
      cpu.cr2 = value | 0;
      return;
    case 3:
      // Only PWT/PCD and the page-directory base are architected in non-PAE mode.
      cpu.cr3 = value & 0xfffff018;
      cpu.flushTlb(false);
      return;
    case 4: {
      if ((value & ~CR4_IMPLEMENTED) !== 0) throw new CpuFault(Vec.GP, 0);
      const old = cpu.cr4;
      cpu.cr4 = value | 0;
      if (((old ^ value) & (CR4_PSE | CR4_PGE)) !== 0) cpu.flushTlb(true);
      cpu.updateModeCaches();
      return;
    }
  }
  throw new CpuFault(Vec.UD);
}

/** DR4/DR5 alias DR6/DR7 unless CR4.DE, which makes them #UD. */
function drIndex(cpu: CpuCore, n: number): number {
  if (n === 4 || n === 5) {
    if ((cpu.cr4 & CR4_DE) !== 0) throw new CpuFault(Vec.UD);
    return n + 2;
  }
  return n;
}

/** DR7.GD: any debug-register access raises #DB (a fault) with DR6.BD, and clears GD so the handler can use them. */
function generalDetect(cpu: CpuCore): void {
  if ((cpu.dr[7] & DR7_GD) !== 0) {
    cpu.dr[6] |= DR6_BD;
    cpu.dr[7] &= ~DR7_GD;
    throw new CpuFault(Vec.DB);
  }
}

export function readDr(cpu: CpuCore, n: number): number {
  requireCpl0(cpu);
  const i = drIndex(cpu, n);
  generalDetect(cpu);
  return cpu.dr[i];
}

export function writeDr(cpu: CpuCore, n: number, value: number): void {
  requireCpl0(cpu);
  const i = drIndex(cpu, n);
  generalDetect(cpu);
  if (i === 6) cpu.dr[6] = (value & 0xe00f) | 0xffff0ff0; // bits 4-11 and 16-31 read as 1, bit 12 as 0
  else if (i === 7) cpu.dr[7] = (value & 0xffff2bff) | 0x400; // bit 10 reads as 1, 11/12/14/15 as 0
  else cpu.dr[i] = value | 0;
}
