// System instructions: descriptor tables (0F 00 / 0F 01 groups), LAR/LSL/ARPL,
// MOV CRn/DRn, CLTS, INVD/WBINVD/INVLPG, HLT, CPUID, RDTSC/RDMSR/WRMSR/RDPMC,
// SYSENTER/SYSEXIT, UD2, the firmware hypercall, and the x87 escapes (#NM checks,
// then the FPU unit), WAIT, FXSAVE/FXRSTOR.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import {
  CR0_EM as CR0_EM_,
  CR0_MP as CR0_MP_,
  CR0_PE as CR0_PE_,
  CR0_TS as CR0_TS_,
  CR4_PCE as CR4_PCE_,
  CpuFault,
  FLAG_VM as FLAG_VM_,
  FLAG_ZF as FLAG_ZF_,
  Reg,
  Seg,
  Vec,
} from './state';
import {
  cpuid,
  lar,
  lldt,
  lsl,
  ltr,
  rdmsr,
  rdtsc,
  readCr,
  readDr,
  sysenter,
  sysexit,
  verr,
  verw,
  writeCr,
  writeDr,
  wrmsr,
} from './system/index';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_EAX = Reg.EAX;
const Reg_ECX = Reg.ECX;
const Reg_EDX = Reg.EDX;
const Seg_CS = Seg.CS;
const Seg_LDTR = Seg.LDTR;
const Seg_TR = Seg.TR;
const Vec_GP = Vec.GP;
const Vec_NM = Vec.NM;
const Vec_UD = Vec.UD;
const CR0_EM = CR0_EM_;
const CR0_MP = CR0_MP_;
const CR0_PE = CR0_PE_;
const CR0_TS = CR0_TS_;
const CR4_PCE = CR4_PCE_;
const FLAG_VM = FLAG_VM_;
const FLAG_ZF = FLAG_ZF_;

/** Physical range from which 0F 3F ib reaches the built-in BIOS. */
const BIOS_AREA_START = 0xe0000;
const BIOS_AREA_END = 0xfffff;

function inProtectedMode(cpu: Cpu): boolean {
  return (cpu.cr0 & CR0_PE) !== 0 && (cpu.flagsReg & FLAG_VM) === 0;
}

/** CPL 0 required: #GP(0) at CPL > 0 and in v86 mode. */
function requireRing0(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) !== 0 && (cpu.cpl !== 0 || (cpu.flagsReg & FLAG_VM) !== 0)) throw new CpuFault(Vec_GP, 0);
}

/** Instructions that exist only in protected mode: #UD in real and v86 mode. */
function requireProtectedMode(cpu: Cpu): void {
  if (!inProtectedMode(cpu)) throw new CpuFault(Vec_UD);
}

/** 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW. */
function group0F00(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  if (op > 5) throw new CpuFault(Vec_UD);
  requireProtectedMode(cpu);
  switch (op) {
    case 0:
    case 1: {
      const sel = cpu.segSel[op === 0 ? Seg_LDTR : Seg_TR];
      // To a register with 32-bit operand size the selector is zero-extended.
      if (cpu.modIsReg) cpu.setRegV(cpu.modrm & 7, sel);
      else cpu.writeRm16(sel);
      return;
    }
    case 2:
    case 3: {
      requireRing0(cpu);
      const sel = cpu.readRm16();
      if (op === 2) lldt(cpu, sel);
      else ltr(cpu, sel);
      return;
    }
    default: {
      const sel = cpu.readRm16();
      const ok = op === 4 ? verr(cpu, sel) : verw(cpu, sel);
      cpu.setFlagBits(FLAG_ZF, ok ? FLAG_ZF : 0);
    }
  }
}

