// The 80-bit extended format and exact rounding, in 32-bit integer arithmetic.
//
// A value in flight is an `Unp` (unpacked): sign, kind, an unbiased exponent `e`
// and a 64-bit significand hi:lo with the integer bit at hi bit 31, so that the
// value is (hi:lo / 2^63) * 2^e. Denormal inputs are normalised on unpacking
// (e may go below -16382); `den` remembers that the operand was denormal (#D).
// Everything here works on preallocated objects and module scratch variables:
// no allocation on the common paths.

/** Exception flag bits, as in the status word. */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;
export const SF = 0x40;
/** Returned alongside exception bits by the rounding code: "rounded up" (the C1 bit position). */
export const C1 = 0x200;

export const enum Kind {
  Zero = 0,
  Normal = 1, // includes denormals (normalised, den = true)
  Inf = 2,
  QNaN = 3,
  SNaN = 4,
  /** Unnormals, pseudo-NaN/pseudo-infinity: invalid operands on a P6. */
  Unsupported = 5,
}

export class Unp {
  s = 0;
  k: Kind = Kind.Zero;
  e = 0;
  hi = 0;
  lo = 0;
  den = false;
  set(o: Unp): this {
    this.s = o.s; this.k = o.k; this.e = o.e; this.hi = o.hi; this.lo = o.lo; this.den = o.den;
    return this;
  }
}

export const EXT_EMIN = -16382;
export const EXT_EMAX = 16383;
/** Bias adjustment applied to register results when #O/#U are unmasked. */
export const BIAS_ADJUST = 24576;

/** Decode an 80-bit image (se = sign|exponent word, hi:lo significand). */
export function unpack80(u: Unp, se: number, hi: number, lo: number): Unp {
  const exp = se & 0x7fff;
  u.s = se >>> 15;
  u.den = false;
  u.hi = hi >>> 0;
  u.lo = lo >>> 0;
  if (exp === 0x7fff) {
    u.e = 16384;
    if (!(hi & 0x80000000)) u.k = Kind.Unsupported;
    else if (((hi & 0x7fffffff) | lo) === 0) u.k = Kind.Inf;
    else u.k = hi & 0x40000000 ? Kind.QNaN : Kind.SNaN;
  } else if (exp === 0) {
    if ((hi | lo) === 0) {
      u.k = Kind.Zero;
      u.e = 0;
    } else {
      // Denormal, or pseudo-denormal (J=1): both mean 0.f/1.f * 2^-16382.
      u.k = Kind.Normal;
      u.den = true;
      u.e = EXT_EMIN;
      normalize(u);
    }
  } else {
    u.e = exp - 16383;
    u.k = hi & 0x80000000 ? Kind.Normal : Kind.Unsupported;
  }
  return u;
}

/** Shift a non-zero significand left until the integer bit is set, adjusting e. */
export function normalize(u: Unp): void {
  if (u.hi === 0) {
    u.hi = u.lo;
    u.lo = 0;
    u.e -= 32;
  }
  const n = Math.clz32(u.hi);
  if (n) {
    u.hi = ((u.hi << n) | (u.lo >>> (32 - n))) >>> 0;
    u.lo = (u.lo << n) >>> 0;
    u.e -= n;
  }
}

// Scratch for 96-bit shifts. Typed-array slots, not module `let`s: storing a uint32
// above 2^31 into a closure variable boxes a heap number on every write.
const SH = new Uint32Array(3);

/** hi:lo:x >> n with the shifted-out bits ORed into bit 0 of x (sticky). Result in SH[0..2]. */
function shr96(hi: number, lo: number, x: number, n: number): void {
  if (n <= 0) {
    SH[0] = hi; SH[1] = lo; SH[2] = x;
    return;
  }
  if (n >= 96) {
    SH[0] = 0; SH[1] = 0; SH[2] = (hi | lo | x) !== 0 ? 1 : 0;
    return;
  }
  let sticky = 0;
  while (n >= 32) {
    sticky |= x;
    x = lo; lo = hi; hi = 0;
    n -= 32;
  }
  if (n > 0) {
    sticky |= x << (32 - n);
    x = ((x >>> n) | (lo << (32 - n))) >>> 0;
    lo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    hi = hi >>> n;
  }
  SH[0] = hi; SH[1] = lo; SH[2] = x | (sticky !== 0 ? 1 : 0);
}

