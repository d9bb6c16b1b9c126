// The decoded-block cache: blocks are recorded on first execution, reused, and
// invalidated by writes into their page (CPU stores, DMA) but not by writes elsewhere;
// with the cache on or off the same program retires the same instructions and takes
// interrupts at the same instruction counts.
import { describe, expect, it } from 'vitest';
import { Cpu } from './cpu';
import { PhysicalMemory } from '../machine/physical-memory';
import { IoBus } from '../machine/io-bus';
import { CR0_ET, CR0_PE, FLAG_IF, Reg, Seg } from './state';

const CODE = 0x1000;
const DATA = 0x3000;
const IDT = 0x400;
const GDT = 0x900;
const STUBS = 0xa00;

function flatMachine(pending: (cpu: Cpu) => number | null = () => null) {
  const mem = new PhysicalMemory(4 * 1024 * 1024);
  const io = new IoBus();
  io.logUnclaimed = false;
  const acked: number[] = [];
  const cpu: Cpu = new Cpu({
    mem,
    io,
    interrupts: {
      hasInterrupt: () => pending(cpu) !== null,
      acknowledge: () => {
        acked.push(cpu.instructionCount);
        return pending(cpu)!;
      },
    },
    clock: { nowNs: () => 0 },
    onShutdown: () => {
      throw new Error('unexpected shutdown');
    },
  });
  const dv = new DataView(mem.ram.buffer);
  dv.setInt32(GDT + 8, 0x0000ffff, true);
  dv.setInt32(GDT + 12, 0x00cf9b00, true);
  dv.setInt32(GDT + 16, 0x0000ffff, true);
  dv.setInt32(GDT + 20, 0x00cf9300, true);
  // Every vector: an IRET stub.
  for (let v = 0; v < 64; v++) {
    dv.setInt32(IDT + v * 8, (8 << 16) | STUBS, true);
    dv.setInt32(IDT + v * 8 + 4, 0x8e00, true);
  }
  mem.ram[STUBS] = 0xcf;
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = 23;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 64 * 8 - 1;
  for (let s = Seg.ES; s <= Seg.GS; s++) {
    cpu.segSel[s] = s === Seg.CS ? 8 : 16;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAccess[s] = s === Seg.CS ? 0xc9b : 0xc93;
  }
  cpu.reg32[Reg.ESP] = 0x8000;
  cpu.eip = CODE;
  cpu.updateModeCaches();
  cpu.blockCacheEnabled = true;
  return { cpu, mem, acked };
}

/** Sum of (c & 0xff) for c = n..1: what the patched MOV AL adds up. */
function expectedSum(n: number): number {
  let sum = 0;
  for (let c = n; c > 0; c--) sum += c & 0xff;
  return sum;
}

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

// L:  mov [edi], bl        88 1F
// T:  inc eax              40        <- patched to DEC EAX (48) when EDI = T
//     add edx, 1           83 C2 01
//     hlt                  F4
const T = CODE + 2;
const PATCHABLE = [0x88, 0x1f, 0x40, 0x83, 0xc2, 0x01, 0xf4];

function runFrom(cpu: Cpu, eip: number, budget = 1000): number {
  cpu.eip = eip;
  cpu.halted = false;
  return cpu.run(budget);
}

/** Run PATCHABLE twice with the store going to DATA: the second run records the whole block. */
function recordPatchable() {
  const m = flatMachine();
  m.mem.ram.set(PATCHABLE, CODE);
  m.cpu.reg32[Reg.EDI] = DATA;
  m.cpu.reg32[Reg.EBX] = 0x48;
  runFrom(m.cpu, CODE);
  runFrom(m.cpu, CODE);
  expect(m.cpu.reg32[Reg.EAX]).toBe(2);
  expect(m.mem.codePages[CODE >>> 12]).toBe(1);
  return m;
}

