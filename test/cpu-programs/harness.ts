// Runs the nasm test programs in this folder on a reference machine and on
// Boxwood's Cpu, and compares their debug-port output byte for byte.
//
// Each program is a 64 KiB ROM entered at the reset vector (see lib.inc), so both
// machines run exactly the same bytes with no firmware. The reference is QEMU
// (qemu-system-i386), or Bochs for the program whose first line says so. Golden
// files expected/<name>.<qemu|bochs>.txt are checked in only so the suite can say
// something on machines without the reference emulator; whenever it is installed
// it is re-run, and a golden file that differs from it fails the test
// (`--update` rewrites them from the emulator; never by hand).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhysicalMemory } from '../../engine/machine/physical-memory';
import { IoBus } from '../../engine/machine/io-bus';
import type { CpuBus } from '../../engine/cpu/core';

export const PROGRAM_DIR = dirname(fileURLToPath(import.meta.url));
export const GOLDEN_DIR = join(PROGRAM_DIR, 'expected');
const ROM_SIZE = 0x10000;
const RAM_BYTES = 32 * 1024 * 1024;
/** Enough for every program several times over; a runaway program stops here. */
const MAX_INSTRUCTIONS = 10_000_000;

export function listPrograms(): string[] {
  return readdirSync(PROGRAM_DIR)
    .filter((f) => f.endsWith('.asm'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Assemble a program with nasm; throws with nasm's message on error. */
export function assemble(name: string, workDir: string): Uint8Array {
  const out = join(workDir, `${name}.bin`);
  const r = spawnSync('nasm', ['-f', 'bin', '-w-number-overflow', '-I', PROGRAM_DIR + '/', '-o', out, join(PROGRAM_DIR, `${name}.asm`)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nasm failed for ${name}: ${r.stderr || r.error}`);
  const bin = new Uint8Array(readFileSync(out));
  if (bin.length !== ROM_SIZE) throw new Error(`${name}.bin is ${bin.length} bytes, expected ${ROM_SIZE}`);
  return bin;
}

/**
 * QEMU: a Pentium II (the i686 model closest to what Boxwood offers), TCG, the ROM
 * as the BIOS, debugcon on 0xE9 into a file, isa-debug-exit on 0xF4. A write of 0
 * to 0xF4 makes QEMU exit with status 1; a triple fault exits (status 0) because of
 * -no-reboot. The output file is what matters; the status is only reported.
 */
export function runQemu(bin: Uint8Array, workDir: string, name: string): { output: string; status: number | null } {
  const binPath = join(workDir, `${name}.qemu.bin`);
  const outPath = join(workDir, `${name}.qemu.out`);
  writeFileSync(binPath, bin);
  rmSync(outPath, { force: true });
  const r = spawnSync(
    'timeout',
    [
      '20',
      'qemu-system-i386',
      ...['-machine', 'pc', '-cpu', 'pentium2', '-m', '32', '-bios', binPath],
      ...['-display', 'none', '-nographic', '-monitor', 'none', '-serial', 'none', '-no-reboot'],
      ...['-device', 'isa-debugcon,iobase=0xe9,chardev=dbg', '-chardev', `file,id=dbg,path=${outPath}`],
      ...['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
    ],
    { encoding: 'utf8' },
  );
  const output = existsSync(outPath) ? readFileSync(outPath, 'latin1') : '';
  return { output, status: r.status };
}

/**
 * Bochs (2.7, Debian's build: it has the internal debugger and no nogui display):
 * a Pentium II (p2_klamath), the ROM as the system BIOS, port 0xE9 output on
 * stdout. The debugger is told to continue, and the magic breakpoint (XCHG BX,BX)
 * that lib.inc executes after the exit write returns to it, where it is told to
 * quit. The program's output is what bochs printed between the first debugger
 * prompt and "(0) Magic breakpoint".
 */
export function runBochs(bin: Uint8Array, workDir: string, name: string): { output: string; status: number | null } {
  const binPath = join(workDir, `${name}.bochs.bin`);
  const vgaPath = join(workDir, 'vgarom.bin');
  const rcPath = join(workDir, `${name}.bochsrc`);
  writeFileSync(binPath, bin);
  // Bochs insists on a VGA ROM; an empty option ROM (signature, 1 block, RETF, checksum) will do.
  const vga = new Uint8Array(512);
  vga.set([0x55, 0xaa, 0x01, 0xcb]);
  vga[511] = (0x100 - (vga.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
  writeFileSync(vgaPath, vga);
  writeFileSync(
    rcPath,
    [
      'megs: 32',
      `romimage: file=${binPath}`,
      `vgaromimage: file=${vgaPath}`,
      'cpu: model=p3_katmai, reset_on_triple_fault=0',
      'display_library: rfb, options="timeout=0"',
      'vga: extension=none',
      'speaker: enabled=0',
      // Without a sound card on the host, Bochs' mixer thread aborts (fortify) on start-up.
      'sound: driver=dummy',
      'port_e9_hack: enabled=1',
      'magic_break: enabled=1',
      `log: ${join(workDir, `${name}.bochs.log`)}`,
      'panic: action=fatal',
      'error: action=report',
      'info: action=ignore',
      'debug: action=ignore',
      '',
    ].join('\n'),
  );
  // The debugger's commands come from a file: fed through a Node pipe, Bochs' debugger
  // misses them and the run only ends at the timeout.
  const cmdPath = join(workDir, 'bochs-commands.txt');
  writeFileSync(cmdPath, 'c\nquit\n');
  const stdin = openSync(cmdPath, 'r');
  let r;
  try {
    r = spawnSync('timeout', ['30', 'bochs', '-q', '-f', rcPath], { stdio: [stdin, 'pipe', 'pipe'], encoding: 'latin1' });
  } finally {
    closeSync(stdin);
  }
  const out = r.stdout ?? '';
  const start = out.indexOf('<bochs:1> ');
  if (start < 0) return { output: '', status: r.status };
  let body = out.slice(start + '<bochs:1> '.length);
  if (body.startsWith('c\n')) body = body.slice(2); // the debugger echoes the command it read
  const end = body.indexOf('(0) Magic breakpoint');
  return { output: end < 0 ? body : body.slice(0, end), status: r.status };
}

// The Cpu and X87 classes are loaded at run time so this harness type-checks and
// reports a clear failure even while engine/cpu/cpu.ts is not written yet.
interface CpuLike {
  reset(): void;
  run(n: number): number;
  halted: boolean;
  instructionCount: number;
}
type CpuCtor = new (bus: CpuBus, opts: { fpu: unknown }) => CpuLike;
type FpuCtor = new () => unknown;

export async function loadCpu(): Promise<{ Cpu: CpuCtor; X87: FpuCtor }> {
  const cpuPath = '../../engine/cpu/cpu';
  const fpuPath = '../../engine/cpu/fpu/x87';
  const cpuMod = (await import(cpuPath)) as { Cpu?: CpuCtor };
  const fpuMod = (await import(fpuPath)) as { X87?: FpuCtor };
  if (!cpuMod.Cpu) throw new Error('engine/cpu/cpu.ts does not export Cpu');
  if (!fpuMod.X87) throw new Error('engine/cpu/fpu/x87.ts does not export X87');
  return { Cpu: cpuMod.Cpu, X87: fpuMod.X87 };
}

export interface BoxwoodRun {
  output: string;
  /** 'exit' (wrote 0xF4), 'shutdown: ...', 'halt' (HLT with no way out), 'limit'. */
  end: string;
  instructions: number;
}

/**
 * Boxwood's side: the smallest board that can run the programs — 32 MiB of RAM,
 * the ROM at 0xF0000 (read-only RAM pages, like the PC's shadowed BIOS) and aliased
 * at 0xFFFF0000 for the reset vector, the two debug ports, a clock derived from the
 * instruction count and an interrupt controller that never interrupts.
 */
export async function runBoxwood(bin: Uint8Array, maxInstructions = MAX_INSTRUCTIONS): Promise<BoxwoodRun> {
  const { Cpu, X87 } = await loadCpu();
  const mem = new PhysicalMemory(RAM_BYTES);
  mem.loadRom(0xf0000, bin);
  const rom = bin;
  mem.mapMmio(0xffff0000, ROM_SIZE, {
    read8: (off) => rom[off],
    write8: () => {},
  });
  const io = new IoBus();
  io.logUnclaimed = false;
  let output = '';
  let end = '';
  io.register(0xe9, 1, { write8: (_p, v) => void (output += String.fromCharCode(v)) });
  io.register(0xf4, 4, {
    write8: () => void (end ||= 'exit'),
    write16: () => void (end ||= 'exit'),
    write32: () => void (end ||= 'exit'),
  });
  let cpu: CpuLike | undefined;
  const bus: CpuBus = {
    mem,
    io,
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    clock: { nowNs: () => (cpu ? cpu.instructionCount * 10 : 0) },
    onShutdown: (reason) => void (end ||= `shutdown: ${reason}`),
  };
  cpu = new Cpu(bus, { fpu: new X87() });
  cpu.reset();
  let executed = 0;
  while (!end && executed < maxInstructions) {
    const n = cpu.run(100_000);
    executed += n;
    if (!end && cpu.halted) end = 'halt';
    else if (!end && n === 0) end = 'stalled';
  }
  return { output, end: end || 'limit', instructions: executed };
}

/** First differing line as a human-readable message, or null when identical. */
export function firstDifference(expected: string, actual: string): string | null {
  if (expected === actual) return null;
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) {
      const show = (s: string | undefined) => (s === undefined ? '<end of output>' : JSON.stringify(s));
      return `line ${i + 1}: expected ${show(e[i])}, got ${show(a[i])}`;
    }
  }
  return 'outputs differ';
}

export function countChecks(output: string): number {
  return output.split('\n').filter((l) => l.length > 0 && l !== 'DONE').length;
}

export function makeWorkDir(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'boxwood-cpu-programs-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Reference = 'qemu' | 'bochs';

/**
 * Which machine is a program's reference: QEMU, unless its first line says
 * "; reference: bochs" (checks QEMU's TCG does not model; see bochs-checks.asm).
 */
export function referenceOf(name: string): Reference {
  const first = readFileSync(join(PROGRAM_DIR, `${name}.asm`), 'utf8').split('\n', 1)[0];
  return /^;\s*reference:\s*bochs/.test(first) ? 'bochs' : 'qemu';
}

export const REFERENCE_TOOL: Record<Reference, string> = { qemu: 'qemu-system-i386', bochs: 'bochs' };

export function runReference(ref: Reference, bin: Uint8Array, workDir: string, name: string): { output: string; status: number | null } {
  return ref === 'qemu' ? runQemu(bin, workDir, name) : runBochs(bin, workDir, name);
}

export function goldenPath(name: string, ref: Reference): string {
  return join(GOLDEN_DIR, `${name}.${ref}.txt`);
}

export function readGolden(name: string, ref: Reference): string | null {
  const p = goldenPath(name, ref);
  return existsSync(p) ? readFileSync(p, 'latin1') : null;
}

export function writeGolden(name: string, ref: Reference, text: string): void {
  writeFileSync(goldenPath(name, ref), text, 'latin1');
}
