// Decoded-block cache: the instruction headers (prefixes + opcode) of straight-line
// runs of guest code, keyed by physical address and code size (CS.D), recorded the
// first time the interpreter executes them, and the seam where a JIT can later take
// hot blocks (BlockExecutor).
//
// What a block holds. For each instruction: its offset from the block start, the
// number of header bytes (prefixes and the one- or two-byte opcode), the opcode
// index into the dispatch table and the prefix state the header produces (operand
// and address size, segment override, REP/REPNE, LOCK). ModR/M, SIB, displacement
// and immediate bytes are not cached: the handlers fetch them from guest memory as
// always, so only header bytes need invalidation, and every header lies inside the
// block's physical page (blocks end at page boundaries). (Pre-decoding the ModR/M
// too was tried: it made decodeModrm too big for V8 to inline into the handlers and
// cost ~10% on bench:cpu, so a JIT should decode operands when it compiles instead.)
//
// Where blocks end: after a control transfer (Jcc, JMP, CALL, RET, LOOP, INT, IRET,
// far transfers), HLT, CLI/STI/POPF, MOV/POP SS and MOV Sreg, system instructions
// (0F 00/01, MOV CRn/DRn, WRMSR, SYSENTER/SYSEXIT, the firmware hypercall...), after
// any instruction that changed the mode caches or flushed the TLB (cpu.blockExit),
// at a page boundary, and after MAX_BLOCK_INSTRUCTIONS.
//
// Invalidation. A page holding blocks is marked in mem.codePages and the CPU keeps no
// TLB entry granting direct writes to it (marking revokes them; translateLin does not
// grant them), so every write to it (CPU, DMA via dmaWrite, firmware) reaches
// PhysicalMemory, which calls onCodeWrite(page): the page's generation is
// bumped (every block recorded under the old generation is dead), the mark is
// cleared (the next slow write refills the TLB entry with write access) and, if the page is the one being
// executed or recorded, the running block stops after the current instruction, so
// self-modifying code inside the executing block works. Reset, a memory-map change
// (A20, PAM, MMIO, memory state load) drop every block. A page invalidated over and
// over (code and data sharing a page) is left uncached for a while (page strikes).

/** Longest block, in instructions. */
export const MAX_BLOCK_INSTRUCTIONS = 64;
/** Direct-mapped lookup table size (a power of two). */
export const BLOCK_TABLE_SIZE = 1 << 16;

// Per instruction, two words of DecodedBlock.code: [2i] offset from the block start,
// [2i+1] the packed header word:
//   bits 0-8   opcode index (0x000-0x0FF one-byte, 0x100-0x1FF 0F xx)
//   bits 9-12  header length (prefixes + opcode bytes, 1..15)
//   bit  13    o32, bit 14 a32
//   bits 15-17 segment override + 1 (0 = none)
//   bits 18-19 REP: 0 none, 1 F2 (REPNE), 2 F3 (REP/REPE)
//   bit  20    LOCK
export const PK_HDR_SHIFT = 9;
export const PK_O32 = 1 << 13;
export const PK_A32 = 1 << 14;
export const PK_SEG_SHIFT = 15;
export const PK_REP_SHIFT = 18;
export const PK_LOCK = 1 << 20;

/** One recorded run of instructions inside one physical page. */
export class DecodedBlock {
  /** Executions so far: a JIT picks hot blocks by this count. */
  executions = 0;
  /**
   * Machine code a JIT attached to this block, or null. Free for a BlockExecutor
   * implementation to use; the interpreter never sets it.
   */
  compiled: unknown = null;

  constructor(
    /** Physical address of the first instruction (unsigned). */
    readonly phys: number,
    /** Physical page number (phys >>> 12). */
    readonly page: number,
    /** Recorded with a 32-bit code segment (CS.D): default operand and address size. */
    readonly codeBig: boolean,
    /** Generation of the page when recorded; the block is live while it matches. */
    readonly gen: number,
    /** Number of instructions. */
    readonly length: number,
    /** Per instruction: [offset from the block start, packed header word]. */
    readonly code: Int32Array,
    /** Offset from the block start of the last cached byte (for the CS limit check). */
    readonly lastCachedByte: number,
  ) {}
}

