// Control transfer: Jcc, JMP, CALL, RET, LOOP/JCXZ, far transfers, INT/INTO/INT3/INT1,
// IRET, ENTER/LEAVE, BOUND, HLT, and the FF group (INC/DEC/CALL/JMP/PUSH).
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { incDecEv } from './ops-alu';
import { CpuFault, EventKind, FLAG_OF as FLAG_OF_, NO_ERROR_CODE as NO_ERROR_CODE_, Reg, Seg, Vec } from './state';
import { deliverEvent, farCall, farJump, farReturn, interruptReturn, SoftInt } from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EBP = Reg.EBP;
const Reg_ESP = Reg.ESP;
const Seg_CS = Seg.CS;
const Seg_SS = Seg.SS;
const Vec_BP = Vec.BP;
const Vec_BR = Vec.BR;
const Vec_DB = Vec.DB;
const Vec_GP = Vec.GP;
const Vec_OF = Vec.OF;
const Vec_UD = Vec.UD;
const EventKind_Software = EventKind.Software;
const SoftInt_Icebp = SoftInt.Icebp;
const SoftInt_Int3OrInto = SoftInt.Int3OrInto;
const SoftInt_IntN = SoftInt.IntN;
const FLAG_OF = FLAG_OF_;
const NO_ERROR_CODE = NO_ERROR_CODE_;

/** Set EIP to a near target: masked to the operand size, checked against the CS limit (#GP(0) on the jump). */
export function jumpNear(cpu: Cpu, target: number): void {
  const eip = cpu.o32 ? target >>> 0 : target & 0xffff;
  if (eip > cpu.segLimit[Seg_CS]) throw new CpuFault(Vec_GP, 0);
  cpu.eip = eip;
}

function pushV(cpu: Cpu, v: number): void {
  if (cpu.o32) cpu.push32(v);
  else cpu.push16(v);
}

function popV(cpu: Cpu): number {
  return cpu.o32 ? cpu.pop32() : cpu.pop16();
}

function callNear(cpu: Cpu, target: number): void {
  const ret = cpu.eip;
  const eip = cpu.o32 ? target >>> 0 : target & 0xffff;
  if (eip > cpu.segLimit[Seg_CS]) throw new CpuFault(Vec_GP, 0);
  pushV(cpu, ret);
  cpu.eip = eip;
}

function retNear(cpu: Cpu, popBytes: number): void {
  const eip = cpu.o32 ? cpu.pop32() >>> 0 : cpu.pop16();
  if (eip > cpu.segLimit[Seg_CS]) throw new CpuFault(Vec_GP, 0);
  cpu.eip = eip;
  if (popBytes) cpu.reg32[Reg_ESP] = cpu.stackAdd(popBytes);
}

/** INT n / INT3 / INTO / INT1: EIP already points past the instruction (a trap). */
function softwareInterrupt(cpu: Cpu, vector: number, kind: EventKind, soft: SoftInt): void {
  deliverEvent(cpu, vector, kind, NO_ERROR_CODE, soft);
  // The handler starts with TF clear; the single-step trap is not taken after INT.
  cpu.suppressStepTrap = true;
  cpu.updateModeCaches();
}

function afterFarTransfer(cpu: Cpu): void {
  cpu.updateModeCaches();
}

