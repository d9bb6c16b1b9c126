// Show one vector and what the CPU does with it:
//   node --import tsx test/cpu/debug-vector.ts 80286 07.MOO.gz 30
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHarness } from './harness';
import { Metadata } from './metadata';
import { readMooFile, type VectorTest } from './moo';
import { run286Test } from './suite-286';
import { readJsonTests, run8086Test } from './suite-8086';

const [suite, file, id] = process.argv.slice(2);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataRoot = path.resolve(repoRoot, '../shared/cpu-tests');
const dir = suite === '80286' ? path.join(dataRoot, '80286/v1_real_mode') : path.join(dataRoot, '8086/v1');
const tests: VectorTest[] = file.endsWith('.MOO.gz')
  ? readMooFile(path.join(suite === '8086' ? path.join(dataRoot, '8086/v1_binary') : dir, file))
  : readJsonTests(path.join(dir, file));
const t = tests.find((x) => String(x.idx) === id);
if (!t) throw new Error(`no test ${id}`);
const hex = (v: number) => v.toString(16);
console.log(t.name, t.bytes.map(hex).join(' '));
console.log('initial', Object.entries(t.initial.regs).map(([k, v]) => `${k}=${hex(v!)}`).join(' '));
console.log('final  ', Object.entries(t.final.regs).map(([k, v]) => `${k}=${hex(v!)}`).join(' '));
console.log('exception', t.exception, 'final ram', t.final.ram.map(([a, v]) => `${hex(a)}:${hex(v)}`).join(' '));
const h = createHarness();
const meta = new Metadata(path.join(dir, 'metadata.json'));
const err = suite === '80286' ? run286Test(h, t, meta.flagsMask(file), file.split('.')[0]) : run8086Test(h, t, meta.flagsMask(file));
console.log('result:', err ?? 'pass', 'eip', hex(h.cpu.eip), 'count', h.cpu.instructionCount);