/** Rounding control values (CW bits 10-11). */
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_CHOP = 3;

/** Does rounding hi:lo:x at precision p (24/53/64) increment the kept part? */
function roundIncrement(hi: number, lo: number, x: number, p: number, rc: number, s: number): boolean {
  let rb: number, half: number, sticky: boolean, lsb: number;
  if (p === 64) {
    rb = x; half = 0x80000000; sticky = false; lsb = lo & 1;
  } else if (p === 53) {
    rb = lo & 0x7ff; half = 0x400; sticky = x !== 0; lsb = (lo >>> 11) & 1;
  } else {
    rb = hi & 0xff; half = 0x80; sticky = (lo | x) !== 0; lsb = (hi >>> 8) & 1;
  }
  if (rb === 0 && !sticky) return false;
  switch (rc) {
    case RC_NEAREST:
      return rb > half || (rb === half && (sticky || lsb === 1));
    case RC_DOWN:
      return s === 1;
    case RC_UP:
      return s === 0;
    default:
      return false;
  }
}

function isInexact(hi: number, lo: number, x: number, p: number): boolean {
  if (p === 64) return x !== 0;
  if (p === 53) return (lo & 0x7ff) !== 0 || x !== 0;
  return (hi & 0xff) !== 0 || (lo | x) !== 0;
}

/** All p kept bits ones (so that an increment carries out of the significand)? */
function keptAllOnes(hi: number, lo: number, p: number): boolean {
  if (p === 64) return hi === 0xffffffff && lo === 0xffffffff;
  if (p === 53) return hi === 0xffffffff && ((lo | 0x7ff) >>> 0) === 0xffffffff;
  return ((hi | 0xff) >>> 0) === 0xffffffff;
}

/**
 * The 96-bit significand hi:lo:x given to roundPack(). Passed through a typed
 * array because uint32 arguments above 2^31 would be boxed on every call.
 */
export const RIN = new Uint32Array(3);

/** Whether the last roundPack() result was tiny (masked-underflow path, after rounding). */
export let lastTiny = false;

/**
 * Round sign/e/RIN (hi:lo:x, integer bit at hi bit 31, or zero) to precision p and the
 * exponent range [emin, emax] of the destination, under rounding control rc.
 * Tininess is detected after rounding (as x87 hardware does); a masked underflow
 * denormalises, an unmasked one (register destinations) rebiases by +24576, as does
 * an unmasked overflow by -24576. Writes out (k = Zero/Normal/Inf; a denormal
 * result has e = emin and bit 31 of hi clear) and returns exception bits | C1.
 */
export function roundPack(out: Unp, s: number, e: number,
  p: number, emin: number, emax: number, rc: number, uMasked: boolean, oMasked: boolean): number {
  let hi = RIN[0], lo = RIN[1], x = RIN[2];
  out.s = s;
  out.den = false;
  if ((hi | lo | x) === 0) {
    out.k = Kind.Zero; out.e = 0; out.hi = 0; out.lo = 0;
    return 0;
  }
  let flags = 0;
  let tiny = false;
  lastTiny = false;
  if (e < emin) {
    if (!uMasked) {
      flags |= UE;
      e += BIAS_ADJUST;
    } else {
      tiny = !(e === emin - 1 && keptAllOnes(hi, lo, p) && roundIncrement(hi, lo, x, p, rc, s));
      shr96(hi, lo, x, emin - e);
      hi = SH[0]; lo = SH[1]; x = SH[2];
      e = emin;
    }
  }
  const inexact = isInexact(hi, lo, x, p);
  if (inexact) {
    flags |= PE;
    if (roundIncrement(hi, lo, x, p, rc, s)) {
      flags |= C1;
      const unit = p === 64 ? 1 : p === 53 ? 0x800 : 0;
      if (unit) {
        const nlo = lo + unit;
        lo = nlo >>> 0;
        if (nlo > 0xffffffff) hi += 1;
      } else {
        hi += 0x100;
      }
      if (hi > 0xffffffff) {
        hi = 0x80000000;
        e += 1;
      }
      hi >>>= 0;
    }
    if (p === 53) lo = (lo & ~0x7ff) >>> 0;
    else if (p === 24) { hi = (hi & ~0xff) >>> 0; lo = 0; }
    if (tiny) flags |= UE;
  }
  lastTiny = tiny;
  if (e > emax) {
    if (!oMasked) {
      flags |= OE;
      e -= BIAS_ADJUST;
    } else {
      flags = (flags & ~C1) | OE | PE;
      // Overflow: infinity, or the largest finite value when rounding toward zero.
      const toInf = rc === RC_NEAREST || (rc === RC_UP && s === 0) || (rc === RC_DOWN && s === 1);
      if (toInf) {
        out.k = Kind.Inf; out.e = 16384; out.hi = 0x80000000; out.lo = 0;
        return flags | C1;
      }
      out.k = Kind.Normal; out.e = emax;
      out.hi = p === 24 ? 0xffffff00 : 0xffffffff;
      out.lo = p === 64 ? 0xffffffff : p === 53 ? 0xfffff800 : 0;
      return flags;
    }
  }
  if ((hi | lo) === 0) {
    out.k = Kind.Zero; out.e = 0; out.hi = 0; out.lo = 0;
  } else {
    out.k = Kind.Normal; out.e = e; out.hi = hi; out.lo = lo;
  }
  return flags;
}

