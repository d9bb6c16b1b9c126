// User-mode integer instructions checked against the host CPU.
//
// host-cpu.c (compiled with gcc at test time) executes each vector of vectors.ts
// on the host — a real x86-64 CPU running the same instruction bytes on 32/16/8-bit
// registers — and Boxwood's Cpu executes them in a flat 32-bit protected-mode
// state set up directly in its registers. Registers and the defined flags must
// match. Run through test/cpu-programs/run.ts (`... run.ts host-reference`).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhysicalMemory } from '../../engine/machine/physical-memory';
import { IoBus } from '../../engine/machine/io-bus';
import type { CpuBus, CpuCore } from '../../engine/cpu/core';
import { buildVectors, type Vector } from './vectors';

const HERE = dirname(fileURLToPath(import.meta.url));
const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

export interface HostResult {
  pass: boolean;
  detail: string;
}

/** Results as [eax, ebx, ecx, edx, eflags, mem] per vector. */
type Outcome = [number, number, number, number, number, number];

export function runOnHost(vectors: Vector[], workDir: string): Outcome[] {
  const exe = join(workDir, 'host-cpu');
  const cc = spawnSync('gcc', ['-O1', '-o', exe, join(HERE, 'host-cpu.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr || cc.error}`);
  const input = vectors
    .map((v) => `${v.bytes.map((b) => b.toString(16).padStart(2, '0')).join('')} ${v.input.map(hex).join(' ')}\n`)
    .join('');
  const r = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`host-cpu failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== vectors.length) throw new Error(`host-cpu printed ${lines.length} results for ${vectors.length} vectors`);
  return lines.map((l) => l.split(' ').map((x) => parseInt(x, 16) >>> 0) as Outcome);
}

interface CpuLike extends CpuCore {
  run(n: number): number;
  halted: boolean;
}
type CpuCtor = new (bus: CpuBus, opts?: object) => CpuLike;

const CODE_BASE = 0x10000;
const MEM_OPERAND = 0x8000; // [EDI+0x18]
const SLOT = 16; // bytes of code per vector: instruction + HLT

/**
 * Boxwood: flat 32-bit ring 0 (CS/DS/ES/SS base 0, limit 4 GiB, 32-bit), each
 * vector's bytes followed by HLT at its own address, so no decoded-code cache can
 * be reused between vectors.
 */
export async function runOnBoxwood(vectors: Vector[]): Promise<(Outcome | string)[]> {
  const cpuPath = '../../engine/cpu/cpu';
  const { Cpu } = (await import(cpuPath)) as { Cpu: CpuCtor };
  const mem = new PhysicalMemory(Math.max(1 << 20, CODE_BASE + vectors.length * SLOT + 0x10000));
  const io = new IoBus();
  io.logUnclaimed = false;
  const bus: CpuBus = {
    mem,
    io,
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    clock: { nowNs: () => 0 },
    onShutdown: () => {},
  };
  const cpu = new Cpu(bus);
  cpu.cr0 = 0x11; // PE, ET
  for (let s = 0; s < 6; s++) {
    cpu.segSel[s] = s === 1 ? 0x08 : 0x10;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAccess[s] = s === 1 ? 0xc9b : 0xc93; // G, D/B, present code / data
  }
  cpu.cpl = 0;
  cpu.updateModeCaches();
  const out: (Outcome | string)[] = [];
  vectors.forEach((v, i) => {
    const at = CODE_BASE + i * SLOT;
    v.bytes.forEach((b, j) => mem.write8(at + j, b));
    mem.write8(at + v.bytes.length, 0xf4); // HLT
    const [eax, ebx, ecx, edx, fl, memValue] = v.input;
    cpu.reg32.fill(0);
    cpu.reg32[0] = eax;
    cpu.reg32[3] = ebx;
    cpu.reg32[1] = ecx;
    cpu.reg32[2] = edx;
    cpu.reg32[4] = 0x7000; // ESP
    cpu.reg32[7] = MEM_OPERAND - 0x18; // EDI
    mem.write32(MEM_OPERAND, memValue);
    cpu.setEflags(fl);
    cpu.eip = at;
    cpu.halted = false;
    cpu.run(2);
    if (!cpu.halted || cpu.eip !== at + v.bytes.length + 1) {
      out.push(`did not complete (EIP ${hex(cpu.eip)}, halted ${cpu.halted}): an exception or a wrong instruction length`);
    } else {
      out.push([cpu.reg32[0], cpu.reg32[3], cpu.reg32[1], cpu.reg32[2], cpu.getEflags(), mem.read32(MEM_OPERAND)].map((x) => x >>> 0) as Outcome);
    }
  });
  return out;
}

function describe(v: Vector, o: Outcome): string {
  return `eax=${hex(o[0] & v.regMask[0])} ebx=${hex(o[1] & v.regMask[1])} ecx=${hex(o[2] & v.regMask[2])} edx=${hex(o[3] & v.regMask[3])} fl=${hex(o[4] & v.flagMask)} mem=${hex(o[5])}`;
}

export async function runHostReference(workDir: string): Promise<HostResult> {
  const vectors = buildVectors();
  const host = runOnHost(vectors, workDir);
  const box = await runOnBoxwood(vectors);
  const failures: string[] = [];
  const failedForms = new Map<string, number>();
  vectors.forEach((v, i) => {
    const e = host[i];
    const a = box[i];
    const bad =
      typeof a === 'string' ||
      [0, 1, 2, 3].some((r) => ((e[r] ^ a[r]) & v.regMask[r]) !== 0) ||
      ((e[4] ^ a[4]) & v.flagMask) !== 0 ||
      e[5] !== a[5];
    if (!bad) return;
    failedForms.set(v.name, (failedForms.get(v.name) ?? 0) + 1);
    if (failures.length < 10) {
      const bytes = v.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      failures.push(
        `${v.name} [${bytes}] in eax=${hex(v.input[0])} ebx=${hex(v.input[1])} ecx=${hex(v.input[2])} edx=${hex(v.input[3])} fl=${hex(v.input[4])} mem=${hex(v.input[5])}: ` +
          `host ${describe(v, e)}, Boxwood ${typeof a === 'string' ? a : describe(v, a)}`,
      );
    }
  });
  if (failures.length === 0) return { pass: true, detail: `${vectors.length} vectors match the host CPU` };
  const forms = [...failedForms.entries()].map(([n, c]) => `${n} (${c})`).join(', ');
  return {
    pass: false,
    detail: `${[...failedForms.values()].reduce((a, b) => a + b, 0)} of ${vectors.length} vectors differ; forms: ${forms}\n  ${failures.join('\n  ')}`,
  };
}
