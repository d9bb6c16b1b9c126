// `npm run bench`: every benchmark in turn. Speed is measured here, never asserted in tests.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [name, file] of [
  ['CPU interpreter (MIPS)', 'bench/cpu-mips.ts'],
  ['Boot times', 'bench/boot.ts'],
  ['Snapshot take / restore (running 256 MiB guest)', 'bench/snapshot.ts'],
]) {
  console.log(`\n=== ${name}`);
  spawnSync('node', ['--import', 'tsx', file, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
}