describe('decoded-block cache', () => {
  it('records a block on first execution and reuses it', () => {
    const { cpu } = recordPatchable();
    const recorded = cpu.blocksRecorded;
    const executed = cpu.blocksExecuted;
    expect(runFrom(cpu, CODE)).toBe(4);
    expect(cpu.blocksRecorded).toBe(recorded);
    expect(cpu.blocksExecuted).toBe(executed + 1);
    expect(cpu.reg32[Reg.EAX]).toBe(3);
  });

  it('stops the executing block when it writes into its own page (self-modifying code)', () => {
    const { cpu, mem } = recordPatchable();
    const executed = cpu.blocksExecuted;
    cpu.reg32[Reg.EDI] = T; // the cached block now patches its own next instruction
    cpu.reg32[Reg.EDX] = 0;
    expect(runFrom(cpu, CODE)).toBe(4);
    expect(cpu.blocksExecuted).toBe(executed + 1);
    expect(mem.ram[T]).toBe(0x48);
    expect(cpu.reg32[Reg.EAX]).toBe(1); // DEC ran, not the cached INC
    expect(cpu.reg32[Reg.EDX]).toBe(1);
    expect(mem.codePages[CODE >>> 12]).toBe(1); // the rest of the page was recorded again
  });

  it('drops the blocks of a page written by DMA', () => {
    const { cpu, mem } = recordPatchable();
    const recorded = cpu.blocksRecorded;
    expect(mem.dmaWrite(T, new Uint8Array([0x48]))).toBe(true);
    expect(mem.codePages[CODE >>> 12]).toBe(0);
    runFrom(cpu, CODE);
    expect(cpu.reg32[Reg.EAX]).toBe(1);
    expect(cpu.blocksRecorded).toBe(recorded + 1);
  });

  it('keeps the blocks of a page when another page is written', () => {
    const { cpu, mem } = recordPatchable();
    const recorded = cpu.blocksRecorded;
    expect(mem.dmaWrite(DATA + 0x10, new Uint8Array([1, 2, 3]))).toBe(true);
    mem.write32(CODE + 0x1000, 0x12345678); // the next page, which holds no code
    const executed = cpu.blocksExecuted;
    runFrom(cpu, CODE);
    expect(cpu.blocksRecorded).toBe(recorded);
    expect(cpu.blocksExecuted).toBe(executed + 1);
    expect(mem.codePages[CODE >>> 12]).toBe(1);
  });

  it('re-decodes a REP store that overwrites the code after it', () => {
    // mov edi, X; mov ecx, 1; mov al, 4Bh; xor ebx, ebx; rep stosb; X: inc ebx (patched to DEC EBX); hlt
    const { cpu, mem } = flatMachine();
    const prog = [0xbf, ...le32(0), 0xb9, 0x01, 0, 0, 0, 0xb0, 0x4b, 0x31, 0xdb, 0xf3, 0xaa, 0x43, 0xf4];
    const x = CODE + prog.length - 2;
    prog.splice(1, 4, ...le32(x));
    for (let round = 0; round < 2; round++) {
      mem.dmaWrite(CODE, new Uint8Array(prog));
      cpu.eip = CODE;
      cpu.halted = false;
      cpu.run(1000);
      expect(cpu.reg32[Reg.EBX]).toBe(-1); // DEC EBX, not INC EBX
    }
  });

  it('stops caching a page that is rewritten over and over, with the same results', () => {
    // loop: mov [P+1], cl; P: mov al, 0; add edx, eax; dec ecx; jnz loop; hlt
    const p = CODE + 11;
    const prog = [0xb9, ...le32(3000), 0x88, 0x0d, ...le32(p + 1), 0xb0, 0x00, 0x01, 0xc2, 0x49, 0x75, 0xf3, 0xf4];
    const outcome = (cache: boolean) => {
      const { cpu, mem } = flatMachine();
      cpu.blockCacheEnabled = cache;
      mem.ram.set(prog, CODE);
      let total = 0;
      while (!cpu.halted) total += cpu.run(1000);
      return { total, edx: cpu.reg32[Reg.EDX], recorded: cpu.blocksRecorded };
    };
    const on = outcome(true);
    const off = outcome(false);
    expect(on.edx).toBe(off.edx);
    expect(on.edx).toBe(0x0652 + expectedSum(3000)); // EDX starts with the reset signature
    expect(on.total).toBe(off.total);
    expect(on.recorded).toBeLessThan(40); // not re-recorded on every iteration
  });

  it('retires the same instructions and takes interrupts at the same counts with the cache on or off', () => {
    // A loop with memory traffic, STI/CLI windows and interrupts pending at fixed counts.
    // loop: mov eax,[DATA]; add eax,ecx; mov [DATA],eax; sti; nop; cli; nop; sti; dec ecx; jnz loop; hlt
    const prog = [
      0xb9, ...le32(500),
      0xa1, ...le32(DATA), 0x01, 0xc8, 0xa3, ...le32(DATA), 0xfb, 0x90, 0xfa, 0x90, 0xfb, 0x49, 0x75, 0xec, 0xf4,
    ];
    const outcome = (cache: boolean) => {
      const { cpu, mem, acked } = flatMachine((c) => (c.instructionCount % 97 < 3 ? 0x20 : null));
      cpu.blockCacheEnabled = cache;
      mem.ram.set(prog, CODE);
      let total = 0;
      for (let i = 0; i < 200 && !cpu.halted; i++) total += cpu.run(37);
      return { total, count: cpu.instructionCount, acked, eax: cpu.reg32[Reg.EAX], data: mem.read32(DATA), flags: cpu.getEflags() & FLAG_IF };
    };
    const on = outcome(true);
    const off = outcome(false);
    expect(on.acked.length).toBeGreaterThan(10);
    expect(on).toEqual(off);
  });
});
