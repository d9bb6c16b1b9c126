// Test vectors for the host-CPU reference: register forms of user-mode integer
// instructions, on a fixed pseudo-random input set plus edge values. Each vector
// is the instruction's bytes, EAX/EBX/ECX/EDX and EFLAGS before it, and what may
// be compared after it: the flags the SDM defines for that instruction and input
// (undefined flags are masked, reasons next to each form) and the registers.
//
// Operand convention: destination EAX/AX/AL (or AH), source EBX/BX/BL (or BH),
// shift counts in CL; memory-operand forms use [EDI+0x18] (the `mem` value). Encodings are ones that mean the same in 32- and 64-bit
// mode (no one-byte INC/DEC: those are REX prefixes on the host).

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

export interface Vector {
  name: string;
  bytes: number[];
  /** EAX, EBX, ECX, EDX, EFLAGS, the dword at [EDI+0x18] */
  input: [number, number, number, number, number, number];
  flagMask: number;
  /** Bits compared in EAX, EBX, ECX, EDX. */
  regMask: [number, number, number, number];
}

const ALL_REGS: [number, number, number, number] = [-1, -1, -1, -1];

// xorshift32: fixed seed, so the input set is the same on every run and machine.
let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

const EDGES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x12345678, 0xfedcba98];
/** Flags going in: all clear, all set, CF only, ZF|SF only. */
const FLAGS_IN = [0x002, 0x002 | ARITH, 0x003, 0x0c2];

/** Operand pairs: every pair of a subset of the edges, then random ones. */
function pairs(randomCount: number): [number, number][] {
  const small = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff];
  const out: [number, number][] = [];
  for (const a of small) for (const b of small) out.push([a, b]);
  for (let i = 0; i < randomCount; i++) out.push([rnd(), i % 3 === 0 ? EDGES[i % EDGES.length] : rnd()]);
  return out;
}

type Size = 8 | 16 | 32;
const SIZES: Size[] = [8, 16, 32];
const o16 = (size: Size) => (size === 16 ? [0x66] : []);
const w = (size: Size) => (size === 8 ? 0 : 1);

