// Interpreter behaviour the conformance vectors do not reach: paging and the TLB,
// self-modifying code, restartable faults, REP chunking, interrupt shadows, and
// snapshots taken in the middle of a run.
import { describe, expect, it } from 'vitest';
import { Cpu } from './cpu';
import { PhysicalMemory } from '../machine/physical-memory';
import { IoBus } from '../machine/io-bus';
import { CpuFault, CR0_AM, CR0_ET, CR0_PE, CR0_PG, FLAG_AC, FLAG_IF, Reg, Seg, Vec } from './state';
import { X87 } from './fpu/x87';

const CODE = 0x1000;
const IDT = 0x800;
const GDT = 0x900;
const STUBS = 0xa00;

function machine(pendingVector: () => number | null = () => null, withFpu = false) {
  const mem = new PhysicalMemory(4 * 1024 * 1024);
  const io = new IoBus();
  io.logUnclaimed = false;
  const acked: number[] = [];
  const cpu = new Cpu({
    mem,
    io,
    interrupts: {
      hasInterrupt: () => pendingVector() !== null,
      acknowledge: () => {
        const v = pendingVector()!;
        acked.push(v);
        return v;
      },
    },
    clock: { nowNs: () => 0 },
    onShutdown: () => {
      throw new Error('unexpected shutdown');
    },
  }, withFpu ? { fpu: new X87() } : {});
  return { cpu, mem, acked };
}

/** Real mode at 0000:1000 with SS:SP = 0000:8000. */
function realMode(cpu: Cpu, mem: PhysicalMemory, code: number[]): void {
  for (let s = Seg.ES; s <= Seg.GS; s++) {
    cpu.segSel[s] = 0;
    cpu.segBase[s] = 0;
  }
  cpu.eip = CODE;
  cpu.reg32[Reg.ESP] = 0x8000;
  mem.ram.set(code, CODE);
  cpu.updateModeCaches();
}

/** Flat 32-bit ring 0 with an IDT whose every gate points at a HLT stub (STUBS + vector). */
function flatProtectedMode(cpu: Cpu, mem: PhysicalMemory, code: number[]): void {
  const dv = new DataView(mem.ram.buffer);
  dv.setInt32(GDT + 8, 0x0000ffff, true);
  dv.setInt32(GDT + 12, 0x00cf9b00, true);
  dv.setInt32(GDT + 16, 0x0000ffff, true);
  dv.setInt32(GDT + 20, 0x00cf9300, true);
  for (let v = 0; v < 32; v++) {
    dv.setInt32(IDT + v * 8, (8 << 16) | (STUBS + v), true);
    dv.setInt32(IDT + v * 8 + 4, 0x8e00, true);
    mem.ram[STUBS + v] = 0xf4;
  }
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = 23;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 32 * 8 - 1;
  for (let s = Seg.ES; s <= Seg.GS; s++) {
    cpu.segSel[s] = s === Seg.CS ? 8 : 16;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAccess[s] = s === Seg.CS ? 0xc9b : 0xc93;
  }
  cpu.reg32[Reg.ESP] = 0x8000;
  cpu.eip = CODE;
  mem.ram.set(code, CODE);
  cpu.updateModeCaches();
}

/** Identity-map the first 4 MiB with 4 KiB pages, leaving `absentPage` not present. */
function enablePaging(cpu: Cpu, mem: PhysicalMemory, absentPage: number): void {
  const pd = 0x100000;
  const pt = 0x101000;
  const dv = new DataView(mem.ram.buffer);
  dv.setInt32(pd, pt | 7, true);
  for (let p = 0; p < 1024; p++) dv.setInt32(pt + p * 4, p === absentPage ? 0 : (p << 12) | 7, true);
  cpu.cr3 = pd;
  cpu.cr0 |= CR0_PG;
  cpu.flushTlb(true);
  cpu.updateModeCaches();
}

function faultOf(fn: () => void): CpuFault | null {
  try {
    fn();
  } catch (e) {
    if (e instanceof CpuFault) return e;
    throw e;
  }
  return null;
}

