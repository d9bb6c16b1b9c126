// Transcendental instructions through float64 Math (documented divergence: the
// core value is computed in double precision, so results are within a few
// float64 ulps of the real x87's, not bit-exact; special operands, C2 for
// out-of-range arguments and the exception flags follow the x87 rules).
import { Unp, Kind, IE, DE, ZE, PE, EXT_EMIN, EXT_EMAX, RC_NEAREST, roundPack, RIN, setIndefinite, setInf, setZero, isNaN, quietNaN, propagateNaN, toFloat, fromF64 } from './float80';
import * as F from './float80';
import { mul, HANDLED } from './arith';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const tmpU = new Unp();

/** Unp (finite) → nearest double (beyond double range: ±Infinity / ±0). */
export function toNumber(u: Unp): number {
  if (u.k === Kind.Zero) return u.s ? -0 : 0;
  if (u.k === Kind.Inf) return u.s ? -Infinity : Infinity;
  toFloat(u, 53, RC_NEAREST, true, true);
  u32[0] = F.OUT[1]; u32[1] = F.OUT[0];
  return f64[0];
}

/** double → Unp, then round to the extended format (exact for finite doubles). */
export function fromNumber(out: Unp, v: number): number {
  f64[0] = v;
  fromF64(out, u32[1], u32[0]);
  if (out.k === Kind.Normal) {
    out.den = false;
    return (RIN[0] = out.hi, RIN[1] = out.lo, RIN[2] = 0, roundPack(out, out.s, out.e, 64, EXT_EMIN, EXT_EMAX, RC_NEAREST, true, true));
  }
  return 0;
}

/** Result flags for a computed value: inexact unless the result is exact by construction. */
function inexact(v: number, exact: boolean): number {
  return exact || v === 0 ? 0 : PE;
}

const TWO63 = 2 ** 63;

/** Argument check for FSIN/FCOS/FSINCOS/FPTAN: 1 = out of range (C2), else flags | HANDLED for specials. */
export const OUT_OF_RANGE = 0x20000;
export function trigArg(out: Unp, a: Unp): number {
  if (a.k === Kind.Unsupported || a.k === Kind.Inf) { setIndefinite(out); return IE | HANDLED; }
  if (isNaN(a)) return quietNaN(out, a) | HANDLED;
  if (a.k === Kind.Normal && a.e >= 63) return OUT_OF_RANGE;
  return a.den ? DE : 0;
}

/**
 * pi/2 as the hardware knows it: the x87 reduces trigonometric arguments with a
 * 66-bit pi (0xC90FDAA22168C234C * 2^-66), so e.g. FSIN(pi rounded to 64 bits)
 * is -2^-64, not the true -0.92 * 2^-64. P2 = pi/2 * 2^67.
 */
const P2 = 0xc90fdaa22168c234cn;

/** sin (which=0), cos (1), tan (2) of a checked operand. */
export function trig(out: Unp, a: Unp, which: number): number {
  if (a.k === Kind.Zero) {
    if (which === 1) return fromNumber(out, 1);
    setZero(out, a.s);
    return 0;
  }
  let r = toNumber(a);
  let k = 0;
  if (a.e >= -1) {
    // Exact reduction x - k*pi/2 (k nearest) in integers, scaled by 2^67.
    const X = ((BigInt(a.hi) << 32n) | BigInt(a.lo)) << BigInt(a.e - 63 + 67 + 64);
    const P = P2 << 64n;
    let q = X / P;
    let rem = X - q * P;
    if (rem * 2n > P) { q += 1n; rem -= P; }
    k = Number(q & 3n);
    r = (Number(rem) / 2 ** 131) * (a.s ? -1 : 1);
    if (a.s) k = (4 - k) & 3;
  }
  let v: number;
  const sr = Math.sin(r), cr = Math.cos(r);
  if (which === 0) v = k === 0 ? sr : k === 1 ? cr : k === 2 ? -sr : -cr;
  else if (which === 1) v = k === 0 ? cr : k === 1 ? -sr : k === 2 ? -cr : sr;
  else v = k & 1 ? -cr / sr : sr / cr;
  return fromNumber(out, v) | inexact(v, false);
}