/** Pack to the 80-bit image: returns the sign|exponent word, significand in out.hi/out.lo. */
export function packSE80(u: Unp): number {
  const s = u.s << 15;
  switch (u.k) {
    case Kind.Zero:
      return s;
    case Kind.Normal:
      return u.hi & 0x80000000 ? s | ((u.e + 16383) & 0x7fff) : s; // denormal: exponent 0
    default:
      return s | 0x7fff; // Inf / NaN / unsupported keep their significand bits
  }
}

/** QNaN "real indefinite". */
export function setIndefinite(u: Unp): Unp {
  u.s = 1; u.k = Kind.QNaN; u.e = 16384; u.hi = 0xc0000000; u.lo = 0; u.den = false;
  return u;
}

export function setInf(u: Unp, s: number): Unp {
  u.s = s; u.k = Kind.Inf; u.e = 16384; u.hi = 0x80000000; u.lo = 0; u.den = false;
  return u;
}

export function setZero(u: Unp, s: number): Unp {
  u.s = s; u.k = Kind.Zero; u.e = 0; u.hi = 0; u.lo = 0; u.den = false;
  return u;
}

export function isNaN(u: Unp): boolean {
  return u.k === Kind.QNaN || u.k === Kind.SNaN;
}

/**
 * x87 NaN propagation for two operands (at least one a NaN): an SNaN is quieted;
 * with two NaNs the larger significand wins, on a tie the one with the smaller
 * sign|exponent word (i.e. positive). Returns IE when an SNaN was involved.
 */
export function propagateNaN(out: Unp, a: Unp, b: Unp): number {
  const aN = isNaN(a), bN = isNaN(b);
  const flags = a.k === Kind.SNaN || b.k === Kind.SNaN ? IE : 0;
  let pick: Unp;
  if (aN && bN && a.k !== b.k) {
    pick = a.k === Kind.QNaN ? a : b; // SNaN with QNaN: the QNaN
  } else if (aN && bN) {
    const ah = (a.hi | 0x40000000) >>> 0, bh = (b.hi | 0x40000000) >>> 0;
    if (ah !== bh) pick = ah > bh ? a : b;
    else if (a.lo !== b.lo) pick = a.lo > b.lo ? a : b;
    else pick = a.s <= b.s ? a : b;
  } else {
    pick = aN ? a : b;
  }
  out.set(pick);
  out.k = Kind.QNaN;
  out.hi = (out.hi | 0x40000000) >>> 0;
  return flags;
}

/** Quiet a single NaN operand. */
export function quietNaN(out: Unp, a: Unp): number {
  const flags = a.k === Kind.SNaN ? IE : 0;
  out.set(a);
  out.k = Kind.QNaN;
  out.hi = (out.hi | 0x40000000) >>> 0;
  return flags;
}

// ---- conversions from memory formats (exact) ----