describe('Cpu', () => {
  it('starts at F000:FFF0 with the P6 signature in EDX', () => {
    const { cpu } = machine();
    expect(cpu.segBase[Seg.CS] >>> 0).toBe(0xffff0000);
    expect(cpu.eip).toBe(0xfff0);
    expect(cpu.reg32[Reg.EDX] >> 8).toBe(6);
    expect(cpu.cr0 >>> 0).toBe(0x60000010);
  });

  it('checks both pages before a page-crossing write', () => {
    const { cpu, mem } = machine();
    flatProtectedMode(cpu, mem, []);
    enablePaging(cpu, mem, 5);
    mem.ram.fill(0xaa, 0x4ff0, 0x5000);
    const f = faultOf(() => cpu.writeLin32(0x4ffe, 0x11223344));
    expect(f?.vector).toBe(Vec.PF);
    expect(cpu.cr2 >>> 0).toBe(0x5000);
    expect([mem.ram[0x4ffe], mem.ram[0x4fff]]).toEqual([0xaa, 0xaa]);
    // Readable across a boundary between two present pages.
    mem.ram.set([1, 2, 3, 4], 0x3ffe);
    expect(cpu.readLin32(0x3ffe)).toBe(0x04030201);
  });

  it('leaves registers, flags and memory untouched when a read-modify-write faults', () => {
    const { cpu, mem } = machine();
    // add [0x4ffe], eax ; hlt
    flatProtectedMode(cpu, mem, [0x01, 0x05, 0xfe, 0x4f, 0x00, 0x00, 0xf4]);
    enablePaging(cpu, mem, 5);
    cpu.reg32[Reg.EAX] = 0x7fffffff;
    cpu.setEflags(0x2);
    cpu.run(10);
    // Delivered #PF (stub = STUBS + 14) with the faulting EIP on the stack and the old flags.
    expect(cpu.eip).toBe(STUBS + Vec.PF + 1);
    expect(cpu.readLin32(0x8000 - 12)).toBe(CODE); // frame: error code, EIP, CS, EFLAGS
    expect(cpu.readLin32(0x8000 - 4) & 0x8d5).toBe(0);
  });

  it('re-decodes code that the program itself modified', () => {
    const { cpu, mem } = machine();
    // mov byte [cs:0x1008], 0x42 ; nop ; nop ; mov al, 0 ; hlt   (the store patches the MOV's immediate)
    realMode(cpu, mem, [0x2e, 0xc6, 0x06, 0x08, 0x10, 0x42, 0x90, 0xb0, 0x00, 0xf4]);
    cpu.run(10);
    expect(cpu.halted).toBe(true);
    expect(cpu.reg8[0]).toBe(0x42);
  });

  it('runs a long REP in chunks that an interrupt can come between', () => {
    let pending: number | null = null;
    const { cpu, mem, acked } = machine(() => pending);
    // IVT entry 0x20 -> 0000:2000 (HLT)
    mem.ram.set([0x00, 0x20, 0x00, 0x00], 0x80);
    mem.ram[0x2000] = 0xf4;
    // rep stosb with CX = 0xF000 at ES:DI = 0000:4000
    realMode(cpu, mem, [0xf3, 0xaa, 0xf4]);
    cpu.reg32[Reg.ECX] = 0xf000;
    cpu.reg32[Reg.EDI] = 0x4000;
    cpu.setEflags(FLAG_IF | 2);
    cpu.run(1);
    expect(cpu.eip).toBe(CODE); // still on the REP instruction
    const left = cpu.reg32[Reg.ECX];
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(0xf000);
    pending = 0x20;
    cpu.run(1);
    expect(acked).toEqual([0x20]);
    // The interrupt frame returns to the REP instruction, which resumes with CX where it stopped.
    expect(cpu.readLin16(0x8000 - 6)).toBe(CODE);
    expect(cpu.reg32[Reg.ECX]).toBe(left);
  });

  it('holds interrupts off for one instruction after STI', () => {
    const { cpu, mem, acked } = machine(() => 0x21);
    mem.ram.set([0x00, 0x30, 0x00, 0x00], 0x84);
    mem.ram[0x3000] = 0xf4;
    // sti ; nop ; nop
    realMode(cpu, mem, [0xfb, 0x90, 0x90]);
    cpu.run(2);
    expect(acked).toEqual([]);
    expect(cpu.eip).toBe(CODE + 2);
    cpu.run(1);
    expect(acked).toEqual([0x21]);
  });

  it('restores a snapshot taken mid-run to the same future', () => {
    // A loop mixing ALU, memory and branches: inc eax; add [0x3000], eax; rol ebx, 3; xor ebx, eax; jmp short -12
    const code = [0x40, 0x01, 0x05, 0x00, 0x30, 0x00, 0x00, 0xc1, 0xc3, 0x03, 0x31, 0xc3, 0xeb, 0xf2];
    const a = machine();
    flatProtectedMode(a.cpu, a.mem, code);
    a.cpu.run(1003);
    const state = a.cpu.saveState();
    const ram = a.mem.ram.slice();
    a.cpu.run(5001);

    const b = machine();
    b.mem.ram.set(ram);
    b.cpu.loadState(structuredClone(state), a.cpu.stateVersion);
    b.cpu.run(5001);
    expect(Array.from(b.cpu.reg32)).toEqual(Array.from(a.cpu.reg32));
    expect(b.cpu.eip).toBe(a.cpu.eip);
    expect(b.cpu.getEflags()).toBe(a.cpu.getEflags());
    expect(b.cpu.instructionCount).toBe(a.cpu.instructionCount);
    expect(b.mem.ram.subarray(0x3000, 0x3004)).toEqual(a.mem.ram.subarray(0x3000, 0x3004));
  });

  it('raises #UD for LOCK on a register destination and accepts it on memory', () => {
    const { cpu, mem } = machine();
    // lock add eax, ebx -> #UD ; lock add [0x3000], ebx ; hlt
    flatProtectedMode(cpu, mem, [0xf0, 0x01, 0xd8]);
    cpu.run(5);
    expect(cpu.eip).toBe(STUBS + Vec.UD + 1);
    flatProtectedMode(cpu, mem, [0xf0, 0x01, 0x1d, 0x00, 0x30, 0x00, 0x00, 0xf4]);
    cpu.reg32[Reg.EBX] = 5;
    cpu.halted = false;
    cpu.run(5);
    expect(cpu.eip).toBe(CODE + 8);
    expect(mem.ram[0x3000]).toBe(5);
  });

  it('computes 64-bit MUL/IMUL/DIV results exactly', () => {
    const { cpu, mem } = machine();
    // mul ebx ; hlt
    flatProtectedMode(cpu, mem, [0xf7, 0xe3, 0xf4]);
    cpu.reg32[Reg.EAX] = 0xfffffff0 | 0;
    cpu.reg32[Reg.EBX] = 0xfffffff1 | 0;
    cpu.run(5);
    expect(cpu.reg32[Reg.EDX] >>> 0).toBe(0xffffffe1);
    expect(cpu.reg32[Reg.EAX] >>> 0).toBe(0xf0);
    // div ebx ; hlt  (EDX:EAX / EBX back to the multiplicand)
    flatProtectedMode(cpu, mem, [0xf7, 0xf3, 0xf4]);
    cpu.halted = false;
    cpu.run(5);
    expect(cpu.reg32[Reg.EAX] >>> 0).toBe(0xfffffff0);
    expect(cpu.reg32[Reg.EDX]).toBe(0);
  });

  it('hands ESC opcodes to the x87 unit, and raises #NM without one', () => {
    // fld1 ; fadd st0, st0 ; fistp dword [0x3000] ; hlt
    const code = [0xd9, 0xe8, 0xd8, 0xc0, 0xdb, 0x1d, 0x00, 0x30, 0x00, 0x00, 0xf4];
    const withFpu = machine(() => null, true);
    flatProtectedMode(withFpu.cpu, withFpu.mem, code);
    withFpu.cpu.run(10);
    expect(withFpu.cpu.eip).toBe(CODE + code.length);
    expect(withFpu.mem.ram[0x3000]).toBe(2);

    const without = machine();
    flatProtectedMode(without.cpu, without.mem, code);
    without.cpu.run(10);
    expect(without.cpu.eip).toBe(STUBS + Vec.NM + 1);
    expect(without.cpu.hasFpu).toBe(false);
  });

  it('raises #AC for a misaligned access at CPL 3 with CR0.AM and EFLAGS.AC', () => {
    const { cpu, mem } = machine();
    flatProtectedMode(cpu, mem, []);
    cpu.cr0 |= CR0_AM;
    cpu.cpl = 3;
    cpu.updateModeCaches();
    expect(faultOf(() => cpu.readSeg32(Seg.DS, 0x3001))).toBeNull();
    cpu.setEflags(FLAG_AC | 2);
    expect(faultOf(() => cpu.readSeg32(Seg.DS, 0x3001))?.vector).toBe(Vec.AC);
    expect(faultOf(() => cpu.readSeg32(Seg.DS, 0x3004))).toBeNull();
  });

  it('accepts 15-byte instructions and raises #GP(0) beyond', () => {
    const { cpu, mem } = machine();
    flatProtectedMode(cpu, mem, [...new Array(14).fill(0x3e), 0x90, 0xf4]);
    cpu.run(5);
    expect(cpu.eip).toBe(CODE + 16);
    flatProtectedMode(cpu, mem, [...new Array(15).fill(0x3e), 0x90, 0xf4]);
    cpu.halted = false;
    cpu.run(5);
    expect(cpu.eip).toBe(STUBS + Vec.GP + 1);
  });
});
