// Why a vector recorded on a 286/8086 legitimately fails on an i686. Used only by
// build-exclusions.ts to (re)generate exclusions.json; the runner itself never
// classifies — it reads the checked-in list. Each rule is narrow and checks the
// vector's own data plus what the i686 did (first fault vector, differing fields).
import type { VectorTest } from './moo';
import { LOCKABLE } from '../../engine/cpu/dispatch';

export interface Observed {
  /** Vector of the first fault the CPU raised, or -1. */
  firstFault: number;
  /** The comparison message (null = passed). */
  error: string;
}

export interface Category {
  key: string;
  reason: string;
}

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3]);
const STRING_OPS = new Set([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

export const CATEGORIES = {
  lock: {
    key: 'lock',
    reason: 'LOCK prefix on an instruction or operand that cannot be locked: #UD on the 386 and later, ignored by the 286/8086',
  },
  length: {
    key: 'length',
    reason: 'instruction longer than 10 bytes (stacked prefixes): #GP on the 286, legal up to 15 bytes on the 386 and later',
  },
  stackWrap: {
    key: 'stackWrap',
    reason: 'stack operand crossing offset FFFF: the 286 raises #GP, a 386+ raises #SS for SS-relative accesses',
  },
  stringIndex: {
    key: 'stringIndex',
    reason: 'string instruction faulting at offset FFFF: the 286 has already stepped SI/DI; on a 386+ the fault is restartable with SI/DI/CX unchanged',
  },
  popFault: {
    key: 'popFault',
    reason: 'POP r/m faulting on its destination: the 286 has already incremented SP, a 386+ fault restores it (restartable)',
  },
  fsgs: {
    key: 'fsgs',
    reason: 'MOV to/from Sreg 4/5: FS and GS exist on the 386 and later (#UD on the 286)',
  },
  pushSp: {
    key: 'pushSp',
    reason: 'PUSH SP: the 8086 pushes the decremented SP, the 286 and later push the value before the push',
  },
  divNextIp: {
    key: 'divNextIp',
    reason: 'divide error: the 8086 pushes the address of the next instruction, the 286 and later the faulting one',
  },
  segWrap8086: {
    key: 'segWrap8086',
    reason: 'word operand at offset FFFF: the 8086 wraps within the segment, a 386+ raises #GP/#SS',
  },
  idivQuotient: {
    key: 'idivQuotient',
    reason: 'IDIV with a quotient of exactly -80h/-8000h: #DE on the 8086, a valid result on the 286 and later',
  },
  repIdiv: {
    key: 'repIdiv',
    reason: 'REP/REPNE prefix on IDIV: the 8086 negates the quotient, later CPUs ignore the prefix',
  },
  idiv286: {
    key: 'idiv286',
    reason: 'IDIV whose quotient does not fit: the 286 misses some of these overflows and stores a truncated quotient; the 386+ raises #DE',
  },
  aam0: {
    key: 'aam0',
    reason: 'AAM 0: the 286 updates SF/ZF/PF before raising #DE; on the 386+ the fault leaves FLAGS unchanged',
  },
  undefinedGroup: {
    key: 'undefinedGroup',
    reason: 'C6/C7 with ModR/M reg != 0 is #UD on the 386+; the 286 decodes it as MOV (here hitting its 10-byte length limit, #GP)',
  },
  farRegUd: {
    key: 'farRegUd',
    reason: 'CALL/JMP far with a register operand (#UD): the 286 pushes a wrong CS in the #UD frame; a 386+ pushes the CS of the instruction',
  },
  sregAlias8086: {
    key: 'sregAlias8086',
    reason: 'MOV with Sreg field 4-7: the 8086 decodes only 2 bits (aliases of ES-DS); on the 386+ 4/5 are FS/GS and 6/7 are #UD',
  },
  bcd8086: {
    key: 'bcd8086',
    reason: 'DAA/DAS/AAA/AAS: the 8086 adjusts differently (AAA/AAS change AH by 1 without the AL carry, DAA/DAS flag quirks); the 286 vectors for these opcodes all pass',
  },
  shiftCount8086: {
    key: 'shiftCount8086',
    reason: 'shift/rotate by CL > 31: the 8086 uses the whole count, the 186 and later mask it to 5 bits',
  },
} satisfies Record<string, Category>;

/** Would an i686 accept LOCK on this instruction (memory destination of a lockable opcode)? */
function lockLegal(bytes: number[], i: number): boolean {
  const op = bytes[i] === 0x0f ? 0x100 | bytes[i + 1] : bytes[i];
  const modrm = bytes[i] === 0x0f ? bytes[i + 2] : bytes[i + 1];
  const allowed = LOCKABLE[op];
  return allowed !== 0 && modrm < 0xc0 && (allowed & (1 << ((modrm >> 3) & 7))) !== 0;
}

function opcodeIndex(bytes: number[]): number {
  let i = 0;
  while (i < bytes.length && PREFIXES.has(bytes[i])) i++;
  return i;
}

export function classify286(t: VectorTest, o: Observed): Category | null {
  const i = opcodeIndex(t.bytes);
  const op = t.bytes[i];
  const hasLock = t.bytes.slice(0, i).includes(0xf0);
  const expected = t.exception?.vector ?? -1;
  if (hasLock && o.firstFault === 6 && !lockLegal(t.bytes, i)) return CATEGORIES.lock;
  const reg = (t.bytes[i + 1] >> 3) & 7;
  if ((op === 0xf6 || op === 0xf7) && reg === 7 && expected === -1 && o.firstFault === 0) return CATEGORIES.idiv286;
  if (op === 0xd4 && t.bytes[i + 1] === 0 && expected === 0 && o.firstFault === 0 && /^flags=/.test(o.error)) return CATEGORIES.aam0;
  if (op === 0xff && (reg === 3 || reg === 5) && t.bytes[i + 1] >= 0xc0 && expected === 6 && o.firstFault === 6) return CATEGORIES.farRegUd;
  if ((op === 0xc6 || op === 0xc7) && reg !== 0 && expected === 13 && o.firstFault === 6) return CATEGORIES.undefinedGroup;
  // BYTS includes the trailing HLT.
  if (t.bytes.length - 1 > 10 && expected === 13 && o.firstFault !== 13) return CATEGORIES.length;
  if (expected === 13 && o.firstFault === 12) return CATEGORIES.stackWrap;
  if (STRING_OPS.has(op) && expected === 13 && o.firstFault === 13 && /^((si|di|cx)=\S+ want \S+(, )?)+$/.test(o.error)) return CATEGORIES.stringIndex;
  if (op === 0x8f && expected >= 0 && o.firstFault === expected) return CATEGORIES.popFault;
  if ((op === 0x8c || op === 0x8e) && [4, 5].includes((t.bytes[i + 1] >> 3) & 7) && expected === 6) return CATEGORIES.fsgs;
  return null;
}

export function classify8086(t: VectorTest, o: Observed): Category | null {
  const i = opcodeIndex(t.bytes);
  const op = t.bytes[i];
  const modrm = t.bytes[i + 1];
  if ((op === 0xff && modrm === 0xf4) || op === 0x54) return CATEGORIES.pushSp;
  if ((op === 0x8c || op === 0x8e) && ((modrm >> 3) & 7) >= 4) return CATEGORIES.sregAlias8086;
  if ([0x27, 0x2f, 0x37, 0x3f].includes(op)) return CATEGORIES.bcd8086;
  const cl = (t.initial.regs.cx ?? 0) & 0xff;
  if ((op === 0xd2 || op === 0xd3) && cl > 31) return CATEGORIES.shiftCount8086;
  const idiv = (op === 0xf6 || op === 0xf7) && ((modrm >> 3) & 7) === 7;
  if (idiv && t.bytes.slice(0, i).some((b) => b === 0xf2 || b === 0xf3)) return CATEGORIES.repIdiv;
  if (o.firstFault === 0) return CATEGORIES.divNextIp;
  // The vectors that take a divide error carry the IVT entry (addresses 0-3) in their RAM.
  const expectsDivideError = t.initial.ram.some(([a]) => a < 4);
  if (idiv && expectsDivideError && o.firstFault === -1) return CATEGORIES.idivQuotient;
  if (o.firstFault === 12 || o.firstFault === 13) return CATEGORIES.segWrap8086;
  const hasLock = t.bytes.slice(0, i).includes(0xf0);
  if (hasLock && o.firstFault === 6) return CATEGORIES.lock;
  return null;
}
