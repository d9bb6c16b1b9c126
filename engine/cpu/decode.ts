// Instruction-stream decoding: code fetch, prefixes state, ModR/M and SIB
// effective addresses, and operand accessors used by every opcode handler.
import { CpuMemory } from './memory';
import { LazyOp } from './flags';
import { CpuFault, Reg, Seg, Vec } from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EBP = Reg.EBP;
const Reg_EBX = Reg.EBX;
const Reg_ECX = Reg.ECX;
const Reg_EDI = Reg.EDI;
const Reg_ESI = Reg.ESI;
const Reg_ESP = Reg.ESP;
const Seg_DS = Seg.DS;
const Seg_SS = Seg.SS;
const Vec_GP = Vec.GP;
const Vec_UD = Vec.UD;
const LazyOp_Add = LazyOp.Add;
const LazyOp_Logic = LazyOp.Logic;
const LazyOp_Sub = LazyOp.Sub;

/** reg8 index of byte register r (AL CL DL BL AH CH DH BH) inside the reg32 buffer. */
export function byteRegIndex(r: number): number {
  return ((r & 3) << 2) | (r >> 2);
}

export abstract class CpuDecoder extends CpuMemory {
  // ---- Per-instruction decode state ----
  /** Operand size is 32 bits (CS.D xor 66 prefix). */
  o32 = false;
  /** Address size is 32 bits (CS.D xor 67 prefix). */
  a32 = false;
  /** Segment override prefix (a Seg) or -1. */
  segOverride = -1;
  /** 0, 0xF2 (REPNE) or 0xF3 (REP/REPE). */
  repPrefix = 0;
  lockPrefix = false;
  modrm = 0;
  eaSeg = Seg_DS;
  eaOff = 0;
  /** EIP and ESP when the instruction started: restored when it faults. */
  instrEip = 0;
  instrEsp = 0;

  // ---- Caches of the code segment (updateModeCaches) ----
  codeBig = false;
  protected csBase = 0;
  protected csLimit = 0xffff;
  /** Linear page of the last code fetch and its RAM offset, or -1. */
  protected fetchPage = -1;
  protected fetchBase = 0;

  // ---- Code fetch ----

  fetch8(): number {
    const eip = this.eip;
    if (eip >>> 0 > this.csLimit) throw new CpuFault(Vec_GP, 0);
    const lin = (this.csBase + eip) | 0;
    this.eip = eip + 1;
    if (lin >>> 12 === this.fetchPage) return this.ram[this.fetchBase + (lin & 0xfff)];
    return this.fetchSlow(lin);
  }

  private fetchSlow(lin: number): number {
    const v = this.linRead8(lin, this.cpl === 3, this.readBit);
    const e = this.tlb[lin >>> 12];
    if (e & this.readBit) {
      this.fetchPage = lin >>> 12;
      this.fetchBase = (e & -4096) >>> 0;
    }
    return v;
  }

  fetch16(): number {
    const eip = this.eip;
    const lin = (this.csBase + eip) | 0;
    // Fast path: both bytes in the cached code page and inside the CS limit.
    if (lin >>> 12 === this.fetchPage && (lin & 0xfff) !== 0xfff && (eip >>> 0) + 1 <= this.csLimit) {
      const p = this.fetchBase + (lin & 0xfff);
      this.eip = eip + 2;
      return this.ram[p] | (this.ram[p + 1] << 8);
    }
    return this.fetch8() | (this.fetch8() << 8);
  }

