// The x87 unit of the Pentium II (P6 family), as seen through FpuUnit.
//
// Precision model (see docs/fpu-precision.md):
//  - Registers hold the exact 80-bit image (sign|exponent word + two 32-bit
//    significand halves); nothing is ever kept as a JS double. FLD m80 / FSTP m80
//    therefore round-trip every bit pattern (NaN payloads, denormals, pseudo-
//    denormals, unnormals, pseudo-NaN/infinity are stored as loaded).
//  - Conversions (m32/m64 real, m16/m32/m64 int, m80 BCD) are exact or correctly
//    rounded per RC with the x87 exception rules.
//  - FADD/FSUB/FMUL/FDIV/FSQRT (and the integer/P forms) are computed exactly and
//    rounded once to the precision control (24/53/64 bits) and rounding control,
//    with the 15-bit exponent range, tininess detected after rounding, masked and
//    unmasked (bias-adjusted) overflow/underflow, precision flag and C1 (rounded
//    up) as the hardware sets them. FPREM/FPREM1/FSCALE/FRNDINT/FXTRACT and
//    comparisons are exact too. Unnormals/pseudo-denormals are treated like a P6
//    does: unnormals and pseudo-NaN/inf are invalid operands, pseudo-denormals
//    are read as denormals (#D).
//  - Transcendentals (FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1) compute
//    their core value with float64 Math: within a few double ulps of the real
//    result (about 2^-50 relative), not the 64-bit-accurate value a P6 returns.
//    Special operands, C2 for |x| >= 2^63 and exception flags follow the hardware;
//    trigonometric argument reduction uses the x87's 66-bit pi exactly.
// All of it is compared bit for bit with the host's real x87 by
// test/unit/fpu/x87-vs-host.test.ts (cases in test/fpu/cases.ts). Where the manuals
// say "undefined" (C0-C3 after some instructions, FPREM's partial step, F2XM1 out
// of range, PC=01) we do what that reference hardware does.
import type { CpuCore, FpuUnit } from '../core';
import { CpuFault, Vec, CR0_NE, CR0_PE, FLAG_VM, FLAG_ZF, FLAG_PF, FLAG_CF, FLAG_OF, FLAG_SF, FLAG_AF } from '../state';
import type { ComponentState } from '../../common/snapshot';
import { StateVersionError } from '../../common/snapshot';
import * as F from './float80';
import {
  Unp, Kind, IE, DE, ZE, SF, C1, EXT_EMIN, EXT_EMAX, unpack80, packSE80, setIndefinite, setZero, setInf,
  roundPack, RIN, fromF32, fromF64, fromI32, fromI64, toFloat, roundToInt, quietNaN,
} from './float80';
import { add, mul, div, sqrt, compare, rndint, scale, prem, HANDLED, REL_EQ, REL_LT, REL_UN } from './arith';
import * as A from './arith';
import { trigArg, trig, OUT_OF_RANGE, f2xm1, fyl2x, fyl2xp1, fpatan, fromNumber } from './transcend';
import { storeEnv, loadEnv, fxsaveArea, fxrstorArea, readBcd, writeBcd } from './env';

// Status word bits beyond the exception flags.
export const SW_ES = 0x80;
export const SW_C0 = 0x100;
export const SW_C1 = 0x200;
export const SW_C2 = 0x400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

const TAG_VALID = 0;
const TAG_ZERO = 1;
const TAG_SPECIAL = 2;
const TAG_EMPTY = 3;

export class X87 implements FpuUnit {
  readonly stateId = 'fpu';
  readonly stateVersion = 1;

  cw = 0x037f;
  /** Status word without TOP (bits 11-13). */
  sw = 0;
  top = 0;
  /** Bit i set: physical register i is empty. */
  empty = 0xff;
  readonly regSE = new Uint16Array(8);
  readonly regHi = new Uint32Array(8);
  readonly regLo = new Uint32Array(8);
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  fop = 0;
  /** FERR# currently asserted towards the machine. */
  ferr = false;

  private readonly a = new Unp();
  private readonly b = new Unp();
  private readonly r = new Unp();
  private readonly r2 = new Unp();

  reset(): void {
    this.cw = 0x037f;
    this.sw = 0;
    this.top = 0;
    this.empty = 0xff;
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
  }

  // ---- register file ----

