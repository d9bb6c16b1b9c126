import { describe, expect, it } from 'vitest';
import { Machine, type MachineState } from './machine';
import type { MachineConfig } from './machine-config';
import { MemoryBlockDevice } from '../storage/block-device';

// A boot sector that prints A..Z to COM1 forever, one letter per timer tick
// (STI; HLT between letters exercises the deterministic halt skip).
const CODE = [
  0xba, 0xf8, 0x03, // mov dx, 0x3f8
  0xb0, 0x41, // mov al, 'A'
  0xee, // loop: out dx, al
  0xfe, 0xc0, // inc al
  0x3c, 0x5b, // cmp al, 'Z'+1
  0x75, 0x02, // jne +2
  0xb0, 0x41, // mov al, 'A'
  0xfb, // sti
  0xf4, // hlt
  0xeb, 0xf3, // jmp loop
];

function bootSector(): Uint8Array {
  const b = new Uint8Array(512);
  b.set(CODE);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function config(): MachineConfig {
  return { memoryMiB: 16, firmware: 'builtin', disks: { fda: new MemoryBlockDevice(bootSector(), true) }, deterministic: true };
}

function collect(m: Machine): { text: string } {
  const out = { text: '' };
  m.events.on('serial-output', ({ data }) => (out.text += String.fromCharCode(...data)));
  return out;
}

function runUntil(m: Machine, cond: () => boolean, maxSlices = 2000): void {
  for (let i = 0; i < maxSlices && !cond(); i++) m.runSlice(200_000);
}

describe('Machine', () => {
  it('boots a floppy boot sector with the built-in BIOS and sees timer interrupts', () => {
    const m = new Machine(config());
    const out = collect(m);
    runUntil(m, () => out.text.length >= 4);
    expect(out.text.slice(0, 4)).toBe('ABCD');
    // About 18.2 letters per virtual second (PIT channel 0 as the BIOS programs it).
    expect(m.clock.nowNs()).toBeGreaterThan(0.1e9);
  });

  it('save/restore round trip continues identically', () => {
    const a = new Machine(config());
    const outA = collect(a);
    runUntil(a, () => outA.text.length >= 3);
    const saved: MachineState = structuredClone(a.saveState());
    expect(Object.keys(saved.components)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pic', 'pit', 'rtc', 'uart0', 'i8042', 'clock', 'fw-cfg']));
    const b = Machine.restore(config(), saved);
    const outB = collect(b);
    const before = outA.text.length;
    for (let i = 0; i < 15; i++) {
      a.runSlice(100_000);
      b.runSlice(100_000);
    }
    expect(outB.text.length).toBeGreaterThan(2);
    expect(outB.text).toBe(outA.text.slice(before));
    expect(b.cpu.instructionCount).toBe(a.cpu.instructionCount);
    expect(b.cpu.eip).toBe(a.cpu.eip);
    expect(b.clock.nowNs()).toBe(a.clock.nowNs());
  });

  it('resets on a keyboard controller reset pulse and keeps running', () => {
    const m = new Machine(config());
    const out = collect(m);
    runUntil(m, () => out.text.length >= 2);
    const n = out.text.length;
    m.io.out8(0x64, 0xfe);
    m.runSlice(1000);
    expect(m.resetCount).toBe(1);
    // The built-in BIOS boots again and the boot sector starts over at 'A'.
    runUntil(m, () => out.text.length >= n + 4);
    expect(out.text.slice(n, n + 4)).toBe('ABCD');
  });

  it('builds CMOS memory sizes and the fw_cfg signature', () => {
    const m = new Machine({ ...config(), memoryMiB: 64 });
    const cmos = (i: number) => {
      m.io.out8(0x70, i);
      return m.io.in8(0x71);
    };
    expect(cmos(0x15) | (cmos(0x16) << 8)).toBe(640);
    expect(cmos(0x30) | (cmos(0x31) << 8)).toBe(63 * 1024);
    expect(cmos(0x34) | (cmos(0x35) << 8)).toBe((48 * 1024 * 1024) / 65536);
    m.io.out16(0x510, 0);
    expect(String.fromCharCode(m.io.in8(0x511), m.io.in8(0x511), m.io.in8(0x511), m.io.in8(0x511))).toBe('QEMU');
  });

  it('reports a dead halt (CLI; HLT) as stopped', () => {
    const sector = bootSector();
    sector.set([0xfa, 0xf4, 0xeb, 0xfd]); // cli; hlt; jmp $-1
    const m = new Machine({ ...config(), disks: { fda: new MemoryBlockDevice(sector, true) } });
    let r = m.runSlice(1_000_000);
    for (let i = 0; i < 200 && r.reason !== 'stopped'; i++) r = m.runSlice(1_000_000);
    expect(r.reason).toBe('stopped');
    expect(m.stopReason).toMatch(/interrupts disabled/);
  });

  it('triple fault: stops with a register dump, or resets', () => {
    const sector = bootSector();
    // lidt [0x7d00] (a zero-limit IDT), int3 → #GP → #DF → shutdown
    sector.set([0x0f, 0x01, 0x1e, 0x00, 0x7d, 0xcc, 0xeb, 0xfe]);
    const stop = new Machine({ ...config(), disks: { fda: new MemoryBlockDevice(sector, true) }, onTripleFault: 'stop' });
    let r = stop.runSlice(1_000_000);
    for (let i = 0; i < 200 && r.reason !== 'stopped'; i++) r = stop.runSlice(1_000_000);
    expect(r.reason).toBe('stopped');
    expect(stop.lastShutdown?.registers).toMatch(/EIP=/);
    const reset = new Machine({ ...config(), disks: { fda: new MemoryBlockDevice(sector, true) } });
    for (let i = 0; i < 200 && reset.resetCount === 0; i++) reset.runSlice(1_000_000);
    expect(reset.resetCount).toBeGreaterThan(0);
    expect(reset.stopReason).toBeNull();
  });
});