/** 0F 01: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG. */
function group0F01(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  switch (op) {
    case 0:
    case 1: {
      cpu.requireMemory();
      const base = op === 0 ? cpu.gdtrBase : cpu.idtrBase;
      const limit = op === 0 ? cpu.gdtrLimit : cpu.idtrLimit;
      const off = cpu.eaOff;
      cpu.probeWrite(cpu.segAddr(cpu.eaSeg, off, 6, true), 6);
      cpu.writeSeg16(cpu.eaSeg, off, limit);
      // A 16-bit operand size stores a 24-bit base with a zero top byte.
      cpu.writeSeg32(cpu.eaSeg, cpu.a32 ? (off + 2) | 0 : (off + 2) & 0xffff, cpu.o32 ? base : base & 0xffffff);
      return;
    }
    case 2:
    case 3: {
      cpu.requireMemory();
      requireRing0(cpu);
      const off = cpu.eaOff;
      const limit = cpu.readSeg16(cpu.eaSeg, off);
      let base = cpu.readSeg32(cpu.eaSeg, cpu.a32 ? (off + 2) | 0 : (off + 2) & 0xffff);
      if (!cpu.o32) base &= 0xffffff;
      if (op === 2) {
        cpu.gdtrBase = base;
        cpu.gdtrLimit = limit;
      } else {
        cpu.idtrBase = base;
        cpu.idtrLimit = limit;
      }
      return;
    }
    case 4:
      // SMSW: to a register the whole CR0 (32-bit operand) or its low word; to memory 16 bits.
      if (cpu.modIsReg) cpu.setRegV(cpu.modrm & 7, cpu.cr0);
      else cpu.writeRm16(cpu.cr0 & 0xffff);
      return;
    case 6: {
      requireRing0(cpu);
      const v = cpu.readRm16();
      // LMSW changes PE, MP, EM, TS; it can set PE but never clear it.
      const cr0 = (cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE);
      writeCr(cpu, 0, cr0);
      cpu.updateModeCaches();
      return;
    }
    case 7:
      cpu.requireMemory();
      requireRing0(cpu);
      cpu.invlpg((cpu.segBase[cpu.eaSeg] + cpu.eaOff) | 0);
      return;
    default:
      throw new CpuFault(Vec_UD);
  }
}

function larLsl(cpu: Cpu, limit: boolean): void {
  requireProtectedMode(cpu);
  cpu.decodeModrm();
  const sel = cpu.readRm16();
  const v = limit ? lsl(cpu, sel) : lar(cpu, sel);
  if (v === null) cpu.setFlagBits(FLAG_ZF, 0);
  else {
    cpu.setRegV(cpu.regField, v);
    cpu.setFlagBits(FLAG_ZF, FLAG_ZF);
  }
}

function arpl(cpu: Cpu): void {
  requireProtectedMode(cpu);
  cpu.decodeModrm();
  const dst = cpu.readRmw16();
  const src = cpu.reg16[cpu.regField << 1];
  if ((dst & 3) < (src & 3)) {
    cpu.writeRmw16((dst & ~3) | (src & 3));
    cpu.setFlagBits(FLAG_ZF, FLAG_ZF);
  } else cpu.setFlagBits(FLAG_ZF, 0);
}

/** MOV to/from CRn/DRn: the r/m field is always a register, the operand always 32 bits. */
function movControl(cpu: Cpu, toCpu: boolean, debug: boolean): void {
  const modrm = cpu.fetch8();
  const n = (modrm >> 3) & 7;
  const gpr = modrm & 7;
  if (toCpu) {
    const v = cpu.reg32[gpr];
    if (debug) writeDr(cpu, n, v);
    else writeCr(cpu, n, v);
    cpu.updateModeCaches();
  } else cpu.reg32[gpr] = debug ? readDr(cpu, n) : readCr(cpu, n);
}

/** D8-DF: x87 escape. CR0.EM or CR0.TS make it #NM so an OS can emulate or switch FPU state. */
function fpuEscape(cpu: Cpu, op: number): void {
  if (cpu.cr0 & (CR0_EM | CR0_TS)) throw new CpuFault(Vec_NM);
  cpu.decodeModrm();
  const mem = !cpu.modIsReg;
  cpu.fpu.execute(cpu, op, cpu.modrm, mem ? cpu.eaSeg : 0, mem ? cpu.eaOff : 0, cpu.o32, cpu.segSel[Seg_CS], cpu.instrEip);
}

