// Lazy arithmetic flags. Most instructions that set flags are followed by another
// flag-setting instruction before anything reads them, so instead of computing the
// six arithmetic flags every time we remember the operands and the result and
// derive a flag only when it is read (Jcc, SETcc, PUSHF, ADC...).
//
// `lazyMask` says which arithmetic flags must be derived from the lazy record;
// every other EFLAGS bit lives in `flagsReg`.
import {
  ARITH_FLAGS as ARITH_FLAGS_,
  CpuRegisters,
  FLAG_AC as FLAG_AC_,
  FLAG_AF as FLAG_AF_,
  FLAG_BIT1 as FLAG_BIT1_,
  FLAG_CF as FLAG_CF_,
  FLAG_OF as FLAG_OF_,
  FLAG_PF as FLAG_PF_,
  FLAG_SF as FLAG_SF_,
  FLAG_VM as FLAG_VM_,
  FLAG_ZF as FLAG_ZF_,
} from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const ARITH_FLAGS = ARITH_FLAGS_;
const FLAG_AC = FLAG_AC_;
const FLAG_AF = FLAG_AF_;
const FLAG_BIT1 = FLAG_BIT1_;
const FLAG_CF = FLAG_CF_;
const FLAG_OF = FLAG_OF_;
const FLAG_PF = FLAG_PF_;
const FLAG_SF = FLAG_SF_;
const FLAG_VM = FLAG_VM_;
const FLAG_ZF = FLAG_ZF_;

/** How the lazy record was produced: decides CF, OF and AF. */
export const enum LazyOp {
  /** a + b (+ carry): ADD, ADC, INC. */
  Add = 0,
  /** a - b (- borrow): SUB, SBB, CMP, NEG, DEC, CMPXCHG, string compares. */
  Sub = 1,
  /** Result only: CF, OF and AF read as 0 (AND, OR, XOR, TEST). */
  Logic = 2,
}

/** Every EFLAGS bit software can change on an i686 (bits 1, 3, 5, 15, 22-31 are fixed). */
export const EFLAGS_WRITABLE = 0x3f7fd5;

