// Exact x87 arithmetic on unpacked extended values: add/sub and mul in 32-bit-word
// integer arithmetic (no allocation); the FDIV quotient, FSQRT and the partial
// remainders with BigInt; compare, FRNDINT, FSCALE.
// Every function writes its result to `out` and returns exception bits | C1;
// HANDLED marks results decided by the special-operand rules.
import {
  Unp, Kind, IE, DE, ZE, OE, UE, C1, EXT_EMIN, EXT_EMAX, RC_DOWN,
  roundPack, RIN, setIndefinite, setInf, setZero, isNaN, propagateNaN, quietNaN, roundToInt, normalize,
} from './float80';
import * as F from './float80';

export const HANDLED = 0x10000;

/** Precision control → significand bits. PC=01 is reserved; the reference hardware rounds to 64 bits. */
export function pcBits(cw: number): number {
  const pc = (cw >>> 8) & 3;
  return pc === 2 ? 53 : pc === 0 ? 24 : 64;
}

/** Two-operand preamble: invalid operands and NaNs decide the result; else DE for denormals. */
function specials2(out: Unp, a: Unp, b: Unp, cw: number): number {
  if (a.k === Kind.Unsupported || b.k === Kind.Unsupported) {
    setIndefinite(out);
    return IE | HANDLED;
  }
  if (isNaN(a) || isNaN(b)) return propagateNaN(out, a, b) | HANDLED;
  if (!a.den && !b.den) return 0;
  // An unmasked #D stops the operation before anything else is detected.
  return cw & DE ? DE : DE | HANDLED;
}

// 96-bit scratch (typed array: no heap-number boxing, see float80.ts)
const W = new Uint32Array(3);

/** Normalise W[0]:W[1]:W[2] left (non-zero); returns the shift count. */
function shl96norm(): number {
  let n = 0;
  while (W[0] === 0) {
    W[0] = W[1]; W[1] = W[2]; W[2] = 0; n += 32;
  }
  const c = Math.clz32(W[0]);
  if (c) {
    W[0] = ((W[0] << c) | (W[1] >>> (32 - c))) >>> 0;
    W[1] = ((W[1] << c) | (W[2] >>> (32 - c))) >>> 0;
    W[2] = (W[2] << c) >>> 0;
  }
  return n + c;
}

function masks(cw: number): { u: boolean; o: boolean } {
  MASKS.u = (cw & UE) !== 0;
  MASKS.o = (cw & OE) !== 0;
  return MASKS;
}
const MASKS = { u: true, o: true };