export function buildVectors(): Vector[] {
  const v: Vector[] = [];
  const add = (name: string, bytes: number[], input: number[], flagMask: number, regMask = ALL_REGS) =>
    v.push({ name, bytes, input: [...input, 0, 0].slice(0, 6).map((x) => x >>> 0) as Vector['input'], flagMask, regMask });
  let k = 0;
  const fl = () => FLAGS_IN[k++ % FLAGS_IN.length];

  // ALU r/m, reg (ADD OR ADC SBB AND SUB XOR CMP): AND/OR/XOR leave AF undefined.
  const alu: [string, number, number][] = [
    ['add', 0x00, ARITH], ['or', 0x08, ARITH & ~AF], ['adc', 0x10, ARITH], ['sbb', 0x18, ARITH],
    ['and', 0x20, ARITH & ~AF], ['sub', 0x28, ARITH], ['xor', 0x30, ARITH & ~AF], ['cmp', 0x38, ARITH],
  ];
  for (const [name, op, mask] of alu) {
    for (const size of SIZES) {
      for (const [a, b] of pairs(40)) add(`${name}${size}`, [...o16(size), op + w(size), 0xd8], [a, b, 0, 0, fl()], mask);
    }
    // AH, BH (ModR/M reg 7 = BH, r/m 4 = AH)
    for (const [a, b] of pairs(10)) add(`${name}8 ah,bh`, [op, 0xfc], [a, b, 0, 0, fl()], mask);
    // group-1 immediate, sign-extended imm8
    const n = op >> 3;
    for (const imm of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      for (const a of EDGES) add(`${name}32 imm8 ${imm}`, [0x83, 0xc0 | (n << 3), imm], [a, 0, 0, 0, fl()], mask);
    }
  }
  // TEST: AF undefined.
  for (const size of SIZES) for (const [a, b] of pairs(20)) add(`test${size}`, [...o16(size), 0x84 + w(size), 0xd8], [a, b, 0, 0, fl()], ARITH & ~AF);

  // INC/DEC (CF unaffected: compared as unchanged), NOT (no flags), NEG (all defined).
  for (const size of SIZES) {
    const grp = size === 8 ? 0xfe : 0xff;
    const un = size === 8 ? 0xf6 : 0xf7;
    for (const a of [...EDGES, rnd(), rnd(), rnd(), rnd()]) {
      for (const f of [0x002, 0x003 | ARITH]) {
        add(`inc${size}`, [...o16(size), grp, 0xc0], [a, 0, 0, 0, f], ARITH);
        add(`dec${size}`, [...o16(size), grp, 0xc8], [a, 0, 0, 0, f], ARITH);
        add(`not${size}`, [...o16(size), un, 0xd0], [a, 0, 0, 0, f], ARITH);
        add(`neg${size}`, [...o16(size), un, 0xd8], [a, 0, 0, 0, f], ARITH);
      }
    }
  }

  // MUL / IMUL (one operand): only CF and OF are defined.
  for (const size of SIZES) {
    const un = size === 8 ? 0xf6 : 0xf7;
    for (const [a, b] of pairs(30)) {
      add(`mul${size}`, [...o16(size), un, 0xe3], [a, b, 0, 0x5555aaaa, fl()], CF | OF);
      add(`imul${size}`, [...o16(size), un, 0xeb], [a, b, 0, 0x5555aaaa, fl()], CF | OF);
    }
  }
  // IMUL two- and three-operand forms.
  for (const size of [16, 32] as Size[]) {
    for (const [a, b] of pairs(30)) {
      add(`imul${size} r,rm`, [...o16(size), 0x0f, 0xaf, 0xc3], [a, b, 0, 0, fl()], CF | OF);
      add(`imul${size} r,rm,imm8`, [...o16(size), 0x6b, 0xc3, a & 0xff], [0, b, 0, 0, fl()], CF | OF);
      const imm = size === 32 ? [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24] : [a & 0xff, (a >>> 8) & 0xff];
      add(`imul${size} r,rm,imm`, [...o16(size), 0x69, 0xc3, ...imm], [0, b, 0, 0, fl()], CF | OF);
    }
  }

  // DIV / IDIV: all flags undefined; only inputs whose quotient fits (no #DE).
  for (const size of SIZES) {
    const un = size === 8 ? 0xf6 : 0xf7;
    for (const signed of [false, true]) {
      let made = 0;
      for (let tries = 0; made < 60 && tries < 100000; tries++) {
        const divisor = tries % 5 === 0 ? EDGES[tries % EDGES.length] : rnd() >>> (rnd() % 32);
        const lo = rnd();
        const hi = tries % 2 === 0 ? rnd() % Math.max(1, divisor) : rnd();
        if (!divides(size, signed, hi, lo, divisor)) continue;
        add(`${signed ? 'idiv' : 'div'}${size}`, [...o16(size), un, signed ? 0xfb : 0xf3], [lo, divisor, 0, hi, fl()], 0);
        made++;
      }
    }
  }

  // Shifts and rotates by CL, counts 0..33 (the CPU masks to 5 bits).
  const shifts: [string, number][] = [['rol', 0], ['ror', 1], ['rcl', 2], ['rcr', 3], ['shl', 4], ['shr', 5], ['sar', 7]];
  for (const [name, n] of shifts) {
    for (const size of SIZES) {
      for (let count = 0; count <= 33; count++) {
        for (const a of [0x80000001, 0x7fff7ff1, rnd()]) {
          for (const f of [0x002, 0x003 | ARITH]) {
            add(`${name}${size} cl=${count}`, [...o16(size), size === 8 ? 0xd2 : 0xd3, 0xc0 | (n << 3)], [a, 0, count, 0, f], shiftMask(name, size, count));
          }
        }
      }
      // by 1 (D1 /n) and by imm8 (C1 /n)
      for (const a of EDGES) {
        add(`${name}${size} 1`, [...o16(size), size === 8 ? 0xd0 : 0xd1, 0xc0 | (n << 3)], [a, 0, 0, 0, fl()], shiftMask(name, size, 1));
        add(`${name}${size} imm 5`, [...o16(size), size === 8 ? 0xc0 : 0xc1, 0xc0 | (n << 3), 5], [a, 0, 0, 0, fl()], shiftMask(name, size, 5));
      }
    }
  }

  // SHLD/SHRD: 16-bit forms with counts above 16 are undefined and left out.
  for (const [name, op] of [['shld', 0xa5], ['shrd', 0xad]] as [string, number][]) {
    for (const size of [16, 32] as Size[]) {
      for (let count = 0; count <= 33; count++) {
        if (size === 16 && (count & 31) > 16) continue;
        for (const [a, b] of [[0x9abcdef0, 0x87654321], [rnd(), rnd()], [0x80000000, 0xffffffff]]) {
          add(`${name}${size} cl=${count}`, [...o16(size), 0x0f, op, 0xd8], [a, b, count, 0, fl()], shxdMask(count));
        }
      }
    }
  }

  // BT/BTS/BTR/BTC (register and imm8 offsets): only CF is compared. The SDM has ZF
  // unaffected, but AMD documents it undefined, and the host may be either.
  for (const [name, op, n] of [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]] as [string, number, number][]) {
    for (const size of [16, 32] as Size[]) {
      for (const [a, b] of pairs(20)) {
        add(`${name}${size}`, [...o16(size), 0x0f, op, 0xd8], [a, b, 0, 0, fl()], CF);
        add(`${name}${size} imm`, [...o16(size), 0x0f, 0xba, 0xc0 | (n << 3), b & 0xff], [a, 0, 0, 0, fl()], CF);
      }
    }
  }
  // BSF/BSR: ZF only; with a zero source the destination is undefined.
  for (const [name, op] of [['bsf', 0xbc], ['bsr', 0xbd]] as [string, number][]) {
    for (const size of [16, 32] as Size[]) {
      for (const b of [...EDGES, 0x00010000, 0x00008000, rnd(), rnd(), rnd() >>> 20, rnd() << 20]) {
        const srcZero = (size === 16 ? b & 0xffff : b) === 0;
        add(`${name}${size}`, [...o16(size), 0x0f, op, 0xc3], [0x5a5a5a5a, b, 0, 0, fl()], ZF, srcZero ? [0, -1, -1, -1] : ALL_REGS);
      }
    }
  }
  // BSWAP (32-bit only; the 16-bit form is undefined): no flags change.
  for (const a of [...EDGES, rnd(), rnd()]) {
    add('bswap eax', [0x0f, 0xc8], [a, 0, 0, 0, fl()], ARITH);
    add('bswap ebx', [0x0f, 0xcb], [0, a, 0, 0, fl()], ARITH);
  }
  // XADD (flags as ADD) and CMPXCHG (flags as CMP), equal and unequal.
  for (const size of SIZES) {
    for (const [a, b] of pairs(20)) {
      add(`xadd${size}`, [...o16(size), 0x0f, 0xc0 + w(size), 0xd8], [a, b, 0, 0, fl()], ARITH);
      add(`cmpxchg${size} ne`, [...o16(size), 0x0f, 0xb0 + w(size), 0xd9], [a, b, a ^ 0x10, 0, fl()], ARITH);
      add(`cmpxchg${size} eq`, [...o16(size), 0x0f, 0xb0 + w(size), 0xd9], [a, b, a, 0, fl()], ARITH);
      add(`cmpxchg${size} any`, [...o16(size), 0x0f, 0xb0 + w(size), 0xd9], [a, b, b, 0, fl()], ARITH);
    }
  }
  // CMOVcc / SETcc under every combination of CF ZF SF OF PF that matters.
  const flagSets = [0x002, 0x003, 0x042, 0x043, 0x082, 0x802, 0x882, 0x8c2, 0x006, 0x0c7, 0x8d7, 0x846];
  for (let cc = 0; cc < 16; cc++) {
    for (const f of flagSets) {
      add(`cmov${cc.toString(16)}32`, [0x0f, 0x40 + cc, 0xc3], [0x11111111, 0x22222222, 0, 0, f], ARITH);
      add(`cmov${cc.toString(16)}16`, [0x66, 0x0f, 0x40 + cc, 0xc3], [0x11111111, 0x22222222, 0, 0, f], ARITH);
      add(`set${cc.toString(16)}`, [0x0f, 0x90 + cc, 0xc0], [0xffffffff, 0, 0, 0, f], ARITH);
    }
  }
  // Sign/zero extension and LEA: no flags change.
  for (const a of [...EDGES, rnd(), rnd()]) {
    add('movsx r32,r8', [0x0f, 0xbe, 0xc3], [0x5a5a5a5a, a, 0, 0, fl()], ARITH);
    add('movsx r32,r16', [0x0f, 0xbf, 0xc3], [0x5a5a5a5a, a, 0, 0, fl()], ARITH);
    add('movzx r32,r8', [0x0f, 0xb6, 0xc3], [0x5a5a5a5a, a, 0, 0, fl()], ARITH);
    add('movzx r16,r8', [0x66, 0x0f, 0xb6, 0xc3], [0x5a5a5a5a, a, 0, 0, fl()], ARITH);
    add('cbw', [0x66, 0x98], [a, 0, 0, 0, fl()], ARITH);
    add('cwde', [0x98], [a, 0, 0, 0, fl()], ARITH);
    add('cwd', [0x66, 0x99], [a, 0, 0, 0x12345678, fl()], ARITH);
    add('cdq', [0x99], [a, 0, 0, 0x12345678, fl()], ARITH);
    add('lea', [0x8d, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12], [a, rnd(), 0, 0, fl()], ARITH);
    add('xchg', [0x87, 0xd8], [a, rnd(), 0, 0, fl()], ARITH);
  }
  memoryForms(add, fl);
  return v;
}

