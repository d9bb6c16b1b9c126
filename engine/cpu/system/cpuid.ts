// CPUID: a Pentium II (Deschutes, family 6 model 5) identity that reports only what
// this core implements. No MMX/SSE (no such execution units), no PAE/PAT/PSE-36
// (the paging walk is classic two-level), no MCE/MCA (no machine-check MSRs), no
// hypervisor bit: guests must see a plain physical CPU.
import type { CpuCore } from '../core';
import { Reg } from '../state';

const MAX_LEAF = 2;
/** Family 6, model 5, stepping 2 (Pentium II 333+ MHz). */
const SIGNATURE = (6 << 8) | (5 << 4) | 2;

export const CPUID_FPU = 1 << 0;
export const CPUID_VME = 1 << 1;
export const CPUID_DE = 1 << 2;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_CX8 = 1 << 8;
export const CPUID_APIC = 1 << 9;
export const CPUID_SEP = 1 << 11;
export const CPUID_MTRR = 1 << 12;
export const CPUID_PGE = 1 << 13;
export const CPUID_CMOV = 1 << 15;
export const CPUID_FXSR = 1 << 24;

const BASE_FEATURES =
  CPUID_FPU | CPUID_VME | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_FXSR;

/** APIC is reported only when one is wired and IA32_APIC_BASE has it globally enabled (bit 11), as on P6. */
export function cpuidFeatures(cpu: CpuCore): number {
  return BASE_FEATURES | (cpu.apicPresent && (cpu.apicBase & 0x800) !== 0 ? CPUID_APIC : 0);
}

/** Execute CPUID: leaf in EAX, results in EAX/EBX/ECX/EDX. */
export function cpuid(cpu: CpuCore): void {
  let leaf = cpu.reg32[Reg.EAX] >>> 0;
  // Intel: a leaf above the maximum (basic or extended — a P6 has no extended range)
  // returns the data of the highest basic leaf.
  if (leaf > MAX_LEAF) leaf = MAX_LEAF;
  let a = 0, b = 0, c = 0, d = 0;
  switch (leaf) {
    case 0:
      a = MAX_LEAF;
      b = 0x756e6547; // "Genu"
      d = 0x49656e69; // "ineI"
      c = 0x6c65746e; // "ntel"
      break;
    case 1:
      a = SIGNATURE;
      b = 0; // no brand index, CLFLUSH size or APIC ID fields on a P6
      c = 0;
      d = cpuidFeatures(cpu);
      break;
    case 2:
      // Descriptor bytes as a real Pentium II reports them: AL=1 (one call), 01 02 03
      // (ITLB 4K/4M, DTLB 4K), 43 (512K L2), 08 (16K L1I), 04 (DTLB 4M), 0C (16K L1D).
      a = 0x03020101;
      d = 0x0c040843;
      break;
  }
  cpu.reg32[Reg.EAX] = a;
  cpu.reg32[Reg.EBX] = b;
  cpu.reg32[Reg.ECX] = c;
  cpu.reg32[Reg.EDX] = d;
}
