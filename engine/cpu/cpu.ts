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
import {
  BLOCK_TABLE_SIZE as BLOCK_TABLE_SIZE_,
  DecodedBlock,
  ENDS_BLOCK as ENDS_BLOCK_,
  MAX_BLOCK_INSTRUCTIONS as MAX_BLOCK_INSTRUCTIONS_,
  PK_A32 as PK_A32_,
  PK_HDR_SHIFT as PK_HDR_SHIFT_,
  PK_LOCK as PK_LOCK_,
  PK_O32 as PK_O32_,
  PK_REP_SHIFT as PK_REP_SHIFT_,
  PK_SEG_SHIFT as PK_SEG_SHIFT_,
  type BlockExecutor,
} from './block-cache';
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
const BLOCK_TABLE_MASK = BLOCK_TABLE_SIZE_ - 1;
const ENDS_BLOCK = ENDS_BLOCK_;
const MAX_BLOCK_INSTRUCTIONS = MAX_BLOCK_INSTRUCTIONS_;
const PK_A32 = PK_A32_;
const PK_HDR_SHIFT = PK_HDR_SHIFT_;
const PK_LOCK = PK_LOCK_;
const PK_O32 = PK_O32_;
const PK_REP_SHIFT = PK_REP_SHIFT_;
const PK_SEG_SHIFT = PK_SEG_SHIFT_;
/** REP field of a packed header word -> repPrefix. */
const REP_BYTES = [0, 0xf2, 0xf3, 0];
/** Invalidations of one page within a strike epoch after which the page is no longer cached. */
const STRIKE_LIMIT = 8;
/** Strike epoch length, in instructions. */
const STRIKE_EPOCH = 1 << 22;

/** EDX after reset: family 6, model 5, stepping 2 (Pentium II "Deschutes"), as CPUID leaf 1 reports. */
export const RESET_SIGNATURE = 0x0652;
const DR6_BS = 0x4000;

export interface CpuOptions {
  /** The x87 unit; without one, ESC instructions raise #NM. */
  fpu?: FpuUnit;
}

export class Cpu extends CpuDecoder implements CpuCore, Snapshottable, BlockExecutor {
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
  private readonly codePages: Uint8Array;

  /** Set by a triple fault: nothing runs until reset(). */
  isShutdown = false;
  /** Debugging hook: called for every fault the interpreter delivers (vector, error code). */
  onFault: ((vector: number, errorCode: number) => void) | null = null;
  /** Set by instructions after which no single-step trap is taken (INT n delivers its own frame). */
  suppressStepTrap = false;

  private readonly opcodes: Handler[] = OPCODES;

  // ---- Decoded-block cache (block-cache.ts) ----
  /** Executes cached blocks: the interpreter itself, or a JIT wrapping it (the seam). */
  blockExecutor: BlockExecutor = this;
  /**
   * Use the decoded-block cache (false: the plain interpreter loop, decoding every
   * instruction from memory, and no page is marked as code). Both give the same
   * results and instruction counts; the cache saves prefix/opcode decoding.
   */
  blockCacheEnabled = true;
  /** Direct-mapped table of blocks by physical address. */
  private readonly blockTable: (DecodedBlock | null)[] = new Array<DecodedBlock | null>(BLOCK_TABLE_SIZE_).fill(null);
  /** Per physical RAM page: generation, bumped when the page is written (kills its blocks). */
  private readonly pageGen: Uint32Array;
  /** Pages marked in mem.codePages since the last flush (may repeat). */
  private markedPages: number[] = [];
  /**
   * Set when the block being executed or recorded must stop after the current
   * instruction: its page was written, the mode caches changed, or the TLB was flushed.
   */
  blockExit = false;
  /** Physical page of the block being executed or recorded, or -1. */
  private execPage = -1;
  /** The executor already did the instruction-boundary work for the next instruction. */
  boundaryDone = false;
  /**
   * Per physical page: how often its blocks were invalidated in the current strike
   * epoch. A page rewritten again and again (code and data sharing a page) stops being
   * cached until the epoch ends, so it runs at plain-interpreter speed instead of
   * re-recording after every write.
   */
  private readonly pageStrikes: Uint8Array;
  private strikeEpochEnd = 0;
  /** Blocks recorded / executions of cached blocks (statistics). */
  blocksRecorded = 0;
  blocksExecuted = 0;