/**
 * Memory-operand forms ([EDI+0x18]: ModR/M mod=01 r/m=EDI, disp8 0x18): the
 * read-modify-write and load paths, which an interpreter implements apart from the
 * register forms. Flags masks as for the register forms.
 */
function memoryForms(add: (name: string, bytes: number[], input: number[], flagMask: number) => void, fl: () => number): void {
  const m = (reg: number) => [0x47 | (reg << 3), 0x18]; // ModR/M + disp8 for [edi+0x18]
  const alu: [string, number, number][] = [
    ['add', 0x00, ARITH], ['or', 0x08, ARITH & ~AF], ['adc', 0x10, ARITH], ['sbb', 0x18, ARITH],
    ['and', 0x20, ARITH & ~AF], ['sub', 0x28, ARITH], ['xor', 0x30, ARITH & ~AF], ['cmp', 0x38, ARITH],
  ];
  for (const [name, op, mask] of alu) {
    for (const size of SIZES) {
      for (const [a, b] of pairs(6)) {
        add(`${name}${size} [m],r`, [...o16(size), op + w(size), ...m(3)], [0, b, 0, 0, fl(), a], mask);
        add(`${name}${size} r,[m]`, [...o16(size), op + 2 + w(size), ...m(0)], [a, 0, 0, 0, fl(), b], mask);
      }
      for (const a of EDGES) add(`${name}${size} [m],imm`, [...o16(size), size === 8 ? 0x80 : 0x81, ...m(op >> 3), 0x85, ...(size === 8 ? [] : size === 16 ? [0x80] : [0x80, 0x7f, 0xff])], [0, 0, 0, 0, fl(), a], mask);
    }
  }
  for (const size of SIZES) {
    const grp = size === 8 ? 0xfe : 0xff;
    const un = size === 8 ? 0xf6 : 0xf7;
    for (const a of EDGES) {
      add(`inc${size} [m]`, [...o16(size), grp, ...m(0)], [0, 0, 0, 0, fl(), a], ARITH);
      add(`dec${size} [m]`, [...o16(size), grp, ...m(1)], [0, 0, 0, 0, fl(), a], ARITH);
      add(`not${size} [m]`, [...o16(size), un, ...m(2)], [0, 0, 0, 0, fl(), a], ARITH);
      add(`neg${size} [m]`, [...o16(size), un, ...m(3)], [0, 0, 0, 0, fl(), a], ARITH);
      add(`mul${size} [m]`, [...o16(size), un, ...m(4)], [0x9abcdef1, 0, 0, 0x5555aaaa, fl(), a], CF | OF);
      add(`imul${size} [m]`, [...o16(size), un, ...m(5)], [0x9abcdef1, 0, 0, 0x5555aaaa, fl(), a], CF | OF);
      add(`test${size} [m],r`, [...o16(size), 0x84 + w(size), ...m(3)], [0, 0x0f0f8001, 0, 0, fl(), a], ARITH & ~AF);
      add(`xchg${size} [m],r`, [...o16(size), 0x86 + w(size), ...m(3)], [0, 0x0f0f8001, 0, 0, fl(), a], ARITH);
      add(`xadd${size} [m],r`, [...o16(size), 0x0f, 0xc0 + w(size), ...m(3)], [0, 0x0f0f8001, 0, 0, fl(), a], ARITH);
      add(`cmpxchg${size} [m],r eq`, [...o16(size), 0x0f, 0xb0 + w(size), ...m(3)], [a, 0x0f0f8001, 0, 0, fl(), a], ARITH);
      add(`cmpxchg${size} [m],r ne`, [...o16(size), 0x0f, 0xb0 + w(size), ...m(3)], [a ^ 1, 0x0f0f8001, 0, 0, fl(), a], ARITH);
      if (size !== 8) {
        add(`imul${size} r,[m]`, [...o16(size), 0x0f, 0xaf, ...m(0)], [0x9abcdef1, 0, 0, 0, fl(), a], CF | OF);
        add(`movsx${size} r,[m8]`, [...o16(size), 0x0f, 0xbe, ...m(0)], [0x5a5a5a5a, 0, 0, 0, fl(), a], ARITH);
        add(`movzx${size} r,[m16]`, [...o16(size), 0x0f, 0xb7, ...m(0)], [0x5a5a5a5a, 0, 0, 0, fl(), a], ARITH);
        add(`bsr${size} r,[m]`, [...o16(size), 0x0f, 0xbd, ...m(0)], [0x5a5a5a5a, 0, 0, 0, fl(), a | 1], ZF);
      }
    }
    // shifts/rotates of memory by CL
    for (const [name, n] of [['rol', 0], ['ror', 1], ['rcl', 2], ['rcr', 3], ['shl', 4], ['shr', 5], ['sar', 7]] as [string, number][]) {
      for (const count of [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33]) {
        add(`${name}${size} [m],cl=${count}`, [...o16(size), size === 8 ? 0xd2 : 0xd3, ...m(n)], [0, 0, count, 0, 0x003 | (count & 1 ? ARITH : 0), 0x8000f00f], shiftMaskFor(name, size, count));
      }
    }
  }
  // SHLD/SHRD and BT* with a memory destination (BT offsets kept within the dword)
  for (const size of [16, 32] as Size[]) {
    for (const count of [0, 1, 4, 15, 16, 31]) {
      if (size === 16 && count > 16) continue;
      add(`shld${size} [m],r,cl=${count}`, [...o16(size), 0x0f, 0xa5, ...m(3)], [0, 0x87654321, count, 0, fl(), 0x9abcdef0], shxdMask(count));
      add(`shrd${size} [m],r,cl=${count}`, [...o16(size), 0x0f, 0xad, ...m(3)], [0, 0x87654321, count, 0, fl(), 0x9abcdef0], shxdMask(count));
    }
    for (const [name, op] of [['bt', 0xa3], ['bts', 0xab], ['btr', 0xb3], ['btc', 0xbb]] as [string, number][]) {
      for (const bit of [0, 1, 7, 15, size - 1]) {
        add(`${name}${size} [m],r bit ${bit}`, [...o16(size), 0x0f, op, ...m(3)], [0, bit, 0, 0, fl(), 0x8000a5a5], CF);
      }
    }
  }
}

