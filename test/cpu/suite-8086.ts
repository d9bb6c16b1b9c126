// SingleStepTests 8086 vectors: one instruction each (a REP string instruction runs
// all its iterations), on a 20-bit bus. Run with the A20 gate off, which gives an
// i686 the same 1 MiB wrap-around.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { FileResult } from './exclusions';
import type { Harness } from './harness';
import { clearTouched, loadRealModeRegs, writeRam } from './harness';
import { compareState } from './compare';
import type { Regs, VectorTest } from './moo';
import { Seg } from '../../engine/cpu/state';
import type { Metadata } from './metadata';

interface JsonTest {
  name: string;
  bytes: number[];
  initial: { regs: Required<Regs>; ram: [number, number][] };
  final: { regs: Regs; ram: [number, number][] };
  test_num: number;
}

/** Bits 12-15 read as 1 on an 8086; an i686 holds IOPL/NT there. They are never compared. */
const HIGH_FLAGS = 0x0fff;

export function readJsonTests(path: string): VectorTest[] {
  const raw = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as JsonTest[];
  return raw.map((t) => ({ idx: t.test_num, name: t.name, bytes: t.bytes, initial: t.initial, final: t.final }));
}

function isRepString(bytes: number[]): boolean {
  let rep = false;
  for (const b of bytes) {
    if (b === 0xf2 || b === 0xf3) rep = true;
    else if ([0x26, 0x2e, 0x36, 0x3e, 0xf0].includes(b)) continue;
    else return rep && ((b >= 0xa4 && b <= 0xa7) || (b >= 0xaa && b <= 0xaf) || (b >= 0x6c && b <= 0x6f));
  }
  return false;
}

/** Where the instruction pushed a FLAGS image: PUSHF at SS:SP, an interrupt frame at SS:SP+4. */
function pushedFlagsAddress(opcode: number, final: Regs, initial: Regs): number[] {
  const ss = final.ss ?? initial.ss ?? 0;
  const sp = final.sp ?? initial.sp ?? 0;
  const at = (off: number) => (((ss << 4) + ((sp + off) & 0xffff)) & 0xfffff) >>> 0;
  if (opcode === 0x9c) return [at(0)];
  // INT n / INT3 / INTO / divide error: the frame is IP, CS, FLAGS.
  if ((final.cs ?? initial.cs) !== initial.cs || [0xcc, 0xcd, 0xce].includes(opcode)) return [at(4)];
  return [];
}

export function run8086Test(h: Harness, t: VectorTest, flagsMask: number): string | null {
  clearTouched(h);
  h.mem.setA20(false);
  loadRealModeRegs(h, t.initial.regs, (t.initial.regs.flags ?? 0) & HIGH_FLAGS);
  writeRam(h, t.initial.ram);
  for (const [a] of t.final.ram) h.touched.push(a);
  const cpu = h.cpu;
  const startCs = cpu.segSel[Seg.CS];
  const startIp = cpu.eip;
  const rep = isRepString(t.bytes);
  for (let i = 0; i < 64; i++) {
    cpu.singleStep();
    if (!rep || cpu.eip !== startIp || cpu.segSel[Seg.CS] !== startCs || h.shutdownReason) break;
  }
  const opcode = t.bytes.find((b) => ![0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3].includes(b)) ?? 0;
  const mask = flagsMask & HIGH_FLAGS;
  return compareState(h, t.initial.regs, t.final.regs, t.final.ram, {
    flagsMask: mask,
    pushedFlags: pushedFlagsAddress(opcode, t.final.regs, t.initial.regs),
    pushedFlagsMask: mask,
    addressMask: 0xfffff,
  });
}

export function run8086File(h: Harness, tests: VectorTest[], flagsMask: number, result: FileResult): void {
  try {
    for (const t of tests) result.record(String(t.idx), run8086Test(h, t, flagsMask));
  } finally {
    h.mem.setA20(true);
  }
}

/** ModR/M reg field of a one-byte-opcode instruction (after any prefixes). */
function modrmReg(bytes: number[]): number {
  let i = 0;
  while ([0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3].includes(bytes[i])) i++;
  return (bytes[i + 1] >> 3) & 7;
}

/**
 * The vectors of one 8086 JSON file that apply to an i686 (README: status "normal",
 * plus D6 SALC): `tests` is empty and `notRun` says why when the file does not apply.
 * 8F, C6 and C7 mix ModR/M reg values in one file; only their documented /0 forms run.
 */
export function select8086Tests(meta: Metadata, path: string, file: string): { tests: VectorTest[]; notRun: string | null } {
  const name = file.replace('.json.gz', '');
  if (meta.mixesGroup(file)) {
    const all = readJsonTests(path);
    const tests = all.filter((t) => meta.forFile(file, modrmReg(t.bytes))?.status === 'normal');
    return { tests, notRun: `${name} /1-/7 (${all.length - tests.length} undefined-form vectors)` };
  }
  const status = meta.forFile(file)?.status;
  if (status === 'normal' || file.startsWith('D6.')) return { tests: readJsonTests(path), notRun: null };
  return { tests: [], notRun: `${name} (${status})` };
}