/** FF group: /0 INC, /1 DEC, /2 CALL near, /3 CALL far, /4 JMP near, /5 JMP far, /6 PUSH. */
function groupFF(cpu: Cpu): void {
  cpu.decodeModrm();
  switch (cpu.regField) {
    case 0:
      incDecEv(cpu, false);
      return;
    case 1:
      incDecEv(cpu, true);
      return;
    case 2:
      callNear(cpu, cpu.readRmV());
      return;
    case 4:
      jumpNear(cpu, cpu.readRmV());
      return;
    case 3:
    case 5: {
      cpu.requireMemory();
      const off = cpu.o32 ? cpu.readSeg32(cpu.eaSeg, cpu.eaOff) >>> 0 : cpu.readSeg16(cpu.eaSeg, cpu.eaOff);
      // The selector's offset wraps with the address size, like the offset itself.
      const sel = cpu.readSeg16(cpu.eaSeg, (cpu.eaOff + (cpu.o32 ? 4 : 2)) & (cpu.a32 ? -1 : 0xffff));
      if (cpu.regField === 3) farCall(cpu, sel, off, cpu.o32, cpu.eip);
      else farJump(cpu, sel, off, cpu.o32);
      afterFarTransfer(cpu);
      return;
    }
    case 6:
      pushV(cpu, cpu.readRmV());
      return;
    default:
      throw new CpuFault(Vec_UD);
  }
}

function enter(cpu: Cpu): void {
  const size = cpu.fetch16();
  const level = cpu.fetch8() & 31;
  const o32 = cpu.o32;
  const opBytes = o32 ? 4 : 2;
  const stack32 = cpu.stackIs32();
  pushV(cpu, o32 ? cpu.reg32[Reg_EBP] : cpu.reg16[Reg_EBP * 2]);
  const frame = cpu.reg32[Reg_ESP];
  let ebp = cpu.reg32[Reg_EBP];
  if (level > 0) {
    for (let i = 1; i < level; i++) {
      ebp = stack32 ? (ebp - opBytes) | 0 : (ebp & ~0xffff) | ((ebp - opBytes) & 0xffff);
      const off = stack32 ? ebp : ebp & 0xffff;
      pushV(cpu, o32 ? cpu.readSeg32(Seg_SS, off) : cpu.readSeg16(Seg_SS, off));
    }
    pushV(cpu, frame);
  }
  // The frame must be writable down to the new ESP before anything is committed.
  const newEsp = cpu.stackAdd(-size);
  if (size > 0) cpu.segAddr(Seg_SS, cpu.stackOffset(newEsp), 1, true);
  if (o32) cpu.reg32[Reg_EBP] = frame;
  else cpu.reg16[Reg_EBP * 2] = frame;
  cpu.reg32[Reg_ESP] = newEsp;
}

function leave(cpu: Cpu): void {
  const ebp = cpu.reg32[Reg_EBP];
  const esp = cpu.stackIs32() ? ebp : (cpu.reg32[Reg_ESP] & ~0xffff) | (ebp & 0xffff);
  const off = cpu.stackIs32() ? esp : esp & 0xffff;
  const v = cpu.o32 ? cpu.readSeg32(Seg_SS, off) : cpu.readSeg16(Seg_SS, off);
  cpu.reg32[Reg_ESP] = esp;
  cpu.reg32[Reg_ESP] = cpu.stackAdd(cpu.o32 ? 4 : 2);
  if (cpu.o32) cpu.reg32[Reg_EBP] = v;
  else cpu.reg16[Reg_EBP * 2] = v;
}

function bound(cpu: Cpu): void {
  cpu.decodeModrm();
  cpu.requireMemory();
  const idx = cpu.getRegV(cpu.regField);
  if (cpu.o32) {
    const lo = cpu.readSeg32(cpu.eaSeg, cpu.eaOff);
    const hi = cpu.readSeg32(cpu.eaSeg, (cpu.eaOff + 4) | 0);
    if (idx < lo || idx > hi) throw new CpuFault(Vec_BR);
  } else {
    const lo = (cpu.readSeg16(cpu.eaSeg, cpu.eaOff) << 16) >> 16;
    const hi = (cpu.readSeg16(cpu.eaSeg, (cpu.eaOff + 2) & (cpu.a32 ? -1 : 0xffff)) << 16) >> 16;
    const v = (idx << 16) >> 16;
    if (v < lo || v > hi) throw new CpuFault(Vec_BR);
  }
}

