// Data movement: MOV in all forms, LEA, PUSH/POP (registers, segments, immediates,
// PUSHA/POPA), segment register loads (MOV Sreg, POP Sreg, LDS/LES/LSS/LFS/LGS), XLAT,
// and the EFLAGS instructions with privilege rules (PUSHF/POPF, CLI/STI, CLD/STD).
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import {
  CR0_PE as CR0_PE_,
  CR4_PVI as CR4_PVI_,
  CR4_VME as CR4_VME_,
  CpuFault,
  FLAG_DF as FLAG_DF_,
  FLAG_IF as FLAG_IF_,
  FLAG_IOPL as FLAG_IOPL_,
  FLAG_RF as FLAG_RF_,
  FLAG_TF as FLAG_TF_,
  FLAG_VIF as FLAG_VIF_,
  FLAG_VIP as FLAG_VIP_,
  FLAG_VM as FLAG_VM_,
  Reg,
  Seg,
  Vec,
} from './state';
import { EFLAGS_WRITABLE as EFLAGS_WRITABLE_ } from './flags';
import { loadSegment } from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_EBX = Reg.EBX;
const Reg_ESP = Reg.ESP;
const Seg_CS = Seg.CS;
const Seg_DS = Seg.DS;
const Seg_ES = Seg.ES;
const Seg_FS = Seg.FS;
const Seg_GS = Seg.GS;
const Seg_SS = Seg.SS;
const Vec_GP = Vec.GP;
const Vec_UD = Vec.UD;
const CR0_PE = CR0_PE_;
const CR4_PVI = CR4_PVI_;
const CR4_VME = CR4_VME_;
const FLAG_DF = FLAG_DF_;
const FLAG_IF = FLAG_IF_;
const FLAG_IOPL = FLAG_IOPL_;
const FLAG_RF = FLAG_RF_;
const FLAG_TF = FLAG_TF_;
const FLAG_VIF = FLAG_VIF_;
const FLAG_VIP = FLAG_VIP_;
const FLAG_VM = FLAG_VM_;
const EFLAGS_WRITABLE = EFLAGS_WRITABLE_;

function pushV(cpu: Cpu, v: number): void {
  if (cpu.o32) cpu.push32(v);
  else cpu.push16(v);
}

/** Load a data/stack segment register; SS also opens the one-instruction interrupt shadow. */
export function loadSreg(cpu: Cpu, seg: number, sel: number): void {
  loadSegment(cpu, seg, sel);
  cpu.refreshSegmentChecks();
  if (seg === Seg_SS) {
    // Interrupts and the single-step trap wait until the next instruction (which sets ESP) is done.
    cpu.interruptShadow = true;
    cpu.suppressStepTrap = true;
    cpu.updateModeCaches();
  }
}

/** Memory offset of the moffs forms (A0-A3): address-size wide. */
function moffs(cpu: Cpu): number {
  return cpu.a32 ? cpu.fetch32() : cpu.fetch16();
}

/** LDS/LES/LSS/LFS/LGS: offset then selector from memory; the segment is loaded before the register changes. */
function loadFarPointer(cpu: Cpu, seg: number): void {
  cpu.decodeModrm();
  cpu.requireMemory();
  const off = cpu.o32 ? cpu.readSeg32(cpu.eaSeg, cpu.eaOff) : cpu.readSeg16(cpu.eaSeg, cpu.eaOff);
  const sel = cpu.readSeg16(cpu.eaSeg, (cpu.eaOff + (cpu.o32 ? 4 : 2)) & (cpu.a32 ? -1 : 0xffff));
  // Unlike MOV/POP SS, LSS opens no interrupt shadow.
  loadSegment(cpu, seg, sel);
  cpu.refreshSegmentChecks();
  if (seg === Seg_SS) cpu.updateModeCaches();
  cpu.setRegV(cpu.regField, off);
}

function iopl(cpu: Cpu): number {
  return (cpu.flagsReg & FLAG_IOPL) >>> 12;
}

function isV86(cpu: Cpu): boolean {
  return (cpu.flagsReg & FLAG_VM) !== 0;
}

function isProtected(cpu: Cpu): boolean {
  return (cpu.cr0 & CR0_PE) !== 0;
}

function pushf(cpu: Cpu): void {
  const flags = cpu.getEflags();
  if (isV86(cpu) && iopl(cpu) < 3) {
    // VME: a 16-bit PUSHF pushes VIF in place of IF, with IOPL reading 3.
    if ((cpu.cr4 & CR4_VME) === 0 || cpu.o32) throw new CpuFault(Vec_GP, 0);
    const image = (flags & ~FLAG_IF) | (flags & FLAG_VIF ? FLAG_IF : 0) | FLAG_IOPL;
    cpu.push16(image);
    return;
  }
  // The pushed image has VM and RF clear.
  if (cpu.o32) cpu.push32(flags & ~(FLAG_VM | FLAG_RF));
  else cpu.push16(flags);
}

