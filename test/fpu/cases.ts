// Test-case tables for the x87-vs-host comparison. Inputs only: the expected
// results always come from the host's real x87 (harness.ts / host-x87.c).
import type { FpuCase } from './harness';

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

const h4 = (n: number) => (n & 0xffff).toString(16).padStart(4, '0');
const h8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
export const ext = (se: number, hi: number, lo: number) => h4(se) + h8(hi) + h8(lo);

export const SPECIALS = [
  '00000000000000000000', '80000000000000000000', // ±0
  '3fff8000000000000000', 'bfff8000000000000000', // ±1
  '3fffc000000000000000', '4000c90fdaa22168c235', // 1.5, pi
  'bffdaaaaaaaaaaaaaaab', '3ffeffffffffffffffff', // -1/3, 1-2^-64
  '7ffeffffffffffffffff', 'fffe8000000000000000', // max, -2^16383
  '00018000000000000000', '00000000000000000001', // min normal, min denormal
  '00007fffffffffffffff', '80004000000000000000', // max denormal, -denormal
  '00008000000000000001', // pseudo-denormal
  '7fff8000000000000000', 'ffff8000000000000000', // ±inf
  '7fffc000000000000001', 'ffffc000000000000000', // QNaN, indefinite
  '7fffa000000000000000', '7fff8000000000000123', // SNaNs
  'fffff000000000000abc', // -QNaN with payload
  '3fff4000000000000000', '7fff0000000000000000', '7fff4000000000000000', // unnormal, pseudo-inf, pseudo-NaN
];

/** Control words: every RC x PC (24/53/64), exceptions masked. */
export const CWS_ALL: number[] = [];
for (const rc of [0, 1, 2, 3]) for (const pc of [0, 2, 3]) CWS_ALL.push(0x3f | 0x40 | (pc << 8) | (rc << 10));
const CW_DEF = 0x037f;
const CW_UNMASKED = 0x0340; // all exceptions unmasked, PC=64

/** Random 80-bit values: mostly moderate exponents, some near the ends of the range, some rounding-boundary tails. */
function randomVals(r: () => number, n: number, kind: 'mid' | 'edge' | 'tails'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = r() & 1;
    let e: number;
    if (kind === 'edge') {
      const k = r() % 4;
      e = k === 0 ? r() % 4 : k === 1 ? 0x7ffe - (r() % 4) : k === 2 ? 0x3fff + (r() % 20) : 0x3fff - (r() % 20);
    } else e = 0x3fff + ((r() % 141) - 70);
    let hi = (r() | 0x80000000) >>> 0, lo = r() >>> 0;
    if (kind === 'tails') {
      const t = r() % 6;
      if (t === 0) lo = ((lo & ~0xfff) | 0x400) >>> 0; // exact half at 53 bits
      else if (t === 1) lo = ((lo & ~0x7ff) | 0x3ff) >>> 0;
      else if (t === 2) { hi = ((hi & ~0xff) | 0x80) >>> 0; lo = 0; } // half at 24 bits
      else if (t === 3) { hi = 0xffffffff; lo = (0xfffff800 | (r() & 0x7ff)) >>> 0; }
      else if (t === 4) lo = 0;
      else { hi = (hi & 0xffffff00) >>> 0; lo = 0; }
    }
    out.push(ext((s << 15) | (e === 0 ? 1 : e), hi, lo));
  }
  return out;
}

const ARITH_OPS: [string, number[]][] = [
  ['fadd', [0xd8, 0xc1]], ['fmul', [0xd8, 0xc9]], ['fsub', [0xd8, 0xe1]],
  ['fsubr', [0xd8, 0xe9]], ['fdiv', [0xd8, 0xf1]], ['fdivr', [0xd8, 0xf9]],
];

export function arithRandom(): FpuCase[] {
  const r = rng(12345);
  const cases: FpuCase[] = [];
  for (const kind of ['mid', 'tails', 'edge'] as const) {
    const vals = randomVals(r, 2 * 24, kind);
    for (let i = 0; i < vals.length; i += 2) {
      for (const [name, code] of ARITH_OPS) {
        for (const cw of CWS_ALL) cases.push({ name: `${name} ${kind} cw=${cw.toString(16)} ${vals[i + 1]},${vals[i]}`, cw, vals: [vals[i], vals[i + 1]], code });
      }
    }
  }
  return cases;
}

export function arithSpecial(): FpuCase[] {
  const cases: FpuCase[] = [];
  for (const a of SPECIALS) for (const b of SPECIALS) for (const [name, code] of ARITH_OPS) {
    for (const cw of [CW_DEF, 0x0c7f, 0x007f]) cases.push({ name: `${name} cw=${cw.toString(16)} ${a},${b}`, cw, vals: [b, a], code });
  }
  return cases;
}

