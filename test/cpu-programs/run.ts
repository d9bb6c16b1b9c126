// CPU reference programs: real and protected mode, paging, v86, task switches, x87
// and system instructions checked against QEMU (or Bochs where QEMU's TCG is not a
// faithful reference), plus user-mode integer instructions checked against the host
// CPU (test/host-reference/). See README.md in this folder.
//
//   node --import tsx test/cpu-programs/run.ts            # everything
//   node --import tsx test/cpu-programs/run.ts paging fpu # some programs (or host-reference)
//   node --import tsx test/cpu-programs/run.ts --update   # rewrite expected/*.txt from the reference emulators
//   node --import tsx test/cpu-programs/run.ts --cross-check  # also report whether QEMU and Bochs agree
//
// Needs nasm. The references are QEMU (qemu-system-i386) and, for bochs-checks and
// real-mode, Bochs (Debian package "bochs"); each is re-run whenever it is installed — the
// checked-in expected/*.{qemu,bochs}.txt are their outputs, and a golden file the
// emulator no longer reproduces fails. Without the emulator the golden file is used
// (and the line says so). Needs gcc for host-reference.
// Prints one PASS/FAIL line per program and ends with exactly "N passed, N failed";
// exits 1 when anything failed.
import {
  REFERENCE_TOOL,
  assemble,
  countChecks,
  firstDifference,
  hasTool,
  listPrograms,
  makeWorkDir,
  readGolden,
  referenceOf,
  runBoxwood,
  runReference,
  writeGolden,
} from './harness';
import { runHostReference } from '../host-reference/host-reference';

interface Result {
  name: string;
  pass: boolean;
  detail: string;
}

async function runProgram(name: string, workDir: string, update: boolean, crossCheck: boolean): Promise<Result> {
  const t0 = performance.now();
  const bin = assemble(name, workDir);
  const ref = referenceOf(name);
  const tool = REFERENCE_TOOL[ref];
  if (crossCheck && hasTool('bochs') && hasTool('qemu-system-i386')) {
    // Informational: where the two emulators disagree, one of them is not a faithful
    // reference for that check (the programs exclude or move the cases known so far).
    const diff = firstDifference(runReference(ref, bin, workDir, name).output, runReference(ref === 'qemu' ? 'bochs' : 'qemu', bin, workDir, name).output);
    console.log(`  cross-check ${name}: ${diff ? `${ref} is the reference; the other emulator differs at ${diff}` : 'QEMU and Bochs agree'}`);
  }
  let expected = readGolden(name, ref);
  let source = `golden file, ${tool} not installed`;
  if (hasTool(tool)) {
    const out = runReference(ref, bin, workDir, name);
    source = tool;
    if (out.output === '') {
      // The reference itself failed (crash, missing plugin): say so rather than blame the golden file.
      return { name, pass: false, detail: `${tool} printed nothing (exit status ${out.status}); see its log in the work dir` };
    }
    if (update) {
      writeGolden(name, ref, out.output);
      expected = out.output;
    } else if (expected === null) {
      return { name, pass: false, detail: `no expected/${name}.${ref}.txt (run with --update)` };
    } else if (expected !== out.output) {
      return { name, pass: false, detail: `expected/${name}.${ref}.txt is stale vs ${tool}: ${firstDifference(expected, out.output)}` };
    }
  }
  if (expected === null) return { name, pass: false, detail: 'no reference: QEMU not installed and no golden file' };
  // A program that does not run to completion on the reference is itself broken.
  if (!expected.endsWith('DONE\n') || expected.includes('UNEXPECTED')) {
    return { name, pass: false, detail: `the program does not complete on the reference (${source})` };
  }
  let run;
  try {
    run = await runBoxwood(bin);
  } catch (e) {
    return { name, pass: false, detail: `Boxwood could not run it: ${(e as Error).message}` };
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const diff = firstDifference(expected, run.output);
  if (diff) {
    return { name, pass: false, detail: `${diff} [Boxwood ended: ${run.end} after ${run.instructions} instructions; reference: ${source}]` };
  }
  return { name, pass: true, detail: `${countChecks(expected)} lines match ${source}, ${run.instructions} instructions, ${secs} s` };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const update = args.includes('--update');
  const crossCheck = args.includes('--cross-check');
  const only = args.filter((a) => !a.startsWith('--'));
  const names = [...listPrograms(), 'host-reference'].filter((n) => only.length === 0 || only.includes(n));
  const results: Result[] = [];
  const { dir, dispose } = makeWorkDir();
  try {
    if (!hasTool('nasm')) throw new Error('nasm is not installed (apt-get install nasm)');
    for (const name of names) {
      let r: Result;
      try {
        if (name === 'host-reference') {
          const h = await runHostReference(dir);
          r = { name, pass: h.pass, detail: h.detail };
        } else {
          r = await runProgram(name, dir, update, crossCheck);
        }
      } catch (e) {
        r = { name, pass: false, detail: (e as Error).message };
      }
      console.log(`${r.pass ? 'PASS' : 'FAIL'} ${r.name}: ${r.detail}`);
      results.push(r);
    }
  } finally {
    dispose();
  }
  const passed = results.filter((r) => r.pass).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