function popf(cpu: Cpu): void {
  const o32 = cpu.o32;
  const v86 = isV86(cpu);
  if (v86 && iopl(cpu) < 3) {
    if ((cpu.cr4 & CR4_VME) === 0 || o32) throw new CpuFault(Vec_GP, 0);
    const v = cpu.pop16();
    if (v & FLAG_TF || (v & FLAG_IF && cpu.flagsReg & FLAG_VIP)) {
      cpu.reg32[Reg_ESP] = cpu.instrEsp;
      throw new CpuFault(Vec_GP, 0);
    }
    // IF and IOPL are untouched; the popped IF goes to VIF.
    const mask = 0xffff & ~(FLAG_IF | FLAG_IOPL);
    cpu.setEflags((v & mask) | (v & FLAG_IF ? FLAG_VIF : 0), mask | FLAG_VIF);
    return;
  }
  const v = o32 ? cpu.pop32() : cpu.pop16();
  let mask = o32 ? EFLAGS_WRITABLE & ~(FLAG_VM | FLAG_VIF | FLAG_VIP) : 0xffff;
  if (isProtected(cpu)) {
    if (v86) mask &= ~FLAG_IOPL;
    else {
      if (cpu.cpl > 0) mask &= ~FLAG_IOPL;
      if (cpu.cpl > iopl(cpu)) mask &= ~FLAG_IF;
    }
  }
  // RF is cleared by POPF.
  cpu.setEflags(v & ~FLAG_RF, mask | FLAG_RF);
}

/** CLI/STI: IOPL-sensitive in protected and v86 mode; VME/PVI redirect to VIF. */
function setInterruptFlag(cpu: Cpu, enable: boolean): void {
  let bit = FLAG_IF;
  if (isProtected(cpu)) {
    const v86 = isV86(cpu);
    const cpl = v86 ? 3 : cpu.cpl;
    if (iopl(cpu) < cpl) {
      const virtual = v86 ? (cpu.cr4 & CR4_VME) !== 0 : cpl === 3 && (cpu.cr4 & CR4_PVI) !== 0;
      if (!virtual) throw new CpuFault(Vec_GP, 0);
      if (enable && cpu.flagsReg & FLAG_VIP) throw new CpuFault(Vec_GP, 0);
      bit = FLAG_VIF;
    }
  }
  if (enable) {
    // STI delays recognition of interrupts until after the next instruction.
    if (bit === FLAG_IF && (cpu.flagsReg & FLAG_IF) === 0) cpu.interruptShadow = true;
    cpu.flagsReg |= bit;
  } else cpu.flagsReg &= ~bit;
}

