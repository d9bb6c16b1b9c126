// The i686 interpreter: run loop, instruction boundaries (interrupts, NMI,
// single-step, HLT), fault recovery, reset and snapshots. Decoding lives in
// decode.ts, memory in memory.ts, lazy flags in flags.ts, and the opcode
// handlers in ops-*.ts (wired up in dispatch.ts).
import type { CpuBus, CpuCore, FpuUnit } from './core';
import type { PhysicalMemory } from '../machine/physical-memory';
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { CpuDecoder } from './decode';
import { AbsentFpu } from './no-fpu';
import { OPCODES, LOCKABLE, type Handler } from './dispatch';
import {
  CpuFault,
  EventKind,
  FLAG_IF as FLAG_IF_,
  FLAG_RF as FLAG_RF_,
  FLAG_TF as FLAG_TF_,
  NO_ERROR_CODE as NO_ERROR_CODE_,
  Reg,
  Seg,
  SEG_ACCESS_DB as SEG_ACCESS_DB_,
  Vec,
} from './state';
import { deliverEvent, checkCodeBreakpoint } from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EDX = Reg.EDX;
const Reg_ESP = Reg.ESP;
const Seg_CS = Seg.CS;
const Seg_DS = Seg.DS;
const Seg_ES = Seg.ES;
const Seg_FS = Seg.FS;
const Seg_GS = Seg.GS;
const Seg_LDTR = Seg.LDTR;
const Seg_SS = Seg.SS;
const Seg_TR = Seg.TR;
const Vec_DB = Vec.DB;
const Vec_DF = Vec.DF;
const Vec_GP = Vec.GP;
const Vec_NMI = Vec.NMI;
const Vec_UD = Vec.UD;
const EventKind_Exception = EventKind.Exception;
const EventKind_External = EventKind.External;
const FLAG_IF = FLAG_IF_;
const FLAG_RF = FLAG_RF_;
const FLAG_TF = FLAG_TF_;
const NO_ERROR_CODE = NO_ERROR_CODE_;
const SEG_ACCESS_DB = SEG_ACCESS_DB_;

/** EDX after reset: family 6, model 5, stepping 2 (Pentium II "Deschutes"), as CPUID leaf 1 reports. */
export const RESET_SIGNATURE = 0x0652;
const DR6_BS = 0x4000;

export interface CpuOptions {
  /** The x87 unit; without one, ESC instructions raise #NM. */
  fpu?: FpuUnit;
}

export class Cpu extends CpuDecoder implements CpuCore, Snapshottable {
  readonly stateId = 'cpu';
  readonly stateVersion = 1;

  readonly bus: CpuBus;
  readonly fpu: FpuUnit;
  /** False when built without an x87 (CPUID must not report one). */
  readonly hasFpu: boolean;
  protected readonly mem: PhysicalMemory;
  protected readonly ram: Uint8Array;
  protected readonly ram16: Uint16Array;
  protected readonly ram32: Int32Array;

  /** Set by a triple fault: nothing runs until reset(). */
  isShutdown = false;
  /** Debugging hook: called for every fault the interpreter delivers (vector, error code). */
  onFault: ((vector: number, errorCode: number) => void) | null = null;
  /** Set by instructions after which no single-step trap is taken (INT n delivers its own frame). */
  suppressStepTrap = false;

  private readonly opcodes: Handler[] = OPCODES;

  constructor(bus: CpuBus, options: CpuOptions = {}) {
    super();
    this.bus = bus;
    this.mem = bus.mem;
    this.ram = bus.mem.ram;
    this.ram16 = bus.mem.ram16;
    this.ram32 = bus.mem.ram32;
    this.hasFpu = options.fpu !== undefined;
    this.fpu = options.fpu ?? new AbsentFpu();
    // A20, PAM, ROM/RAM and MMIO changes invalidate the physical side of every TLB entry.
    bus.mem.onMapChange = () => this.flushTlb(true);
    this.reset();
  }