/**
 * The JIT seam: executes a decoded block. The interpreter (class Cpu, executeBlock)
 * is the only implementation; a JIT would implement this interface, run compiled
 * code for hot blocks (DecodedBlock.executions, DecodedBlock.compiled) and delegate
 * the others to the interpreter, and be installed with cpu.blockExecutor = jit.
 *
 * Contract (what keeps deterministic mode's instruction counts exact):
 *  - On entry CS:EIP is at the block's first instruction, the code size matches
 *    block.codeBig, the block is live, and the instruction-boundary work for the first
 *    instruction (interrupt shadow, NMI/INTR delivery) is already done.
 *  - Execute at most `budget` instructions, in order. For each: set cpu.instrEip and
 *    cpu.instrEsp at its start, check code breakpoints as Cpu.step does, throw CpuFault
 *    to fault (run() rolls back to instrEip/instrEsp and delivers), count it in
 *    cpu.instructionCount when it retires, clear RF, and deliver its single-step or
 *    data-breakpoint trap.
 *  - Between two instructions do exactly what Cpu.run does (clear the interrupt
 *    shadow, or deliver NMI/INTR), and stop when the CPU halted, an event or trap was
 *    delivered, EIP left the block's straight line, or cpu.blockExit was set (page
 *    written, mode caches changed, TLB flushed). If it stops right after doing the
 *    boundary work for the next instruction, it sets cpu.boundaryDone.
 */
export interface BlockExecutor {
  executeBlock(block: DecodedBlock, budget: number): void;
}

/** Opcode indexes after which a block ends (control transfers, mode/IF/TF/SS/CR changes). */
export const ENDS_BLOCK = new Uint8Array(512);
{
  const ends = [
    // Jcc rel8, JMP/CALL/RET near and far, LOOPcc/JCXZ, INT/INTO/INT3/INT1, IRET
    ...range(0x70, 0x7f), ...range(0xe0, 0xe3), 0xe8, 0xe9, 0xea, 0xeb, 0x9a, 0xc2, 0xc3, 0xca, 0xcb,
    0xcc, 0xcd, 0xce, 0xcf, 0xf1,
    // group FF (CALL/JMP near and far), HLT, CLI, STI, POPF, MOV Sreg, POP SS, POP ES/DS
    0xff, 0xf4, 0xfa, 0xfb, 0x9d, 0x8e, 0x17, 0x07, 0x1f,
    // LDS/LES (segment loads), IN/OUT/INS/OUTS (devices may change interrupt state)
    0xc4, 0xc5, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f,
    // 0F: group 6/7, LAR/LSL, CLTS, INVD/WBINVD, MOV CRn/DRn/TRn, WRMSR, RDTSC, RDMSR, RDPMC,
    // SYSENTER/SYSEXIT, hypercall, Jcc rel16/32, POP FS/GS, LSS/LFS/LGS, RSM, CPUID, UD2
    0x100, 0x101, 0x102, 0x103, 0x106, 0x108, 0x109, 0x10b, ...range(0x120, 0x127),
    ...range(0x130, 0x135), 0x13f, ...range(0x180, 0x18f), 0x1a1, 0x1a9, 0x1aa, 0x1a2, 0x1b2, 0x1b4, 0x1b5,
  ];
  for (const op of ends) ENDS_BLOCK[op] = 1;
}

function range(first: number, last: number): number[] {
  const r: number[] = [];
  for (let i = first; i <= last; i++) r.push(i);
  return r;
}

/** Slot of physical address `phys` in the direct-mapped block table. */
export function blockSlot(phys: number): number {
  return (phys ^ (phys >>> 11)) & (BLOCK_TABLE_SIZE - 1);
}