/** float32 bits → Unp (exact). Returns DE for denormals (the caller decides masking). */
export function fromF32(u: Unp, bits: number): number {
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  u.s = bits >>> 31;
  u.den = false;
  u.lo = 0;
  if (exp === 0xff) {
    u.e = 16384;
    u.hi = (0x80000000 | (frac << 8)) >>> 0;
    u.k = frac === 0 ? Kind.Inf : frac & 0x400000 ? Kind.QNaN : Kind.SNaN;
    return 0;
  }
  if (exp === 0) {
    if (frac === 0) { u.k = Kind.Zero; u.e = 0; u.hi = 0; return 0; }
    u.k = Kind.Normal; u.den = true; u.e = -126; u.hi = (frac << 8) >>> 0;
    normalize(u);
    return DE;
  }
  u.k = Kind.Normal; u.e = exp - 127; u.hi = (0x80000000 | (frac << 8)) >>> 0;
  return 0;
}

/** float64 bits (hi word, lo word) → Unp (exact). */
export function fromF64(u: Unp, bhi: number, blo: number): number {
  const exp = (bhi >>> 20) & 0x7ff;
  const fh = bhi & 0xfffff;
  u.s = bhi >>> 31;
  u.den = false;
  // significand bits 62..11 = fraction
  const mhi = ((fh << 11) | (blo >>> 21)) >>> 0;
  const mlo = (blo << 11) >>> 0;
  if (exp === 0x7ff) {
    u.e = 16384;
    u.hi = (0x80000000 | mhi) >>> 0; u.lo = mlo;
    u.k = (fh | blo) === 0 ? Kind.Inf : fh & 0x80000 ? Kind.QNaN : Kind.SNaN;
    return 0;
  }
  if (exp === 0) {
    if ((fh | blo) === 0) { u.k = Kind.Zero; u.e = 0; u.hi = 0; u.lo = 0; return 0; }
    u.k = Kind.Normal; u.den = true; u.e = -1022; u.hi = mhi; u.lo = mlo;
    normalize(u);
    return DE;
  }
  u.k = Kind.Normal; u.e = exp - 1023; u.hi = (0x80000000 | mhi) >>> 0; u.lo = mlo;
  return 0;
}

/** Signed 32-bit integer → Unp (exact). */
export function fromI32(u: Unp, v: number): void {
  u.den = false; u.lo = 0;
  v |= 0;
  if (v === 0) { setZero(u, 0); return; }
  u.s = v < 0 ? 1 : 0;
  const m = (v < 0 ? -v : v) >>> 0;
  const n = Math.clz32(m);
  u.k = Kind.Normal; u.hi = (m << n) >>> 0; u.e = 31 - n;
}