  /** Power-on / RESET# state. */
  reset(): void {
    this.reg32.fill(0);
    this.reg32[Reg_EDX] = RESET_SIGNATURE;
    this.eip = 0xfff0;
    for (let s = 0; s < 8; s++) {
      this.segSel[s] = 0;
      this.segBase[s] = 0;
      this.segLimit[s] = 0xffff;
      this.segAccess[s] = 0x93;
    }
    this.segSel[Seg_CS] = 0xf000;
    this.segBase[Seg_CS] = 0xffff0000 | 0;
    this.segAccess[Seg_CS] = 0x9b;
    this.segAccess[Seg_LDTR] = 0x82;
    this.segAccess[Seg_TR] = 0x8b;
    this.gdtrBase = this.idtrBase = 0;
    this.gdtrLimit = this.idtrLimit = 0xffff;
    this.cpl = 0;
    this.cr0 = 0x60000010;
    this.cr2 = this.cr3 = this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.flagsReg = 2;
    this.lazyMask = 0;
    this.tscOffset = 0;
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.apicBase = 0xfee00900;
    this.msrs.clear();
    this.halted = false;
    this.nmiPending = false;
    this.nmiBlocked = false;
    this.interruptShadow = false;
    this.isShutdown = false;
    this.pendingDebugTrap = 0;
    this.fpu.reset();
    this.flushTlb(true);
    this.updateModeCaches();
  }

  updateModeCaches(): void {
    this.codeBig = (this.segAccess[Seg_CS] & SEG_ACCESS_DB) !== 0;
    this.csBase = this.segBase[Seg_CS];
    this.csLimit = this.segLimit[Seg_CS];
    this.fetchPage = -1;
    this.updateMemoryModes();
  }

  override flushTlb(global: boolean): void {
    super.flushTlb(global);
    this.fetchPage = -1;
  }

  override invlpg(lin: number): void {
    super.invlpg(lin);
    this.fetchPage = -1;
  }

  raiseNmi(): void {
    this.nmiPending = true;
  }

  shutdown(reason: string): void {
    this.isShutdown = true;
    this.halted = true;
    this.bus.onShutdown(reason);
  }

  /**
   * Execute up to maxInstructions; returns how many retired. Returns early when
   * the CPU halts (HLT with nothing to wake it) or shuts down.
   */
  run(maxInstructions: number): number {
    let retired = 0;
    // Faults also use up the budget (without retiring), so a fault loop cannot hang the caller.
    let faults = 0;
    while (retired + faults < maxInstructions && !this.isShutdown) {
      try {
        while (retired + faults < maxInstructions) {
          if (this.halted) {
            if (this.isShutdown || !this.wakeFromHalt()) return retired;
          } else if (this.interruptShadow) this.interruptShadow = false;
          else if (this.nmiPending || (this.flagsReg & FLAG_IF) !== 0) this.checkExternalEvents();
          this.step();
          retired++;
          if (this.halted) return retired;
        }
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        faults++;
        this.recoverFault(e);
      }
    }
    return retired;
  }

  /**
   * Execute exactly one instruction, delivering the fault it raises if any. External
   * interrupts are not looked at. For debuggers and single-step test vectors.
   */
  singleStep(): void {
    if (this.isShutdown) return;
    try {
      this.step();
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.recoverFault(e);
    }
  }

  // Where a translation cache or JIT would plug in: step() is the only caller of
  // decodeAndExecute(), which decodes and runs exactly one instruction straight from
  // guest memory (no decoded-instruction cache yet, so self-modifying code needs no
  // invalidation). A block cache keyed by physical page would replace that call with
  // "execute the block at CS:EIP", invalidated through mem.codePages/onCodeWrite, and
  // must keep the same per-instruction contract: instrEip/instrEsp set at each
  // instruction start, CpuFault thrown for rollback, instructionCount per retirement.

  /** One instruction: prefixes, dispatch, then the traps it left behind (single-step, data breakpoints). */
  private step(): void {
    const tf = this.flagsReg & FLAG_TF;
    this.instrEip = this.eip;
    this.instrEsp = this.reg32[Reg_ESP];
    if (this.debugActive && (this.flagsReg & FLAG_RF) === 0) {
      checkCodeBreakpoint(this, (this.csBase + this.eip) | 0);
    }
    this.decodeAndExecute();
    this.instructionCount++;
    this.flagsReg &= ~FLAG_RF;
    const traps = this.pendingDebugTrap | (tf && !this.suppressStepTrap ? DR6_BS : 0);
    this.suppressStepTrap = false;
    if (traps !== 0) this.deliverDebugTrap(traps);
  }

