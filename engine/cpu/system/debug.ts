// Hardware breakpoints, DR0-DR3 under DR7 control (SDM Vol. 3 17.2-17.3).
//
// Code breakpoints are faults: checkCodeBreakpoint runs before an instruction executes
// and throws #DB (with DR6.Bn set) unless EFLAGS.RF suppresses it.
// Data and I/O breakpoints are traps: the check functions only record the matching
// Bn bits in cpu.pendingDebugTrap; the interpreter raises #DB after the instruction
// completes (see CpuRegisters.pendingDebugTrap), so a faulting access never traps.
import type { CpuCore } from '../core';
import { CpuFault, Vec, CR4_DE, FLAG_RF } from '../state';

const RW_EXEC = 0;
const RW_WRITE = 1;
const RW_IO = 2;
const RW_RW = 3;

/** LEN encoding 00/01/11 = 1/2/4 bytes; 10 is undefined on P6 and treated as 8 (as later CPUs). */
const LENGTHS = [1, 2, 8, 4];

/** Breakpoints enabled (any L/G bit) in DR7 — the interpreter may use it to skip the checks. */
export const breakpointsArmed = (cpu: CpuCore): boolean => (cpu.dr[7] & 0xff) !== 0;

function matches(cpu: CpuCore, kind: (rw: number) => boolean, lo: number, size: number): number {
  const dr7 = cpu.dr[7];
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    if (((dr7 >>> (i * 2)) & 3) === 0) continue;
    const rw = (dr7 >>> (16 + i * 4)) & 3;
    if (!kind(rw)) continue;
    const len = LENGTHS[(dr7 >>> (18 + i * 4)) & 3];
    // The breakpoint address is aligned down to its length; any overlap of the ranges matches.
    const start = (cpu.dr[i] & ~(len - 1)) >>> 0;
    const a = lo >>> 0;
    if (a <= start + len - 1 && start <= a + size - 1) hits |= 1 << i;
  }
  return hits;
}

export function checkCodeBreakpoint(cpu: CpuCore, linearEip: number): void {
  if ((cpu.dr[7] & 0xff) === 0 || (cpu.getEflags() & FLAG_RF) !== 0) return;
  const hits = matches(cpu, (rw) => rw === RW_EXEC, linearEip, 1);
  if (hits !== 0) {
    cpu.dr[6] = (cpu.dr[6] & ~0xf) | hits;
    throw new CpuFault(Vec.DB);
  }
}

export function checkDataBreakpoint(cpu: CpuCore, lin: number, size: number, write: boolean): void {
  if ((cpu.dr[7] & 0xff) === 0) return;
  cpu.pendingDebugTrap |= matches(cpu, (rw) => rw === RW_RW || (write && rw === RW_WRITE), lin, size);
}

/** IN/OUT/INS/OUTS: breakpoints with R/W = 10 match port numbers, only with CR4.DE (otherwise the encoding is undefined). */
export function checkIoBreakpoint(cpu: CpuCore, port: number, size: number): void {
  if ((cpu.dr[7] & 0xff) === 0 || (cpu.cr4 & CR4_DE) === 0) return;
  cpu.pendingDebugTrap |= matches(cpu, (rw) => rw === RW_IO, port & 0xffff, size);
}