/** a + b (sub: a - b), rounded per PC/RC. */
export function add(out: Unp, a: Unp, b: Unp, sub: boolean, cw: number): number {
  const bs = b.s ^ (sub ? 1 : 0);
  let flags = specials2(out, a, b, cw);
  if (flags & HANDLED) return flags;
  const rc = (cw >>> 10) & 3;
  const m = masks(cw);
  if (a.k === Kind.Inf || b.k === Kind.Inf) {
    if (a.k === Kind.Inf && b.k === Kind.Inf && a.s !== bs) {
      setIndefinite(out);
      return flags | IE;
    }
    setInf(out, a.k === Kind.Inf ? a.s : bs);
    return flags;
  }
  if (a.k === Kind.Zero && b.k === Kind.Zero) {
    setZero(out, a.s === bs ? a.s : rc === RC_DOWN ? 1 : 0);
    return flags;
  }
  const p = pcBits(cw);
  if (a.k === Kind.Zero) return flags | (RIN[0] = b.hi, RIN[1] = b.lo, RIN[2] = 0, roundPack(out, bs, b.e, p, EXT_EMIN, EXT_EMAX, rc, m.u, m.o));
  if (b.k === Kind.Zero) return flags | (RIN[0] = a.hi, RIN[1] = a.lo, RIN[2] = 0, roundPack(out, a.s, a.e, p, EXT_EMIN, EXT_EMAX, rc, m.u, m.o));

  // Order by magnitude: x is the larger.
  let xs = a.s, xe = a.e, xh = a.hi, xl = a.lo;
  let ys = bs, ye = b.e, yh = b.hi, yl = b.lo;
  if (ye > xe || (ye === xe && (yh > xh || (yh === xh && yl > xl)))) {
    xs = bs; xe = b.e; xh = b.hi; xl = b.lo;
    ys = a.s; ye = a.e; yh = a.hi; yl = a.lo;
  }
  W[0] = yh; W[1] = yl;
  shiftRightW(xe - ye);
  const bh = W[0], bl = W[1], bx = W[2];
  let e = xe;
  if (xs === ys) {
    const lo = xl + bl;
    let hi = xh + bh + (lo > 0xffffffff ? 1 : 0);
    let l = lo >>> 0;
    let x = bx;
    if (hi > 0xffffffff) {
      x = ((x >>> 1) | (l << 31) | (x & 1)) >>> 0;
      l = ((l >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = ((hi / 2) >>> 0) | 0x80000000; // hi < 2^33 here
      e += 1;
    }
    return flags | (RIN[0] = hi >>> 0, RIN[1] = l, RIN[2] = x, roundPack(out, xs, e, p, EXT_EMIN, EXT_EMAX, rc, m.u, m.o));
  }
  // Magnitude subtraction x - y >= 0.
  let x = 0, borrow = 0;
  if (bx !== 0) { x = (0x100000000 - bx) >>> 0; borrow = 1; }
  let lo = xl - bl - borrow;
  borrow = lo < 0 ? 1 : 0;
  lo = lo >>> 0;
  const hi = (xh - bh - borrow) >>> 0;
  if ((hi | lo | x) === 0) {
    setZero(out, rc === RC_DOWN ? 1 : 0);
    return flags;
  }
  W[0] = hi; W[1] = lo; W[2] = x;
  e -= shl96norm();
  return flags | (RIN[0] = W[0], RIN[1] = W[1], RIN[2] = W[2], roundPack(out, xs, e, p, EXT_EMIN, EXT_EMAX, rc, m.u, m.o));
}

/** W[0]:W[1] >> n into W[0]:W[1]:W[2] with sticky (operands via W: no boxed arguments). */
function shiftRightW(n: number): void {
  let hi = W[0], lo = W[1];
  let x = 0;
  if (n === 0) { W[0] = hi; W[1] = lo; W[2] = 0; return; }
  if (n >= 96) { W[0] = 0; W[1] = 0; W[2] = 1; return; } // operands are non-zero
  let sticky = 0;
  while (n >= 32) {
    sticky |= x; x = lo; lo = hi; hi = 0; n -= 32;
  }
  if (n > 0) {
    sticky |= x << (32 - n);
    x = ((x >>> n) | (lo << (32 - n))) >>> 0;
    lo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    hi = hi >>> n;
  }
  W[0] = hi; W[1] = lo; W[2] = (x | (sticky !== 0 ? 1 : 0)) >>> 0;
}

const INV16 = 1 / 65536;

/** a * b. */
export function mul(out: Unp, a: Unp, b: Unp, cw: number): number {
  const s = a.s ^ b.s;
  let flags = specials2(out, a, b, cw);
  if (flags & HANDLED) return flags;
  if (a.k === Kind.Inf || b.k === Kind.Inf) {
    if (a.k === Kind.Zero || b.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
    setInf(out, s);
    return flags;
  }
  if (a.k === Kind.Zero || b.k === Kind.Zero) { setZero(out, s); return flags; }
  // 64x64 -> 128 with 16-bit limbs (every partial product and column sum is exact in a double).
  const a0 = a.lo & 0xffff, a1 = a.lo >>> 16, a2 = a.hi & 0xffff, a3 = a.hi >>> 16;
  const b0 = b.lo & 0xffff, b1 = b.lo >>> 16, b2 = b.hi & 0xffff, b3 = b.hi >>> 16;
  let c = a0 * b0, q = 0;
  q = Math.floor(c * INV16); const r0 = c - q * 65536; c = q;
  c += a0 * b1 + a1 * b0;
  q = Math.floor(c * INV16); const r1 = c - q * 65536; c = q;
  c += a0 * b2 + a1 * b1 + a2 * b0;
  q = Math.floor(c * INV16); const r2 = c - q * 65536; c = q;
  c += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  q = Math.floor(c * INV16); const r3 = c - q * 65536; c = q;
  c += a1 * b3 + a2 * b2 + a3 * b1;
  q = Math.floor(c * INV16); const r4 = c - q * 65536; c = q;
  c += a2 * b3 + a3 * b2;
  q = Math.floor(c * INV16); const r5 = c - q * 65536; c = q;
  c += a3 * b3;
  q = Math.floor(c * INV16); const r6 = c - q * 65536; c = q;
  const r7 = c;
  let p3 = (r7 * 65536 + r6) >>> 0, p2 = (r5 * 65536 + r4) >>> 0;
  let p1 = (r3 * 65536 + r2) >>> 0;
  const p0 = (r1 * 65536 + r0) >>> 0;
  let e = a.e + b.e;
  if (p3 & 0x80000000) e += 1;
  else {
    p3 = ((p3 << 1) | (p2 >>> 31)) >>> 0;
    p2 = ((p2 << 1) | (p1 >>> 31)) >>> 0;
    p1 = ((p1 << 1) | (p0 >>> 31)) >>> 0;
  }
  const x = (p1 | ((p0 & 0x7fffffff) !== 0 ? 1 : 0)) >>> 0;
  const m = masks(cw);
  return flags | (RIN[0] = p3, RIN[1] = p2, RIN[2] = x, roundPack(out, s, e, pcBits(cw), EXT_EMIN, EXT_EMAX, (cw >>> 10) & 3, m.u, m.o));
}

/** a / b. */
export function div(out: Unp, a: Unp, b: Unp, cw: number): number {
  const s = a.s ^ b.s;
  // Division by zero is detected before denormal operands.
  if (b.k === Kind.Zero && (a.k === Kind.Normal || a.k === Kind.Inf) && !isNaN(a)) {
    if (a.k === Kind.Inf) { setInf(out, s); return 0; }
    setInf(out, s);
    return ZE;
  }
  let flags = specials2(out, a, b, cw);
  if (flags & HANDLED) return flags;
  if (a.k === Kind.Inf) {
    if (b.k === Kind.Inf) { setIndefinite(out); return flags | IE; }
    setInf(out, s);
    return flags;
  }
  if (b.k === Kind.Inf) { setZero(out, s); return flags; }
  if (b.k === Kind.Zero) {
    if (a.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
    setInf(out, s);
    return flags | ZE;
  }
  if (a.k === Kind.Zero) { setZero(out, s); return flags; }
  // Q = floor(A * 2^65 / B) with A, B the 64-bit significands: 65 or 66 significant
  // bits (so at least one bit below the 64 kept ones), plus a sticky remainder.
  // (BigInt measured ~2-3x faster than a bit-by-bit restoring loop in 32-bit words;
  // the few short-lived BigInts are cheap young-generation garbage.)
  const A = ((BigInt(a.hi) << 32n) | BigInt(a.lo)) << 65n;
  const B = (BigInt(b.hi) << 32n) | BigInt(b.lo);
  const Q = A / B;
  const sticky = A !== Q * B ? 1 : 0;
  let e = a.e - b.e;
  let qh: number, ql: number, qx: number;
  if (Q >> 65n) {
    qh = Number(Q >> 34n);
    ql = Number((Q >> 2n) & 0xffffffffn);
    qx = Number(Q & 3n) * 0x40000000 + sticky;
  } else {
    qh = Number(Q >> 33n);
    ql = Number((Q >> 1n) & 0xffffffffn);
    qx = Number(Q & 1n) * 0x80000000 + sticky;
    e -= 1;
  }
  const m = masks(cw);
  return flags | (RIN[0] = qh >>> 0, RIN[1] = ql >>> 0, RIN[2] = qx >>> 0, roundPack(out, s, e, pcBits(cw), EXT_EMIN, EXT_EMAX, (cw >>> 10) & 3, m.u, m.o));
}

// ---- BigInt helpers for the rare instructions ----

function sigBig(u: Unp): bigint {
  return (BigInt(u.hi) << 32n) | BigInt(u.lo);
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Round n * 2^scale (n > 0, plus a sticky flag) into out. */
function roundBig(out: Unp, s: number, n: bigint, scale: number, sticky: boolean, p: number, cw: number): number {
  const len = bitLength(n);
  // Keep 96 bits: hi:lo:x, leading bit at bit 95.
  let k = n;
  let st = sticky;
  if (len > 96) {
    const drop = BigInt(len - 96);
    if ((k & ((1n << drop) - 1n)) !== 0n) st = true;
    k >>= drop;
  } else {
    k <<= BigInt(96 - len);
  }
  const hi = Number(k >> 64n) >>> 0, lo = Number((k >> 32n) & 0xffffffffn) >>> 0;
  const x = (Number(k & 0xffffffffn) | (st ? 1 : 0)) >>> 0;
  const m = masks(cw);
  // value = n * 2^scale, leading bit weight 2^(len-1+scale)
  return (RIN[0] = hi, RIN[1] = lo, RIN[2] = x, roundPack(out, s, len - 1 + scale, p, EXT_EMIN, EXT_EMAX, (cw >>> 10) & 3, m.u, m.o));
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton from above (2^ceil(bits/2) >= sqrt(n)) decreases monotonically to floor(sqrt(n)).
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(out: Unp, a: Unp, cw: number): number {
  if (a.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a)) return quietNaN(out, a);
  if (a.k === Kind.Zero) { out.set(a); return 0; }
  if (a.s === 1) { setIndefinite(out); return IE; }
  if (a.k === Kind.Inf) { out.set(a); return 0; }
  if (a.den && !(cw & DE)) return DE | HANDLED; // unmasked #D: no result
  const flags = a.den ? DE : 0;
  // value = M * 2^(e-63); make the exponent even, then sqrt(M' * 2^128) * 2^((E'-128)/2).
  let M = sigBig(a);
  let E = a.e - 63;
  if (E & 1) { M <<= 1n; E -= 1; }
  const N = M << 128n;
  const r = isqrt(N);
  return flags | roundBig(out, 0, r, (E - 128) / 2, r * r !== N, pcBits(cw), cw);
}

/** Relation from compare(): bits 16-17 of the return value. */
export const REL_GT = 0;
export const REL_LT = 1;
export const REL_EQ = 2;
export const REL_UN = 3;

/** Compare a with b. quiet: only SNaN raise IE (FUCOM); else any NaN does. Returns flags | rel << 16. */
export function compare(a: Unp, b: Unp, quiet: boolean): number {
  if (a.k === Kind.Unsupported || b.k === Kind.Unsupported) return IE | (REL_UN << 16);
  if (isNaN(a) || isNaN(b)) {
    const sig = a.k === Kind.SNaN || b.k === Kind.SNaN || !quiet;
    return (sig ? IE : 0) | (REL_UN << 16);
  }
  const flags = a.den || b.den ? DE : 0;
  const c = cmpValues(a, b);
  return flags | ((c === 0 ? REL_EQ : c < 0 ? REL_LT : REL_GT) << 16);
}

/** -1/0/1 ordering of two non-NaN values. */
function cmpValues(a: Unp, b: Unp): number {
  if (a.k === Kind.Zero && b.k === Kind.Zero) return 0;
  if (a.k === Kind.Zero) return b.s ? 1 : -1;
  if (b.k === Kind.Zero) return a.s ? -1 : 1;
  if (a.s !== b.s) return a.s ? -1 : 1;
  let c: number;
  if (a.k === Kind.Inf || b.k === Kind.Inf) c = a.k === b.k ? 0 : a.k === Kind.Inf ? 1 : -1;
  else if (a.e !== b.e) c = a.e > b.e ? 1 : -1;
  else if (a.hi !== b.hi) c = a.hi > b.hi ? 1 : -1;
  else if (a.lo !== b.lo) c = a.lo > b.lo ? 1 : -1;
  else c = 0;
  return a.s ? -c : c;
}

/** FRNDINT. */
export function rndint(out: Unp, a: Unp, cw: number): number {
  if (a.k === Kind.Unsupported) { setIndefinite(out); return IE; }
  if (isNaN(a)) return quietNaN(out, a);
  if (a.k !== Kind.Normal) { out.set(a); return 0; }
  if (a.den && !(cw & DE)) return DE | HANDLED; // unmasked #D: no result
  let flags = a.den ? DE : 0;
  if (a.e >= 63) { out.set(a); out.den = false; return flags; }
  flags |= roundToInt(a, (cw >>> 10) & 3);
  if (F.intHuge) { setZero(out, a.s); out.k = Kind.Normal; out.e = 64; out.hi = 0x80000000; return flags; }
  if ((F.INT[0] | F.INT[1]) === 0) { setZero(out, a.s); return flags; }
  out.s = a.s; out.k = Kind.Normal; out.den = false; out.e = 63; out.hi = F.INT[0]; out.lo = F.INT[1];
  normalize(out);
  return flags;
}

/** FSCALE: a * 2^trunc(b). */
export function scale(out: Unp, a: Unp, b: Unp, cw: number): number {
  let flags = specials2(out, a, b, cw);
  if (flags & HANDLED) return flags;
  if (b.k === Kind.Inf) {
    if (b.s === 0) {
      if (a.k === Kind.Zero) { setIndefinite(out); return flags | IE; }
      setInf(out, a.s);
      return flags;
    }
    if (a.k === Kind.Inf) { setIndefinite(out); return flags | IE; }
    setZero(out, a.s);
    return flags;
  }
  if (a.k !== Kind.Normal) { out.set(a); out.den = false; return flags; }
  let n = 0;
  if (b.k === Kind.Normal && b.e >= 0) {
    n = b.e >= 30 ? 0x40000000 : Math.floor((b.hi >>> 0) / 2 ** (31 - b.e));
    if (b.s) n = -n;
  }
  const m = masks(cw);
  return flags | (RIN[0] = a.hi, RIN[1] = a.lo, RIN[2] = 0, roundPack(out, a.s, a.e + n, 64, EXT_EMIN, EXT_EMAX, (cw >>> 10) & 3, m.u, m.o));
}

/** Quotient bits and completion of the last prem(). */
export let premQ = 0;
export let premPartial = false;
// Exponent difference >= 64: a partial step with N = 32 + (D mod 32) (Intel: "implementation-
// dependent, 32..63"), which is what the reference hardware does.

/** FPREM (ieee=false, truncating quotient) / FPREM1 (ieee=true, nearest-even quotient): a rem b. */
export function prem(out: Unp, a: Unp, b: Unp, ieee: boolean, cw: number): number {
  premQ = 0;
  premPartial = false;
  // Invalid (inf rem x, x rem 0) is detected before denormal operands.
  if ((a.k === Kind.Inf || b.k === Kind.Zero) && a.k !== Kind.Unsupported && b.k !== Kind.Unsupported && !isNaN(a) && !isNaN(b)) {
    setIndefinite(out);
    return IE;
  }
  let flags = specials2(out, a, b, cw);
  if (flags & HANDLED) return flags;
  if (a.k === Kind.Zero || b.k === Kind.Inf) { out.set(a); out.den = false; return flags; }
  const d = a.e - b.e;
  if (d < (ieee ? -1 : 0)) { out.set(a); out.den = false; return flags; }
  const Ma = sigBig(a), Mb = sigBig(b);
  let A: bigint, B: bigint, sc: number;
  if (d >= 64) {
    premPartial = true;
    // ST0 -= ST1 * q * 2^(d-n) with q = trunc(ST0 / (ST1 * 2^(d-n))): the exponent drops by ~n.
    const n = (d & 31) | 32;
    A = Ma << BigInt(n);
    B = Mb;
    sc = a.e - 63 - n;
    const q = A / B;
    const r = A - q * B;
    premQ = Number(q & 7n);
    if (r === 0n) { setZero(out, a.s); return flags; }
    return flags | roundBig(out, a.s, r, sc, false, 64, cw);
  }
  if (d >= 0) { A = Ma << BigInt(d); B = Mb; sc = b.e - 63; }
  else { A = Ma; B = Mb << 1n; sc = a.e - 63; }
  let q = A / B;
  let r = A - q * B;
  let s = a.s;
  if (ieee) {
    const r2 = r << 1n;
    if (r2 > B || (r2 === B && (q & 1n) === 1n)) {
      q += 1n;
      r = B - r;
      s ^= 1;
    }
  }
  premQ = Number(q & 7n);
  if (r === 0n) { setZero(out, a.s); return flags; }
  return flags | roundBig(out, s, r, sc, false, 64, cw);
}

export { C1 };
