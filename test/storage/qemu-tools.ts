// Helpers shared by the storage scripts: run qemu-img/qemu-io, deterministic random
// data, a tiny pass/fail counter that ends with the `N passed, N failed` line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function hasTool(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Run and throw with the output when the exit status is not `ok`. */
export function must(cmd: string, args: string[], ok = 0): string {
  const r = run(cmd, args);
  if (r.status !== ok) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** `qemu-img check`: 0 clean, 3 leaks only, 2 corruption, 1 could not check. */
export function qemuCheck(file: string): RunResult {
  return run('qemu-img', ['check', file]);
}

export function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

export function randomBytes(n: number, r: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = (r() * 2 ** 32) >>> 0;
    b[i] = v;
    b[i + 1] = v >>> 8;
    b[i + 2] = v >>> 16;
    b[i + 3] = v >>> 24;
  }
  return b;
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `boxwood-${tag}-`));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0 ? -1 : firstDiff(a, b);
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export class Tally {
  passed = 0;
  failed = 0;
  skipped = 0;
  async test(name: string, fn: () => void | Promise<void>): Promise<void> {
    const t0 = Date.now();
    try {
      await fn();
      this.passed++;
      process.stdout.write(`ok   ${name} (${Date.now() - t0} ms)\n`);
    } catch (e) {
      this.failed++;
      process.stdout.write(`FAIL ${name}: ${(e as Error).message}\n`);
    }
  }
  skip(name: string, why: string): void {
    this.skipped++;
    process.stdout.write(`skip ${name}: ${why}\n`);
  }
  finish(): never {
    if (this.skipped) process.stdout.write(`(${this.skipped} skipped)\n`);
    process.stdout.write(`${this.passed} passed, ${this.failed} failed\n`);
    process.exit(this.failed ? 1 : 0);
  }
}
