// Bit and flag instructions: BT/BTS/BTR/BTC, BSF/BSR, SETcc, CMOVcc, MOVZX/MOVSX,
// BSWAP, the BCD adjusts, CBW/CWD, LAHF/SAHF, CLC/STC/CMC and SALC.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { LazyOp } from './flags';
import { CpuFault, FLAG_AF as FLAG_AF_, FLAG_CF as FLAG_CF_, FLAG_OF as FLAG_OF_, FLAG_PF as FLAG_PF_, FLAG_SF as FLAG_SF_, FLAG_ZF as FLAG_ZF_, Reg, Vec } from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_EDX = Reg.EDX;
const Vec_DE = Vec.DE;
const Vec_UD = Vec.UD;
const LazyOp_Add = LazyOp.Add;
const LazyOp_Logic = LazyOp.Logic;
const FLAG_AF = FLAG_AF_;
const FLAG_CF = FLAG_CF_;
const FLAG_OF = FLAG_OF_;
const FLAG_PF = FLAG_PF_;
const FLAG_SF = FLAG_SF_;
const FLAG_ZF = FLAG_ZF_;

const SZAPC = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;

/** BT family: op 0 BT, 1 BTS, 2 BTR, 3 BTC. `bitIndex` is signed for the register form. */
function bitTest(cpu: Cpu, op: number, bitIndex: number, immediate: boolean): void {
  const size = cpu.o32 ? 32 : 16;
  if (cpu.modIsReg) {
    const n = bitIndex & (size - 1);
    const v = cpu.getRegV(cpu.modrm & 7);
    cpu.setFlagBits(FLAG_CF, (v >>> n) & 1);
    if (op !== 0) cpu.setRegV(cpu.modrm & 7, bitUpdate(v, n, op));
    return;
  }
  // Memory form: a register bit offset selects any word/dword relative to the EA.
  let off = cpu.eaOff;
  let n: number;
  if (immediate) n = bitIndex & (size - 1);
  else {
    const idx = size === 32 ? bitIndex | 0 : (bitIndex << 16) >> 16;
    off += (idx >> (size === 32 ? 5 : 4)) * (size >> 3);
    n = idx & (size - 1);
  }
  off = cpu.a32 ? off | 0 : off & 0xffff;
  cpu.eaOff = off;
  if (op === 0) {
    const v = size === 32 ? cpu.readSeg32(cpu.eaSeg, off) : cpu.readSeg16(cpu.eaSeg, off);
    cpu.setFlagBits(FLAG_CF, (v >>> n) & 1);
    return;
  }
  const v = cpu.readRmwV();
  cpu.writeRmwV(bitUpdate(v, n, op));
  cpu.setFlagBits(FLAG_CF, (v >>> n) & 1);
}

function bitUpdate(v: number, n: number, op: number): number {
  if (op === 1) return v | (1 << n);
  if (op === 2) return v & ~(1 << n);
  return v ^ (1 << n);
}

function bitScan(cpu: Cpu, reverse: boolean): void {
  cpu.decodeModrm();
  const v = cpu.o32 ? cpu.readRm32() : cpu.readRm16();
  if (v === 0) {
    cpu.setFlagBits(FLAG_ZF, FLAG_ZF);
    return; // destination unchanged (what P6 cores do)
  }
  const idx = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
  cpu.setRegV(cpu.regField, idx);
  cpu.setLazy(LazyOp_Logic, idx, 0, idx, cpu.topV);
  cpu.setFlagBits(FLAG_ZF, 0);
}

function daa(cpu: Cpu): void {
  const al = cpu.reg8[0];
  const oldCf = cpu.getCF();
  const af = cpu.getAF();
  let r = al;
  let flags = 0;
  if ((al & 0x0f) > 9 || af) {
    r += 6;
    flags |= FLAG_AF;
  }
  if (al > 0x99 || oldCf) {
    r += 0x60;
    flags |= FLAG_CF;
  }
  cpu.reg8[0] = r;
  // OF is undefined: P6 reports the signed overflow of the adjustment as an addition.
  const of = (~al & r & 0x80) !== 0 ? FLAG_OF : 0;
  cpu.setResultFlags(r & 0xff, 7, FLAG_AF | FLAG_CF | FLAG_OF, flags | of);
}

function das(cpu: Cpu): void {
  const al = cpu.reg8[0];
  const oldCf = cpu.getCF();
  const af = cpu.getAF();
  let r = al;
  let flags = 0;
  if ((al & 0x0f) > 9 || af) {
    r -= 6;
    // CF also takes the borrow of this first step (SDM DAS pseudo-code).
    flags |= FLAG_AF | (al < 6 ? FLAG_CF : 0);
  }
  if (al > 0x99 || oldCf) {
    r -= 0x60;
    flags |= FLAG_CF;
  }
  cpu.reg8[0] = r;
  const of = (al & ~r & 0x80) !== 0 ? FLAG_OF : 0;
  cpu.setResultFlags(r & 0xff, 7, FLAG_AF | FLAG_CF | FLAG_OF, flags | of);
}

