// TSS field access shared by gates, task switches and the I/O permission check.
import type { CpuCore } from '../core';
import { CpuFault, Seg, Vec } from '../state';

/** The current TSS is a 32-bit one (type 9/11 in the TR cache)? */
export const tssIs32 = (cpu: CpuCore): boolean => (cpu.segAccess[Seg.TR] & 8) !== 0;

/**
 * SS:ESP for privilege level `dpl` from the current TSS (inner-stack switch of
 * call gates and interrupts). Outside the TSS limit: #TS(TR selector + EXT).
 */
export function tssStack(cpu: CpuCore, dpl: number, ext: number): { ss: number; esp: number } {
  const base = cpu.segBase[Seg.TR];
  const limit = cpu.segLimit[Seg.TR];
  if (tssIs32(cpu)) {
    const off = 4 + dpl * 8;
    if (off + 5 > limit) throw new CpuFault(Vec.TS, (cpu.segSel[Seg.TR] & 0xfffc) | ext);
    return { esp: cpu.readSys32(base + off), ss: cpu.readSys16(base + off + 4) };
  }
  const off = 2 + dpl * 4;
  if (off + 3 > limit) throw new CpuFault(Vec.TS, (cpu.segSel[Seg.TR] & 0xfffc) | ext);
  return { esp: cpu.readSys16(base + off), ss: cpu.readSys16(base + off + 2) };
}

/** Offset of the I/O permission bitmap (TSS+0x66), or -1 when the TSS cannot have one. */
export function ioMapBase(cpu: CpuCore): number {
  if (!tssIs32(cpu) || cpu.segLimit[Seg.TR] < 0x67 || (cpu.segAccess[Seg.TR] & 0x80) === 0) return -1;
  return cpu.readSys16(cpu.segBase[Seg.TR] + 0x66);
}
