// The whole test suite, as the README's test command runs it. Runs the suites on a
// small pool of parallel lanes (BOXWOOD_TEST_JOBS, default: one per core, at most 2),
// longest first, prints each suite's output as it ends, collects its counts, and closes
// with one line `N passed, N failed, N skipped` (the line CI reads). A suite that
// crashes or prints no counts counts as a failure.
//
//   node --import tsx scripts/test-all.ts [name-filter…]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PREBUILT_ENV } from './build';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, 'artifacts');
mkdirSync(artifacts, { recursive: true });

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  /** What failed, one line each, repeated under the summary (CI may show only its tail). */
  failures?: string[];
}

interface Suite {
  name: string;
  /** Command and arguments, run from the repo root. */
  command: string[];
  /** How to read the counts once the command ended. */
  counts: (stdout: string, exitCode: number) => Counts;
  /** Rough minutes of CPU it takes, only to start the long suites first. */
  minutes: number;
}

/** Reads the last `N passed, N failed[, N skipped]` line a suite printed. */
function summaryLine(stdout: string, exitCode: number): Counts {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(line);
    if (m) {
      const c = { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0), failures: failLines(stdout) };
      // A suite that exits non-zero has failed, whatever it counted.
      if (exitCode !== 0 && c.failed === 0) c.failed = 1;
      return c;
    }
  }
  return { passed: 0, failed: 1, skipped: 0, failures: [`no summary line; exit code ${exitCode}; last output: ${lines.slice(0, 3).reverse().join(' | ').slice(0, 400)}`] };
}

/** The suites' own `FAIL …` lines (our runners print one per failed check). */
function failLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => /^\s*FAIL\b/.test(l))
    .map((l) => l.trim().slice(0, 400));
}

function vitestCounts(_stdout: string, exitCode: number): Counts {
  const report = path.join(artifacts, 'vitest.json');
  if (!existsSync(report)) return { passed: 0, failed: 1, skipped: 0 };
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const failures: string[] = [];
  for (const file of r.testResults ?? []) {
    const rel = path.relative(root, file.name);
    for (const a of file.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      const why = String(a.failureMessages?.[0] ?? '').split('\n')[0];
      failures.push(`${rel} > ${a.fullName ?? a.title}: ${why}`.slice(0, 600));
    }
    // A file that failed to load has no test results, only a message.
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((a: { status: string }) => a.status === 'failed')) {
      failures.push(`${rel}: ${String(file.message ?? 'failed').split('\n')[0]}`.slice(0, 600));
    }
  }
  const c = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0), failures };
  if (exitCode !== 0 && c.failed === 0) c.failed = 1;
  return c;
}

const tsx = ['node', '--import', 'tsx'];
/** One suite per guest boot, so the lanes share the long ones out. */
const guest = (filter: string, minutes: number): Suite => ({
  name: `guest ${filter}`,
  command: [...tsx, 'test/guests/boot-guests.ts', filter],
  counts: summaryLine,
  minutes,
});
/**
 * The Linux desktop scenario (test/e2e/linux.e2e.ts): the wizard, an interactive boot of
 * linux-686.iso with the built-in firmware through the app, the serial and VGA consoles,
 * pause, the snapshot/branch/delete/clone scenario on the running guest, power-off from
 * inside. It checks the same boot markers as the guest suite's "linux-686 cd builtin" (the
 * ISOLINUX banner, GUEST-READY, the workload line as in QEMU's log, the device probe), so
 * that headless boot is not run a second time here; `npm run test:guests -- "cd builtin"`
 * still runs it.
 */
