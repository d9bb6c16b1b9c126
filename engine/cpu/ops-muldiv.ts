// Group 3 (F6/F7: TEST, NOT, NEG, MUL, IMUL, DIV, IDIV) and the IMUL forms 69, 6B, 0F AF.
// MUL/IMUL define only CF and OF; SF/ZF/PF follow the low half of the result and AF
// is cleared (what P6 cores do), DIV/IDIV leave the flags alone.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { LazyOp } from './flags';
import { CpuFault, FLAG_AF as FLAG_AF_, FLAG_CF as FLAG_CF_, FLAG_OF as FLAG_OF_, Reg, Vec } from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_EDX = Reg.EDX;
const Vec_DE = Vec.DE;
const LazyOp_Logic = LazyOp.Logic;
const FLAG_AF = FLAG_AF_;
const FLAG_CF = FLAG_CF_;
const FLAG_OF = FLAG_OF_;

const CF_OF_AF = FLAG_CF | FLAG_OF | FLAG_AF;

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
export function mulHighU32(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * bH + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 0x10000)) >>> 0;
}

/** High 32 bits of the signed 64-bit product of two int32 values. */
export function mulHighS32(a: number, b: number): number {
  let hi = mulHighU32(a >>> 0, b >>> 0);
  if (a < 0) hi -= b >>> 0;
  if (b < 0) hi -= a >>> 0;
  return hi | 0;
}

function setMulFlags(cpu: Cpu, low: number, top: number, overflow: boolean): void {
  cpu.setResultFlags(low, top, CF_OF_AF, overflow ? FLAG_CF | FLAG_OF : 0);
}

/** Two/three-operand IMUL: truncated signed product, CF=OF=the product did not fit. */
function imulTruncated(cpu: Cpu, a: number, b: number): number {
  if (cpu.o32) {
    const lo = Math.imul(a, b);
    setMulFlags(cpu, lo, 31, mulHighS32(a, b) !== lo >> 31);
    return lo;
  }
  const p = ((a << 16) >> 16) * ((b << 16) >> 16);
  setMulFlags(cpu, p, 15, p !== (p << 16) >> 16);
  return p;
}

function divide8(cpu: Cpu, divisor: number, signed: boolean): void {
  const ax = cpu.reg16[0];
  if (divisor === 0) throw new CpuFault(Vec_DE);
  let q: number;
  let r: number;
  if (signed) {
    const n = (ax << 16) >> 16;
    const d = (divisor << 24) >> 24;
    q = Math.trunc(n / d);
    r = n % d;
    if (q > 127 || q < -128) throw new CpuFault(Vec_DE);
  } else {
    q = Math.floor(ax / divisor);
    r = ax % divisor;
    if (q > 0xff) throw new CpuFault(Vec_DE);
  }
  cpu.reg8[0] = q;
  cpu.reg8[1] = r;
}

function divide16(cpu: Cpu, divisor: number, signed: boolean): void {
  const n = (cpu.reg16[Reg_EDX * 2] << 16) | cpu.reg16[0];
  if (divisor === 0) throw new CpuFault(Vec_DE);
  let q: number;
  let r: number;
  if (signed) {
    const d = (divisor << 16) >> 16;
    q = Math.trunc(n / d);
    r = n % d;
    if (q > 0x7fff || q < -0x8000) throw new CpuFault(Vec_DE);
  } else {
    const un = n >>> 0;
    q = Math.floor(un / divisor);
    r = un % divisor;
    if (q > 0xffff) throw new CpuFault(Vec_DE);
  }
  cpu.reg16[0] = q;
  cpu.reg16[Reg_EDX * 2] = r;
}

function divide32(cpu: Cpu, divisor: number, signed: boolean): void {
  if (divisor === 0) throw new CpuFault(Vec_DE);
  const hi = cpu.reg32[Reg_EDX];
  const lo = cpu.reg32[Reg_EAX];
  let q: bigint;
  let r: bigint;
  if (signed) {
    const n = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const d = BigInt(divisor | 0);
    q = n / d;
    r = n % d;
    if (q > 0x7fffffffn || q < -0x80000000n) throw new CpuFault(Vec_DE);
  } else {
    if (hi === 0) {
      // The common case fits in a double exactly.
      const un = lo >>> 0;
      const ud = divisor >>> 0;
      cpu.reg32[Reg_EAX] = Math.floor(un / ud);
      cpu.reg32[Reg_EDX] = un % ud;
      return;
    }
    const n = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const d = BigInt(divisor >>> 0);
    q = n / d;
    r = n % d;
    if (q > 0xffffffffn) throw new CpuFault(Vec_DE);
  }
  cpu.reg32[Reg_EAX] = Number(BigInt.asIntN(32, q));
  cpu.reg32[Reg_EDX] = Number(BigInt.asIntN(32, r));
}