  // Recording: the run loop interprets instructions one by one; decodeAndExecute stores
  // each header here, and the block is built when the straight line ends.
  private recording = false;
  private readonly rec = new Int32Array(2 * MAX_BLOCK_INSTRUCTIONS_);
  private recCount = 0;
  private recPending = false;
  private recPhys = 0;
  private recGen = 0;
  private recCodeBig = false;
  private recStartEip = 0;
  private recNextEip = 0;
  private recLinPage = 0;
  private recLastOp = 0;

  constructor(bus: CpuBus, options: CpuOptions = {}) {
    super();
    this.bus = bus;
    this.mem = bus.mem;
    this.ram = bus.mem.ram;
    this.ram16 = bus.mem.ram16;
    this.ram32 = bus.mem.ram32;
    this.codePages = bus.mem.codePages;
    this.hasFpu = options.fpu !== undefined;
    this.fpu = options.fpu ?? new AbsentFpu();
    this.pageGen = new Uint32Array(bus.mem.codePages.length);
    this.pageStrikes = new Uint8Array(bus.mem.codePages.length);
    // A20, PAM, ROM/RAM and MMIO changes invalidate the physical side of every TLB entry;
    // a memory-map change or memory state load also drops every decoded block.
    const previousMapChange = bus.mem.onMapChange;
    bus.mem.onMapChange = () => {
      previousMapChange();
      this.flushTlb(true);
      this.flushBlocks();
    };
    const previousCodeWrite = bus.mem.onCodeWrite;
    bus.mem.onCodeWrite = (page) => {
      previousCodeWrite(page);
      this.codePageWritten(page);
    };
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
    this.flushBlocks();
    this.updateModeCaches();
  }

  updateModeCaches(): void {
    this.codeBig = (this.segAccess[Seg_CS] & SEG_ACCESS_DB) !== 0;
    this.csBase = this.segBase[Seg_CS];
    this.csLimit = this.segLimit[Seg_CS];
    this.fetchPage = -1;
    this.blockExit = true;
    this.updateMemoryModes();
  }

  override flushTlb(global: boolean): void {
    super.flushTlb(global);
    this.fetchPage = -1;
    this.blockExit = true;
  }

  override invlpg(lin: number): void {
    super.invlpg(lin);
    this.fetchPage = -1;
    this.blockExit = true;
  }

  // ---- Decoded-block cache ----

  /** Drop every decoded block (reset, memory-map change, state load, direct RAM writes by a loader). */
  flushBlocks(): void {
    const codePages = this.mem.codePages;
    if (this.markedPages.length > codePages.length) {
      codePages.fill(0);
      for (let p = 0; p < this.pageGen.length; p++) this.pageGen[p]++;
    } else {
      for (const p of this.markedPages) {
        codePages[p] = 0;
        this.pageGen[p]++;
      }
    }
    this.markedPages = [];
    this.pageStrikes.fill(0);
    this.blockExit = true;
    this.recording = false;
  }

  /** mem.onCodeWrite: a write reached a page holding decoded code. */
  private codePageWritten(page: number): void {
    this.codePages[page] = 0;
    this.pageGen[page]++;
    if (this.pageStrikes[page] < 255) this.pageStrikes[page]++;
    if (page === this.execPage) this.blockExit = true;
  }

  /** The page will hold decoded code: writes to it must reach PhysicalMemory (onCodeWrite). */
  private markCodePage(page: number): void {
    if (this.codePages[page] !== 0) return;
    this.codePages[page] = 1;
    this.markedPages.push(page);
    this.revokeDirectWrites(page);
  }