  fetch32(): number {
    const eip = this.eip;
    const lin = (this.csBase + eip) | 0;
    if (lin >>> 12 === this.fetchPage && (lin & 0xfff) <= 0xffc && (eip >>> 0) + 3 <= this.csLimit) {
      const p = this.fetchBase + (lin & 0xfff);
      const r = this.ram;
      this.eip = eip + 4;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    return this.fetch8() | (this.fetch8() << 8) | (this.fetch8() << 16) | (this.fetch8() << 24);
  }

  fetchS8(): number {
    return (this.fetch8() << 24) >> 24;
  }

  /** Immediate of the operand size: 16 or 32 bits. */
  fetchImm(): number {
    return this.o32 ? this.fetch32() : this.fetch16();
  }

  // ---- ModR/M ----

  /** Read the ModR/M byte and, for memory forms, compute eaSeg:eaOff. */
  decodeModrm(): void {
    const m = this.fetch8();
    this.modrm = m;
    if (m < 0xc0) {
      if (this.a32) this.decodeEa32(m);
      else this.decodeEa16(m);
    }
  }

  get modIsReg(): boolean {
    return this.modrm >= 0xc0;
  }

  private decodeEa16(m: number): void {
    const mod = m >> 6;
    const rm = m & 7;
    const r = this.reg16;
    let off: number;
    let seg = Seg_DS;
    switch (rm) {
      case 0: off = r[Reg_EBX * 2] + r[Reg_ESI * 2]; break;
      case 1: off = r[Reg_EBX * 2] + r[Reg_EDI * 2]; break;
      case 2: off = r[Reg_EBP * 2] + r[Reg_ESI * 2]; seg = Seg_SS; break;
      case 3: off = r[Reg_EBP * 2] + r[Reg_EDI * 2]; seg = Seg_SS; break;
      case 4: off = r[Reg_ESI * 2]; break;
      case 5: off = r[Reg_EDI * 2]; break;
      case 6:
        if (mod === 0) off = this.fetch16();
        else {
          off = r[Reg_EBP * 2];
          seg = Seg_SS;
        }
        break;
      default: off = r[Reg_EBX * 2]; break;
    }
    if (mod === 1) off += this.fetchS8();
    else if (mod === 2) off += this.fetch16();
    this.eaOff = off & 0xffff;
    this.eaSeg = this.segOverride >= 0 ? this.segOverride : seg;
  }

  private decodeEa32(m: number): void {
    const mod = m >> 6;
    const rm = m & 7;
    const r = this.reg32;
    let off: number;
    let seg = Seg_DS;
    if (rm === 4) {
      const sib = this.fetch8();
      const base = sib & 7;
      const index = (sib >> 3) & 7;
      if (base === 5 && mod === 0) off = this.fetch32();
      else {
        off = r[base];
        if (base === Reg_ESP || base === Reg_EBP) seg = Seg_SS;
      }
      if (index !== 4) off += r[index] << (sib >> 6);
    } else if (rm === 5 && mod === 0) off = this.fetch32();
    else {
      off = r[rm];
      if (rm === Reg_EBP) seg = Seg_SS;
    }
    if (mod === 1) off += this.fetchS8();
    else if (mod === 2) off += this.fetch32();
    this.eaOff = off | 0;
    this.eaSeg = this.segOverride >= 0 ? this.segOverride : seg;
  }

  /** The ModR/M reg field. */
  get regField(): number {
    return (this.modrm >> 3) & 7;
  }

  // ---- Register operands ----

  getReg8(r: number): number {
    return this.reg8[byteRegIndex(r)];
  }
  setReg8(r: number, v: number): void {
    this.reg8[byteRegIndex(r)] = v;
  }
  /** Register of the operand size (16: zero-extended, 32: signed int). */
  getRegV(r: number): number {
    return this.o32 ? this.reg32[r] : this.reg16[r << 1];
  }
  setRegV(r: number, v: number): void {
    if (this.o32) this.reg32[r] = v;
    else this.reg16[r << 1] = v;
  }

  // ---- ModR/M r/m operands (after decodeModrm) ----

  readRm8(): number {
    return this.modrm >= 0xc0 ? this.reg8[byteRegIndex(this.modrm & 7)] : this.readSeg8(this.eaSeg, this.eaOff);
  }
  writeRm8(v: number): void {
    if (this.modrm >= 0xc0) this.reg8[byteRegIndex(this.modrm & 7)] = v;
    else this.writeSeg8(this.eaSeg, this.eaOff, v);
  }
  readRm16(): number {
    return this.modrm >= 0xc0 ? this.reg16[(this.modrm & 7) << 1] : this.readSeg16(this.eaSeg, this.eaOff);
  }
  writeRm16(v: number): void {
    if (this.modrm >= 0xc0) this.reg16[(this.modrm & 7) << 1] = v;
    else this.writeSeg16(this.eaSeg, this.eaOff, v);
  }
  readRm32(): number {
    return this.modrm >= 0xc0 ? this.reg32[this.modrm & 7] : this.readSeg32(this.eaSeg, this.eaOff);
  }
  writeRm32(v: number): void {
    if (this.modrm >= 0xc0) this.reg32[this.modrm & 7] = v;
    else this.writeSeg32(this.eaSeg, this.eaOff, v);
  }
  readRmV(): number {
    return this.o32 ? this.readRm32() : this.readRm16();
  }
  writeRmV(v: number): void {
    if (this.o32) this.writeRm32(v);
    else this.writeRm16(v);
  }

  // ---- Read-modify-write destinations ----
  // The write-side checks (segment type/limit, page presence and R/W) all happen in
  // readRmw*, so the instruction cannot fault after it has started changing state.

  /** Linear address of the memory destination being updated. */
  rmwLin = 0;

  private rmwAddr(size: number): number {
    const lin = this.segAddr(this.eaSeg, this.eaOff, size, true);
    this.probeWrite(lin, size);
    this.rmwLin = lin;
    return lin;
  }
  readRmw8(): number {
    return this.modrm >= 0xc0 ? this.reg8[byteRegIndex(this.modrm & 7)] : this.readLin8(this.rmwAddr(1));
  }
  writeRmw8(v: number): void {
    if (this.modrm >= 0xc0) this.reg8[byteRegIndex(this.modrm & 7)] = v;
    else this.writeLin8(this.rmwLin, v);
  }
  readRmw16(): number {
    return this.modrm >= 0xc0 ? this.reg16[(this.modrm & 7) << 1] : this.readLin16(this.rmwAddr(2));
  }
  writeRmw16(v: number): void {
    if (this.modrm >= 0xc0) this.reg16[(this.modrm & 7) << 1] = v;
    else this.writeLin16(this.rmwLin, v);
  }
  readRmw32(): number {
    return this.modrm >= 0xc0 ? this.reg32[this.modrm & 7] : this.readLin32(this.rmwAddr(4));
  }
  writeRmw32(v: number): void {
    if (this.modrm >= 0xc0) this.reg32[this.modrm & 7] = v;
    else this.writeLin32(this.rmwLin, v);
  }
  readRmwV(): number {
    return this.o32 ? this.readRmw32() : this.readRmw16();
  }
  writeRmwV(v: number): void {
    if (this.o32) this.writeRmw32(v);
    else this.writeRmw16(v);
  }

  /** Memory operand required (LEA, LDS, BOUND, LGDT...): register form is #UD. */
  requireMemory(): void {
    if (this.modrm >= 0xc0) throw new CpuFault(Vec_UD);
  }

  /** Segment for a string source / XLAT: DS unless overridden. */
  get dataSeg(): number {
    return this.segOverride >= 0 ? this.segOverride : Seg_DS;
  }

  // ---- The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP) ----

  /** Compute `a op b` at sign bit `top`, set flags, return the (unmasked) result. */
  alu(op: number, a: number, b: number, top: number): number {
    let r: number;
    switch (op) {
      case 0:
        r = a + b;
        this.setLazy(LazyOp_Add, a, b, r, top);
        return r;
      case 1:
        r = a | b;
        this.setLazy(LazyOp_Logic, a, b, r, top);
        return r;
      case 2:
        r = a + b + this.getCF();
        this.setLazy(LazyOp_Add, a, b, r, top);
        return r;
      case 3:
        r = a - b - this.getCF();
        this.setLazy(LazyOp_Sub, a, b, r, top);
        return r;
      case 4:
        r = a & b;
        this.setLazy(LazyOp_Logic, a, b, r, top);
        return r;
      case 6:
        r = a ^ b;
        this.setLazy(LazyOp_Logic, a, b, r, top);
        return r;
      default:
        r = a - b;
        this.setLazy(LazyOp_Sub, a, b, r, top);
        return r;
    }
  }

  /** Operand-size sign bit index: 15 or 31. */
  get topV(): number {
    return this.o32 ? 31 : 15;
  }

  /** Count register (CX or ECX by address size). */
  getCount(): number {
    return this.a32 ? this.reg32[Reg_ECX] >>> 0 : this.reg16[Reg_ECX * 2];
  }
  setCount(v: number): void {
    if (this.a32) this.reg32[Reg_ECX] = v;
    else this.reg16[Reg_ECX * 2] = v;
  }
}
