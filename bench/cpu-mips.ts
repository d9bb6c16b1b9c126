// Interpreter speed (npm run bench:cpu): fixed CPU-bound guest loops run in a flat
// 32-bit protected-mode segment for a few seconds each; prints MIPS (wall clock and
// per CPU-second: on a loaded host the wall-clock figure mostly measures the load).
//   loop  loads, ALU, rotates, stores, compares and branches over a 256-byte array
//   smc   a loop that patches an instruction of its own code page every iteration
//         (self-modifying code: exercises decoded-block invalidation)
// Environment: BENCH_SECONDS (per workload, default 3), BENCH_WORKLOADS=loop,smc,
// BENCH_NO_CACHE=1 runs without the decoded-block cache, BENCH_STATS=1 prints block counts.
import { Cpu } from '../engine/cpu/cpu';
import { PhysicalMemory } from '../engine/machine/physical-memory';
import { IoBus } from '../engine/machine/io-bus';
import { CR0_ET, CR0_PE, Seg } from '../engine/cpu/state';

const CODE = 0x1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? 'loop,smc').split(',');

// Hand-assembled (offsets in the comments are relative to CODE):
const loopProgram = [
  0xb9, 0x00, 0x00, 0x00, 0x40, //  0: mov ecx, 0x40000000      (outer iterations)
  0xbe, 0x00, 0x00, 0x20, 0x00, //  5: outer: mov esi, 0x200000
  0xbf, 0x40, 0x00, 0x00, 0x00, // 10: mov edi, 64               (inner iterations)
  0x8b, 0x06, //                   15: inner: mov eax, [esi]
  0x01, 0xc8, //                   17: add eax, ecx
  0x35, 0x5a, 0x5a, 0x5a, 0x5a, // 19: xor eax, 0x5a5a5a5a
  0xc1, 0xc0, 0x03, //             24: rol eax, 3
  0x89, 0x06, //                   27: mov [esi], eax
  0x83, 0xc6, 0x04, //             29: add esi, 4
  0x39, 0xd0, //                   32: cmp eax, edx
  0x72, 0x01, //                   34: jb skip
  0x42, //                         36: inc edx
  0x4f, //                         37: skip: dec edi
  0x75, 0xe7, //                   38: jnz inner (15 - 40)
  0x49, //                         40: dec ecx
  0x75, 0xda, //                   41: jnz outer (5 - 43)
  0xf4, //                         43: hlt
];

const patched = CODE + 12; // the imm8 of "mov al, 0" below
const smcProgram = [
  0xb9, 0x00, 0x00, 0x00, 0x40, //  0: mov ecx, 0x40000000
  0x88, 0x0d, patched & 0xff, (patched >> 8) & 0xff, 0x00, 0x00, //  5: loop: mov [patched], cl
  0xb0, 0x00, //                   11: mov al, 0               (imm8 rewritten above)
  0x01, 0xc2, //                   13: add edx, eax
  0x31, 0xde, //                   15: xor esi, ebx
  0x8d, 0x5c, 0x13, 0x01, //       17: lea ebx, [ebx+edx+1]
  0x49, //                         21: dec ecx
  0x75, 0xed, //                   22: jnz loop (5 - 24)
  0xf4, //                         24: hlt
];

function bench(name: string, program: number[]): void {
  const mem = new PhysicalMemory(16 * 1024 * 1024);
  const io = new IoBus();
  const cpu = new Cpu({
    mem,
    io,
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    clock: { nowNs: () => 0 },
    onShutdown: (reason) => {
      throw new Error(`guest shut down: ${reason}`);
    },
  });
  mem.ram.set(program, CODE);
  cpu.cr0 = CR0_PE | CR0_ET;
  for (let s = Seg.ES; s <= Seg.GS; s++) {
    cpu.segSel[s] = s === Seg.CS ? 8 : 16;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAccess[s] = s === Seg.CS ? 0xc9b : 0xc93;
  }
  cpu.eip = CODE;
  if (process.env.BENCH_NO_CACHE) cpu.blockCacheEnabled = false;
  cpu.updateModeCaches();

  // Warm up the JIT of the host engine, then measure.
  cpu.run(2_000_000);
  const start = process.hrtime.bigint();
  const startCpu = process.cpuUsage();
  const startCount = cpu.instructionCount;
  let elapsed = 0;
  while (elapsed < SECONDS) {
    cpu.run(1_000_000);
    if (cpu.halted) throw new Error('benchmark loop ended early');
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const used = process.cpuUsage(startCpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const executed = cpu.instructionCount - startCount;
  const mips = executed / elapsed / 1e6;
  const label = name === 'loop' ? 'cpu' : `cpu ${name}`;
  console.log(
    `${label}: ${mips.toFixed(1)} MIPS (${executed.toLocaleString('en-US')} instructions in ${elapsed.toFixed(2)} s; ` +
      `${(executed / cpuSeconds / 1e6).toFixed(1)} MIPS per CPU-second)`,
  );
  if (process.env.BENCH_STATS) console.log(`  blocks recorded ${cpu.blocksRecorded}, block executions ${cpu.blocksExecuted}`);
}

for (const w of WORKLOADS) {
  if (w === 'loop') bench('loop', loopProgram);
  else if (w === 'smc') bench('smc', smcProgram);
  else throw new Error(`unknown workload ${w} (loop, smc)`);
}
