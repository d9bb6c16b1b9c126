// Runs case groups on host and emulator; used by the vitest test and by hand:
//   node --import tsx test/fpu/compare.ts [group-substring] [max-mismatches-shown]
import { runHost, runEmu, diff, resetEmuRegisters, cleanupHost, type FpuCase } from './harness';
import { GROUPS } from './cases';

export interface GroupReport { name: string; total: number; mismatches: { c: FpuCase; d: string }[] }

export function compareGroup(name: string, cases: FpuCase[]): GroupReport {
  const host = runHost(cases);
  resetEmuRegisters();
  const mismatches: { c: FpuCase; d: string }[] = [];
  cases.forEach((c, i) => {
    let d: string;
    try {
      d = diff(c, host[i], runEmu(c));
    } catch (e) {
      d = `exception: ${(e as Error).message}`;
    }
    if (d) mismatches.push({ c, d });
  });
  return { name, total: cases.length, mismatches };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, ''))) {
  const filter = process.argv[2] ?? '';
  const show = Number(process.argv[3] ?? 15);
  for (const [name, gen] of GROUPS) {
    if (!name.includes(filter)) continue;
    const r = compareGroup(name, gen());
    console.log(`${name}: ${r.total - r.mismatches.length}/${r.total} match`);
    for (const m of r.mismatches.slice(0, show)) console.log(`  ${m.c.name}: ${m.d}`);
  }
  cleanupHost();
}
