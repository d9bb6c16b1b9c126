// String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP/REPE/REPNE,
// and port I/O (IN, OUT). A REP instruction runs at most REP_CHUNK iterations per
// step and then leaves EIP on itself, so interrupts are taken between chunks and a
// fault mid-way restarts with the registers of the completed iterations.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { CR0_PE as CR0_PE_, FLAG_DF as FLAG_DF_, FLAG_IOPL as FLAG_IOPL_, FLAG_VM as FLAG_VM_, Reg, Seg } from './state';
import { checkIo, checkIoBreakpoint } from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_EDI = Reg.EDI;
const Reg_EDX = Reg.EDX;
const Reg_ESI = Reg.ESI;
const Seg_ES = Seg.ES;
const CR0_PE = CR0_PE_;
const FLAG_DF = FLAG_DF_;
const FLAG_IOPL = FLAG_IOPL_;
const FLAG_VM = FLAG_VM_;

export const REP_CHUNK = 4096;

const enum StrOp {
  Movs = 0,
  Cmps = 1,
  Stos = 2,
  Lods = 3,
  Scas = 4,
  Ins = 5,
  Outs = 6,
}

/** I/O permission: protected mode with CPL > IOPL, or v86, consults the TSS bitmap. */
export function ioAllowed(cpu: Cpu, port: number, size: number): void {
  if ((cpu.cr0 & CR0_PE) !== 0 && ((cpu.flagsReg & FLAG_VM) !== 0 || cpu.cpl > (cpu.flagsReg & FLAG_IOPL) >>> 12)) {
    checkIo(cpu, port, size);
  }
  if (cpu.debugActive) checkIoBreakpoint(cpu, port, size);
}

function portIn(cpu: Cpu, port: number, size: number): number {
  const io = cpu.bus.io;
  return size === 1 ? io.in8(port) : size === 2 ? io.in16(port) : io.in32(port);
}

function portOut(cpu: Cpu, port: number, size: number, v: number): void {
  const io = cpu.bus.io;
  if (size === 1) io.out8(port, v);
  else if (size === 2) io.out16(port, v);
  else io.out32(port, v);
}

function readSized(cpu: Cpu, seg: number, off: number, size: number): number {
  return size === 1 ? cpu.readSeg8(seg, off) : size === 2 ? cpu.readSeg16(seg, off) : cpu.readSeg32(seg, off);
}

function writeSized(cpu: Cpu, seg: number, off: number, size: number, v: number): void {
  if (size === 1) cpu.writeSeg8(seg, off, v);
  else if (size === 2) cpu.writeSeg16(seg, off, v);
  else cpu.writeSeg32(seg, off, v);
}

/** One iteration of a string instruction, index registers advanced. */
function iterate(cpu: Cpu, op: StrOp, size: number, step: number): void {
  const a32 = cpu.a32;
  const r32 = cpu.reg32;
  const r16 = cpu.reg16;
  const si = a32 ? r32[Reg_ESI] : r16[Reg_ESI * 2];
  const di = a32 ? r32[Reg_EDI] : r16[Reg_EDI * 2];
  const top = size * 8 - 1;
  switch (op) {
    case StrOp.Movs:
      writeSized(cpu, Seg_ES, di, size, readSized(cpu, cpu.dataSeg, si, size));
      advance(cpu, Reg_ESI, step);
      advance(cpu, Reg_EDI, step);
      return;
    case StrOp.Cmps: {
      const a = readSized(cpu, cpu.dataSeg, si, size);
      const b = readSized(cpu, Seg_ES, di, size);
      cpu.alu(7, a, b, top);
      advance(cpu, Reg_ESI, step);
      advance(cpu, Reg_EDI, step);
      return;
    }
    case StrOp.Stos:
      writeSized(cpu, Seg_ES, di, size, r32[Reg_EAX]);
      advance(cpu, Reg_EDI, step);
      return;
    case StrOp.Lods: {
      const v = readSized(cpu, cpu.dataSeg, si, size);
      if (size === 1) cpu.reg8[0] = v;
      else if (size === 2) r16[0] = v;
      else r32[Reg_EAX] = v;
      advance(cpu, Reg_ESI, step);
      return;
    }
    case StrOp.Scas: {
      const acc = size === 1 ? cpu.reg8[0] : size === 2 ? r16[0] : r32[Reg_EAX];
      cpu.alu(7, acc, readSized(cpu, Seg_ES, di, size), top);
      advance(cpu, Reg_EDI, step);
      return;
    }
    case StrOp.Ins: {
      const port = r16[Reg_EDX * 2];
      // Check the destination before the port read, which may have side effects.
      cpu.probeWrite(cpu.segAddr(Seg_ES, di, size, true), size);
      writeSized(cpu, Seg_ES, di, size, portIn(cpu, port, size));
      advance(cpu, Reg_EDI, step);
      return;
    }
    default: {
      const v = readSized(cpu, cpu.dataSeg, si, size);
      portOut(cpu, r16[Reg_EDX * 2], size, v);
      advance(cpu, Reg_ESI, step);
    }
  }
}

