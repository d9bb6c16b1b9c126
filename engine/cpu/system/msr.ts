// RDMSR/WRMSR/RDTSC: the MSRs a P6 guest touches. Anything not listed is #GP(0),
// like an unimplemented MSR on silicon; the set matches what CPUID reports (TSC,
// MSR, SEP, MTRR, APIC when present) and nothing more (no PAT, MCA, perf counters).
import type { CpuCore } from '../core';
import { CpuFault, Reg, Vec, CR0_PE, CR4_TSD } from '../state';

export const MSR_TSC = 0x10;
export const MSR_PLATFORM_ID = 0x17;
export const MSR_APIC_BASE = 0x1b;
export const MSR_EBL_CR_POWERON = 0x2a;
export const MSR_BIOS_UPDT_TRIG = 0x79;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_DEF_TYPE = 0x2ff;

/**
 * The TSC runs at a fixed virtual 1 GHz: one tick per nanosecond of machine time
 * (deterministic mode makes that a function of the instruction count). Guests
 * calibrate against the PIT, so any fixed rate works; 1 GHz keeps it exact.
 */
export const TSC_HZ = 1_000_000_000;

/** 8 variable ranges, fixed ranges, write-combining — what a P6 reports. */
const MTRRCAP_VALUE = 0x508n;
const PHYS_MASK_36 = 0xffffff000n; // 36-bit physical address width

function isMtrr(n: number): boolean {
  return (n >= 0x200 && n <= 0x20f) || n === 0x250 || n === 0x258 || n === 0x259 || (n >= 0x268 && n <= 0x26f) || n === MSR_MTRR_DEF_TYPE;
}

const validType = (t: bigint): boolean => t === 0n || t === 1n || t === 4n || t === 5n || t === 6n;

/** Reserved-bit and memory-type checks of MTRR writes (#GP on violation, as the SDM requires). */
function mtrrWriteOk(n: number, v: bigint): boolean {
  if (n === MSR_MTRR_DEF_TYPE) return (v & ~0xcffn) === 0n && validType(v & 0xffn);
  if (n >= 0x200 && n <= 0x20f) {
    if ((n & 1) === 0) return (v & ~(PHYS_MASK_36 | 0xffn)) === 0n && validType(v & 0xffn); // PHYSBASE
    return (v & ~(PHYS_MASK_36 | 0x800n)) === 0n; // PHYSMASK
  }
  for (let i = 0n; i < 64n; i += 8n) if (!validType((v >> i) & 0xffn)) return false; // fixed ranges: 8 types
  return true;
}

function requireCpl0(cpu: CpuCore): void {
  if ((cpu.cr0 & CR0_PE) !== 0 && cpu.cpl !== 0) throw new CpuFault(Vec.GP, 0);
}

/** The time-stamp counter value now (mod 2^64, as a float64 — exact below 2^53). */
export function readTsc(cpu: CpuCore): number {
  return Math.floor(cpu.bus.clock.nowNs() * (TSC_HZ / 1e9)) + cpu.tscOffset;
}

function setEdxEax(cpu: CpuCore, lo: number, hi: number): void {
  cpu.reg32[Reg.EAX] = lo | 0;
  cpu.reg32[Reg.EDX] = hi | 0;
}

/** RDTSC: EDX:EAX = TSC. CR4.TSD makes it privileged. */
export function rdtsc(cpu: CpuCore): void {
  if ((cpu.cr4 & CR4_TSD) !== 0 && (cpu.cr0 & CR0_PE) !== 0 && cpu.cpl !== 0) throw new CpuFault(Vec.GP, 0);
  const t = readTsc(cpu);
  setEdxEax(cpu, t >>> 0, Math.floor(t / 4294967296) >>> 0);
}

function read(cpu: CpuCore, n: number): bigint {
  switch (n) {
    case MSR_TSC:
      return BigInt.asUintN(64, BigInt(readTsc(cpu)));
    case MSR_PLATFORM_ID:
      return 0n; // platform 0; microcode update loaders match it against their headers
    case MSR_APIC_BASE:
      if (!cpu.apicPresent) break;
      return BigInt(cpu.apicBase >>> 0);
    case MSR_BIOS_SIGN_ID:
      return 0n; // microcode revision 0 in EDX: no update loaded
    case MSR_EBL_CR_POWERON:
      return 0n; // P6 power-on configuration: nothing strapped that a guest could act on
    case MSR_MTRRCAP:
      return MTRRCAP_VALUE;
    case MSR_SYSENTER_CS:
      return BigInt(cpu.sysenterCs & 0xffff);
    case MSR_SYSENTER_ESP:
      return BigInt(cpu.sysenterEsp >>> 0);
    case MSR_SYSENTER_EIP:
      return BigInt(cpu.sysenterEip >>> 0);
    case MSR_MISC_ENABLE:
      return cpu.msrs.get(n) ?? 1n; // fast-strings enabled, as firmware leaves it
    default:
      if (isMtrr(n)) return cpu.msrs.get(n) ?? 0n; // power-on: MTRRs disabled, all UC
  }
  throw new CpuFault(Vec.GP, 0);
}

export function rdmsr(cpu: CpuCore): void {
  requireCpl0(cpu);
  const v = read(cpu, cpu.reg32[Reg.ECX] >>> 0);
  setEdxEax(cpu, Number(v & 0xffffffffn), Number(v >> 32n));
}

export function wrmsr(cpu: CpuCore): void {
  requireCpl0(cpu);
  const n = cpu.reg32[Reg.ECX] >>> 0;
  const v = (BigInt(cpu.reg32[Reg.EDX] >>> 0) << 32n) | BigInt(cpu.reg32[Reg.EAX] >>> 0);
  switch (n) {
    case MSR_TSC: {
      // Writing the TSC sets the offset so that the next read returns the written value.
      const now = Math.floor(cpu.bus.clock.nowNs() * (TSC_HZ / 1e9));
      cpu.tscOffset = Number(v) - now;
      return;
    }
    case MSR_APIC_BASE:
      if (!cpu.apicPresent) break;
      // Base (bits 12-35; 32-bit physical here) and the global enable (bit 11) are writable; BSP (bit 8) is read-only.
      if ((v & ~0xffffff900n) !== 0n || v >> 32n !== 0n) break;
      cpu.apicBase = (Number(v & 0xfffff800n) | (cpu.apicBase & 0x100)) | 0;
      cpu.onApicBaseWrite?.(cpu.apicBase >>> 0);
      return;
    case MSR_BIOS_SIGN_ID:
      // The write-0-then-CPUID protocol reloads the revision; ours is always 0.
      return;
    case MSR_BIOS_UPDT_TRIG:
      // Microcode update trigger: accepted and ignored; the revision read back stays 0, so loaders see no update.
      return;
    case MSR_EBL_CR_POWERON:
      return; // writable configuration bits have no effect here
    case MSR_SYSENTER_CS:
      cpu.sysenterCs = Number(v & 0xffffn);
      return;
    case MSR_SYSENTER_ESP:
      cpu.sysenterEsp = Number(v & 0xffffffffn) | 0;
      return;
    case MSR_SYSENTER_EIP:
      cpu.sysenterEip = Number(v & 0xffffffffn) | 0;
      return;
    case MSR_MISC_ENABLE:
      cpu.msrs.set(n, v);
      return;
    default:
      if (isMtrr(n) && mtrrWriteOk(n, v)) {
        cpu.msrs.set(n, v);
        return;
      }
  }
  throw new CpuFault(Vec.GP, 0);
}
