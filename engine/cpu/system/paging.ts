// Two-level (non-PAE) page walk, SDM Vol. 3 4.3 and 4.6. Called by the interpreter
// on a TLB miss when CR0.PG is set; TLB caching and invalidation are the
// interpreter's. Paging-structure entries are read and written as physical memory.
import type { CpuCore } from '../core';
import { CpuFault, Vec, CR0_WP, CR4_PSE } from '../state';

const PTE_P = 1 << 0;
const PTE_W = 1 << 1;
const PTE_U = 1 << 2;
const PTE_A = 1 << 5;
const PTE_D = 1 << 6;
const PDE_PS = 1 << 7;
/** Bits 21:13 of a 4 MiB PDE: physical-address bits above 4 GiB with PSE-36, which CPUID does not report, so reserved. */
const PDE4M_RESERVED = 0x003fe000;

export const PF_P = 1 << 0;
export const PF_W = 1 << 1;
export const PF_U = 1 << 2;
export const PF_RSVD = 1 << 3;

function pageFault(cpu: CpuCore, lin: number, code: number): never {
  cpu.cr2 = lin | 0;
  throw new CpuFault(Vec.PF, code);
}

/**
 * Translate `lin` for an access of the given kind; returns the physical address.
 * `user` is a CPL-3 access (implicit supervisor accesses pass false).
 * Accessed bits are set on every successful walk; dirty bits on writes.
 */
export function translate(cpu: CpuCore, lin: number, write: boolean, user: boolean): number {
  const mem = cpu.bus.mem;
  const code = (write ? PF_W : 0) | (user ? PF_U : 0);
  const pdeAddr = (cpu.cr3 & 0xfffff000) | ((lin >>> 20) & 0xffc);
  const pde = mem.read32(pdeAddr);
  if ((pde & PTE_P) === 0) pageFault(cpu, lin, code);

  if ((pde & PDE_PS) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    if ((pde & PDE4M_RESERVED) !== 0) pageFault(cpu, lin, code | PF_P | PF_RSVD);
    checkAccess(cpu, lin, code, (pde & PTE_U) !== 0, (pde & PTE_W) !== 0, write, user);
    const want = PTE_A | (write ? PTE_D : 0);
    if ((pde & want) !== want) mem.write32(pdeAddr, pde | want);
    return ((pde & 0xffc00000) | (lin & 0x003fffff)) >>> 0;
  }

  const pteAddr = (pde & 0xfffff000) | ((lin >>> 10) & 0xffc);
  const pte = mem.read32(pteAddr);
  if ((pte & PTE_P) === 0) pageFault(cpu, lin, code);
  // The effective rights are the more restrictive of the PDE and the PTE (SDM 4.6).
  checkAccess(cpu, lin, code, (pde & pte & PTE_U) !== 0, (pde & pte & PTE_W) !== 0, write, user);
  if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
  const want = PTE_A | (write ? PTE_D : 0);
  if ((pte & want) !== want) mem.write32(pteAddr, pte | want);
  return ((pte & 0xfffff000) | (lin & 0xfff)) >>> 0;
}

function checkAccess(cpu: CpuCore, lin: number, code: number, userOk: boolean, writable: boolean, write: boolean, user: boolean): void {
  if (user) {
    if (!userOk || (write && !writable)) pageFault(cpu, lin, code | PF_P);
  } else if (write && !writable && (cpu.cr0 & CR0_WP) !== 0) {
    // Supervisor writes ignore R/W unless CR0.WP (user pages included: no SMAP/SMEP on P6).
    pageFault(cpu, lin, code | PF_P);
  }
}