export function installControl(t: OpTable, lock: Uint8Array): void {
  for (let cc = 0; cc < 16; cc++) {
    t[0x70 + cc] = (cpu) => {
      const d = cpu.fetchS8();
      if (cpu.testCondition(cc)) jumpNear(cpu, cpu.eip + d);
    };
    t[0x180 + cc] = (cpu) => {
      const d = cpu.fetchImm();
      if (cpu.testCondition(cc)) jumpNear(cpu, cpu.eip + d);
    };
  }
  t[0xeb] = (cpu) => {
    const d = cpu.fetchS8();
    jumpNear(cpu, cpu.eip + d);
  };
  t[0xe9] = (cpu) => {
    const d = cpu.fetchImm();
    jumpNear(cpu, cpu.eip + d);
  };
  t[0xe8] = (cpu) => {
    const d = cpu.fetchImm();
    callNear(cpu, cpu.eip + d);
  };
  t[0xc3] = (cpu) => retNear(cpu, 0);
  t[0xc2] = (cpu) => retNear(cpu, cpu.fetch16());
  t[0xea] = (cpu) => {
    const off = cpu.o32 ? cpu.fetch32() >>> 0 : cpu.fetch16();
    const sel = cpu.fetch16();
    farJump(cpu, sel, off, cpu.o32);
    afterFarTransfer(cpu);
  };
  t[0x9a] = (cpu) => {
    const off = cpu.o32 ? cpu.fetch32() >>> 0 : cpu.fetch16();
    const sel = cpu.fetch16();
    farCall(cpu, sel, off, cpu.o32, cpu.eip);
    afterFarTransfer(cpu);
  };
  t[0xca] = (cpu) => {
    const n = cpu.fetch16();
    farReturn(cpu, cpu.o32, n);
    afterFarTransfer(cpu);
  };
  t[0xcb] = (cpu) => {
    farReturn(cpu, cpu.o32, 0);
    afterFarTransfer(cpu);
  };
  t[0xcf] = (cpu) => {
    interruptReturn(cpu, cpu.o32);
    afterFarTransfer(cpu);
  };

  // LOOPNE, LOOPE, LOOP, JCXZ: the count register follows the address size.
  t[0xe0] = (cpu) => loop(cpu, LoopKind.WhileNotZero);
  t[0xe1] = (cpu) => loop(cpu, LoopKind.WhileZero);
  t[0xe2] = (cpu) => loop(cpu, LoopKind.Plain);
  t[0xe3] = (cpu) => {
    const d = cpu.fetchS8();
    if (cpu.getCount() === 0) jumpNear(cpu, cpu.eip + d);
  };

  t[0xcc] = (cpu) => softwareInterrupt(cpu, Vec_BP, EventKind_Software, SoftInt_Int3OrInto);
  t[0xcd] = (cpu) => softwareInterrupt(cpu, cpu.fetch8(), EventKind_Software, SoftInt_IntN);
  t[0xce] = (cpu) => {
    if (cpu.getEflags() & FLAG_OF) softwareInterrupt(cpu, Vec_OF, EventKind_Software, SoftInt_Int3OrInto);
  };
  t[0xf1] = (cpu) => softwareInterrupt(cpu, Vec_DB, EventKind_Software, SoftInt_Icebp);

  t[0xc8] = enter;
  t[0xc9] = leave;
  t[0x62] = bound;
  t[0xff] = groupFF;
  lock[0xff] = 0x03;
}

const enum LoopKind {
  WhileNotZero = 0,
  WhileZero = 1,
  Plain = 2,
}

function loop(cpu: Cpu, kind: LoopKind): void {
  const d = cpu.fetchS8();
  const count = (cpu.getCount() - 1) >>> 0;
  const c = cpu.a32 ? count : count & 0xffff;
  const taken = c !== 0 && (kind === LoopKind.Plain || cpu.getZF() === (kind === LoopKind.WhileZero));
  // Jump first: if the target faults on the CS limit, the count is left untouched (restartable).
  if (taken) jumpNear(cpu, cpu.eip + d);
  cpu.setCount(c);
}