  /** Start recording a block at CS:EIP, whose linear page is the cached fetch page. */
  private startRecording(phys: number): void {
    const page = phys >>> 12;
    this.markCodePage(page);
    this.recording = true;
    this.recCount = 0;
    this.recPending = false;
    this.recPhys = phys;
    this.recGen = this.pageGen[page];
    this.recCodeBig = this.codeBig;
    this.recStartEip = this.eip;
    this.recNextEip = this.eip;
    this.recLinPage = ((this.csBase + this.eip) | 0) >>> 12;
    this.execPage = page;
    this.blockExit = false;
  }

  /** decodeAndExecute, while recording: the header of the instruction about to run. */
  private recordHeader(op: number): void {
    const start = this.instrEip;
    const lin = (this.csBase + start) | 0;
    const hdr = this.eip - start;
    if (start !== this.recNextEip || this.blockExit || lin >>> 12 !== this.recLinPage || (lin & 0xfff) + hdr > 0x1000) {
      this.finishRecording();
      return;
    }
    const n = this.recCount;
    let w = op | (hdr << PK_HDR_SHIFT);
    if (this.o32) w |= PK_O32;
    if (this.a32) w |= PK_A32;
    w |= (this.segOverride + 1) << PK_SEG_SHIFT;
    if (this.repPrefix !== 0) w |= (this.repPrefix === 0xf2 ? 1 : 2) << PK_REP_SHIFT;
    if (this.lockPrefix) w |= PK_LOCK;
    this.rec[2 * n] = start - this.recStartEip;
    this.rec[2 * n + 1] = w;
    this.recLastOp = op;
    this.recPending = true;
  }

  /** After an instruction retired while recording: keep it, and end the block where it must end. */
  private recordRetired(): void {
    if (!this.recPending) {
      this.finishRecording();
      return;
    }
    this.recPending = false;
    this.recCount++;
    this.recNextEip = this.eip;
    if (
      ENDS_BLOCK[this.recLastOp] !== 0 ||
      this.recCount >= MAX_BLOCK_INSTRUCTIONS ||
      this.blockExit ||
      this.halted ||
      ((this.csBase + this.eip) | 0) >>> 12 !== this.recLinPage
    ) {
      this.finishRecording();
    }
  }

  /** Build the block from what was recorded (nothing if its page was written meanwhile). */
  private finishRecording(): void {
    this.recording = false;
    this.execPage = -1;
    const n = this.recCount;
    const page = this.recPhys >>> 12;
    if (n === 0 || this.pageGen[page] !== this.recGen) return;
    const code = this.rec.slice(0, 2 * n);
    const lastByte = code[2 * n - 2] + ((code[2 * n - 1] >> PK_HDR_SHIFT) & 15) - 1;
    const block = new DecodedBlock(this.recPhys, page, this.recCodeBig, this.recGen, n, code, lastByte);
    this.blockTable[(this.recPhys ^ (this.recPhys >>> 11)) & BLOCK_TABLE_MASK] = block;
    this.blocksRecorded++;
  }

