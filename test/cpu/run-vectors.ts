// CPU conformance vectors (npm run test:cpu): SingleStepTests 80286 (real mode) and
// 8086 data, and the test386 EE reference, from ../shared/cpu-tests next to the repo.
// Prints per-file pass counts and a final "N passed, N failed[, N skipped]" line;
// exits 1 on any failure. exclusions.json lists what legitimately differs on an i686.
//
// Environment: CPU_VECTORS_LIMIT=n runs at most n vectors per file (default: all);
// CPU_VECTORS_FILTER=regex selects files ("80286/", "8086/F6", "test386");
// CPU_VECTORS_VERBOSE=n prints up to n failures per file (default 3).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Exclusions, FileResult } from './exclusions';
import { createHarness } from './harness';
import { Metadata } from './metadata';
import { readMooFile } from './moo';
import { run286File } from './suite-286';
import { run8086File, select8086Tests } from './suite-8086';
import { runTest386 } from './suite-test386';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataRoot = path.resolve(repoRoot, '../shared/cpu-tests');
const limit = process.env.CPU_VECTORS_LIMIT ? Number(process.env.CPU_VECTORS_LIMIT) : Infinity;
const filter = process.env.CPU_VECTORS_FILTER ? new RegExp(process.env.CPU_VECTORS_FILTER) : null;
const verbose = process.env.CPU_VECTORS_VERBOSE ? Number(process.env.CPU_VECTORS_VERBOSE) : 3;

const exclusions = new Exclusions();
const harness = createHarness();
const results: FileResult[] = [];
let skipped = 0;

function wanted(suite: string, file: string): boolean {
  return !filter || filter.test(`${suite}/${file}`);
}

function report(r: FileResult): void {
  results.push(r);
  const extra = r.excluded ? ` (${r.excluded} excluded)` : '';
  console.log(`${r.suite}/${r.file}: ${r.passed}/${r.passed + r.failed}${extra}`);
  for (const f of r.failures.slice(0, verbose)) console.log(`    ${f}`);
}

function skipFile(suite: string, file: string, count: () => number): boolean {
  const reason = exclusions.skipReason(suite, file);
  if (reason === undefined) return false;
  const n = count();
  skipped += n;
  console.log(`${suite}/${file}: skipped ${n} (${reason})`);
  return true;
}

function run80286(): void {
  const dir = path.join(dataRoot, '80286/v1_real_mode');
  const meta = new Metadata(path.join(dir, 'metadata.json'));
  // Upstream withdraws bad vectors by hash (the list is empty at the stored commit).
  const revoked = new Set(
    readFileSync(path.join(dataRoot, '80286/revocation_list.txt'), 'utf8')
      .split(/\s+/)
      .filter((h) => /^[0-9a-f]{40}$/i.test(h))
      .map((h) => h.toLowerCase()),
  );
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.MOO.gz')).sort()) {
    if (!wanted('80286', file)) continue;
    const all = readMooFile(path.join(dir, file)).slice(0, limit);
    const tests = all.filter((t) => !t.hash || !revoked.has(t.hash));
    skipped += all.length - tests.length;
    if (skipFile('80286', file, () => tests.length)) continue;
    const r = new FileResult('80286', file, exclusions);
    run286File(harness, tests, meta.flagsMask(file), file, r);
    report(r);
  }
}

function run8086(): void {
  const dir = path.join(dataRoot, '8086/v1');
  const meta = new Metadata(path.join(dir, 'metadata.json'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort();
  const notApplicable: string[] = [];
  for (const file of files) {
    if (!wanted('8086', file)) continue;
    const { tests, notRun } = select8086Tests(meta, path.join(dir, file), file);
    if (notRun) notApplicable.push(notRun);
    if (tests.length === 0) continue;
    const list = tests.slice(0, limit);
    if (skipFile('8086', file, () => list.length)) continue;
    const r = new FileResult('8086', file, exclusions);
    run8086File(harness, list, meta.flagsMask(file), r);
    report(r);
  }
  if (notApplicable.length) console.log(`8086: not applicable to an i686, not run: ${notApplicable.join(', ')}`);
  const a4 = 'A4.MOO.gz';
  if (wanted('8086', a4)) {
    const r = new FileResult('8086', a4, exclusions);
    run8086File(harness, readMooFile(path.join(dataRoot, '8086/v1_binary', a4)).slice(0, limit), meta.flagsMask(a4), r);
    report(r);
  }
}

function runTest386Suite(): void {
  if (!wanted('test386', 'EE')) return;
  const dir = path.join(dataRoot, 'test386');
  const r = new FileResult('test386', 'EE', exclusions);
  runTest386(harness, path.join(dir, 'test386-EE-reference.txt'), path.join(dir, 'test386-EE-table.tsv'), r, limit);
  report(r);
}

const started = Date.now();
run80286();
run8086();
runTest386Suite();
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
skipped += results.reduce((n, r) => n + r.excluded, 0);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