  private phys(i: number): number {
    return (this.top + i) & 7;
  }
  isEmpty(i: number): boolean {
    return ((this.empty >>> this.phys(i)) & 1) !== 0;
  }
  private load(u: Unp, i: number): Unp {
    const p = this.phys(i);
    return unpack80(u, this.regSE[p], this.regHi[p], this.regLo[p]);
  }
  /** Write an unpacked value to ST(i), re-denormalising values that came from denormal inputs. */
  private store(i: number, u: Unp): void {
    if (u.k === Kind.Normal && u.e < EXT_EMIN) (RIN[0] = u.hi, RIN[1] = u.lo, RIN[2] = 0, roundPack(u, u.s, u.e, 64, EXT_EMIN, EXT_EMAX, 0, true, true));
    const p = this.phys(i);
    this.regSE[p] = packSE80(u);
    this.regHi[p] = u.hi;
    this.regLo[p] = u.lo;
    this.empty &= ~(1 << p);
  }
  private copyReg(dst: number, src: number): void {
    const d = this.phys(dst), s = this.phys(src);
    this.regSE[d] = this.regSE[s];
    this.regHi[d] = this.regHi[s];
    this.regLo[d] = this.regLo[s];
    this.empty &= ~(1 << d);
  }
  private pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }
  /** Tag of a physical register from its contents. */
  tagOf(p: number): number {
    if ((this.empty >>> p) & 1) return TAG_EMPTY;
    const exp = this.regSE[p] & 0x7fff;
    if (exp === 0x7fff) return TAG_SPECIAL;
    if (exp === 0) return (this.regHi[p] | this.regLo[p]) === 0 ? TAG_ZERO : TAG_SPECIAL;
    return this.regHi[p] & 0x80000000 ? TAG_VALID : TAG_SPECIAL;
  }
  tagWord(): number {
    let tw = 0;
    for (let p = 0; p < 8; p++) tw |= this.tagOf(p) << (2 * p);
    return tw;
  }
  statusWord(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }
  /** Recompute ES/B from the flags and masks (after loads of CW/SW). */
  recomputeES(): void {
    if (this.sw & ~this.cw & 0x3f) this.sw |= SW_ES | SW_B;
    else this.sw &= ~(SW_ES | SW_B);
  }

  // ---- exceptions ----

  /** Record exception bits (and C1 from the result); false if an unmasked I/D/Z forbids the result. */
  private deliver(flags: number): boolean {
    this.sw = (this.sw & ~SW_C1) | (flags & (SW_C1 | 0x7f));
    if (flags & ~this.cw & 0x3f) this.sw |= SW_ES | SW_B;
    return (flags & ~this.cw & (IE | DE | ZE)) === 0;
  }
  /** Stack underflow: IE+SF, C1=0. True when masked (the caller writes the indefinite). */
  private underflow(): boolean {
    return this.deliver(IE | SF);
  }
  /** Push with overflow check. Returns false (nothing pushed) on an unmasked overflow. */
  private push(u: Unp): boolean {
    const p = (this.top - 1) & 7;
    if (!((this.empty >>> p) & 1)) {
      if (!this.deliver(IE | SF | SW_C1)) return false;
      setIndefinite(u);
    }
    this.top = p;
    this.store(0, u);
    return true;
  }

  checkPending(cpu: CpuCore): void {
    if (!(this.sw & SW_ES)) return;
    if (cpu.cr0 & CR0_NE) throw new CpuFault(Vec.MF);
    if (!this.ferr) {
      this.ferr = true;
      cpu.bus.onFerr?.(true);
    }
  }
  private clearFerr(cpu: CpuCore): void {
    if (this.ferr && !(this.sw & SW_ES)) {
      this.ferr = false;
      cpu.bus.onFerr?.(false);
    }
  }

  // ---- memory operands ----

  private readM32(cpu: CpuCore, seg: number, off: number, u: Unp): void {
    fromF32(u, cpu.readSeg32(seg, off) >>> 0);
  }
  private readM64(cpu: CpuCore, seg: number, off: number, u: Unp): void {
    const lo = cpu.readSeg32(seg, off) >>> 0;
    const hi = cpu.readSeg32(seg, (off + 4) >>> 0) >>> 0;
    fromF64(u, hi, lo);
  }
  /** Read the memory operand of the D8-DF arithmetic group (op 0/2/4/6: m32real/m32int/m64real/m16int). */
  private readArithMem(cpu: CpuCore, op: number, seg: number, off: number, u: Unp): void {
    switch (op) {
      case 0: this.readM32(cpu, seg, off, u); break;
      case 2: fromI32(u, cpu.readSeg32(seg, off)); break;
      case 4: this.readM64(cpu, seg, off, u); break;
      default: fromI32(u, (cpu.readSeg16(seg, off) << 16) >> 16); break;
    }
  }
  /** Fault-safe multi-byte store: probe the last byte, then write in order. */
  writeBytes(cpu: CpuCore, seg: number, off: number, bytes: Uint8Array, n: number): void {
    cpu.writeSeg8(seg, (off + n - 1) >>> 0, bytes[n - 1]);
    for (let i = 0; i < n; i++) cpu.writeSeg8(seg, (off + i) >>> 0, bytes[i]);
  }
  private write64(cpu: CpuCore, seg: number, off: number, hi: number, lo: number): void {
    cpu.writeSeg8(seg, (off + 7) >>> 0, hi >>> 24);
    cpu.writeSeg32(seg, off, lo | 0);
    cpu.writeSeg32(seg, (off + 4) >>> 0, hi | 0);
  }
  private write80(cpu: CpuCore, seg: number, off: number, se: number, hi: number, lo: number): void {
    cpu.writeSeg8(seg, (off + 9) >>> 0, se >>> 8);
    cpu.writeSeg32(seg, off, lo | 0);
    cpu.writeSeg32(seg, (off + 4) >>> 0, hi | 0);
    cpu.writeSeg16(seg, (off + 8) >>> 0, se);
  }

  // ---- execution ----

  execute(cpu: CpuCore, op: number, modrm: number, seg: number, offset: number, o32: boolean, instrCs: number, instrEip: number): void {
    const reg = (modrm >>> 3) & 7;
    const mem = modrm < 0xc0;
    if (!this.isNoWait(op, reg, mem, modrm)) this.checkPending(cpu);
    const control = mem ? this.execMem(cpu, op, reg, seg, offset, o32) : this.execReg(cpu, op, reg, modrm & 7, modrm);
    if (!control) {
      this.fop = ((op & 7) << 8) | modrm;
      this.fcs = instrCs;
      this.fip = instrEip;
      if (mem) {
        this.fds = cpu.segSel[seg];
        this.fdp = offset;
      }
    }
  }

  /** FNSTENV/FNSTCW/FNSAVE/FNSTSW (m16 and AX), FNCLEX/FNINIT and the 8087/287 no-ops don't wait. */
  private isNoWait(op: number, reg: number, mem: boolean, modrm: number): boolean {
    if (mem) return (op === 1 && (reg === 6 || reg === 7)) || (op === 5 && (reg === 6 || reg === 7));
    return (op === 3 && modrm >= 0xe0 && modrm <= 0xe4) || (op === 7 && modrm === 0xe0);
  }

  /** Memory forms. Returns true for control instructions (no FIP/FOP update). */
  private execMem(cpu: CpuCore, op: number, reg: number, seg: number, off: number, o32: boolean): boolean {
    const { a, b, r } = this;
    // Arithmetic groups: D8 m32real, DA m32int, DC m64real, DE m16int.
    if ((op & 1) === 0) {
      this.readArithMem(cpu, op, seg, off, b);
      if (reg === 2 || reg === 3) {
        const res = this.isEmpty(0) ? IE | SF | (REL_UN << 16) : compare(this.load(a, 0), b, false);
        this.compareResult(res, reg === 3 ? 1 : 0, null, false);
      } else this.arith(reg, 0, b, true);
      return false;
    }
    switch ((op << 3) | reg) {
      case 0o10: // FLD m32
        this.readM32(cpu, seg, off, r);
        this.fldConverted(r);
        return false;
      case 0o12: case 0o13: // FST/FSTP m32
        this.fstFloat(cpu, seg, off, 24, reg === 3);
        return false;
      case 0o14: // FLDENV
        loadEnv(this, cpu, seg, off, o32, false);
        this.clearFerr(cpu);
        return true;
      case 0o15: // FLDCW
        this.cw = (cpu.readSeg16(seg, off) & 0x1f7f) | 0x40;
        this.recomputeES();
        this.clearFerr(cpu);
        return true;
      case 0o16: // FNSTENV
        storeEnv(this, cpu, seg, off, o32);
        this.cw |= 0x3f;
        this.recomputeES();
        return true;
      case 0o17: // FNSTCW
        cpu.writeSeg16(seg, off, this.cw);
        return true;
      case 0o30: // FILD m32
        fromI32(r, cpu.readSeg32(seg, off));
        this.pushValue(r);
        return false;
      case 0o32: case 0o33: // FIST/FISTP m32
        this.fistInt(cpu, seg, off, 32, reg === 3);
        return false;
      case 0o35: { // FLD m80
        const lo = cpu.readSeg32(seg, off) >>> 0;
        const hi = cpu.readSeg32(seg, (off + 4) >>> 0) >>> 0;
        const se = cpu.readSeg16(seg, (off + 8) >>> 0);
        this.pushRaw(se, hi, lo);
        return false;
      }
      case 0o37: // FSTP m80
        this.fstp80(cpu, seg, off);
        return false;
      case 0o50: // FLD m64
        this.readM64(cpu, seg, off, r);
        this.fldConverted(r);
        return false;
      case 0o52: case 0o53: // FST/FSTP m64
        this.fstFloat(cpu, seg, off, 53, reg === 3);
        return false;
      case 0o54: // FRSTOR
        loadEnv(this, cpu, seg, off, o32, true);
        this.clearFerr(cpu);
        return true;
      case 0o56: // FNSAVE
        storeEnv(this, cpu, seg, off, o32, true);
        this.finit();
        this.clearFerr(cpu);
        return true;
      case 0o57: // FNSTSW m16
        cpu.writeSeg16(seg, off, this.statusWord());
        return true;
      case 0o70: // FILD m16
        fromI32(r, (cpu.readSeg16(seg, off) << 16) >> 16);
        this.pushValue(r);
        return false;
      case 0o72: case 0o73: // FIST/FISTP m16
        this.fistInt(cpu, seg, off, 16, reg === 3);
        return false;
      case 0o74: // FBLD
        readBcd(cpu, seg, off, r);
        this.pushValue(r);
        return false;
      case 0o75: { // FILD m64
        const lo = cpu.readSeg32(seg, off) >>> 0;
        const hi = cpu.readSeg32(seg, (off + 4) >>> 0) >>> 0;
        fromI64(r, hi, lo);
        this.pushValue(r);
        return false;
      }
      case 0o76: // FBSTP
        this.fbstp(cpu, seg, off);
        return false;
      case 0o77: // FISTP m64
        this.fistInt(cpu, seg, off, 64, true);
        return false;
      default:
        // D9 /1, DB /1 /4 /6, DD /1 /5, DF /1: reserved on a P6 (the /1 forms are SSE3 FISTTP).
        throw new CpuFault(Vec.UD);
    }
  }

  /** Register forms. Returns true for control instructions. */
  private execReg(cpu: CpuCore, op: number, reg: number, i: number, modrm: number): boolean {
    switch (op) {
      case 0: // D8: ST0 op STi
        if (reg === 2 || reg === 3) this.fcom(i, false, reg === 3 ? 1 : 0);
        else this.arith(reg, 0, this.loadIfPresent(this.b, i), false, i);
        return false;
      case 1:
        return this.execD9(cpu, reg, i, modrm);
      case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
        if (reg < 4) {
          const f = cpu.getEflags();
          const c = reg === 0 ? f & FLAG_CF : reg === 1 ? f & FLAG_ZF : reg === 2 ? f & (FLAG_CF | FLAG_ZF) : f & FLAG_PF;
          this.fcmov(i, c !== 0);
          return false;
        }
        if (modrm === 0xe9) { this.fcom(1, true, 2); return false; }
        throw new CpuFault(Vec.UD);
      case 3: // DB: FCMOVNcc, FNCLEX/FNINIT, FUCOMI/FCOMI
        if (reg < 4) {
          const f = cpu.getEflags();
          const c = reg === 0 ? f & FLAG_CF : reg === 1 ? f & FLAG_ZF : reg === 2 ? f & (FLAG_CF | FLAG_ZF) : f & FLAG_PF;
          this.fcmov(i, c === 0);
          return false;
        }
        if (reg === 4) {
          if (modrm === 0xe2) { this.sw &= ~(0x7f | SW_ES | SW_B); this.clearFerr(cpu); return true; }
          if (modrm === 0xe3) { this.finit(); this.clearFerr(cpu); return true; }
          if (modrm <= 0xe4) return true; // FNENI/FNDISI/FNSETPM: no-ops on a 387+
          throw new CpuFault(Vec.UD);
        }
        if (reg === 5 || reg === 6) { this.fcomi(cpu, i, reg === 5, false); return false; }
        throw new CpuFault(Vec.UD);
      case 4: // DC: STi op ST0 (and FCOM2/FCOMP3 aliases)
        if (reg === 2 || reg === 3) this.fcom(i, false, reg === 3 ? 1 : 0);
        else this.arith(reg, i, this.loadIfPresent(this.b, i), false, i);
        return false;
      case 5: // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
        switch (reg) {
          case 0: this.empty |= 1 << this.phys(i); this.sw &= ~SW_C1; return false;
          case 1: this.fxch(i); return false;
          case 2: case 3: this.fstReg(i, reg === 3); return false;
          case 4: case 5: this.fcom(i, true, reg === 5 ? 1 : 0); return false;
          default: throw new CpuFault(Vec.UD);
        }
      case 6: // DE: the popping forms
        if (reg === 2) { this.fcom(i, false, 1); return false; }
        if (reg === 3) {
          if (modrm === 0xd9) { this.fcom(1, false, 2); return false; }
          throw new CpuFault(Vec.UD);
        }
        this.arith(reg, i, this.loadIfPresent(this.b, i), false, i, true);
        return false;
      default: // DF: FFREEP, FXCH7, FSTP8/9, FNSTSW AX, FUCOMIP/FCOMIP
        switch (reg) {
          case 0: this.empty |= 1 << this.phys(i); this.sw &= ~SW_C1; this.pop(); return false;
          case 1: this.fxch(i); return false;
          case 2: case 3: this.fstReg(i, true); return false;
          case 4:
            if (modrm === 0xe0) { cpu.reg16[0] = this.statusWord(); return true; }
            throw new CpuFault(Vec.UD);
          case 5: case 6: this.fcomi(cpu, i, reg === 5, true); return false;
          default: throw new CpuFault(Vec.UD);
        }
    }
  }

  private loadIfPresent(u: Unp, i: number): Unp {
    if (!this.isEmpty(i)) this.load(u, i);
    return u;
  }

  private execD9(cpu: CpuCore, reg: number, i: number, modrm: number): boolean {
    const { a, b, r } = this;
    switch (reg) {
      case 0: // FLD STi
        if (this.isEmpty(i)) {
          // Underflow wins over a simultaneous overflow: C1 = 0, the indefinite is pushed.
          if (!this.underflow()) return false;
          this.top = (this.top - 1) & 7;
          this.store(0, setIndefinite(r));
          return false;
        }
        this.pushRaw(this.regSE[this.phys(i)], this.regHi[this.phys(i)], this.regLo[this.phys(i)]);
        return false;
      case 1: this.fxch(i); return false;
      case 2:
        if (modrm === 0xd0) return false; // FNOP
        throw new CpuFault(Vec.UD);
      case 3: this.fstReg(i, true); return false; // FSTP1 alias
      case 4:
        switch (modrm) {
          case 0xe0: case 0xe1: { // FCHS / FABS: sign only, no operand checks beyond empty
            if (this.isEmpty(0)) { if (this.underflow()) { setIndefinite(r); this.store(0, r); } return false; }
            const p = this.phys(0);
            this.regSE[p] = modrm === 0xe0 ? this.regSE[p] ^ 0x8000 : this.regSE[p] & 0x7fff;
            this.sw &= ~SW_C1;
            return false;
          }
          case 0xe4: // FTST
            if (this.isEmpty(0)) { this.compareResult(IE | SF | (REL_UN << 16), 0, cpu, false); return false; }
            setZero(b, 0);
            this.compareResult(compare(this.load(a, 0), b, false), 0, cpu, false);
            return false;
          case 0xe5: this.fxam(); return false;
          default: throw new CpuFault(Vec.UD);
        }
      case 5: // constants
        if (modrm === 0xef) throw new CpuFault(Vec.UD);
        this.loadConstant(modrm - 0xe8, r);
        this.pushValue(r);
        return false;
      case 6:
        switch (modrm) {
          case 0xf0: this.unary(0); return false;
          case 0xf1: this.binaryPop(0); return false;
          case 0xf2: this.ftrig(2); return false;
          case 0xf3: this.binaryPop(1); return false;
          case 0xf4: this.fxtract(); return false;
          case 0xf5: this.fprem(true); return false;
          case 0xf6: this.top = (this.top - 1) & 7; this.sw &= ~SW_C1; return false;
          default: this.top = (this.top + 1) & 7; this.sw &= ~SW_C1; return false;
        }
      default:
        switch (modrm) {
          case 0xf8: this.fprem(false); return false;
          case 0xf9: this.binaryPop(2); return false;
          case 0xfa: this.unary(1); return false;
          case 0xfb: this.ftrig(3); return false;
          case 0xfc: this.unary(2); return false;
          case 0xfd: this.fscale(); return false;
          case 0xfe: this.ftrig(0); return false;
          default: this.ftrig(1); return false;
        }
    }
  }

  // ---- instruction bodies ----

  /**
   * FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR (reg 0,1,4,5,6,7): x = ST0, y = other operand
   * (already in this.b, or STi); result to ST(dst). /4 is x-y, /5 y-x, /6 x/y, /7 y/x.
   */
  private arith(reg: number, dst: number, y: Unp, memOperand: boolean, src = 0, popAfter = false): void {
    const { a, r } = this;
    if (this.isEmpty(0) || (!memOperand && this.isEmpty(src))) {
      if (!this.underflow()) return;
      setIndefinite(r);
    } else {
      const x = this.load(a, 0);
      let flags: number;
      switch (reg) {
        case 0: flags = add(r, x, y, false, this.cw); break;
        case 1: flags = mul(r, x, y, this.cw); break;
        case 4: flags = add(r, x, y, true, this.cw); break;
        case 5: flags = add(r, y, x, true, this.cw); break;
        case 6: flags = div(r, x, y, this.cw); break;
        default: flags = div(r, y, x, this.cw); break;
      }
      if (!this.deliver(flags & ~HANDLED)) return;
    }
    this.store(dst, r);
    if (popAfter) this.pop();
  }

  /** FCOM/FCOMP/FCOMPP/FUCOM*: pops = number of pops. */
  private fcom(i: number, quiet: boolean, pops: number): void {
    let res: number;
    if (this.isEmpty(0) || this.isEmpty(i)) res = IE | SF | (REL_UN << 16);
    else res = compare(this.load(this.a, 0), this.load(this.b, i), quiet);
    if (!this.compareResult(res, pops, null, false)) return;
  }

  /** Apply a compare result to C3/C2/C0 (or EFLAGS for FCOMI). Returns false on an unmasked exception. */
  private compareResult(res: number, pops: number, cpu: CpuCore | null, eflags: boolean): boolean {
    const flags = res & 0xffff;
    // The condition codes are written even when the exception is unmasked. FCOMI and
    // friends leave C1 alone unless the stack underflows, as the reference hardware does.
    const c1 = this.sw & SW_C1;
    const ok = this.deliver(flags & ~SW_C1);
    if (eflags && !(flags & SF)) this.sw |= c1;
    const rel = res >>> 16;
    if (eflags && cpu) {
      const v = rel === REL_EQ ? FLAG_ZF : rel === REL_LT ? FLAG_CF : rel === REL_UN ? FLAG_ZF | FLAG_PF | FLAG_CF : 0;
      cpu.setEflags(v, FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF);
    } else {
      this.sw &= ~(SW_C0 | SW_C2 | SW_C3);
      this.sw |= rel === REL_EQ ? SW_C3 : rel === REL_LT ? SW_C0 : rel === REL_UN ? SW_C0 | SW_C2 | SW_C3 : 0;
    }
    if (!ok) return false;
    for (let k = 0; k < pops; k++) this.pop();
    return true;
  }

  private fcomi(cpu: CpuCore, i: number, quiet: boolean, popAfter: boolean): void {
    let res: number;
    if (this.isEmpty(0) || this.isEmpty(i)) res = IE | SF | (REL_UN << 16);
    else res = compare(this.load(this.a, 0), this.load(this.b, i), quiet);
    this.compareResult(res, popAfter ? 1 : 0, cpu, true);
  }

  /** FCMOVcc: C1 is left unchanged unless the stack underflows (reference hardware). */
  private fcmov(i: number, cond: boolean): void {
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (!this.underflow()) return;
      this.store(0, setIndefinite(this.r)); // even when the condition is false
      return;
    }
    if (cond) this.copyReg(0, i);
  }

  private fxch(i: number): void {
    this.sw &= ~SW_C1;
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (!this.underflow()) return;
      // Empty operands read as the indefinite.
      if (this.isEmpty(0)) this.store(0, setIndefinite(this.r));
      if (this.isEmpty(i)) this.store(i, setIndefinite(this.r));
    }
    const p = this.phys(0), q = this.phys(i);
    const se = this.regSE[p], hi = this.regHi[p], lo = this.regLo[p];
    this.regSE[p] = this.regSE[q]; this.regHi[p] = this.regHi[q]; this.regLo[p] = this.regLo[q];
    this.regSE[q] = se; this.regHi[q] = hi; this.regLo[q] = lo;
  }

  /** FST/FSTP ST(i). */
  private fstReg(i: number, popAfter: boolean): void {
    this.sw &= ~SW_C1;
    if (this.isEmpty(0)) {
      if (!this.underflow()) return;
      this.store(i, setIndefinite(this.r));
    } else if (i !== 0) this.copyReg(i, 0);
    if (popAfter) this.pop();
  }

  /** Push a raw 80-bit image (FLD m80, FLD STi): no conversion, no exceptions but overflow. */
  private pushRaw(se: number, hi: number, lo: number): void {
    this.sw &= ~SW_C1;
    const p = (this.top - 1) & 7;
    if (!((this.empty >>> p) & 1)) {
      if (!this.deliver(IE | SF | SW_C1)) return;
      setIndefinite(this.r);
      this.top = p;
      this.store(0, this.r);
      return;
    }
    this.top = p;
    this.regSE[p] = se; this.regHi[p] = hi; this.regLo[p] = lo;
    this.empty &= ~(1 << p);
  }

  /** Push an exact value (FILD, FBLD, constants): no exceptions besides stack overflow. */
  private pushValue(u: Unp): void {
    this.sw &= ~SW_C1;
    this.push(u);
  }

  /** FLD m32/m64: SNaN → IE (quieted), denormal → DE. */
  private fldConverted(u: Unp): void {
    let flags = u.den ? DE : 0;
    if (u.k === Kind.SNaN) flags |= quietNaN(u, u);
    const p = (this.top - 1) & 7;
    if (!((this.empty >>> p) & 1)) {
      this.sw &= ~SW_C1;
      if (!this.deliver(IE | SF | SW_C1)) return;
      setIndefinite(u);
    } else if (!this.deliver(flags) && (flags & ~this.cw & IE)) return; // an unmasked #D still loads
    this.top = p;
    this.store(0, u);
  }

  /** FST/FSTP m32/m64. */
  private fstFloat(cpu: CpuCore, seg: number, off: number, p: 24 | 53, popAfter: boolean): void {
    let flags: number;
    if (this.isEmpty(0)) {
      flags = IE | SF;
      setIndefinite(this.a);
      toFloat(this.a, p, 0, true, true);
    } else {
      const cw = this.cw;
      flags = toFloat(this.load(this.a, 0), p, (cw >>> 10) & 3, (cw & F.UE) !== 0, (cw & F.OE) !== 0);
    }
    // Unmasked I/D/Z, and unmasked O/U (memory destination): nothing stored, no pop.
    const unmasked = flags & ~this.cw & 0x3f;
    if (!(unmasked & (IE | DE | ZE | F.OE | F.UE))) {
      if (p === 24) cpu.writeSeg32(seg, off, F.OUT[0] | 0);
      else this.write64(cpu, seg, off, F.OUT[0], F.OUT[1]);
      this.deliver(flags);
      if (popAfter) this.pop();
    } else {
      this.deliver(flags & ~SW_C1);
    }
  }

  private fstp80(cpu: CpuCore, seg: number, off: number): void {
    const p = this.phys(0);
    if (this.isEmpty(0)) {
      if (!this.deliver(IE | SF)) return;
      this.write80(cpu, seg, off, 0xffff, 0xc0000000, 0);
    } else {
      this.write80(cpu, seg, off, this.regSE[p], this.regHi[p], this.regLo[p]);
      this.sw &= ~SW_C1;
    }
    this.pop();
  }

  /** FIST/FISTP m16/m32/m64. */
  private fistInt(cpu: CpuCore, seg: number, off: number, bits: 16 | 32 | 64, popAfter: boolean): void {
    const u = this.a;
    let flags = 0;
    let hi = 0, lo = 0;
    let invalid = false;
    if (this.isEmpty(0)) { flags = IE | SF; invalid = true; }
    else {
      this.load(u, 0);
      if (u.k === Kind.Normal || u.k === Kind.Zero) {
        flags |= roundToInt(u, (this.cw >>> 10) & 3);
        hi = F.INT[0]; lo = F.INT[1];
        // Range check on the magnitude (the negative bound is one larger).
        const neg = u.s === 1 && (hi | lo) !== 0;
        if (F.intHuge) invalid = true;
        else if (bits === 64) invalid = hi > 0x80000000 || (hi === 0x80000000 && (lo !== 0 || !neg));
        else {
          const lim = bits === 32 ? 0x80000000 : 0x8000;
          invalid = hi !== 0 || lo > lim || (lo === lim && !neg);
        }
        if (!invalid && neg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
      } else invalid = true;
      if (invalid) flags = (flags & DE) | IE;
    }
    if (invalid) {
      // Integer indefinite.
      hi = bits === 64 ? 0x80000000 : 0;
      lo = bits === 32 ? 0x80000000 : bits === 16 ? 0x8000 : 0;
    }
    if (flags & ~this.cw & (IE | DE)) { this.deliver(flags & ~SW_C1); return; }
    if (bits === 16) cpu.writeSeg16(seg, off, lo);
    else if (bits === 32) cpu.writeSeg32(seg, off, lo | 0);
    else this.write64(cpu, seg, off, hi, lo);
    this.deliver(flags);
    if (popAfter) this.pop();
  }

  private fbstp(cpu: CpuCore, seg: number, off: number): void {
    const u = this.a;
    let flags = 0;
    let invalid = false;
    let neg = 0;
    let mag = 0n;
    if (this.isEmpty(0)) { flags = IE | SF; invalid = true; }
    else {
      this.load(u, 0);
      if (u.k === Kind.Normal || u.k === Kind.Zero) {
        flags |= roundToInt(u, (this.cw >>> 10) & 3);
        mag = (BigInt(F.INT[0]) << 32n) | BigInt(F.INT[1]);
        neg = u.s;
        if (F.intHuge || mag > 999999999999999999n) invalid = true;
      } else invalid = true;
      if (invalid) flags = (flags & DE) | IE;
    }
    if (flags & ~this.cw & (IE | DE)) { this.deliver(flags & ~SW_C1); return; }
    writeBcd(this, cpu, seg, off, invalid, neg, mag);
    this.deliver(flags);
    this.pop();
  }

  private fxam(): void {
    let cc: number;
    const p = this.phys(0);
    const s = (this.regSE[p] >>> 15) & 1;
    if (this.isEmpty(0)) cc = SW_C3 | SW_C0;
    else {
      switch (this.load(this.a, 0).k) {
        case Kind.Unsupported: cc = 0; break;
        case Kind.QNaN: case Kind.SNaN: cc = SW_C0; break;
        case Kind.Inf: cc = SW_C2 | SW_C0; break;
        case Kind.Zero: cc = SW_C3; break;
        default: cc = this.a.den ? SW_C3 | SW_C2 : SW_C2;
      }
    }
    this.sw = (this.sw & ~SW_CC) | cc | (s ? SW_C1 : 0);
  }

  /** One-operand op replacing ST0: 0 F2XM1, 1 FSQRT, 2 FRNDINT (a number, not a closure: no allocation). */
  private unary(kind: number): void {
    const { a, r } = this;
    if (this.isEmpty(0)) {
      if (!this.underflow()) return;
      setIndefinite(r);
    } else {
      this.load(a, 0);
      const f = kind === 0 ? f2xm1(r, a) : kind === 1 ? sqrt(r, a, this.cw) : rndint(r, a, this.cw);
      if (!this.deliver(f & ~HANDLED)) return;
    }
    this.store(0, r);
  }

  /** ST1 = f(ST0, ST1), pop: 0 FYL2X, 1 FPATAN, 2 FYL2XP1. */
  private binaryPop(kind: number): void {
    const { a, b, r } = this;
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (!this.underflow()) return;
      setIndefinite(r);
    } else {
      this.load(a, 0);
      this.load(b, 1);
      const f = kind === 0 ? fyl2x(r, a, b, this.cw) : kind === 1 ? fpatan(r, a, b) : fyl2xp1(r, a, b, this.cw);
      if (!this.deliver(f & ~HANDLED)) return;
    }
    this.store(1, r);
    this.pop();
  }

  /** FSIN (0), FCOS (1), FPTAN (2), FSINCOS (3). */
  private ftrig(which: number): void {
    const { a, r, r2 } = this;
    this.sw &= ~SW_C2;
    const pushes = which >= 2;
    if (this.isEmpty(0)) {
      if (!this.underflow()) return;
      setIndefinite(r);
      this.store(0, r);
      if (pushes) this.push(setIndefinite(r2));
      return;
    }
    if (pushes && !this.isEmpty(7)) {
      // Stack overflow: ST0 and the push both become the indefinite (masked).
      if (!this.deliver(IE | SF | SW_C1)) return;
      this.store(0, setIndefinite(r));
      this.top = (this.top - 1) & 7;
      this.store(0, setIndefinite(r));
      return;
    }
    let flags = trigArg(r, this.load(a, 0));
    if (flags & OUT_OF_RANGE) {
      this.sw = (this.sw & ~SW_C1) | SW_C2;
      return;
    }
    if (flags & HANDLED) {
      if (!this.deliver(flags & ~HANDLED)) return;
      this.store(0, r);
      if (pushes) { this.top = (this.top - 1) & 7; this.store(0, r); }
      return;
    }
    if (which === 3) {
      flags |= trig(r, a, 0);
      flags |= trig(r2, a, 1);
    } else if (which === 2) {
      flags |= trig(r, a, 2);
      fromNumber(r2, 1);
    } else flags |= trig(r, a, which);
    if (!this.deliver(flags & ~SW_C1)) return;
    this.store(0, r);
    if (pushes) { this.top = (this.top - 1) & 7; this.store(0, r2); }
  }

  private fxtract(): void {
    const { a, r, r2 } = this;
    if (this.isEmpty(0)) {
      if (!this.underflow()) return;
      setIndefinite(r);
      this.store(0, r);
      this.push(setIndefinite(r2));
      return;
    }
    if (!this.isEmpty(7)) {
      if (!this.deliver(IE | SF | SW_C1)) return;
      this.store(0, setIndefinite(r));
      this.top = (this.top - 1) & 7;
      this.store(0, setIndefinite(r));
      return;
    }
    this.load(a, 0);
    let flags = 0;
    switch (a.k) {
      case Kind.Unsupported: setIndefinite(r); r2.set(r); flags = IE; break;
      case Kind.SNaN: case Kind.QNaN: flags = quietNaN(r, a); r2.set(r); break;
      case Kind.Inf: setInf(r, 0); r2.set(a); break; // exponent +inf, significand = the infinity
      case Kind.Zero: setInf(r, 1); r2.set(a); flags = ZE; break;
      default:
        flags = a.den ? DE : 0;
        fromNumber(r, a.e);
        r2.set(a); r2.e = 0; r2.den = false;
    }
    if (!this.deliver(flags & ~SW_C1)) return;
    this.store(0, r);
    this.top = (this.top - 1) & 7;
    this.store(0, r2);
  }

  private fprem(ieee: boolean): void {
    const { a, b, r } = this;
    // Stack underflow, NaN or invalid operands: C2 = C1 = 0, C0/C3 unchanged (reference hardware).
    if (this.isEmpty(0) || this.isEmpty(1)) {
      this.sw &= ~SW_C2;
      if (!this.underflow()) return;
      this.store(0, setIndefinite(r));
      return;
    }
    const flags = prem(r, this.load(a, 0), this.load(b, 1), ieee, this.cw);
    this.sw &= ~SW_C2;
    if (!this.deliver(flags & ~HANDLED & ~SW_C1)) return;
    if (!(flags & (HANDLED | IE))) {
      const q = A.premQ;
      this.sw &= ~(SW_C0 | SW_C3);
      if (A.premPartial) this.sw |= SW_C2;
      else this.sw |= (q & 4 ? SW_C0 : 0) | (q & 2 ? SW_C3 : 0) | (q & 1 ? SW_C1 : 0);
    }
    this.store(0, r);
  }

  private fscale(): void {
    const { a, b, r } = this;
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (!this.underflow()) return;
      this.store(0, setIndefinite(r));
      return;
    }
    if (!this.deliver(scale(r, this.load(a, 0), this.load(b, 1), this.cw) & ~HANDLED)) return;
    this.store(0, r);
  }

  /** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ: 66-bit internal constants rounded per RC. */
  private loadConstant(n: number, u: Unp): void {
    setZero(u, 0);
    if (n === 6) return;
    u.k = Kind.Normal;
    const c = CONSTS[n];
    u.e = c[0]; u.hi = c[1]; u.lo = c[2];
    // c[3]: +1 ulp when rounding up (RC=up, or nearest when the dropped bits are above half)
    const rc = (this.cw >>> 10) & 3;
    const bump = rc === F.RC_NEAREST ? c[3] === 2 : rc === F.RC_UP ? c[3] !== 0 : false;
    if (bump) { u.lo = (u.lo + 1) >>> 0; if (u.lo === 0) u.hi = (u.hi + 1) >>> 0; }
  }

  /** FNINIT state. */
  private finit(): void {
    this.reset();
  }

  fxsave(cpu: CpuCore, seg: number, offset: number): void {
    fxsaveArea(this, cpu, seg, offset);
  }
  fxrstor(cpu: CpuCore, seg: number, offset: number): void {
    fxrstorArea(this, cpu, seg, offset);
    this.clearFerr(cpu);
  }

  isProtected(cpu: CpuCore): boolean {
    return (cpu.cr0 & CR0_PE) !== 0 && (cpu.getEflags() & FLAG_VM) === 0;
  }

  saveState(): ComponentState {
    return {
      cw: this.cw, sw: this.sw, top: this.top, empty: this.empty,
      regSE: this.regSE.slice(), regHi: this.regHi.slice(), regLo: this.regLo.slice(),
      fip: this.fip, fcs: this.fcs, fdp: this.fdp, fds: this.fds, fop: this.fop, ferr: this.ferr,
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.cw = state.cw as number;
    this.sw = state.sw as number;
    this.top = (state.top as number) & 7;
    this.empty = (state.empty as number) & 0xff;
    this.regSE.set(state.regSE as Uint16Array);
    this.regHi.set(state.regHi as Uint32Array);
    this.regLo.set(state.regLo as Uint32Array);
    this.fip = state.fip as number;
    this.fcs = state.fcs as number;
    this.fdp = state.fdp as number;
    this.fds = state.fds as number;
    this.fop = state.fop as number;
    this.ferr = state.ferr as boolean;
  }
}

/**
 * [exponent, hi, lo, round] for the constants: round 2 = the dropped bits are above
 * half (nearest and up give +1 ulp), 1 = below half but non-zero (only up gives
 * +1), 0 = exact.
 */
const CONSTS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0x80000000, 0x00000000, 0], // 1
  [1, 0xd49a784b, 0xcd1b8afe, 1], // log2(10)
  [0, 0xb8aa3b29, 0x5c17f0bb, 2], // log2(e)
  [1, 0xc90fdaa2, 0x2168c234, 2], // pi
  [-2, 0x9a209a84, 0xfbcff798, 2], // log10(2)
  [-1, 0xb17217f7, 0xd1cf79ab, 2], // ln(2)
];