function aaaAas(cpu: Cpu, subtract: boolean): void {
  const al = cpu.reg8[0];
  if ((al & 0x0f) > 9 || cpu.getAF()) {
    if (subtract) {
      cpu.reg16[0] = cpu.reg16[0] - 6;
      cpu.reg8[1] = cpu.reg8[1] - 1;
    } else cpu.reg16[0] = cpu.reg16[0] + 0x106;
    cpu.reg8[0] &= 0x0f;
    cpu.setResultFlags(cpu.reg8[0], 7, FLAG_AF | FLAG_CF | FLAG_OF, FLAG_AF | FLAG_CF);
  } else {
    cpu.reg8[0] &= 0x0f;
    cpu.setResultFlags(cpu.reg8[0], 7, FLAG_AF | FLAG_CF | FLAG_OF, 0);
  }
}

export function installBits(t: OpTable, lock: Uint8Array): void {
  // 0F A3/AB/B3/BB: BT/BTS/BTR/BTC Ev, Gv.
  const btRegForms = [0x1a3, 0x1ab, 0x1b3, 0x1bb];
  btRegForms.forEach((opc, op) => {
    t[opc] = (cpu) => {
      cpu.decodeModrm();
      bitTest(cpu, op, cpu.getRegV(cpu.regField), false);
    };
    if (op !== 0) lock[opc] = 0xff;
  });
  // 0F BA /4-/7: BT/BTS/BTR/BTC Ev, Ib.
  t[0x1ba] = (cpu) => {
    cpu.decodeModrm();
    const op = cpu.regField;
    if (op < 4) throw new CpuFault(Vec_UD);
    bitTest(cpu, op - 4, cpu.fetch8(), true);
  };
  lock[0x1ba] = 0xe0;
  t[0x1bc] = (cpu) => bitScan(cpu, false);
  t[0x1bd] = (cpu) => bitScan(cpu, true);

  for (let cc = 0; cc < 16; cc++) {
    t[0x190 + cc] = (cpu) => {
      cpu.decodeModrm();
      cpu.writeRm8(cpu.testCondition(cc) ? 1 : 0);
    };
    t[0x140 + cc] = (cpu) => {
      cpu.decodeModrm();
      // The source is read (and may fault) whether or not the move happens.
      const v = cpu.readRmV();
      if (cpu.testCondition(cc)) cpu.setRegV(cpu.regField, v);
    };
  }

  t[0x1b6] = (cpu) => {
    cpu.decodeModrm();
    cpu.setRegV(cpu.regField, cpu.readRm8());
  };
  t[0x1b7] = (cpu) => {
    cpu.decodeModrm();
    cpu.setRegV(cpu.regField, cpu.readRm16());
  };
  t[0x1be] = (cpu) => {
    cpu.decodeModrm();
    cpu.setRegV(cpu.regField, (cpu.readRm8() << 24) >> 24);
  };
  t[0x1bf] = (cpu) => {
    cpu.decodeModrm();
    cpu.setRegV(cpu.regField, (cpu.readRm16() << 16) >> 16);
  };
  for (let r = 0; r < 8; r++) {
    t[0x1c8 + r] = (cpu) => {
      const v = cpu.reg32[r];
      // With a 16-bit operand size the result is undefined; P6 cores clear the register's low word.
      if (!cpu.o32) cpu.reg16[r << 1] = 0;
      else cpu.reg32[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    };
  }

  t[0x27] = daa;
  t[0x2f] = das;
  t[0x37] = (cpu) => aaaAas(cpu, false);
  t[0x3f] = (cpu) => aaaAas(cpu, true);
  t[0xd4] = (cpu) => {
    const base = cpu.fetch8();
    if (base === 0) throw new CpuFault(Vec_DE);
    const al = cpu.reg8[0];
    cpu.reg8[1] = Math.floor(al / base);
    cpu.reg8[0] = al % base;
    cpu.setResultFlags(cpu.reg8[0], 7, FLAG_AF | FLAG_CF | FLAG_OF, 0);
  };
  t[0xd5] = (cpu) => {
    const base = cpu.fetch8();
    const al = cpu.reg8[0];
    const product = (cpu.reg8[1] * base) & 0xff;
    cpu.reg16[0] = (al + product) & 0xff;
    // Flags as the internal 8-bit addition AL + AH*base sets them.
    cpu.setLazy(LazyOp_Add, al, product, al + product, 7);
  };
  t[0xd6] = (cpu) => {
    cpu.reg8[0] = cpu.getCF() ? 0xff : 0;
  };

  t[0x98] = (cpu) => {
    if (cpu.o32) cpu.reg32[Reg_EAX] = (cpu.reg16[0] << 16) >> 16;
    else cpu.reg16[0] = (cpu.reg8[0] << 24) >> 24;
  };
  t[0x99] = (cpu) => {
    if (cpu.o32) cpu.reg32[Reg_EDX] = cpu.reg32[Reg_EAX] >> 31;
    else cpu.reg16[Reg_EDX * 2] = (cpu.reg16[0] << 16) >> 31;
  };
  t[0x9e] = (cpu) => cpu.setFlagBits(SZAPC, cpu.reg8[1]);
  t[0x9f] = (cpu) => {
    cpu.reg8[1] = cpu.getEflags() & 0xff;
  };
  t[0xf5] = (cpu) => cpu.setFlagBits(FLAG_CF, cpu.getCF() ^ 1);
  t[0xf8] = (cpu) => cpu.setFlagBits(FLAG_CF, 0);
  t[0xf9] = (cpu) => cpu.setFlagBits(FLAG_CF, FLAG_CF);
}
