// SingleStepTests 80286 real-mode vectors: the instruction under test followed by
// HLT; run until a HLT executes (after the instruction, at a jump target, or in
// an exception handler), then compare registers and RAM.
import type { FileResult } from './exclusions';
import type { Harness } from './harness';
import { clearTouched, loadRealModeRegs, writeRam } from './harness';
import { compareState } from './compare';
import type { VectorTest } from './moo';

/** A runaway test (no HLT reached) gives up after this many instructions. */
const INSTRUCTION_GUARD = 200;

export function run286Test(h: Harness, t: VectorTest, flagsMask: number, opcode: string): string | null {
  clearTouched(h);
  // Bits 12-15 of the recorded initial FLAGS came from LOADALL and never exist in real mode.
  loadRealModeRegs(h, t.initial.regs, (t.initial.regs.flags ?? 0) & 0x0fff);
  writeRam(h, t.initial.ram);
  for (const [a] of t.final.ram) h.touched.push(a);
  let budget = INSTRUCTION_GUARD;
  while (!h.cpu.halted && !h.shutdownReason && budget > 0) budget -= Math.max(1, h.cpu.run(Math.min(budget, 1000)));
  if (!h.cpu.halted) return 'did not reach HLT';
  // POPF/IRET load IOPL/NT on a 386+ (the 286 keeps them 0 in real mode).
  const mask = opcode === '9D' || opcode === 'CF' ? flagsMask & 0x0fff : flagsMask;
  // The FLAGS image of the exception frame is at SS:SP+4 after delivery. (EXCP.flag_address
  // is that address rounded down to even, which is off by one when SP is odd.)
  const ss = t.final.regs.ss ?? t.initial.regs.ss ?? 0;
  const sp = t.final.regs.sp ?? t.initial.regs.sp ?? 0;
  const frameFlags = (ss << 4) + ((sp + 4) & 0xffff);
  return compareState(h, t.initial.regs, t.final.regs, t.final.ram, {
    flagsMask: mask,
    pushedFlags: t.exception ? [frameFlags] : [],
    pushedFlagsMask: mask,
  });
}

export function run286File(h: Harness, tests: VectorTest[], flagsMask: number, file: string, result: FileResult): void {
  const opcode = file.split('.')[0];
  for (const t of tests) result.record(String(t.idx), run286Test(h, t, flagsMask, opcode));
}
