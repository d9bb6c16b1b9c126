// The contracts between the parts of the CPU and between the CPU and the machine.
//  - CpuBus: what the machine gives the CPU.
//  - CpuCore: what the interpreter (class Cpu in cpu.ts) offers to the system layer
//    (engine/cpu/system/) and the x87 unit (engine/cpu/fpu/), so they can be written
//    against an interface rather than the interpreter's internals.
import type { PhysicalMemory } from '../machine/physical-memory';
import type { IoBus } from '../machine/io-bus';
import type { Clock } from '../machine/clock';
import type { InterruptSource } from '../machine/interrupts';
import type { CpuRegisters } from './state';
import type { ComponentState } from '../common/snapshot';

export interface CpuBus {
  mem: PhysicalMemory;
  io: IoBus;
  /** The INTR pin + INTA (8259A, or the local APIC when present). Replaceable at run time. */
  interrupts: InterruptSource;
  /** Virtual time; RDTSC derives from it. */
  clock: Clock;
  /**
   * Firmware hypercall: the built-in BIOS's ROM stubs execute the otherwise-undefined
   * opcode 0F 3F ib (physical EIP inside the BIOS area 0xE0000-0xFFFFF only, any mode
   * incl. v86). The CPU advances EIP past the 3 bytes, then calls this with ib. Outside
   * the BIOS area, or with no handler, 0F 3F raises #UD as on real silicon.
   */
  hypercall?: (n: number) => void;
  /** Triple fault or shutdown: the machine resets (or stops, per its policy). */
  onShutdown: (reason: string) => void;
  /** FERR# asserted/deasserted (x87 error with CR0.NE clear): the machine raises IRQ13. */
  onFerr?: (asserted: boolean) => void;
}

/** The x87 unit as the interpreter sees it. Implemented in engine/cpu/fpu/. */
export interface FpuUnit {
  /** FNINIT state; also power-on/reset. */
  reset(): void;
  /**
   * Execute an escape opcode D8+op (op 0..7) with its ModR/M byte. For memory forms
   * (mod != 3) the interpreter has computed the effective address: seg (a Seg) and
   * the offset; the unit reads/writes through cpu.readSeg* / cpu.writeSeg*.
   * The interpreter has already applied the CR0.EM/TS #NM checks.
   * `o32` is the effective operand size (for FNSTENV/FLDENV/FNSAVE/FRSTOR layouts),
   * `instrEip`/`instrCs` the address of the instruction (FPU IP), for the environment.
   */
  execute(cpu: CpuCore, op: number, modrm: number, seg: number, offset: number, o32: boolean, instrCs: number, instrEip: number): void;
  /** WAIT/FWAIT and the implicit check of waiting FPU instructions: raise #MF (CR0.NE) or FERR# if an unmasked exception is pending. */
  checkPending(cpu: CpuCore): void;
  fxsave(cpu: CpuCore, seg: number, offset: number): void;
  fxrstor(cpu: CpuCore, seg: number, offset: number): void;
  saveState(): ComponentState;
  loadState(state: ComponentState, version: number): void;
  readonly stateVersion: number;
}

/**
 * The interpreter's services. All memory helpers raise CpuFault (#GP/#SS/#PF/#AC)
 * by throwing; callers never see a partial access.
 */
export interface CpuCore extends CpuRegisters {
  readonly bus: CpuBus;
  readonly fpu: FpuUnit;
  /** False when the machine has no x87 (ESC raises #NM; CPUID.1:EDX.FPU must be clear). Absent = present. */
  readonly hasFpu?: boolean;

  getEflags(): number;
  /** Replace the EFLAGS bits selected by mask (default: all writable bits) — no privilege filtering. */
  setEflags(value: number, mask?: number): void;

  /** Linear-address access with the current privilege (user when CPL 3), through paging. */
  readLin8(lin: number): number;
  readLin16(lin: number): number;
  readLin32(lin: number): number;
  writeLin8(lin: number, v: number): void;
  writeLin16(lin: number, v: number): void;
  writeLin32(lin: number, v: number): void;
  /** Implicit supervisor accesses (GDT/LDT/IDT/TSS), privilege-independent. */
  readSys8(lin: number): number;
  readSys16(lin: number): number;
  readSys32(lin: number): number;
  writeSys8(lin: number, v: number): void;
  writeSys16(lin: number, v: number): void;
  writeSys32(lin: number, v: number): void;

  /** Segment:offset access with limit and type checks (#GP or #SS(0) for SS). */
  readSeg8(seg: number, offset: number): number;
  readSeg16(seg: number, offset: number): number;
  readSeg32(seg: number, offset: number): number;
  writeSeg8(seg: number, offset: number, v: number): void;
  writeSeg16(seg: number, offset: number, v: number): void;
  writeSeg32(seg: number, offset: number, v: number): void;

  /** Stack operations on SS:ESP honouring the stack size (SS.B). */
  push16(v: number): void;
  push32(v: number): void;
  pop16(): number;
  pop32(): number;

  /** Drop TLB entries: all non-global (CR3 write), or all (global=true: CR4.PGE/PG changes). */
  flushTlb(global: boolean): void;
  invlpg(lin: number): void;
  /**
   * Recompute everything the interpreter caches from architectural state (code/stack
   * size, mode, CPL-derived fast paths) after the system layer changed CR0/CR4/EFLAGS.VM
   * or segment caches directly.
   */
  updateModeCaches(): void;
  /** Triple fault / shutdown. */
  shutdown(reason: string): void;
}
