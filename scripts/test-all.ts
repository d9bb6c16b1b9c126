// The whole test suite, as the README's test command runs it. Runs each suite in
// turn, collects its counts, and closes with one line `N passed, N failed, N skipped`
// (the line CI reads). A suite that crashes or prints no counts counts as a failure.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'artifacts');
mkdirSync(artifacts, { recursive: true });

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Suite {
  name: string;
  /** Command and arguments, run from the repo root. */
  command: string[];
  /** How to read the counts once the command ended. */
  counts: (stdout: string, exitCode: number) => Counts;
}

/** Reads the last `N passed, N failed[, N skipped]` line a suite printed. */
function summaryLine(stdout: string, exitCode: number): Counts {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(line);
    if (m) {
      const c = { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) };
      // A suite that exits non-zero has failed, whatever it counted.
      if (exitCode !== 0 && c.failed === 0) c.failed = 1;
      return c;
    }
  }
  return { passed: 0, failed: 1, skipped: 0 };
}

function vitestCounts(_stdout: string, exitCode: number): Counts {
  const report = path.join(artifacts, 'vitest.json');
  if (!existsSync(report)) return { passed: 0, failed: 1, skipped: 0 };
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const c = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0) };
  if (exitCode !== 0 && c.failed === 0) c.failed = 1;
  return c;
}

const tsx = ['node', '--import', 'tsx'];
const suites: Suite[] = [
  {
    name: 'typecheck',
    command: ['npx', 'tsc', '-p', 'tsconfig.json', '--noEmit'],
    counts: (_out, code) => (code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 }),
  },
  {
    name: 'unit (vitest)',
    command: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(artifacts, 'vitest.json')}`],
    counts: vitestCounts,
  },
  { name: 'cpu vectors', command: [...tsx, 'test/cpu/run-vectors.ts'], counts: summaryLine },
  { name: 'cpu programs vs QEMU/Bochs/host', command: [...tsx, 'test/cpu-programs/run.ts'], counts: summaryLine },
  { name: 'storage interop (qemu-img)', command: [...tsx, 'test/storage/interop.ts'], counts: summaryLine },
  { name: 'storage kill -9 storm', command: [...tsx, 'test/storage/kill-storm.ts'], counts: summaryLine },
  { name: 'e2e manager (chromium)', command: [...tsx, 'test/e2e/manager.e2e.ts'], counts: summaryLine },
  { name: 'e2e display (hello)', command: [...tsx, 'test/e2e/display-hello.e2e.ts'], counts: summaryLine },
  { name: 'electron smoke', command: [...tsx, 'test/e2e/electron-smoke.ts'], counts: summaryLine },
];

const only = process.argv.slice(2);
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
const table: string[] = [];
for (const suite of suites) {
  if (only.length && !only.some((o) => suite.name.includes(o))) continue;
  const started = Date.now();
  console.log(`\n=== ${suite.name}: ${suite.command.join(' ')}`);
  const run = spawnSync(suite.command[0], suite.command.slice(1), {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const stdout = run.stdout ?? '';
  process.stdout.write(stdout);
  const c = run.error ? { passed: 0, failed: 1, skipped: 0 } : suite.counts(stdout, run.status ?? 1);
  if (run.error) console.log(`${suite.name}: could not run: ${run.error.message}`);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  table.push(`${c.failed ? 'FAIL' : 'ok  '} ${suite.name.padEnd(22)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${secs} s)`);
}
console.log('\n=== summary');
for (const row of table) console.log(row);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed ? 1 : 0);
