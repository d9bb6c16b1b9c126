// Integer ALU opcodes: the eight classic operations in all their encodings,
// TEST, INC/DEC, NOT/NEG, XCHG, XADD and CMPXCHG.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { LazyOp } from './flags';
import { CpuFault, FLAG_ZF as FLAG_ZF_, Reg, Vec } from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_EBX = Reg.EBX;
const Reg_ECX = Reg.ECX;
const Reg_EDX = Reg.EDX;
const Vec_UD = Vec.UD;
const LazyOp_Add = LazyOp.Add;
const LazyOp_Logic = LazyOp.Logic;
const LazyOp_Sub = LazyOp.Sub;
const FLAG_ZF = FLAG_ZF_;

const ANY_REG = 0xff;
/** Group 1 (80-83): /0-/6 lock with a memory destination, /7 is CMP. */
const GROUP1_LOCK = 0x7f;

function aluEbGb(op: number) {
  return (cpu: Cpu) => {
    cpu.decodeModrm();
    const b = cpu.getReg8(cpu.regField);
    if (op === 7) cpu.alu(op, cpu.readRm8(), b, 7);
    else cpu.writeRmw8(cpu.alu(op, cpu.readRmw8(), b, 7));
  };
}
function aluEvGv(op: number) {
  return (cpu: Cpu) => {
    cpu.decodeModrm();
    const b = cpu.getRegV(cpu.regField);
    if (op === 7) cpu.alu(op, cpu.readRmV(), b, cpu.topV);
    else cpu.writeRmwV(cpu.alu(op, cpu.readRmwV(), b, cpu.topV));
  };
}
function aluGbEb(op: number) {
  return (cpu: Cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const res = cpu.alu(op, cpu.getReg8(r), cpu.readRm8(), 7);
    if (op !== 7) cpu.setReg8(r, res);
  };
}
function aluGvEv(op: number) {
  return (cpu: Cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const res = cpu.alu(op, cpu.getRegV(r), cpu.readRmV(), cpu.topV);
    if (op !== 7) cpu.setRegV(r, res);
  };
}
function aluAlIb(op: number) {
  return (cpu: Cpu) => {
    const res = cpu.alu(op, cpu.reg8[0], cpu.fetch8(), 7);
    if (op !== 7) cpu.reg8[0] = res;
  };
}
function aluAxIv(op: number) {
  return (cpu: Cpu) => {
    const imm = cpu.fetchImm();
    const res = cpu.alu(op, cpu.getRegV(Reg_EAX), imm, cpu.topV);
    if (op !== 7) cpu.setRegV(Reg_EAX, res);
  };
}

/** 80 and 82 (82 is an alias of 80 outside 64-bit mode). */
function group1Eb(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  const imm = cpu.fetch8();
  if (op === 7) cpu.alu(op, cpu.readRm8(), imm, 7);
  else cpu.writeRmw8(cpu.alu(op, cpu.readRmw8(), imm, 7));
}
function group1EvIv(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  const imm = cpu.fetchImm();
  if (op === 7) cpu.alu(op, cpu.readRmV(), imm, cpu.topV);
  else cpu.writeRmwV(cpu.alu(op, cpu.readRmwV(), imm, cpu.topV));
}
function group1EvIb(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  let imm = cpu.fetchS8();
  if (!cpu.o32) imm &= 0xffff;
  if (op === 7) cpu.alu(op, cpu.readRmV(), imm, cpu.topV);
  else cpu.writeRmwV(cpu.alu(op, cpu.readRmwV(), imm, cpu.topV));
}

function incDec(cpu: Cpu, v: number, dec: boolean, top: number): number {
  const r = dec ? v - 1 : v + 1;
  cpu.setLazyKeepCf(dec ? LazyOp_Sub : LazyOp_Add, v, 1, r, top);
  return r;
}

/** FE: INC/DEC r/m8. */
function groupFE(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  if (op > 1) throw new CpuFault(Vec_UD);
  cpu.writeRmw8(incDec(cpu, cpu.readRmw8(), op === 1, 7));
}

/** FF /0 /1: INC/DEC r/m (the rest of FF is control transfer and PUSH, see ops-control). */
export function incDecEv(cpu: Cpu, dec: boolean): void {
  cpu.writeRmwV(incDec(cpu, cpu.readRmwV(), dec, cpu.topV));
}

function test(cpu: Cpu, a: number, b: number, top: number): void {
  const r = a & b;
  cpu.setLazy(LazyOp_Logic, a, b, r, top);
}