/** Signed 64-bit integer (two's complement hi:lo words) → Unp (exact). */
export function fromI64(u: Unp, hi: number, lo: number): void {
  u.den = false;
  hi >>>= 0; lo >>>= 0;
  if ((hi | lo) === 0) { setZero(u, 0); return; }
  u.s = hi >>> 31;
  if (u.s) { // negate
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  u.k = Kind.Normal; u.hi = hi; u.lo = lo; u.e = 63;
  normalize(u);
}

// ---- conversions to memory formats ----

/** Result of toFloat: OUT[0] = float32 bits or the float64 high word, OUT[1] = float64 low word. */
export const OUT = new Uint32Array(2);
const tmp = new Unp();

/**
 * Round a finite/special Unp for storing as float32 (p = 24) or float64 (p = 53).
 * Writes the bits to OUT[0] (f32 or high word) / OUT[1]; returns exception bits | C1.
 * NaNs are quieted (IE for SNaN) and keep their top significand bits.
 */
export function toFloat(u: Unp, p: 24 | 53, rc: number, uMasked: boolean, oMasked: boolean): number {
  const s = u.s;
  let flags = 0;
  switch (u.k) {
    case Kind.Zero:
      OUT[0] = s ? 0x80000000 : 0; OUT[1] = 0;
      return 0;
    case Kind.Inf:
      if (p === 24) OUT[0] = ((s << 31) | 0x7f800000) >>> 0;
      else { OUT[0] = ((s << 31) | 0x7ff00000) >>> 0; OUT[1] = 0; }
      return 0;
    case Kind.SNaN:
    case Kind.QNaN:
    case Kind.Unsupported: {
      let hi = u.hi, lo = u.lo;
      if (u.k === Kind.Unsupported) { hi = 0xc0000000; lo = 0; flags = IE; }
      if (u.k === Kind.SNaN) flags = IE;
      const sgn = u.k === Kind.Unsupported ? 1 : s;
      hi = (hi | 0x40000000) >>> 0;
      if (p === 24) OUT[0] = ((sgn << 31) | 0x7f800000 | ((hi >>> 8) & 0x7fffff)) >>> 0;
      else {
        OUT[0] = ((sgn << 31) | 0x7ff00000 | ((hi >>> 11) & 0xfffff)) >>> 0;
        OUT[1] = ((hi << 21) | (lo >>> 11)) >>> 0;
      }
      return flags;
    }
  }
  // (An extended denormal source does not raise #D here, as on hardware.)
  const emin = p === 24 ? -126 : -1022;
  const emax = p === 24 ? 127 : 1023;
  flags |= (RIN[0] = u.hi, RIN[1] = u.lo, RIN[2] = 0, roundPack(tmp, s, u.e, p, emin, emax, rc, true, true));
  // Unmasked #U/#O with a memory destination: only the flag, nothing is stored.
  if (!uMasked && lastTiny) return UE;
  if (!oMasked && (flags & OE)) return OE;
  if (tmp.k === Kind.Inf) {
    if (p === 24) OUT[0] = ((s << 31) | 0x7f800000) >>> 0;
    else { OUT[0] = ((s << 31) | 0x7ff00000) >>> 0; OUT[1] = 0; }
  } else if (tmp.k === Kind.Zero) {
    OUT[0] = s ? 0x80000000 : 0; OUT[1] = 0;
  } else {
    const normal = (tmp.hi & 0x80000000) !== 0;
    if (p === 24) {
      const ef = normal ? tmp.e + 127 : 0;
      OUT[0] = ((s << 31) | ((ef & 0xff) << 23) | ((tmp.hi >>> 8) & 0x7fffff)) >>> 0;
    } else {
      const ef = normal ? tmp.e + 1023 : 0;
      OUT[0] = ((s << 31) | ((ef & 0x7ff) << 20) | ((tmp.hi >>> 11) & 0xfffff)) >>> 0;
      OUT[1] = ((tmp.hi << 21) | (tmp.lo >>> 11)) >>> 0;
    }
  }
  return flags;
}

// ---- rounding to integer ----

/** Integer magnitude from roundToInt: INT[0]:INT[1] (high, low words). */
export const INT = new Uint32Array(2);
/** Set by roundToInt when the magnitude is >= 2^64. */
export let intHuge = false;

/**
 * Round a Normal (or Zero) Unp to an integer magnitude under rc. Returns PE | C1
 * (C1 = magnitude rounded up) and sets INT and intHuge.
 */
export function roundToInt(u: Unp, rc: number): number {
  intHuge = false;
  if (u.k === Kind.Zero) { INT[0] = 0; INT[1] = 0; return 0; }
  const e = u.e;
  if (e >= 63) {
    if (e > 63) { intHuge = true; INT[0] = 0; INT[1] = 0; return 0; }
    INT[0] = u.hi; INT[1] = u.lo;
    return 0;
  }
  shr96(u.hi, u.lo, 0, 63 - e);
  let hi = SH[0], lo = SH[1];
  const x = SH[2];
  if (x === 0) { INT[0] = hi; INT[1] = lo; return 0; }
  let flags = PE;
  let inc: boolean;
  if (rc === RC_NEAREST) inc = x > 0x80000000 || (x === 0x80000000 && (lo & 1) === 1);
  else if (rc === RC_DOWN) inc = u.s === 1;
  else if (rc === RC_UP) inc = u.s === 0;
  else inc = false;
  if (inc) {
    flags |= C1;
    lo = (lo + 1) >>> 0;
    if (lo === 0) {
      hi = (hi + 1) >>> 0;
      if (hi === 0) intHuge = true;
    }
  }
  INT[0] = hi; INT[1] = lo;
  return flags;
}