function groupF6(cpu: Cpu): void {
  cpu.decodeModrm();
  switch (cpu.regField) {
    case 0:
    case 1: {
      const a = cpu.readRm8();
      const b = cpu.fetch8();
      cpu.setLazy(LazyOp_Logic, a, b, a & b, 7);
      return;
    }
    case 2:
      cpu.writeRmw8(~cpu.readRmw8());
      return;
    case 3: {
      const v = cpu.readRmw8();
      cpu.writeRmw8(cpu.alu(5, 0, v, 7));
      return;
    }
    case 4: {
      const p = cpu.reg8[0] * cpu.readRm8();
      cpu.reg16[0] = p;
      setMulFlags(cpu, p, 7, p > 0xff);
      return;
    }
    case 5: {
      const p = ((cpu.reg8[0] << 24) >> 24) * ((cpu.readRm8() << 24) >> 24);
      cpu.reg16[0] = p;
      setMulFlags(cpu, p, 7, p !== (p << 24) >> 24);
      return;
    }
    case 6:
      divide8(cpu, cpu.readRm8(), false);
      return;
    default:
      divide8(cpu, cpu.readRm8(), true);
  }
}

function groupF7(cpu: Cpu): void {
  cpu.decodeModrm();
  const o32 = cpu.o32;
  switch (cpu.regField) {
    case 0:
    case 1: {
      const a = cpu.readRmV();
      const b = cpu.fetchImm();
      cpu.setLazy(LazyOp_Logic, a, b, a & b, cpu.topV);
      return;
    }
    case 2:
      cpu.writeRmwV(~cpu.readRmwV());
      return;
    case 3: {
      const v = cpu.readRmwV();
      cpu.writeRmwV(cpu.alu(5, 0, v, cpu.topV));
      return;
    }
    case 4: {
      if (o32) {
        const a = cpu.reg32[Reg_EAX];
        const b = cpu.readRm32();
        const hi = mulHighU32(a >>> 0, b >>> 0);
        const lo = Math.imul(a, b);
        cpu.reg32[Reg_EAX] = lo;
        cpu.reg32[Reg_EDX] = hi;
        setMulFlags(cpu, lo, 31, hi !== 0);
      } else {
        const p = cpu.reg16[0] * cpu.readRm16();
        cpu.reg16[0] = p;
        cpu.reg16[Reg_EDX * 2] = p >>> 16;
        setMulFlags(cpu, p, 15, p > 0xffff);
      }
      return;
    }
    case 5: {
      if (o32) {
        const a = cpu.reg32[Reg_EAX];
        const b = cpu.readRm32();
        const hi = mulHighS32(a, b);
        const lo = Math.imul(a, b);
        cpu.reg32[Reg_EAX] = lo;
        cpu.reg32[Reg_EDX] = hi;
        setMulFlags(cpu, lo, 31, hi !== lo >> 31);
      } else {
        const p = ((cpu.reg16[0] << 16) >> 16) * ((cpu.readRm16() << 16) >> 16);
        cpu.reg16[0] = p;
        cpu.reg16[Reg_EDX * 2] = p >> 16;
        setMulFlags(cpu, p, 15, p !== (p << 16) >> 16);
      }
      return;
    }
    case 6:
      if (o32) divide32(cpu, cpu.readRm32(), false);
      else divide16(cpu, cpu.readRm16(), false);
      return;
    default:
      if (o32) divide32(cpu, cpu.readRm32(), true);
      else divide16(cpu, cpu.readRm16(), true);
  }
}

export function installMulDiv(t: OpTable, lock: Uint8Array): void {
  t[0xf6] = groupF6;
  t[0xf7] = groupF7;
  lock[0xf6] = lock[0xf7] = 0x0c; // NOT, NEG
  // 69: IMUL Gv, Ev, Iv; 6B: IMUL Gv, Ev, Ib; 0F AF: IMUL Gv, Ev.
  t[0x69] = (cpu) => {
    cpu.decodeModrm();
    const a = cpu.readRmV();
    const b = cpu.fetchImm();
    cpu.setRegV(cpu.regField, imulTruncated(cpu, a, b));
  };
  t[0x6b] = (cpu) => {
    cpu.decodeModrm();
    const a = cpu.readRmV();
    const b = cpu.fetchS8();
    cpu.setRegV(cpu.regField, imulTruncated(cpu, a, b));
  };
  t[0x1af] = (cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    cpu.setRegV(r, imulTruncated(cpu, cpu.getRegV(r), cpu.readRmV()));
  };
}