const linuxE2e: Suite = { name: 'e2e linux (chromium)', command: [...tsx, 'test/e2e/linux.e2e.ts'], counts: summaryLine, minutes: 14 };
const suites: Suite[] = [
  linuxE2e,
  { name: 'typecheck', command: ['npx', 'tsc', '-p', 'tsconfig.json', '--noEmit'], counts: exitCodeOnly, minutes: 0.3 },
  {
    name: 'unit (vitest)',
    command: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(artifacts, 'vitest.json')}`],
    counts: vitestCounts,
    minutes: 1.2,
  },
  { name: 'cpu vectors', command: [...tsx, 'test/cpu/run-vectors.ts'], counts: summaryLine, minutes: 0.3 },
  { name: 'cpu programs vs QEMU/Bochs/host', command: [...tsx, 'test/cpu-programs/run.ts'], counts: summaryLine, minutes: 0.1 },
  { name: 'storage interop (qemu-img)', command: [...tsx, 'test/storage/interop.ts'], counts: summaryLine, minutes: 0.5 },
  { name: 'storage kill -9 storm', command: [...tsx, 'test/storage/kill-storm.ts'], counts: summaryLine, minutes: 0.7 },
  { name: 'snapshot kill -9 storm', command: [...tsx, 'test/storage/snapshot-storm.ts'], counts: summaryLine, minutes: 1.5 },
  { name: 'e2e manager (chromium)', command: [...tsx, 'test/e2e/manager.e2e.ts'], counts: summaryLine, minutes: 0.2 },
  { name: 'e2e media (chromium)', command: [...tsx, 'test/e2e/media.e2e.ts'], counts: summaryLine, minutes: 0.3 },
  { name: 'e2e snapshots (chromium)', command: [...tsx, 'test/e2e/snapshots.e2e.ts'], counts: summaryLine, minutes: 0.2 },
  { name: 'e2e display (hello)', command: [...tsx, 'test/e2e/display-hello.e2e.ts'], counts: summaryLine, minutes: 0.3 },
  { name: 'electron smoke', command: [...tsx, 'test/e2e/electron-smoke.ts'], counts: summaryLine, minutes: 0.1 },
  guest('hello', 0.1),
  guest('memtest', 0.6),
  guest('linux-686 direct builtin', 7.5),
  guest('linux-686 direct seabios', 6),
  guest('linux-686 cd seabios', 3),
  guest('linux-686 hdd builtin', 6.5),
  guest('linux-686 hdd seabios', 3),
  guest('linux-686 save-restore', 3),
];

function exitCodeOnly(_out: string, code: number): Counts {
  return code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0, failures: [`exit code ${code}`] };
}

interface Outcome {
  counts: Counts;
  seconds: number;
}

function runSuite(suite: Suite): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(suite.command[0], suite.command.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const finish = (code: number, error?: Error) => {
      const stdout = Buffer.concat(out).toString('utf8');
      // Printed in one piece, so parallel suites do not interleave.
      let text = `\n=== ${suite.name}: ${suite.command.join(' ')}\n${stdout}`;
      const stderr = Buffer.concat(err).toString('utf8');
      if (stderr.trim()) text += `--- ${suite.name} (stderr)\n${stderr}`;
      if (error) text += `${suite.name}: could not run: ${error.message}\n`;
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      const counts = error ? { passed: 0, failed: 1, skipped: 0, failures: [`could not run: ${error.message}`] } : suite.counts(stdout, code);
      resolve({ counts, seconds: (Date.now() - started) / 1000 });
    };
    child.on('error', (e) => finish(1, e));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const selected = suites.filter((s) => !only.length || only.some((o) => s.name.includes(o)));
  const jobs = Math.max(1, Number(process.env.BOXWOOD_TEST_JOBS) || Math.min(2, os.availableParallelism()));
  const queue = [...selected].sort((a, b) => b.minutes - a.minutes);
  const outcomes = new Map<Suite, Outcome>();
  const t0 = Date.now();
  // Build the UI and the bundles once, then tell the suites not to rebuild them (see
  // PREBUILT_ENV): parallel suites rebuilding dist/ would break each other's runs.
  // In a child process: vite sets NODE_ENV=production in the process that builds, and the
  // suites inherit this one's environment (React's test helpers need the development build).
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', 'all'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.log(`the build failed (exit ${build.status ?? build.signal})\n0 passed, 1 failed, 0 skipped`);
    return 1;
  }
  process.env[PREBUILT_ENV] = '1';
  console.log(`Running ${selected.length} suites on ${jobs} lane(s).`);
  const lane = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) outcomes.set(s, await runSuite(s));
  };
  await Promise.all(Array.from({ length: jobs }, lane));

  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  console.log(`\n=== summary (${((Date.now() - t0) / 60000).toFixed(1)} min on ${jobs} lane(s))`);
  for (const suite of selected) {
    const { counts: c, seconds } = outcomes.get(suite)!;
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    console.log(`${c.failed ? 'FAIL' : 'ok  '} ${suite.name.padEnd(34)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${seconds.toFixed(1)} s)`);
  }
  // Repeated here because a CI page may show only the end of a long log.
  for (const suite of selected) {
    const c = outcomes.get(suite)!.counts;
    if (!c.failed) continue;
    const lines = c.failures?.length ? c.failures : ['(no detail: see its output above)'];
    for (const l of lines.slice(0, 10)) console.log(`  failed in ${suite.name}: ${l}`);
    if (lines.length > 10) console.log(`  … and ${lines.length - 10} more in ${suite.name}`);
  }
  console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return total.failed ? 1 : 0;
}

process.exitCode = await main();