/** Whether DIV/IDIV of hi:lo (EDX:EAX, DX:AX or AX) by divisor is defined (no #DE). */
function divides(size: Size, signed: boolean, hi: number, lo: number, divisor: number): boolean {
  const bits = BigInt(size);
  const mask = (1n << bits) - 1n;
  let d = BigInt(divisor >>> 0) & mask;
  // dividend: 8-bit AX; 16-bit DX:AX; 32-bit EDX:EAX
  let n = size === 8 ? BigInt(lo & 0xffff) : ((BigInt(hi >>> 0) & mask) << bits) | (BigInt(lo >>> 0) & mask);
  if (d === 0n) return false;
  if (signed) {
    const nBits = 2n * bits;
    if (n >> (nBits - 1n)) n -= 1n << nBits;
    if (d >> (bits - 1n)) d -= 1n << bits;
    const q = n / d; // BigInt division truncates toward zero, like IDIV
    return q >= -(1n << (bits - 1n)) && q < 1n << (bits - 1n);
  }
  return n / d <= mask;
}

/**
 * Flags defined after a shift/rotate by `count` (masked to 5 bits first):
 * count 0 changes nothing; OF only for count 1; AF undefined for SHL/SHR/SAR;
 * CF undefined for SHL/SHR by at least the operand size; rotates leave SF ZF AF PF alone.
 */
function shiftMaskFor(name: string, size: Size, count: number): number {
  return shiftMask(name, size, count);
}
function shiftMask(name: string, size: Size, count: number): number {
  const c = count & 31;
  if (c === 0) return ARITH;
  if (name === 'rol' || name === 'ror' || name === 'rcl' || name === 'rcr') {
    return (ARITH & ~OF) | (c === 1 ? OF : 0);
  }
  let m = CF | ZF | SF | PF | (c === 1 ? OF : 0);
  if ((name === 'shl' || name === 'shr') && c >= size) m &= ~CF;
  return m;
}

/** SHLD/SHRD: count 0 changes nothing; OF only for count 1; AF undefined. */
function shxdMask(count: number): number {
  const c = count & 31;
  if (c === 0) return ARITH;
  return CF | ZF | SF | PF | (c === 1 ? OF : 0);
}