export function installData(t: OpTable): void {
  t[0x88] = (cpu) => {
    cpu.decodeModrm();
    cpu.writeRm8(cpu.getReg8(cpu.regField));
  };
  t[0x89] = (cpu) => {
    cpu.decodeModrm();
    cpu.writeRmV(cpu.getRegV(cpu.regField));
  };
  t[0x8a] = (cpu) => {
    cpu.decodeModrm();
    cpu.setReg8(cpu.regField, cpu.readRm8());
  };
  t[0x8b] = (cpu) => {
    cpu.decodeModrm();
    cpu.setRegV(cpu.regField, cpu.readRmV());
  };
  t[0x8c] = (cpu) => {
    cpu.decodeModrm();
    const sreg = cpu.regField;
    if (sreg > 5) throw new CpuFault(Vec_UD);
    // To a register with a 32-bit operand size the selector is zero-extended; to memory it is always 16 bits.
    if (cpu.modIsReg) cpu.setRegV(cpu.modrm & 7, cpu.segSel[sreg]);
    else cpu.writeRm16(cpu.segSel[sreg]);
  };
  t[0x8e] = (cpu) => {
    cpu.decodeModrm();
    const sreg = cpu.regField;
    if (sreg === Seg_CS || sreg > 5) throw new CpuFault(Vec_UD);
    loadSreg(cpu, sreg, cpu.readRm16());
  };
  t[0x8d] = (cpu) => {
    cpu.decodeModrm();
    cpu.requireMemory();
    cpu.setRegV(cpu.regField, cpu.eaOff);
  };
  t[0xc6] = (cpu) => {
    cpu.decodeModrm();
    if (cpu.regField !== 0) throw new CpuFault(Vec_UD);
    // The immediate follows the ModR/M bytes: decode it before the write can fault.
    cpu.writeRm8(cpu.fetch8());
  };
  t[0xc7] = (cpu) => {
    cpu.decodeModrm();
    if (cpu.regField !== 0) throw new CpuFault(Vec_UD);
    cpu.writeRmV(cpu.fetchImm());
  };
  for (let r = 0; r < 8; r++) {
    t[0xb0 + r] = (cpu) => cpu.setReg8(r, cpu.fetch8());
    t[0xb8 + r] = (cpu) => cpu.setRegV(r, cpu.fetchImm());
    t[0x50 + r] = (cpu) => {
      // PUSH ESP pushes the value before the push (286+).
      pushV(cpu, cpu.getRegV(r));
    };
    t[0x58 + r] = (cpu) => {
      const v = cpu.o32 ? cpu.pop32() : cpu.pop16();
      cpu.setRegV(r, v);
    };
  }
  t[0xa0] = (cpu) => {
    cpu.reg8[0] = cpu.readSeg8(cpu.dataSeg, moffs(cpu));
  };
  t[0xa1] = (cpu) => {
    const off = moffs(cpu);
    cpu.setRegV(Reg_EAX, cpu.o32 ? cpu.readSeg32(cpu.dataSeg, off) : cpu.readSeg16(cpu.dataSeg, off));
  };
  t[0xa2] = (cpu) => cpu.writeSeg8(cpu.dataSeg, moffs(cpu), cpu.reg8[0]);
  t[0xa3] = (cpu) => {
    const off = moffs(cpu);
    if (cpu.o32) cpu.writeSeg32(cpu.dataSeg, off, cpu.reg32[Reg_EAX]);
    else cpu.writeSeg16(cpu.dataSeg, off, cpu.reg16[0]);
  };
  t[0xd7] = (cpu) => {
    const base = cpu.a32 ? cpu.reg32[Reg_EBX] : cpu.reg16[Reg_EBX * 2];
    const off = cpu.a32 ? (base + cpu.reg8[0]) | 0 : (base + cpu.reg8[0]) & 0xffff;
    cpu.reg8[0] = cpu.readSeg8(cpu.dataSeg, off);
  };

  t[0x68] = (cpu) => pushV(cpu, cpu.fetchImm());
  t[0x6a] = (cpu) => pushV(cpu, cpu.fetchS8());
  t[0x8f] = (cpu) => {
    // POP r/m: the value is popped first, so an ESP-based address uses the incremented ESP.
    const modrm = cpu.fetch8();
    cpu.eip--;
    if (((modrm >> 3) & 7) !== 0) throw new CpuFault(Vec_UD);
    const v = cpu.o32 ? cpu.pop32() : cpu.pop16();
    cpu.decodeModrm();
    cpu.writeRmV(v);
  };
  t[0x60] = (cpu) => {
    const r = cpu.o32 ? cpu.reg32 : null;
    const sp = cpu.o32 ? cpu.reg32[Reg_ESP] : cpu.reg16[Reg_ESP * 2];
    for (let i = 0; i < 8; i++) {
      const v = i === Reg_ESP ? sp : r ? r[i] : cpu.reg16[i * 2];
      pushV(cpu, v);
    }
  };
  t[0x61] = (cpu) => {
    // Read all eight first so a fault leaves every register intact; the ESP slot is skipped.
    const vals = popaValues;
    for (let i = 7; i >= 0; i--) vals[i] = cpu.o32 ? cpu.pop32() : cpu.pop16();
    for (let i = 0; i < 8; i++) if (i !== Reg_ESP) cpu.setRegV(i, vals[i]);
  };

  // Segment register push/pop: 06/07 ES, 0E CS, 16/17 SS, 1E/1F DS, 0F A0/A1 FS, 0F A8/A9 GS.
  const pushSeg = (seg: number) => (cpu: Cpu) => {
    if (cpu.o32) {
      // A 32-bit push of a selector writes only the low word (P6 and later).
      const esp = cpu.stackAdd(-4);
      cpu.writeSeg16(Seg_SS, cpu.stackOffset(esp), cpu.segSel[seg]);
      cpu.reg32[Reg_ESP] = esp;
    } else cpu.push16(cpu.segSel[seg]);
  };
  const popSeg = (seg: number) => (cpu: Cpu) => {
    const v = cpu.o32 ? cpu.pop32() & 0xffff : cpu.pop16();
    loadSreg(cpu, seg, v);
  };
  t[0x06] = pushSeg(Seg_ES);
  t[0x07] = popSeg(Seg_ES);
  t[0x0e] = pushSeg(Seg_CS);
  t[0x16] = pushSeg(Seg_SS);
  t[0x17] = popSeg(Seg_SS);
  t[0x1e] = pushSeg(Seg_DS);
  t[0x1f] = popSeg(Seg_DS);
  t[0x1a0] = pushSeg(Seg_FS);
  t[0x1a1] = popSeg(Seg_FS);
  t[0x1a8] = pushSeg(Seg_GS);
  t[0x1a9] = popSeg(Seg_GS);

  t[0xc4] = (cpu) => loadFarPointer(cpu, Seg_ES);
  t[0xc5] = (cpu) => loadFarPointer(cpu, Seg_DS);
  t[0x1b2] = (cpu) => loadFarPointer(cpu, Seg_SS);
  t[0x1b4] = (cpu) => loadFarPointer(cpu, Seg_FS);
  t[0x1b5] = (cpu) => loadFarPointer(cpu, Seg_GS);

  t[0x9c] = pushf;
  t[0x9d] = popf;
  t[0xfa] = (cpu) => setInterruptFlag(cpu, false);
  t[0xfb] = (cpu) => setInterruptFlag(cpu, true);
  t[0xfc] = (cpu) => {
    cpu.flagsReg &= ~FLAG_DF;
  };
  t[0xfd] = (cpu) => {
    cpu.flagsReg |= FLAG_DF;
  };
}

const popaValues = new Int32Array(8);