  private decodeAndExecute(): void {
    const big = this.codeBig;
    this.o32 = big;
    this.a32 = big;
    this.segOverride = -1;
    this.repPrefix = 0;
    this.lockPrefix = false;
    let op = this.fetch8();
    for (let prefixes = 1; ; prefixes++) {
      switch (op) {
        case 0x26: this.segOverride = Seg_ES; break;
        case 0x2e: this.segOverride = Seg_CS; break;
        case 0x36: this.segOverride = Seg_SS; break;
        case 0x3e: this.segOverride = Seg_DS; break;
        case 0x64: this.segOverride = Seg_FS; break;
        case 0x65: this.segOverride = Seg_GS; break;
        case 0x66: this.o32 = !big; break;
        case 0x67: this.a32 = !big; break;
        case 0xf0: this.lockPrefix = true; break;
        case 0xf2: case 0xf3: this.repPrefix = op; break;
        case 0x0f:
          op = 0x100 | this.fetch8();
          if (this.lockPrefix) this.checkLock(op);
          this.opcodes[op](this);
          return;
        default:
          if (this.lockPrefix) this.checkLock(op);
          this.opcodes[op](this);
          return;
      }
      // 15 prefixes: the opcode would be byte 16 (the architectural limit is 15 bytes).
      if (prefixes >= 15) throw new CpuFault(Vec_GP, 0);
      op = this.fetch8();
    }
  }

  /** LOCK is only legal on read-modify-write instructions with a memory destination. */
  private checkLock(op: number): void {
    const kind = LOCKABLE[op];
    if (kind === 0) throw new CpuFault(Vec_UD);
    const modrm = this.fetch8();
    this.eip--;
    if (modrm >= 0xc0) throw new CpuFault(Vec_UD);
    // kind is a bitmask of the ModR/M reg values allowed (255 = any).
    if ((kind & (1 << ((modrm >> 3) & 7))) === 0) throw new CpuFault(Vec_UD);
  }

  /** A fault: roll back to the start of the instruction (faults are restartable) and deliver it. */
  private recoverFault(f: CpuFault): void {
    this.eip = this.instrEip;
    this.reg32[Reg_ESP] = this.instrEsp;
    this.pendingDebugTrap = 0;
    this.suppressStepTrap = false;
    if (this.onFault) this.onFault(f.vector, f.errorCode);
    this.deliverAtBoundary(f.vector, EventKind_Exception, f.errorCode);
  }

  /**
   * Deliver an event with cpu.eip already set to the address to push. A fault while
   * delivering is the system layer's (#DF / triple fault); one escaping it here is
   * treated as a double fault, then as a shutdown.
   */
  deliverAtBoundary(vector: number, kind: EventKind, errorCode: number): void {
    this.instrEip = this.eip;
    this.instrEsp = this.reg32[Reg_ESP];
    try {
      deliverEvent(this, vector, kind, errorCode);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.eip = this.instrEip;
      this.reg32[Reg_ESP] = this.instrEsp;
      try {
        deliverEvent(this, Vec_DF, EventKind_Exception, 0);
      } catch (e2) {
        if (!(e2 instanceof CpuFault)) throw e2;
        this.shutdown('triple fault');
      }
    }
    this.updateModeCaches();
    // A task switch into a TSS with its T bit set leaves a trap for right after delivery.
    if (this.pendingDebugTrap !== 0 && vector !== Vec_DB) this.deliverDebugTrap(this.pendingDebugTrap);
  }

  /** #DB as a trap after an instruction or event delivery: DR6 gets the causes (BS, BT, B0-B3). */
  private deliverDebugTrap(dr6Bits: number): void {
    this.dr[6] |= dr6Bits;
    this.pendingDebugTrap = 0;
    this.deliverAtBoundary(Vec_DB, EventKind_Exception, NO_ERROR_CODE);
  }

