// Regenerate exclusions.json: run every 80286/8086 vector, classify each failure with
// the narrow rules in classify.ts, and list the classified ones with their reason.
// Unclassified failures are printed and NOT excluded (they are bugs to fix).
//   node --import tsx test/cpu/build-exclusions.ts [--write]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHarness } from './harness';
import { Metadata } from './metadata';
import { readMooFile, type VectorTest } from './moo';
import { run286Test } from './suite-286';
import { run8086Test, select8086Tests } from './suite-8086';
import { classify286, classify8086, type Category } from './classify';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataRoot = path.resolve(here, '../..', '../shared/cpu-tests');
const h = createHarness();
let firstFault = -1;
h.cpu.onFault = (v) => {
  if (firstFault < 0) firstFault = v;
};

interface Group {
  suite: string;
  file: string;
  ids: string[];
  reason: string;
}
const groups = new Map<string, Group>();
const unclassified: string[] = [];

function collect(suite: string, file: string, t: VectorTest, error: string | null, cat: (t: VectorTest, o: { firstFault: number; error: string }) => Category | null): void {
  if (error === null) return;
  const c = cat(t, { firstFault, error });
  if (!c) {
    unclassified.push(`${suite}/${file} ${t.idx} ${t.name} [${t.bytes.map((b) => b.toString(16)).join(' ')}]: ${error}`);
    return;
  }
  const key = `${suite}/${file}/${c.key}`;
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { suite, file, ids: [], reason: c.reason }));
  g.ids.push(String(t.idx));
}

const filter = process.argv[2] && !process.argv[2].startsWith('--') ? new RegExp(process.argv[2]) : null;
const dir286 = path.join(dataRoot, '80286/v1_real_mode');
const meta286 = new Metadata(path.join(dir286, 'metadata.json'));
for (const file of readdirSync(dir286).filter((f) => f.endsWith('.MOO.gz') && f !== 'D8.MOO.gz').sort()) {
  if (filter && !filter.test(`80286/${file}`)) continue;
  const op = file.split('.')[0];
  for (const t of readMooFile(path.join(dir286, file))) {
    firstFault = -1;
    collect('80286', file, t, run286Test(h, t, meta286.flagsMask(file), op), classify286);
  }
}
const dir86 = path.join(dataRoot, '8086/v1');
const meta86 = new Metadata(path.join(dir86, 'metadata.json'));
const files86 = readdirSync(dir86).filter((f) => f.endsWith('.json.gz')).sort();
for (const file of [...files86, 'A4.MOO.gz']) {
  if (filter && !filter.test(`8086/${file}`)) continue;
  const tests = file.endsWith('.MOO.gz') ? readMooFile(path.join(dataRoot, '8086/v1_binary', file)) : select8086Tests(meta86, path.join(dir86, file), file).tests;
  for (const t of tests) {
    firstFault = -1;
    h.mem.setA20(false);
    collect('8086', file, t, run8086Test(h, t, meta86.flagsMask(file)), classify8086);
  }
  h.mem.setA20(true);
}

const counts = new Map<string, number>();
for (const g of groups.values()) counts.set(g.reason, (counts.get(g.reason) ?? 0) + g.ids.length);
for (const [reason, n] of counts) console.log(`${n}\t${reason}`);
console.log(`${unclassified.length} unclassified failures`);
for (const u of unclassified.slice(0, Number(process.env.SHOW ?? 40))) console.log('  ' + u);

if (process.argv.includes('--write')) {
  const file = path.join(here, 'exclusions.json');
  const current = JSON.parse(readFileSync(file, 'utf8')) as { skipFiles: unknown[] };
  const expectedFailures = [...groups.values()].sort((a, b) => (a.suite + a.file).localeCompare(b.suite + b.file));
  // One group per line keeps the file reviewable (and diffs small) despite thousands of ids.
  const lines = expectedFailures.map((g) => '    ' + JSON.stringify(g));
  const skip = JSON.stringify(current.skipFiles, null, 2).replace(/\n/g, '\n  ');
  writeFileSync(file, `{\n  "skipFiles": ${skip},\n  "expectedFailures": [\n${lines.join(',\n')}\n  ]\n}\n`);
  console.log(`wrote ${expectedFailures.reduce((n, g) => n + g.ids.length, 0)} expected failures`);
}