function fxsaveGroup(cpu: Cpu): void {
  cpu.decodeModrm();
  const op = cpu.regField;
  if (op > 1 || cpu.modIsReg) throw new CpuFault(Vec_UD);
  if (cpu.cr0 & (CR0_EM | CR0_TS)) throw new CpuFault(Vec_NM);
  const lin = (cpu.segBase[cpu.eaSeg] + cpu.eaOff) | 0;
  if (lin & 15) throw new CpuFault(Vec_GP, 0);
  if (op === 0) cpu.fpu.fxsave(cpu, cpu.eaSeg, cpu.eaOff);
  else cpu.fpu.fxrstor(cpu, cpu.eaSeg, cpu.eaOff);
}

function hypercall(cpu: Cpu): void {
  const n = cpu.fetch8();
  const handler = cpu.bus.hypercall;
  const phys = cpu.linearToPhysical((cpu.segBase[Seg_CS] + cpu.instrEip) | 0);
  if (!handler || phys < BIOS_AREA_START || phys > BIOS_AREA_END) throw new CpuFault(Vec_UD);
  handler(n);
  cpu.updateModeCaches();
}

export function installSystem(t: OpTable): void {
  t[0x100] = group0F00;
  t[0x101] = group0F01;
  t[0x102] = (cpu) => larLsl(cpu, false);
  t[0x103] = (cpu) => larLsl(cpu, true);
  t[0x63] = arpl;
  t[0x106] = (cpu) => {
    requireRing0(cpu);
    cpu.cr0 &= ~CR0_TS;
  };
  // INVD / WBINVD: there are no caches to write back or drop.
  t[0x108] = t[0x109] = (cpu) => requireRing0(cpu);
  t[0x10b] = () => {
    throw new CpuFault(Vec_UD);
  };
  // 0F 1F /0: the P6 multi-byte NOP (decodes its ModR/M, touches nothing).
  t[0x11f] = (cpu) => cpu.decodeModrm();
  t[0x120] = (cpu) => movControl(cpu, false, false);
  t[0x121] = (cpu) => movControl(cpu, false, true);
  t[0x122] = (cpu) => movControl(cpu, true, false);
  t[0x123] = (cpu) => movControl(cpu, true, true);
  t[0x130] = (cpu) => {
    wrmsr(cpu);
    cpu.updateModeCaches();
  };
  t[0x131] = (cpu) => rdtsc(cpu);
  t[0x132] = (cpu) => rdmsr(cpu);
  t[0x133] = (cpu) => {
    // RDPMC: two counters, which this model never advances.
    if ((cpu.cr0 & CR0_PE) !== 0 && cpu.cpl !== 0 && (cpu.cr4 & CR4_PCE) === 0) throw new CpuFault(Vec_GP, 0);
    if ((cpu.reg32[Reg_ECX] >>> 0) > 1) throw new CpuFault(Vec_GP, 0);
    cpu.reg32[Reg_EAX] = 0;
    cpu.reg32[Reg_EDX] = 0;
  };
  t[0x134] = (cpu) => {
    sysenter(cpu);
    cpu.updateModeCaches();
  };
  t[0x135] = (cpu) => {
    sysexit(cpu);
    cpu.updateModeCaches();
  };
  t[0x13f] = hypercall;
  t[0x1a2] = (cpu) => cpuid(cpu);
  t[0x1ae] = fxsaveGroup;
  t[0xf4] = (cpu) => {
    requireRing0(cpu);
    cpu.halted = true;
  };
  for (let op = 0; op < 8; op++) t[0xd8 + op] = (cpu) => fpuEscape(cpu, op);
  t[0x9b] = (cpu) => {
    // WAIT: #NM only when both MP and TS are set; then any pending x87 exception.
    if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new CpuFault(Vec_NM);
    cpu.fpu.checkPending(cpu);
  };
}