/** PF for each byte value: FLAG_PF when the byte has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : FLAG_PF;
}

export abstract class LazyFlags extends CpuRegisters {
  /** EFLAGS except the bits in lazyMask (those hold stale values). */
  flagsReg = FLAG_BIT1;
  lazyMask = 0;
  lazyOp: LazyOp = LazyOp.Logic;
  lazyA = 0;
  lazyB = 0;
  lazyRes = 0;
  /** Index of the sign bit of the operation size: 7, 15 or 31. */
  lazyTop = 31;

  /** Called when EFLAGS.VM (or anything mode-relevant in EFLAGS) changes. */
  abstract updateModeCaches(): void;

  /** Record an add/sub/logic result whose six flags are all derived lazily. */
  setLazy(op: LazyOp, a: number, b: number, res: number, top: number): void {
    this.lazyOp = op;
    this.lazyA = a;
    this.lazyB = b;
    this.lazyRes = res;
    this.lazyTop = top;
    this.lazyMask = ARITH_FLAGS;
  }

  /** INC/DEC: like setLazy but CF keeps its current value. */
  setLazyKeepCf(op: LazyOp, a: number, b: number, res: number, top: number): void {
    const cf = this.getCF();
    this.flagsReg = (this.flagsReg & ~FLAG_CF) | cf;
    this.setLazy(op, a, b, res, top);
    this.lazyMask = ARITH_FLAGS & ~FLAG_CF;
  }

  /**
   * Shifts, multiplies, BCD and bit instructions: SF/ZF/PF from `res`, and the flags
   * in `mask` set explicitly to the bits of `value`. Flags in neither keep their value.
   */
  setResultFlags(res: number, top: number, mask: number, value: number): void {
    this.materializeFlags();
    this.flagsReg = (this.flagsReg & ~mask) | (value & mask);
    this.lazyOp = LazyOp.Logic;
    this.lazyRes = res;
    this.lazyTop = top;
    this.lazyMask = FLAG_SF | FLAG_ZF | FLAG_PF;
  }

  /** Set some arithmetic flags explicitly (CLC, BT, ...) keeping the others. */
  setFlagBits(mask: number, value: number): void {
    this.materializeFlags();
    this.flagsReg = (this.flagsReg & ~mask) | (value & mask);
  }

  /** Fold the lazy record into flagsReg. */
  materializeFlags(): void {
    if (this.lazyMask !== 0) {
      this.flagsReg = (this.flagsReg & ~this.lazyMask) | this.computeLazy(this.lazyMask);
      this.lazyMask = 0;
    }
  }

  private computeLazy(mask: number): number {
    const a = this.lazyA;
    const b = this.lazyB;
    const res = this.lazyRes;
    const top = this.lazyTop;
    let f = 0;
    if (mask & FLAG_ZF && res << (31 - top) === 0) f |= FLAG_ZF;
    if (mask & FLAG_SF && (res >>> top) & 1) f |= FLAG_SF;
    if (mask & FLAG_PF) f |= PARITY[res & 0xff];
    switch (this.lazyOp) {
      case LazyOp.Add:
        if (mask & FLAG_CF) f |= (((a & b) | ((a | b) & ~res)) >>> top) & 1;
        if (mask & FLAG_OF && (((a ^ res) & (b ^ res)) >>> top) & 1) f |= FLAG_OF;
        if (mask & FLAG_AF) f |= (a ^ b ^ res) & FLAG_AF;
        break;
      case LazyOp.Sub:
        if (mask & FLAG_CF) f |= (((~a & b) | ((~a | b) & res)) >>> top) & 1;
        if (mask & FLAG_OF && (((a ^ b) & (a ^ res)) >>> top) & 1) f |= FLAG_OF;
        if (mask & FLAG_AF) f |= (a ^ b ^ res) & FLAG_AF;
        break;
    }
    return f;
  }

  getCF(): number {
    return this.lazyMask & FLAG_CF ? this.computeLazy(FLAG_CF) : this.flagsReg & FLAG_CF;
  }
  getZF(): boolean {
    return this.lazyMask & FLAG_ZF ? this.lazyRes << (31 - this.lazyTop) === 0 : (this.flagsReg & FLAG_ZF) !== 0;
  }
  getSF(): boolean {
    return this.lazyMask & FLAG_SF ? ((this.lazyRes >>> this.lazyTop) & 1) !== 0 : (this.flagsReg & FLAG_SF) !== 0;
  }
  getOF(): boolean {
    return this.lazyMask & FLAG_OF ? this.computeLazy(FLAG_OF) !== 0 : (this.flagsReg & FLAG_OF) !== 0;
  }
  getPF(): boolean {
    return this.lazyMask & FLAG_PF ? PARITY[this.lazyRes & 0xff] !== 0 : (this.flagsReg & FLAG_PF) !== 0;
  }
  getAF(): boolean {
    return this.lazyMask & FLAG_AF ? this.computeLazy(FLAG_AF) !== 0 : (this.flagsReg & FLAG_AF) !== 0;
  }

  /** Condition code cc (the low nibble of Jcc/SETcc/CMOVcc). */
  testCondition(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF(); break;
      case 1: r = this.getCF() !== 0; break;
      case 2: r = this.getZF(); break;
      case 3: r = this.getCF() !== 0 || this.getZF(); break;
      case 4: r = this.getSF(); break;
      case 5: r = this.getPF(); break;
      case 6: r = this.getSF() !== this.getOF(); break;
      default: r = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) === 0 ? r : !r;
  }

  getEflags(): number {
    this.materializeFlags();
    return (this.flagsReg | FLAG_BIT1) >>> 0;
  }

  setEflags(value: number, mask: number = EFLAGS_WRITABLE): void {
    this.materializeFlags();
    const old = this.flagsReg;
    mask &= EFLAGS_WRITABLE;
    this.flagsReg = (old & ~mask) | (value & mask) | FLAG_BIT1;
    // VM changes the mode; AC arms alignment checking.
    if ((old ^ this.flagsReg) & (FLAG_VM | FLAG_AC)) this.updateModeCaches();
  }
}
