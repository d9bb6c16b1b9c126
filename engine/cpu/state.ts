// Architectural state of the i686 core, shared by every part of engine/cpu.
// Behaviour lives elsewhere: the interpreter (cpu.ts and friends), the system
// layer (engine/cpu/system/: segmentation, gates, interrupts, tasks, paging, MSRs)
// and the x87 unit (engine/cpu/fpu/). Keeping the fields in one place lets those
// parts be written and reviewed separately while agreeing on one layout.

/** General registers, in ModR/M encoding order. */
export const enum Reg {
  EAX = 0,
  ECX = 1,
  EDX = 2,
  EBX = 3,
  ESP = 4,
  EBP = 5,
  ESI = 6,
  EDI = 7,
}

/** Segment-cache slots: the six segment registers in Sreg encoding order, then LDTR and TR. */
export const enum Seg {
  ES = 0,
  CS = 1,
  SS = 2,
  DS = 3,
  FS = 4,
  GS = 5,
  LDTR = 6,
  TR = 7,
}

// EFLAGS bits.
export const FLAG_CF = 1 << 0;
export const FLAG_BIT1 = 1 << 1; // always reads 1
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_TF = 1 << 8;
export const FLAG_IF = 1 << 9;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
export const FLAG_IOPL = 3 << 12;
export const FLAG_NT = 1 << 14;
export const FLAG_RF = 1 << 16;
export const FLAG_VM = 1 << 17;
export const FLAG_AC = 1 << 18;
export const FLAG_VIF = 1 << 19;
export const FLAG_VIP = 1 << 20;
export const FLAG_ID = 1 << 21;
/** The six arithmetic flags that the lazy-flags machinery computes. */
export const ARITH_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

// CR0 bits.
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

// CR4 bits (PAE is not offered: CPUID does not report it).
export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;

/** Exception vectors. */
export const enum Vec {
  DE = 0,
  DB = 1,
  NMI = 2,
  BP = 3,
  OF = 4,
  BR = 5,
  UD = 6,
  NM = 7,
  DF = 8,
  TS = 10,
  NP = 11,
  SS = 12,
  GP = 13,
  PF = 14,
  MF = 16,
  AC = 17,
  MC = 18,
}

/** No error code pushed for this exception. */
export const NO_ERROR_CODE = -1;

/**
 * Thrown (never returned) by any part of the core to raise a processor exception.
 * The interpreter catches it at the instruction boundary, restores the state the
 * instruction started with (faults are restartable), and delivers the exception.
 */
export class CpuFault {
  constructor(
    readonly vector: number,
    readonly errorCode: number = NO_ERROR_CODE,
  ) {}
}

/**
 * Segment descriptor cache layout (segAccess): bits 0-7 are the descriptor's access
 * byte (type, S, DPL, P), bits 8-11 its flags nibble (AVL, L, D/B, G) — i.e. bits
 * 40-55 of the descriptor. Real-mode and v86 loads set present, writable data
 * (or code for CS) with DPL 0 (3 in v86) and a 0xFFFF limit.
 */
export const SEG_ACCESS_P = 0x80;
export const SEG_ACCESS_S = 0x10;
export const SEG_ACCESS_DB = 0x400;
export const SEG_ACCESS_G = 0x800;

/** Why an interrupt or exception is being delivered: it decides privilege checks and EIP pushed. */
export const enum EventKind {
  /** External interrupt (INTR) or NMI. */
  External = 0,
  /** INT n / INT3 / INTO / INT1 (ICEBP): software, DPL checked against CPL. */
  Software = 1,
  /** A processor exception (fault, trap or abort). */
  Exception = 2,
}

export class CpuRegisters {
  /** EAX..EDI. reg16 and reg8 alias it: reg8 index 0,4,8,12 = AL,CL,DL,BL; 1,5,9,13 = AH,CH,DH,BH. */
  readonly reg32 = new Int32Array(8);
  readonly reg16 = new Uint16Array(this.reg32.buffer);
  readonly reg8 = new Uint8Array(this.reg32.buffer);

  /** Offset in CS of the next instruction to execute (not a linear address). */
  eip = 0;

  /** Segment caches, indexed by Seg. Limits are byte-granular (G already applied). */
  readonly segSel = new Uint16Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLimit = new Uint32Array(8);
  readonly segAccess = new Uint16Array(8);

  gdtrBase = 0;
  gdtrLimit = 0;
  idtrBase = 0;
  idtrLimit = 0;

  /** Current privilege level (CS.RPL in protected mode, 3 in v86, 0 in real mode). */
  cpl = 0;

  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  /** DR0-DR7 (DR4/DR5 alias DR6/DR7 when CR4.DE is clear). */
  readonly dr = new Int32Array(8);

  // Model-specific registers that guests touch.
  tscOffset = 0; // TSC = clock-derived count + tscOffset (WRMSR 0x10 adjusts the offset)
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  apicBase = 0xfee00900; // BSP, enabled, default base
  /** Other MSRs written by the guest (MTRRs, PAT, misc) kept verbatim by number. */
  readonly msrs = new Map<number, bigint>();

  // Pending external events and instruction-boundary state.
  halted = false;
  nmiPending = false;
  /** Set while an NMI handler runs, until the next IRET. */
  nmiBlocked = false;
  /** Interrupt shadow after STI / MOV SS / POP SS: no INTR/NMI/#DB before the next instruction ends. */
  interruptShadow = false;

  /** Instructions retired since power-on (a float64; exact up to 2^53). */
  instructionCount = 0;

  /** A local APIC is wired to this CPU (the machine sets it): CPUID reports APIC only then. */
  apicPresent = false;
  /**
   * Called after WRMSR changed IA32_APIC_BASE (MSR 0x1B), with the new value. The
   * machine points it at the local APIC (LocalApic.setBaseMsr) so the MMIO window
   * follows relocation and the global enable bit. A hook, not state: never saved.
   */
  onApicBaseWrite: ((value: number) => void) | null = null;
  /**
   * Debug traps recorded during the current instruction, as DR6 bits (B0-B3 from data
   * breakpoints, BT from a task switch into a TSS with the T bit). At the end of the
   * instruction (or event delivery) that set it, before the next instruction runs, the
   * interpreter ORs it into DR6, clears it and delivers #DB as a trap (EventKind.Exception).
   * If the instruction faults instead, the interpreter clears it (the trap is not taken).
   */
  pendingDebugTrap = 0;
}