  /**
   * BlockExecutor, the interpreter's implementation (see block-cache.ts for the contract):
   * the same work as step() per instruction, with the header taken from the block.
   */
  executeBlock(b: DecodedBlock, budget: number): void {
    // Single-step, RF and code/data breakpoints need the per-instruction debug work;
    // without them (the usual case) only a terminator (the last instruction of a block:
    // POPF, IRET, MOV DRn, task switches...) can set TF, RF or DR7, so the loop skips it.
    if (this.debugActive || (this.flagsReg & (FLAG_TF | FLAG_RF)) !== 0) {
      this.executeBlockDebug(b, budget);
      return;
    }
    const code = b.code;
    const n = b.length < budget ? b.length : budget;
    const startEip = this.eip;
    this.blockExit = false;
    this.execPage = b.page;
    let i = 0;
    for (;;) {
      const eip = startEip + code[2 * i];
      const w = code[2 * i + 1];
      this.instrEip = eip;
      this.instrEsp = this.reg32[Reg_ESP];
      this.o32 = (w & PK_O32) !== 0;
      this.a32 = (w & PK_A32) !== 0;
      this.segOverride = ((w >> PK_SEG_SHIFT) & 7) - 1;
      this.repPrefix = REP_BYTES[(w >> PK_REP_SHIFT) & 3];
      this.lockPrefix = (w & PK_LOCK) !== 0;
      this.eip = eip + ((w >> PK_HDR_SHIFT) & 15);
      const op = w & 0x1ff;
      if (this.lockPrefix) this.checkLock(op);
      this.opcodes[op](this);
      this.instructionCount++;
      if (this.pendingDebugTrap !== 0) {
        // A task switch into a TSS with the T bit (a terminator, so the block's last instruction).
        this.flagsReg &= ~FLAG_RF;
        this.suppressStepTrap = false;
        this.deliverDebugTrap(this.pendingDebugTrap);
        break;
      }
      if (++i >= n || this.halted || this.blockExit || this.eip !== startEip + code[2 * i]) {
        // What step() does after every instruction; only the last one can have changed them.
        this.flagsReg &= ~FLAG_RF;
        this.suppressStepTrap = false;
        break;
      }
      // The boundary before the next instruction, exactly as run() does it.
      if (this.interruptShadow) this.interruptShadow = false;
      else if (this.nmiPending || (this.flagsReg & FLAG_IF) !== 0) {
        const before = this.eip;
        this.checkExternalEvents();
        if (this.blockExit || this.eip !== before) {
          this.boundaryDone = true;
          break;
        }
      }
    }
    this.execPage = -1;
  }

  /** executeBlock with step()'s full per-instruction debug work (TF, RF, DR7 breakpoints). */
  private executeBlockDebug(b: DecodedBlock, budget: number): void {
    const code = b.code;
    const n = b.length < budget ? b.length : budget;
    const startEip = this.eip;
    this.blockExit = false;
    this.execPage = b.page;
    let i = 0;
    for (;;) {
      const eip = startEip + code[2 * i];
      const w = code[2 * i + 1];
      const tf = this.flagsReg & FLAG_TF;
      this.instrEip = eip;
      this.instrEsp = this.reg32[Reg_ESP];
      if (this.debugActive && (this.flagsReg & FLAG_RF) === 0) {
        checkCodeBreakpoint(this, (this.csBase + eip) | 0);
      }
      this.o32 = (w & PK_O32) !== 0;
      this.a32 = (w & PK_A32) !== 0;
      this.segOverride = ((w >> PK_SEG_SHIFT) & 7) - 1;
      this.repPrefix = REP_BYTES[(w >> PK_REP_SHIFT) & 3];
      this.lockPrefix = (w & PK_LOCK) !== 0;
      this.eip = eip + ((w >> PK_HDR_SHIFT) & 15);
      const op = w & 0x1ff;
      if (this.lockPrefix) this.checkLock(op);
      this.opcodes[op](this);
      this.instructionCount++;
      this.flagsReg &= ~FLAG_RF;
      const traps = this.pendingDebugTrap | (tf && !this.suppressStepTrap ? DR6_BS : 0);
      this.suppressStepTrap = false;
      if (traps !== 0) {
        this.deliverDebugTrap(traps);
        break;
      }
      if (this.halted || ++i >= n || this.blockExit || this.eip !== startEip + code[2 * i]) break;
      if (this.interruptShadow) this.interruptShadow = false;
      else if (this.nmiPending || (this.flagsReg & FLAG_IF) !== 0) {
        const before = this.eip;
        this.checkExternalEvents();
        if (this.blockExit || this.eip !== before) {
          this.boundaryDone = true;
          break;
        }
      }
    }
    this.execPage = -1;
  }