export function arithUnmasked(): FpuCase[] {
  const r = rng(777);
  const vals = [...SPECIALS, ...randomVals(r, 16, 'edge')];
  const cases: FpuCase[] = [];
  for (const a of vals) for (const b of vals) for (const [name, code] of ARITH_OPS) {
    cases.push({ name: `${name} unmasked ${a},${b}`, cw: CW_UNMASKED, vals: [b, a], code });
  }
  // unmasked underflow/overflow/precision one at a time with PC variants
  const edge = randomVals(r, 20, 'edge');
  for (let i = 0; i + 1 < edge.length; i += 2) for (const [name, code] of ARITH_OPS) {
    for (const cw of [0x0367, 0x036f, 0x035f, 0x027f & ~0x10, 0x007f & ~0x08]) {
      cases.push({ name: `${name} cw=${cw.toString(16)} ${edge[i + 1]},${edge[i]}`, cw, vals: [edge[i], edge[i + 1]], code });
    }
  }
  return cases;
}

export function arithForms(): FpuCase[] {
  const r = rng(99);
  const vals = randomVals(r, 12, 'mid');
  const forms: [string, number[]][] = [
    ['fadd st1,st0', [0xdc, 0xc1]], ['fmul st1,st0', [0xdc, 0xc9]], ['fsubr st1,st0', [0xdc, 0xe1]],
    ['fsub st1,st0', [0xdc, 0xe9]], ['fdivr st1,st0', [0xdc, 0xf1]], ['fdiv st1,st0', [0xdc, 0xf9]],
    ['faddp', [0xde, 0xc1]], ['fmulp', [0xde, 0xc9]], ['fsubrp', [0xde, 0xe1]], ['fsubp', [0xde, 0xe9]],
    ['fdivrp', [0xde, 0xf1]], ['fdivp', [0xde, 0xf9]], ['fadd st0,st2', [0xd8, 0xc2]], ['faddp st2', [0xde, 0xc2]],
    ['fadd empty', [0xd8, 0xc5]], ['faddp empty', [0xde, 0xc5]],
  ];
  const cases: FpuCase[] = [];
  for (let i = 0; i + 2 < vals.length; i += 3) for (const [name, code] of forms) {
    for (const cw of [CW_DEF, CW_UNMASKED | 0x20]) cases.push({ name: `${name} cw=${cw.toString(16)}`, cw, vals: vals.slice(i, i + 3), code });
  }
  return cases;
}

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push((n / 2 ** (8 * i)) & 0xff);
  return out;
}
const le32 = (v: number) => le(v >>> 0, 4);
const le64 = (hi: number, lo: number) => [...le32(lo), ...le32(hi)];

const F32S = [0, 0x80000000, 0x3f800000, 0x00000001, 0x807fffff, 0x00400000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00001, 0xffc12345, 0x7f7fffff, 0x3eaaaaab, 0x00800000];
const F64S: [number, number][] = [[0, 0], [0x80000000, 0], [0x3ff00000, 0], [0, 1], [0x800fffff, 0xffffffff], [0x7ff00000, 0], [0xfff00000, 0],
  [0x7ff80000, 0], [0x7ff40000, 1], [0xfff81234, 0x56789abc], [0x7fefffff, 0xffffffff], [0x3fd55555, 0x55555555], [0x00100000, 0], [0x400921fb, 0x54442d18]];