  /** NMI, then INTR (when IF is set): delivered between instructions. */
  private checkExternalEvents(): void {
    if (this.nmiPending && !this.nmiBlocked) {
      this.nmiPending = false;
      this.nmiBlocked = true;
      this.deliverAtBoundary(Vec_NMI, EventKind_External, NO_ERROR_CODE);
    } else if ((this.flagsReg & FLAG_IF) !== 0 && this.bus.interrupts.hasInterrupt()) {
      const vector = this.bus.interrupts.acknowledge();
      this.deliverAtBoundary(vector & 0xff, EventKind_External, NO_ERROR_CODE);
    }
  }

  /** While halted: an NMI or an unmasked INTR resumes execution at its handler. */
  private wakeFromHalt(): boolean {
    if ((this.nmiPending && !this.nmiBlocked) || ((this.flagsReg & FLAG_IF) !== 0 && this.bus.interrupts.hasInterrupt())) {
      this.halted = false;
      this.interruptShadow = false;
      this.checkExternalEvents();
      return true;
    }
    return false;
  }

  // ---- Snapshots ----

  saveState(): ComponentState {
    const msrs: number[] = [];
    const msrValues: string[] = [];
    for (const [n, v] of this.msrs) {
      msrs.push(n);
      msrValues.push(v.toString());
    }
    return {
      reg32: Int32Array.from(this.reg32),
      eip: this.eip,
      eflags: this.getEflags(),
      segSel: Uint16Array.from(this.segSel),
      segBase: Int32Array.from(this.segBase),
      segLimit: Uint32Array.from(this.segLimit),
      segAccess: Uint16Array.from(this.segAccess),
      gdtr: [this.gdtrBase, this.gdtrLimit],
      idtr: [this.idtrBase, this.idtrLimit],
      cpl: this.cpl,
      cr: [this.cr0, this.cr2, this.cr3, this.cr4],
      dr: Int32Array.from(this.dr),
      tscOffset: this.tscOffset,
      sysenter: [this.sysenterCs, this.sysenterEsp, this.sysenterEip],
      apicBase: this.apicBase,
      msrs,
      msrValues,
      halted: this.halted,
      nmiPending: this.nmiPending,
      nmiBlocked: this.nmiBlocked,
      interruptShadow: this.interruptShadow,
      isShutdown: this.isShutdown,
      instructionCount: this.instructionCount,
      fpuVersion: this.fpu.stateVersion,
      fpu: this.fpu.saveState(),
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const num = (v: unknown) => v as number;
    const arr = (v: unknown) => v as number[];
    this.reg32.set(state.reg32 as Int32Array);
    this.eip = num(state.eip);
    this.segSel.set(state.segSel as Uint16Array);
    this.segBase.set(state.segBase as Int32Array);
    this.segLimit.set(state.segLimit as Uint32Array);
    this.segAccess.set(state.segAccess as Uint16Array);
    [this.gdtrBase, this.gdtrLimit] = arr(state.gdtr);
    [this.idtrBase, this.idtrLimit] = arr(state.idtr);
    this.cpl = num(state.cpl);
    [this.cr0, this.cr2, this.cr3, this.cr4] = arr(state.cr);
    this.dr.set(state.dr as Int32Array);
    this.tscOffset = num(state.tscOffset);
    [this.sysenterCs, this.sysenterEsp, this.sysenterEip] = arr(state.sysenter);
    this.apicBase = num(state.apicBase);
    this.msrs.clear();
    const msrValues = state.msrValues as string[];
    arr(state.msrs).forEach((n, i) => this.msrs.set(n, BigInt(msrValues[i])));
    this.halted = state.halted as boolean;
    this.nmiPending = state.nmiPending as boolean;
    this.nmiBlocked = state.nmiBlocked as boolean;
    this.interruptShadow = state.interruptShadow as boolean;
    this.isShutdown = state.isShutdown as boolean;
    this.instructionCount = num(state.instructionCount);
    this.lazyMask = 0;
    this.flagsReg = num(state.eflags);
    this.pendingDebugTrap = 0;
    this.suppressStepTrap = false;
    this.fpu.loadState(state.fpu as ComponentState, num(state.fpuVersion));
    this.flushTlb(true);
    this.updateModeCaches();
  }
}