function advance(cpu: Cpu, reg: number, step: number): void {
  if (cpu.a32) cpu.reg32[reg] += step;
  else cpu.reg16[reg * 2] += step;
}

function stringOp(cpu: Cpu, op: StrOp, size: number): void {
  if (op === StrOp.Ins || op === StrOp.Outs) ioAllowed(cpu, cpu.reg16[Reg_EDX * 2], size);
  const step = cpu.flagsReg & FLAG_DF ? -size : size;
  if (cpu.repPrefix === 0) {
    iterate(cpu, op, size, step);
    return;
  }
  const compares = op === StrOp.Cmps || op === StrOp.Scas;
  const stopOnZero = cpu.repPrefix === 0xf2; // REPNE stops when ZF=1, REPE when ZF=0
  let count = cpu.getCount();
  for (let i = 0; i < REP_CHUNK; i++) {
    if (count === 0) return;
    iterate(cpu, op, size, step);
    count = cpu.a32 ? (count - 1) >>> 0 : (count - 1) & 0xffff;
    cpu.setCount(count);
    if (compares && cpu.getZF() === stopOnZero) return;
  }
  // Chunk used up with iterations left: run this instruction again at the next step.
  if (count !== 0) cpu.eip = cpu.instrEip;
}

export function installStrings(t: OpTable): void {
  const ops: [number, StrOp][] = [
    [0xa4, StrOp.Movs],
    [0xa6, StrOp.Cmps],
    [0xaa, StrOp.Stos],
    [0xac, StrOp.Lods],
    [0xae, StrOp.Scas],
    [0x6c, StrOp.Ins],
    [0x6e, StrOp.Outs],
  ];
  for (const [opc, op] of ops) {
    t[opc] = (cpu) => stringOp(cpu, op, 1);
    t[opc + 1] = (cpu) => stringOp(cpu, op, cpu.o32 ? 4 : 2);
  }

  const inOp = (size: number, immPort: boolean) => (cpu: Cpu) => {
    const port = immPort ? cpu.fetch8() : cpu.reg16[Reg_EDX * 2];
    const sz = size === 0 ? (cpu.o32 ? 4 : 2) : size;
    ioAllowed(cpu, port, sz);
    const v = portIn(cpu, port, sz);
    if (sz === 1) cpu.reg8[0] = v;
    else if (sz === 2) cpu.reg16[0] = v;
    else cpu.reg32[Reg_EAX] = v;
  };
  const outOp = (size: number, immPort: boolean) => (cpu: Cpu) => {
    const port = immPort ? cpu.fetch8() : cpu.reg16[Reg_EDX * 2];
    const sz = size === 0 ? (cpu.o32 ? 4 : 2) : size;
    ioAllowed(cpu, port, sz);
    portOut(cpu, port, sz, sz === 1 ? cpu.reg8[0] : sz === 2 ? cpu.reg16[0] : cpu.reg32[Reg_EAX]);
  };
  t[0xe4] = inOp(1, true);
  t[0xe5] = inOp(0, true);
  t[0xec] = inOp(1, false);
  t[0xed] = inOp(0, false);
  t[0xe6] = outOp(1, true);
  t[0xe7] = outOp(0, true);
  t[0xee] = outOp(1, false);
  t[0xef] = outOp(0, false);
}
