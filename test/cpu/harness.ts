// A bare CPU for test vectors: 16 MiB of RAM, an I/O bus whose every IN reads
// all ones, no interrupt sources, no FPU.
import { Cpu } from '../../engine/cpu/cpu';
import { PhysicalMemory } from '../../engine/machine/physical-memory';
import { IoBus } from '../../engine/machine/io-bus';
import type { CpuBus } from '../../engine/cpu/core';
import { Reg, Seg } from '../../engine/cpu/state';
import type { Regs } from './moo';

export interface Harness {
  cpu: Cpu;
  mem: PhysicalMemory;
  /** Physical addresses written by the current test's setup or checks, cleared before the next. */
  touched: number[];
  shutdownReason: string | null;
}

export function createHarness(): Harness {
  const mem = new PhysicalMemory(16 * 1024 * 1024);
  const io = new IoBus();
  io.logUnclaimed = false;
  const h: Harness = { cpu: null as unknown as Cpu, mem, touched: [], shutdownReason: null };
  const bus: CpuBus = {
    mem,
    io,
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    clock: { nowNs: () => 0 },
    onShutdown: (reason) => {
      h.shutdownReason = reason;
    },
  };
  h.cpu = new Cpu(bus);
  return h;
}

/** Zero the bytes the previous test set up or was expected to write. */
export function clearTouched(h: Harness): void {
  for (const a of h.touched) h.mem.ram[a] = 0;
  h.touched.length = 0;
}

export function writeRam(h: Harness, ram: [number, number][]): void {
  for (const [addr, v] of ram) {
    h.mem.ram[addr] = v;
    h.touched.push(addr);
  }
}

const SEGS: [keyof Regs, Seg][] = [
  ['es', Seg.ES],
  ['cs', Seg.CS],
  ['ss', Seg.SS],
  ['ds', Seg.DS],
];
const GPRS: [keyof Regs, Reg][] = [
  ['ax', Reg.EAX],
  ['cx', Reg.ECX],
  ['dx', Reg.EDX],
  ['bx', Reg.EBX],
  ['sp', Reg.ESP],
  ['bp', Reg.EBP],
  ['si', Reg.ESI],
  ['di', Reg.EDI],
];

/** Real-mode state from 16-bit register values: segment caches as a real-mode load leaves them. */
export function loadRealModeRegs(h: Harness, regs: Regs, flags: number): void {
  const cpu = h.cpu;
  cpu.reset();
  h.shutdownReason = null;
  for (const [name, r] of GPRS) cpu.reg32[r] = regs[name] ?? 0;
  for (const [name, s] of SEGS) {
    const sel = regs[name] ?? 0;
    cpu.segSel[s] = sel;
    cpu.segBase[s] = sel << 4;
    cpu.segLimit[s] = 0xffff;
    cpu.segAccess[s] = s === Seg.CS ? 0x9b : 0x93;
  }
  for (const s of [Seg.FS, Seg.GS]) {
    cpu.segSel[s] = 0;
    cpu.segBase[s] = 0;
  }
  cpu.eip = regs.ip ?? 0;
  cpu.setEflags(flags, 0xffff);
  cpu.updateModeCaches();
}

export function readRealModeRegs(h: Harness): Required<Regs> {
  const cpu = h.cpu;
  const r = cpu.reg16;
  return {
    ax: r[Reg.EAX * 2],
    bx: r[Reg.EBX * 2],
    cx: r[Reg.ECX * 2],
    dx: r[Reg.EDX * 2],
    cs: cpu.segSel[Seg.CS],
    ss: cpu.segSel[Seg.SS],
    ds: cpu.segSel[Seg.DS],
    es: cpu.segSel[Seg.ES],
    sp: r[Reg.ESP * 2],
    bp: r[Reg.EBP * 2],
    si: r[Reg.ESI * 2],
    di: r[Reg.EDI * 2],
    ip: cpu.eip & 0xffff,
    flags: cpu.getEflags() & 0xffff,
  };
}