/** F2XM1: 2^x - 1 for -1 <= x <= 1. */
export function f2xm1(out: Unp, a: Unp): number {
  if (a.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a)) return quietNaN(out, a);
  if (a.k === Kind.Zero) { setZero(out, a.s); return 0; }
  if (a.k === Kind.Inf) { if (a.s) fromNumber(out, -1); else setInf(out, 0); return 0; }
  const x = toNumber(a);
  // Outside the architectural domain -1..1 the result is undefined; the reference
  // hardware leaves the operand unchanged (raising #P), and so do we.
  if (x > 1 || x < -1) { out.set(a); return PE; }
  const v = Math.expm1(x * Math.LN2);
  return (a.den ? DE : 0) | fromNumber(out, v) | PE;
}

/** FYL2X: b * log2(a) (a = ST0, b = ST1). */
export function fyl2x(out: Unp, a: Unp, b: Unp, cw: number): number {
  if (a.k === Kind.Unsupported || b.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a) || isNaN(b)) return propagateNaN(out, a, b);
  let flags = a.den || b.den ? DE : 0;
  if (a.s === 1 && a.k !== Kind.Zero) { setIndefinite(out); return flags | IE; }
  if (a.k === Kind.Zero) {
    if (b.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
    setInf(out, b.s ^ 1);
    return flags | (b.k === Kind.Inf ? 0 : ZE);
  }
  if (a.k === Kind.Inf) {
    if (b.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
    setInf(out, b.s);
    return flags;
  }
  const x = toNumber(a);
  const l = a.e === 0 && a.hi === 0x80000000 && a.lo === 0 ? 0 : Math.log2(x);
  if (b.k === Kind.Inf) {
    if (l === 0) { setIndefinite(out); return flags | IE; }
    setInf(out, b.s ^ (l < 0 ? 1 : 0));
    return flags;
  }
  if (l === 0) { setZero(out, b.s ^ (x < 1 ? 1 : 0)); return flags; }
  if (b.k === Kind.Zero) { setZero(out, b.s ^ (l < 0 ? 1 : 0)); return flags; }
  flags |= fromNumber(tmpU, l) | PE;
  return flags | (mul(out, tmpU, b, cw | 0x300) & ~HANDLED);
}

/** FYL2XP1: b * log2(a + 1). */
export function fyl2xp1(out: Unp, a: Unp, b: Unp, cw: number): number {
  if (a.k === Kind.Unsupported || b.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a) || isNaN(b)) return propagateNaN(out, a, b);
  let flags = a.den || b.den ? DE : 0;
  if (a.k === Kind.Zero) {
    if (b.k === Kind.Inf) { setIndefinite(out); return flags | IE; }
    setZero(out, a.s ^ b.s);
    return flags;
  }
  if (a.k === Kind.Inf) {
    if (a.s || b.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
    setInf(out, b.s);
    return flags;
  }
  const x = toNumber(a);
  if (x < -1) { setIndefinite(out); return flags | IE; }
  const l = Math.log1p(x) / Math.LN2;
  if (b.k === Kind.Inf) { setInf(out, b.s ^ (l < 0 ? 1 : 0)); return flags; }
  if (b.k === Kind.Zero) { setZero(out, b.s ^ (l < 0 ? 1 : 0)); return flags; }
  flags |= fromNumber(tmpU, l) | PE;
  return flags | (mul(out, tmpU, b, cw | 0x300) & ~HANDLED);
}

/** FPATAN: atan2(b, a) where b = ST1 (y), a = ST0 (x). */
export function fpatan(out: Unp, a: Unp, b: Unp): number {
  if (a.k === Kind.Unsupported || b.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a) || isNaN(b)) return propagateNaN(out, a, b);
  const flags = a.den || b.den ? DE : 0;
  const v = Math.atan2(toNumber(b), toNumber(a));
  if (v === 0) { setZero(out, Object.is(v, -0) ? 1 : 0); return flags; }
  return flags | fromNumber(out, v) | PE;
}