  /**
   * Code in a page that is not being cached (page strikes): plain step()s, with run()'s
   * boundary work between them, until EIP leaves the linear page, the CPU halts or the
   * budget is used up. Saves the block lookup per instruction.
   */
  private interpretPage(budget: number): void {
    const linPage = ((this.csBase + this.eip) | 0) >>> 12;
    let n = 0;
    for (;;) {
      this.step();
      if (this.halted || ++n >= budget) return;
      if (this.interruptShadow) this.interruptShadow = false;
      else if (this.nmiPending || (this.flagsReg & FLAG_IF) !== 0) this.checkExternalEvents();
      if (((this.csBase + this.eip) | 0) >>> 12 !== linPage) {
        this.boundaryDone = true;
        return;
      }
    }
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
    if (!this.blockCacheEnabled) return this.runInterpreted(maxInstructions);
    if (this.recording) this.finishRecording();
    const start = this.instructionCount;
    this.boundaryDone = false;
    // Faults also use up the budget (without retiring), so a fault loop cannot hang the caller.
    let faults = 0;
    while (this.instructionCount - start + faults < maxInstructions && !this.isShutdown) {
      try {
        for (;;) {
          const remaining = maxInstructions - (this.instructionCount - start) - faults;
          if (remaining <= 0) break;
          const left = remaining < 0x40000000 ? remaining | 0 : 0x40000000;
          if (this.boundaryDone) this.boundaryDone = false;
          else if (this.halted) {
            if (this.isShutdown || !this.wakeFromHalt()) break;
          } else if (this.interruptShadow) this.interruptShadow = false;
          else if (this.nmiPending || (this.flagsReg & FLAG_IF) !== 0) this.checkExternalEvents();
          const lin = (this.csBase + this.eip) | 0;
          if (lin >>> 12 === this.fetchPage && !this.recording) {
            const phys = this.fetchBase + (lin & 0xfff);
            const b = this.blockTable[(phys ^ (phys >>> 11)) & BLOCK_TABLE_MASK];
            if (
              b !== null &&
              b.phys === phys &&
              b.codeBig === this.codeBig &&
              b.gen === this.pageGen[b.page] &&
              ((this.eip + b.lastCachedByte) >>> 0) <= this.csLimit
            ) {
              b.executions++;
              this.blocksExecuted++;
              this.blockExecutor.executeBlock(b, left);
              if (this.halted) break;
              continue;
            }
            if (this.pageStrikes[phys >>> 12] < STRIKE_LIMIT) this.startRecording(phys);
            else if (this.instructionCount >= this.strikeEpochEnd) {
              this.pageStrikes.fill(0);
              this.strikeEpochEnd = this.instructionCount + STRIKE_EPOCH;
            } else {
              this.interpretPage(left);
              if (this.halted) break;
              continue;
            }
          }
          this.step();
          if (this.recording) this.recordRetired();
          if (this.halted) break;
        }
        break;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        faults++;
        this.boundaryDone = false;
        this.execPage = -1;
        if (this.recording) this.finishRecording();
        this.recoverFault(e);
      }
    }
    if (this.recording) this.finishRecording();
    return this.instructionCount - start;
  }

  /** run() without the block cache: every instruction decoded from memory by step(). */
  private runInterpreted(maxInstructions: number): number {
    if (this.recording) this.finishRecording();
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

  // step() decodes and runs one instruction straight from guest memory; run() uses it
  // for code with no cached block (recording the block as it goes) and hands cached
  // blocks to blockExecutor (block-cache.ts: the JIT seam), which keeps step()'s
  // per-instruction contract: instrEip/instrEsp set at each instruction start,
  // CpuFault thrown for rollback, instructionCount per retirement, the same boundary
  // work between instructions.

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
          if (this.recording) this.recordHeader(op);
          if (this.lockPrefix) this.checkLock(op);
          this.opcodes[op](this);
          return;
        default:
          if (this.recording) this.recordHeader(op);
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
