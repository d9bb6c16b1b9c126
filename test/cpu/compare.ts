// Comparing the CPU's real-mode state with a vector's expected state.
import type { Harness } from './harness';
import { readRealModeRegs } from './harness';
import { MOO_REGS, type Regs } from './moo';

export interface CompareOptions {
  /** AND-mask for the FLAGS register. */
  flagsMask: number;
  /** Addresses of pushed FLAGS words (low byte address) compared under pushedFlagsMask. */
  pushedFlags?: number[];
  pushedFlagsMask?: number;
  /** Physical address mask (0xFFFFF for the 8086's 20-bit bus). */
  addressMask?: number;
}

/** Returns null when registers and the listed RAM bytes match, else a description of the first differences. */
export function compareState(h: Harness, initial: Regs, final: Regs, ram: [number, number][], o: CompareOptions): string | null {
  const actual = readRealModeRegs(h);
  const diffs: string[] = [];
  for (const name of MOO_REGS) {
    const want = final[name] ?? initial[name] ?? 0;
    const mask = name === 'flags' ? o.flagsMask : 0xffff;
    if ((actual[name] & mask) !== (want & mask)) diffs.push(`${name}=${hex(actual[name])} want ${hex(want)}`);
  }
  const flagLow = new Set(o.pushedFlags ?? []);
  const flagHigh = new Set((o.pushedFlags ?? []).map((a) => a + 1));
  const pm = o.pushedFlagsMask ?? 0xffff;
  const amask = o.addressMask ?? 0xffffffff;
  for (const [addr, want] of ram) {
    const a = addr & amask;
    const got = h.mem.ram[a];
    let m = 0xff;
    if (flagLow.has(a)) m = pm & 0xff;
    else if (flagHigh.has(a)) m = pm >> 8;
    if ((got & m) !== (want & m)) diffs.push(`[${hex(a)}]=${hex(got)} want ${hex(want)}`);
  }
  if (h.shutdownReason) diffs.push(`shutdown: ${h.shutdownReason}`);
  return diffs.length ? diffs.slice(0, 6).join(', ') : null;
}

export function hex(v: number): string {
  return (v >>> 0).toString(16);
}