export function memLoads(): FpuCase[] {
  const cases: FpuCase[] = [];
  for (const cw of [CW_DEF, CW_UNMASKED]) {
    for (const f of F32S) cases.push({ name: `fld m32 ${h8(f)} cw=${cw.toString(16)}`, cw, vals: [], code: [0xd9, 0x02], mem: le32(f) });
    for (const [hi, lo] of F64S) cases.push({ name: `fld m64 ${h8(hi)}${h8(lo)} cw=${cw.toString(16)}`, cw, vals: [], code: [0xdd, 0x02], mem: le64(hi, lo) });
  }
  const ints = [0, 1, -1, 0x7fff, -0x8000, 0x12345678, -0x80000000, 0x7fffffff];
  for (const v of ints) {
    cases.push({ name: `fild m16 ${v}`, cw: CW_DEF, vals: [], code: [0xdf, 0x02], mem: le32(v) });
    cases.push({ name: `fild m32 ${v}`, cw: CW_DEF, vals: [], code: [0xdb, 0x02], mem: le32(v) });
  }
  for (const [hi, lo] of [[0, 0], [0xffffffff, 0xffffffff], [0x80000000, 0], [0x7fffffff, 0xffffffff], [0x00000001, 0x00000001], [0xfedcba98, 0x76543210], [0x001fffff, 0xffffffff]]) {
    cases.push({ name: `fild m64 ${h8(hi)}${h8(lo)}`, cw: CW_DEF, vals: [], code: [0xdf, 0x2a], mem: le64(hi, lo) });
  }
  const bcds: number[][] = [
    [0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x00],
    [0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x80],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
    [0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ];
  for (const b of bcds) cases.push({ name: `fbld ${b}`, cw: CW_DEF, vals: [], code: [0xdf, 0x22], mem: b });
  // FLD m80 round trip of every special through FSTP m80
  for (const v of SPECIALS) cases.push({ name: `fld/fstp m80 ${v}`, cw: CW_DEF, vals: [v], code: [0xdb, 0x3a] });
  // memory arithmetic
  const r = rng(4242);
  const vals = randomVals(r, 8, 'mid');
  const memOps: [string, number[], () => number[]][] = [
    ['fadd m32', [0xd8, 0x02], () => le32(F32S[r() % F32S.length])],
    ['fmul m32', [0xd8, 0x0a], () => le32(r())],
    ['fcom m32', [0xd8, 0x12], () => le32(F32S[r() % F32S.length])],
    ['fcomp m32', [0xd8, 0x1a], () => le32(r())],
    ['fsub m32', [0xd8, 0x22], () => le32(r())],
    ['fdivr m32', [0xd8, 0x3a], () => le32(r())],
    ['fadd m64', [0xdc, 0x02], () => le64(...F64S[r() % F64S.length])],
    ['fdiv m64', [0xdc, 0x32], () => le64(r(), r())],
    ['fsubr m64', [0xdc, 0x2a], () => le64(r(), r())],
    ['fiadd m32', [0xda, 0x02], () => le32(r())],
    ['fimul m32', [0xda, 0x0a], () => le32(r())],
    ['ficom m32', [0xda, 0x12], () => le32(r() % 3)],
    ['fidiv m32', [0xda, 0x32], () => le32(r())],
    ['fiadd m16', [0xde, 0x02], () => le32(r())],
    ['fisubr m16', [0xde, 0x2a], () => le32(r())],
    ['ficomp m16', [0xde, 0x1a], () => le32(r())],
  ];
  for (const v of vals) for (const [name, code, mk] of memOps) for (const cw of [CW_DEF, 0x007f, 0x0b7f]) {
    cases.push({ name: `${name} cw=${cw.toString(16)} ${v}`, cw, vals: [v], code, mem: mk() });
  }
  return cases;
}

export function memStores(): FpuCase[] {
  const r = rng(5150);
  const vals = [...SPECIALS, ...randomVals(r, 10, 'mid'), ...randomVals(r, 10, 'edge'),
    // integer-ish and boundary values
    '401d8000000000000000', 'c01e8000000000000000', '401e8000000000000000', '400dfffe000000000000', 'c00e8000000000000000',
    '400e8000000000000000', '403dffffffffffffffff', 'c03e8000000000000000', '403e8000000000000000', '3ffe8000000000000000',
    'bffe8000000000000001', '3fffc000000000000000', '4000a000000000000000', '4037de0b6b3a763fffff', '4039de0b6b3a76400000',
    '3c00fffffffffffff800', '3c00fffffffffffffc00', '3f80ffffff8000000000', '3f6a8000000000000000', '43fefffffffffffffc00',
  ];
  const stores: [string, number[]][] = [
    ['fst m32', [0xd9, 0x12]], ['fstp m32', [0xd9, 0x1a]], ['fst m64', [0xdd, 0x12]], ['fstp m64', [0xdd, 0x1a]],
    ['fist m16', [0xdf, 0x12]], ['fistp m16', [0xdf, 0x1a]], ['fist m32', [0xdb, 0x12]], ['fistp m32', [0xdb, 0x1a]],
    ['fistp m64', [0xdf, 0x3a]], ['fbstp', [0xdf, 0x32]], ['fstp m80', [0xdb, 0x3a]],
  ];
  const cases: FpuCase[] = [];
  for (const v of vals) for (const [name, code] of stores) for (const cw of [CW_DEF, 0x077f, 0x0b7f, 0x0f7f, CW_UNMASKED]) {
    cases.push({ name: `${name} cw=${cw.toString(16)} ${v}`, cw, vals: [v], code });
  }
  for (const [name, code] of stores) for (const cw of [CW_DEF, CW_UNMASKED]) cases.push({ name: `${name} empty cw=${cw.toString(16)}`, cw, vals: [], code });
  return cases;
}

export function compares(): FpuCase[] {
  const ops: [string, number[]][] = [
    ['fcom', [0xd8, 0xd1]], ['fcomp', [0xd8, 0xd9]], ['fucom', [0xdd, 0xe1]], ['fucomp', [0xdd, 0xe9]],
    ['fucompp', [0xda, 0xe9]], ['fcompp', [0xde, 0xd9]], ['fcomi', [0xdb, 0xf1]], ['fucomi', [0xdb, 0xe9]],
    ['fcomip', [0xdf, 0xf1]], ['fucomip', [0xdf, 0xe9]], ['ftst', [0xd9, 0xe4]], ['fxam', [0xd9, 0xe5]],
    ['fcom st2 (empty)', [0xd8, 0xd2]],
  ];
  const vals = [...SPECIALS, '3fff8000000000000001', 'bfff8000000000000001'];
  const cases: FpuCase[] = [];
  for (const a of vals) for (const b of vals) for (const [name, code] of ops) {
    for (const cw of [CW_DEF, CW_UNMASKED]) cases.push({ name: `${name} cw=${cw.toString(16)} ${a},${b}`, cw, vals: [b, a], code });
  }
  for (const cw of [CW_DEF, CW_UNMASKED]) {
    cases.push({ name: 'fxam empty', cw, vals: [], code: [0xd9, 0xe5] });
    cases.push({ name: 'ftst empty', cw, vals: [], code: [0xd9, 0xe4] });
    cases.push({ name: 'fcomi empty', cw, vals: [], code: [0xdb, 0xf1] });
  }
  return cases;
}

export function unaryOps(): FpuCase[] {
  const r = rng(31337);
  const vals = [...SPECIALS, ...randomVals(r, 16, 'mid'), ...randomVals(r, 8, 'tails'), ...randomVals(r, 8, 'edge'),
    '3ffe8000000000000000', 'bffe8000000000000000', '3ffec000000000000000', '3fffa000000000000000', '4000a000000000000000', '403e8000000000000001'];
  const ops: [string, number[]][] = [
    ['fsqrt', [0xd9, 0xfa]], ['frndint', [0xd9, 0xfc]], ['fabs', [0xd9, 0xe1]], ['fchs', [0xd9, 0xe0]],
    ['fxtract', [0xd9, 0xf4]],
  ];
  const cases: FpuCase[] = [];
  for (const v of vals) for (const [name, code] of ops) for (const cw of [...CWS_ALL, CW_UNMASKED]) {
    if (name !== 'fsqrt' && name !== 'frndint' && (cw >>> 8 & 3) !== 3) continue;
    cases.push({ name: `${name} cw=${cw.toString(16)} ${v}`, cw, vals: [v], code });
  }
  for (const [name, code] of ops) cases.push({ name: `${name} empty`, cw: CW_DEF, vals: [], code });
  return cases;
}

export function binaryMisc(): FpuCase[] {
  const r = rng(2718);
  const vals = [...SPECIALS, ...randomVals(r, 10, 'mid'), ...randomVals(r, 6, 'edge'),
    '40008000000000000000', 'c000c000000000000000', '400f8000000000000000', '40d08000000000000000', 'c0c68000000000000000', '3ffd8000000000000000'];
  const ops: [string, number[]][] = [['fscale', [0xd9, 0xfd]], ['fprem', [0xd9, 0xf8]], ['fprem1', [0xd9, 0xf5]]];
  const cases: FpuCase[] = [];
  for (const a of vals) for (const b of vals) for (const [name, code] of ops) {
    cases.push({ name: `${name} ${a},${b}`, cw: CW_DEF, vals: [b, a], code });
  }
  for (const [name, code] of ops) {
    for (const cw of CWS_ALL) for (let i = 0; i < 4; i++) {
      const v = randomVals(r, 2, 'edge');
      cases.push({ name: `${name} cw=${cw.toString(16)} ${v[1]},${v[0]}`, cw, vals: v, code });
    }
  }
  return cases;
}

export function constants(): FpuCase[] {
  const cases: FpuCase[] = [];
  for (let m = 0xe8; m <= 0xee; m++) for (const cw of CWS_ALL) {
    cases.push({ name: `const d9 ${m.toString(16)} cw=${cw.toString(16)}`, cw, vals: [], code: [0xd9, m] });
  }
  return cases;
}

export function stackAndControl(): FpuCase[] {
  const v = ['3fff8000000000000000', '4000c000000000000000', 'c001a000000000000000', '7fffc000000000000000', '00000000000000000001'];
  const eight = ['3fff8000000000000000', '40008000000000000000', '4000c000000000000000', '40018000000000000000', '4001a000000000000000', '4001c000000000000000', '4001e000000000000000', '40028000000000000000'];
  const cases: FpuCase[] = [];
  const add = (name: string, vals: string[], code: number[], cw = CW_DEF, mem?: number[], ignoreMem?: [number, number][]) =>
    cases.push({ name, cw, vals, code, mem, ignoreMem });
  for (const cw of [CW_DEF, CW_UNMASKED]) {
    const s = ` cw=${cw.toString(16)}`;
    add('overflow fld1' + s, eight, [0xd9, 0xe8], cw);
    add('overflow fld st3' + s, eight, [0xd9, 0xc3], cw);
    add('overflow fld m32' + s, eight, [0xd9, 0x02], cw, le32(0x3f800000));
    add('overflow fild m16' + s, eight, [0xdf, 0x02], cw, le32(5));
    add('overflow fld m80' + s, eight, [0xdb, 0x2a], cw, [1, 2, 3, 4, 5, 6, 7, 0x80, 0xff, 0x3f]);
    add('overflow fsincos' + s, eight, [0xd9, 0xfb], cw);
    add('overflow fxtract' + s, eight, [0xd9, 0xf4], cw);
    add('overflow fptan' + s, eight, [0xd9, 0xf2], cw);
    add('underflow fadd' + s, v.slice(0, 1), [0xd8, 0xc1], cw);
    add('underflow fxch' + s, v.slice(0, 1), [0xd9, 0xc9], cw);
    add('underflow fxch both' + s, [], [0xd9, 0xc9], cw);
    add('underflow fld st5' + s, v.slice(0, 2), [0xd9, 0xc5], cw);
    add('underflow fst st1' + s, [], [0xdd, 0xd1], cw);
    add('underflow fstp st1' + s, [], [0xdd, 0xd9], cw);
    add('underflow fchs' + s, [], [0xd9, 0xe0], cw);
    add('underflow fsin' + s, [], [0xd9, 0xfe], cw);
    add('underflow fsincos' + s, [], [0xd9, 0xfb], cw);
    add('underflow fyl2x' + s, v.slice(0, 1), [0xd9, 0xf1], cw);
    add('underflow fprem' + s, v.slice(0, 1), [0xd9, 0xf8], cw);
    add('underflow fscale' + s, v.slice(0, 1), [0xd9, 0xfd], cw);
    add('underflow fcmove' + s, v.slice(0, 1), [0xda, 0xc9], cw);
    add('underflow fcmovb' + s, v.slice(0, 1), [0xda, 0xc1], cw);
    add('underflow fcompp' + s, v.slice(0, 1), [0xde, 0xd9], cw);
  }
  add('fxch', v, [0xd9, 0xcb]);
  add('fxch4 alias', v, [0xdd, 0xca]);
  add('fxch7 alias', v, [0xdf, 0xca]);
  add('fstp1 alias', v, [0xd9, 0xda]);
  add('fstp8 alias', v, [0xdf, 0xd2]);
  add('fstp9 alias', v, [0xdf, 0xda]);
  add('fcom2 alias', v, [0xdc, 0xd1]);
  add('fcomp3 alias', v, [0xdc, 0xd9]);
  add('fcomp5 alias', v, [0xde, 0xd1]);
  add('ffreep', v, [0xdf, 0xc2]);
  add('ffree', v, [0xdd, 0xc2]);
  add('fincstp', v, [0xd9, 0xf7]);
  add('fdecstp', v, [0xd9, 0xf6]);
  add('fdecstp x2 fincstp', v, [0xd9, 0xf6, 0xd9, 0xf6, 0xd9, 0xf7]);
  add('fnop', v, [0xd9, 0xd0]);
  add('fld st2', v, [0xd9, 0xc2]);
  add('fst st3', v, [0xdd, 0xd3]);
  add('fstp st3', v, [0xdd, 0xdb]);
  add('fstp st0', v, [0xdd, 0xd8]);
  // FCMOVcc with ZF=1 PF=1 CF=0 (SUB EAX,EAX)
  for (let m = 0xc1; m <= 0xd9; m += 8) {
    add(`fcmov da ${m.toString(16)}`, v, [0xda, m]);
    add(`fcmov db ${m.toString(16)}`, v, [0xdb, m]);
  }
  add('fnstsw ax', v, [0xd8, 0xd1, 0xdf, 0xe0]);
  add('fnstsw ax after overflow', eight, [0xd9, 0xe8, 0xdf, 0xe0]);
  add('fnstsw m16', v, [0xd8, 0xd9, 0xdd, 0x3a]);
  add('fnstcw', v, [0xd9, 0x3a], 0x0e72);
  add('fnclex', v, [0xd9, 0xf8 - 0x10 + 0x10, 0xdb, 0xe2]);
  add('fnclex after underflow', [], [0xd8, 0xc1, 0xdb, 0xe2]);
  add('fninit', v, [0xdb, 0xe3]);
  add('fldcw', v, [0xd9, 0x2a], CW_DEF, le32(0x0c63));
  add('fldcw reserved bits', v, [0xd9, 0x2a], CW_DEF, le32(0xffff));
  // Environment images: FIP/FOP/FDP fields (12-27) are host-specific and ignored.
  add('fnstenv', v, [0xd8, 0xc1, 0xd9, 0x32], 0x0b7f, undefined, [[12, 28]]);
  add('fnstenv unmasked pending', v, [0xde, 0xf9 - 8, 0xd9, 0x32], 0x0360, undefined, [[12, 28]]);
  add('fnsave', v, [0xdd, 0x32], 0x0a7f, undefined, [[12, 28]]);
  add('fnsave+frstor', v, [0xdd, 0x32, 0xdd, 0x22], 0x0a7f, undefined, [[12, 28]]);
  add('fnstenv+fldenv', v, [0xd9, 0x32, 0xd9, 0x22], 0x0a7f, undefined, [[12, 28]]);
  const env = [0x62, 0x02, 0xff, 0xff, 0x21, 0x3a, 0xff, 0xff, 0xf0, 0x0f, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  add('fldenv image', v, [0xd9, 0x22], CW_DEF, env, [[12, 28]]);
  const save = [...env];
  for (let i = 0; i < 8; i++) save.push(...[0x11 * i, 0, 0, 0, 0, 0, 0, 0x80 | i, i, 0x40]);
  add('frstor image', [], [0xdd, 0x22], CW_DEF, save, [[12, 28]]);
  // FXSAVE: header fields 6-31 (FOP/FIP/FDP/MXCSR) are implementation-specific here and ignored.
  add('fxsave', v, [0x0f, 0xae, 0x02], 0x0b7f, undefined, [[6, 32]]);
  add('fxsave+fxrstor', v, [0x0f, 0xae, 0x02, 0xdb, 0xe3, 0x0f, 0xae, 0x0a], 0x0b7f, undefined, [[6, 32]]);
  return cases;
}

export function transcendental(): FpuCase[] {
  const r = rng(1618);
  const pick = <T>(xs: T[]) => xs[r() % xs.length];
  const args = ['3fff8000000000000000', 'bffe8000000000000000', '3ffec000000000000000', '4000c90fdaa22168c235', '3ffdaaaaaaaaaaaaaaab',
    '4003a000000000000000', 'c002f000000000000000', '3fe08000000000000000', '00000000000000000000', '80000000000000000000',
    '7fff8000000000000000', 'ffff8000000000000000', '7fffc000000000000001', '7fffa000000000000000', '403e8000000000000000', '403d8000000000000000',
    '4001b000000000000000', '3ffbcccccccccccccccd'];
  const ops: [string, number[]][] = [
    ['fsin', [0xd9, 0xfe]], ['fcos', [0xd9, 0xff]], ['fsincos', [0xd9, 0xfb]], ['fptan', [0xd9, 0xf2]],
    ['f2xm1', [0xd9, 0xf0]],
  ];
  const cases: FpuCase[] = [];
  const tol = 2 ** -50;
  for (const a of args) for (const [name, code] of ops) {
    if (name === 'f2xm1' && a.startsWith('40')) continue; // outside -1..1: undefined
    cases.push({ name: `${name} ${a}`, cw: CW_DEF, vals: [a], code, tol });
  }
  const pairs = ['3fff8000000000000000', '4000c000000000000000', 'bffe8000000000000000', '3ffd8000000000000000', '00000000000000000000',
    '80000000000000000000', '7fff8000000000000000', 'ffff8000000000000000', '7fffc000000000000001', '40038000000000000000'];
  for (const a of pairs) for (const b of pairs) {
    cases.push({ name: `fpatan ${a},${b}`, cw: CW_DEF, vals: [b, a], code: [0xd9, 0xf3], tol });
    cases.push({ name: `fyl2x ${a},${b}`, cw: CW_DEF, vals: [b, a], code: [0xd9, 0xf1], tol });
    if (!a.startsWith('40') && !a.startsWith('3fff')) cases.push({ name: `fyl2xp1 ${a},${b}`, cw: CW_DEF, vals: [b, a], code: [0xd9, 0xf9], tol });
  }
  for (let i = 0; i < 60; i++) {
    const x = randomExp(r, 0x3fff - 40, 0x3fff + 40);
    for (const [name, code] of ops) {
      if (name === 'f2xm1' && parseInt(x.slice(1, 4), 16) >= 0x3fff) continue;
      cases.push({ name: `${name} ${x}`, cw: pick([CW_DEF, 0x077f, 0x0b7f, 0x0f7f, 0x027f]), vals: [x], code, tol });
    }
    const y = randomExp(r, 0x3fff - 40, 0x3fff + 40);
    const pos = x.replace(/^[89a-f]/, (c) => (parseInt(c, 16) - 8).toString(16));
    cases.push({ name: `fpatan ${x},${y}`, cw: CW_DEF, vals: [y, x], code: [0xd9, 0xf3], tol });
    cases.push({ name: `fyl2x ${pos},${y}`, cw: CW_DEF, vals: [y, pos], code: [0xd9, 0xf1], tol });
    const small = randomExp(r, 0x3fff - 40, 0x3ffd);
    cases.push({ name: `fyl2xp1 ${small},${y}`, cw: CW_DEF, vals: [y, small], code: [0xd9, 0xf9], tol });
  }
  return cases;
}

/** Random value with the biased exponent drawn from [lo, hi] (0 = denormal). */
function randomExp(r: () => number, lo: number, hi: number): string {
  const e = lo + (r() % (hi - lo + 1));
  const top = e === 0 ? r() >>> 1 : (r() | 0x80000000) >>> 0;
  return ext(((r() & 1) << 15) | e, top, r() >>> 0);
}

/** Results landing near the bottom of the extended range (denormal results, tininess, UE). */
export function underflowRegion(): FpuCase[] {
  const r = rng(8080);
  const cases: FpuCase[] = [];
  const cws = [...CWS_ALL, 0x036f, 0x026f, 0x006f, 0x0f6f];
  for (let i = 0; i < 24; i++) {
    const tiny = randomExp(r, 0, 66), mid = randomExp(r, 0x3fff - 66, 0x3fff + 2), tiny2 = randomExp(r, 0, 3);
    for (const [name, code] of ARITH_OPS) for (const cw of cws) {
      const other = name === 'fadd' || name === 'fsub' || name === 'fsubr' ? tiny2 : mid;
      cases.push({ name: `${name} cw=${cw.toString(16)} ${tiny},${other}`, cw, vals: [other, tiny], code });
    }
  }
  // overflow side
  for (let i = 0; i < 12; i++) {
    const big = randomExp(r, 0x7ffe - 66, 0x7ffe), mid = randomExp(r, 0x3fff - 2, 0x3fff + 66);
    for (const [name, code] of ARITH_OPS) for (const cw of [...CWS_ALL, 0x0377, 0x0277, 0x0077, 0x0b77]) {
      cases.push({ name: `${name} cw=${cw.toString(16)} ${big},${mid}`, cw, vals: [mid, big], code });
    }
  }
  return cases;
}

/** FST m32/m64 of values near the destination format's limits (denormal outputs, overflow). */
export function conversionLimits(): FpuCase[] {
  const r = rng(6502);
  const cases: FpuCase[] = [];
  const cws = [0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x0367, 0x0377, 0x035f, 0x0b6f];
  const ranges: [number[], number, number][] = [
    [[0xd9, 0x12], 0x3fff - 126 - 26, 0x3fff - 126 + 1],
    [[0xd9, 0x12], 0x3fff + 126, 0x3fff + 128],
    [[0xdd, 0x12], 0x3fff - 1022 - 55, 0x3fff - 1022 + 1],
    [[0xdd, 0x12], 0x3fff + 1022, 0x3fff + 1024],
  ];
  for (const [code, lo, hi] of ranges) for (let i = 0; i < 40; i++) {
    const v = randomExp(r, lo, hi);
    for (const cw of cws) cases.push({ name: `fst ${code[0].toString(16)} cw=${cw.toString(16)} ${v}`, cw, vals: [v], code });
  }
  // integer stores at random magnitudes around the limits, every RC
  for (let i = 0; i < 40; i++) {
    const v = randomExp(r, 0x3fff - 2, 0x3fff + 64);
    for (const code of [[0xdf, 0x12], [0xdb, 0x12], [0xdf, 0x3a], [0xdf, 0x32], [0xd9, 0xfc]]) {
      for (const cw of [0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x035f]) cases.push({ name: `int ${code[0].toString(16)}${code[1].toString(16)} cw=${cw.toString(16)} ${v}`, cw, vals: [v], code });
    }
  }
  return cases;
}

/** Precision control 01 (reserved) and FSQRT at random. */
export function precisionMisc(): FpuCase[] {
  const r = rng(1234);
  const cases: FpuCase[] = [];
  for (let i = 0; i < 20; i++) {
    const a = randomExp(r, 0x3fff - 30, 0x3fff + 30), b = randomExp(r, 0x3fff - 30, 0x3fff + 30);
    for (const [name, code] of [...ARITH_OPS, ['fsqrt', [0xd9, 0xfa]] as [string, number[]]]) {
      for (const cw of [0x017f, 0x057f, 0x097f, 0x0d7f]) cases.push({ name: `${name} pc=1 cw=${cw.toString(16)} ${a},${b}`, cw, vals: [b, a.replace(/^[89a-f]/, (c) => (parseInt(c, 16) - 8).toString(16))], code });
    }
  }
  return cases;
}

/** Random instruction sequences on random stacks (masked exceptions): state tracking across instructions. */
export function randomPrograms(): FpuCase[] {
  const r = rng(424242);
  const cases: FpuCase[] = [];
  const pick = <T>(xs: T[]) => xs[r() % xs.length];
  const regOps = [0xd8, 0xdc, 0xde]; // with /0 /1 /2 /3 /4 /5 /6 /7 + i
  const single = [
    [0xd9, 0xe0], [0xd9, 0xe1], [0xd9, 0xe4], [0xd9, 0xe5], [0xd9, 0xe8], [0xd9, 0xeb], [0xd9, 0xee], [0xd9, 0xf4],
    [0xd9, 0xf5], [0xd9, 0xf6], [0xd9, 0xf7], [0xd9, 0xf8], [0xd9, 0xfa], [0xd9, 0xfc], [0xd9, 0xfd], [0xde, 0xd9],
    [0xda, 0xe9], [0xd9, 0xd0],
  ];
  const memForms = [
    [0xd9, 0x02], [0xd9, 0x12], [0xd9, 0x1a], [0xdd, 0x02], [0xdd, 0x12], [0xdd, 0x1a], [0xdb, 0x02], [0xdb, 0x12],
    [0xdb, 0x1a], [0xdf, 0x02], [0xdf, 0x12], [0xdf, 0x1a], [0xdf, 0x2a], [0xdf, 0x3a], [0xdb, 0x2a], [0xdb, 0x3a],
    [0xdf, 0x32], [0xdd, 0x3a], [0xd9, 0x3a],
  ];
  for (let n = 0; n < 3000; n++) {
    const depth = r() % 7;
    const vals = [...randomVals(r, depth, pick(['mid', 'tails', 'edge'] as const)), ...(r() % 4 === 0 ? [pick(SPECIALS)] : [])];
    const code: number[] = [];
    const len = 2 + (r() % 8);
    for (let k = 0; k < len; k++) {
      const i = r() % 4;
      switch (r() % 8) {
        case 0: case 1: case 2: {
          const op = pick(regOps);
          let reg = r() % 8;
          if (op === 0xde && reg === 3) reg = 0;
          code.push(op, 0xc0 | (reg << 3) | i);
          break;
        }
        case 3: code.push(0xd9, pick([0xc0, 0xc8]) | i); break; // FLD ST(i) / FXCH
        case 4: // FFREE/FXCH4/FST/FSTP/FUCOM/FUCOMP, or FCMOVcc
          if (r() & 1) code.push(0xdd, pick([0xc0, 0xc8, 0xd0, 0xd8, 0xe0, 0xe8]) | i);
          else code.push(pick([0xda, 0xdb]), pick([0xc0, 0xc8, 0xd0, 0xd8]) | i);
          break;
        case 5: code.push(pick([0xdb, 0xdf]), pick([0xe8, 0xf0]) | i); break; // FUCOMI/FCOMI(P)
        case 6: // memory operand [rdx]: arithmetic, loads and stores of every format
          if (r() & 1) code.push(pick([0xd8, 0xda, 0xdc, 0xde]), ((r() % 8) << 3) | 2);
          else code.push(...pick(memForms));
          break;
        default: code.push(...pick(single));
      }
    }
    const cw = pick(CWS_ALL);
    const mem = Array.from({ length: 16 }, () => r() & 0xff);
    if (r() & 1) { mem[6] = 0x3f + (r() % 3); mem[7] = r() & 0xc0; } // plausible double exponents
    cases.push({ name: `program cw=${cw.toString(16)} [${vals}] ${code.map((b) => b.toString(16).padStart(2, '0')).join(' ')} mem=${mem}`, cw, vals, code, mem });
  }
  return cases;
}

export const GROUPS: [string, () => FpuCase[]][] = [
  ['random instruction sequences', randomPrograms],
  ['arithmetic near underflow/overflow', underflowRegion],
  ['conversions near format limits', conversionLimits],
  ['reserved precision control', precisionMisc],
  ['arithmetic random x RC x PC', arithRandom],
  ['arithmetic special operands', arithSpecial],
  ['arithmetic unmasked exceptions', arithUnmasked],
  ['arithmetic instruction forms', arithForms],
  ['memory loads and memory arithmetic', memLoads],
  ['memory stores', memStores],
  ['compares, FTST, FXAM', compares],
  ['FSQRT FRNDINT FABS FCHS FXTRACT', unaryOps],
  ['FSCALE FPREM FPREM1', binaryMisc],
  ['constants x RC x PC', constants],
  ['stack, control, environment', stackAndControl],
  ['transcendentals (tolerance 2^-50)', transcendental],
];