export function installAlu(t: OpTable, lock: Uint8Array): void {
  for (let op = 0; op < 8; op++) {
    const base = op << 3;
    t[base] = aluEbGb(op);
    t[base + 1] = aluEvGv(op);
    t[base + 2] = aluGbEb(op);
    t[base + 3] = aluGvEv(op);
    t[base + 4] = aluAlIb(op);
    t[base + 5] = aluAxIv(op);
    if (op !== 7) lock[base] = lock[base + 1] = ANY_REG;
  }
  t[0x80] = t[0x82] = group1Eb;
  t[0x81] = group1EvIv;
  t[0x83] = group1EvIb;
  lock[0x80] = lock[0x81] = lock[0x82] = lock[0x83] = GROUP1_LOCK;

  for (let r = 0; r < 8; r++) {
    t[0x40 + r] = (cpu) => cpu.setRegV(r, incDec(cpu, cpu.getRegV(r), false, cpu.topV));
    t[0x48 + r] = (cpu) => cpu.setRegV(r, incDec(cpu, cpu.getRegV(r), true, cpu.topV));
  }
  t[0xfe] = groupFE;
  lock[0xfe] = 0x03;

  t[0x84] = (cpu) => {
    cpu.decodeModrm();
    test(cpu, cpu.readRm8(), cpu.getReg8(cpu.regField), 7);
  };
  t[0x85] = (cpu) => {
    cpu.decodeModrm();
    test(cpu, cpu.readRmV(), cpu.getRegV(cpu.regField), cpu.topV);
  };
  t[0xa8] = (cpu) => test(cpu, cpu.reg8[0], cpu.fetch8(), 7);
  t[0xa9] = (cpu) => test(cpu, cpu.getRegV(Reg_EAX), cpu.fetchImm(), cpu.topV);

  // XCHG (always locked on real hardware; the LOCK prefix is allowed with memory).
  t[0x86] = (cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const old = cpu.readRmw8();
    cpu.writeRmw8(cpu.getReg8(r));
    cpu.setReg8(r, old);
  };
  t[0x87] = (cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const old = cpu.readRmwV();
    cpu.writeRmwV(cpu.getRegV(r));
    cpu.setRegV(r, old);
  };
  lock[0x86] = lock[0x87] = ANY_REG;
  // NOP (F3 90 is PAUSE, also nothing to do here).
  t[0x90] = () => {};
  for (let r = 1; r < 8; r++) {
    t[0x90 + r] = (cpu) => {
      const v = cpu.getRegV(r);
      cpu.setRegV(r, cpu.getRegV(Reg_EAX));
      cpu.setRegV(Reg_EAX, v);
    };
  }

  // 0F C0/C1: XADD.
  t[0x1c0] = (cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const dst = cpu.readRmw8();
    const src = cpu.getReg8(r);
    const sum = cpu.alu(0, dst, src, 7);
    cpu.writeRmw8(sum);
    cpu.setReg8(r, dst);
  };
  t[0x1c1] = (cpu) => {
    cpu.decodeModrm();
    const r = cpu.regField;
    const dst = cpu.readRmwV();
    const src = cpu.getRegV(r);
    const sum = cpu.alu(0, dst, src, cpu.topV);
    cpu.writeRmwV(sum);
    cpu.setRegV(r, dst);
  };
  // 0F B0/B1: CMPXCHG. The destination is always written (with its own value on mismatch), as on the 486+.
  t[0x1b0] = (cpu) => {
    cpu.decodeModrm();
    const dst = cpu.readRmw8();
    const al = cpu.reg8[0];
    cpu.alu(7, al, dst, 7);
    if (al === dst) cpu.writeRmw8(cpu.getReg8(cpu.regField));
    else {
      cpu.writeRmw8(dst);
      cpu.reg8[0] = dst;
    }
  };
  t[0x1b1] = (cpu) => {
    cpu.decodeModrm();
    const dst = cpu.readRmwV();
    const acc = cpu.getRegV(Reg_EAX);
    cpu.alu(7, acc, dst, cpu.topV);
    if (acc === dst) cpu.writeRmwV(cpu.getRegV(cpu.regField));
    else {
      cpu.writeRmwV(dst);
      cpu.setRegV(Reg_EAX, dst);
    }
  };
  lock[0x1c0] = lock[0x1c1] = lock[0x1b0] = lock[0x1b1] = ANY_REG;
  // 0F C7 /1: CMPXCHG8B m64.
  t[0x1c7] = (cpu) => {
    cpu.decodeModrm();
    if (cpu.regField !== 1 || cpu.modIsReg) throw new CpuFault(Vec_UD);
    const lin = cpu.segAddr(cpu.eaSeg, cpu.eaOff, 8, true);
    cpu.probeWrite(lin, 8);
    const lo = cpu.readLin32(lin);
    const hi = cpu.readLin32((lin + 4) | 0);
    const r = cpu.reg32;
    if (lo === r[Reg_EAX] && hi === r[Reg_EDX]) {
      cpu.writeLin32(lin, r[Reg_EBX]);
      cpu.writeLin32((lin + 4) | 0, r[Reg_ECX]);
      cpu.setFlagBits(FLAG_ZF, FLAG_ZF);
    } else {
      cpu.writeLin32(lin, lo);
      cpu.writeLin32((lin + 4) | 0, hi);
      r[Reg_EAX] = lo;
      r[Reg_EDX] = hi;
      cpu.setFlagBits(FLAG_ZF, 0);
    }
  };
  lock[0x1c7] = 0x02;
}
