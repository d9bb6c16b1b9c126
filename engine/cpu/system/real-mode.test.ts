import { describe, expect, it } from 'vitest';
import { EventKind, Seg, Vec, FLAG_IF, FLAG_TF, FLAG_CF, FLAG_VM, FLAG_IOPL, FLAG_NT } from '../state';
import { deliverEvent, farCall, farJump, farReturn, interruptReturn, loadSegment, cpuid } from './index';
import { FakeCpu, faultOf } from './test-support';

function realCpu(): FakeCpu {
  const cpu = new FakeCpu();
  cpu.segSel[Seg.CS] = 0x1000;
  cpu.segBase[Seg.CS] = 0x10000;
  cpu.segSel[Seg.SS] = 0x2000;
  cpu.segBase[Seg.SS] = 0x20000;
  cpu.esp = 0x100;
  cpu.eip = 0x0042;
  return cpu;
}

describe('real mode', () => {
  it('delivers an interrupt through the IVT', () => {
    const cpu = realCpu();
    cpu.w16(0x21 * 4, 0x5678);
    cpu.w16(0x21 * 4 + 2, 0xf000);
    cpu.eflags = 2 | FLAG_IF | FLAG_TF | FLAG_CF;
    deliverEvent(cpu, 0x21, EventKind.Software, -1);
    expect(cpu.segSel[Seg.CS]).toBe(0xf000);
    expect(cpu.segBase[Seg.CS]).toBe(0xf0000);
    expect(cpu.eip).toBe(0x5678);
    expect(cpu.esp).toBe(0xfa);
    expect(cpu.stack16(3)).toEqual([0x0042, 0x1000, 2 | FLAG_IF | FLAG_TF | FLAG_CF]);
    expect(cpu.getEflags() & (FLAG_IF | FLAG_TF)).toBe(0);
    expect(cpu.getEflags() & FLAG_CF).toBe(FLAG_CF);
  });

  it('IRET restores CS:IP and FLAGS', () => {
    const cpu = realCpu();
    cpu.w16(0x08 * 4, 0x100);
    cpu.w16(0x08 * 4 + 2, 0x3000);
    cpu.eflags = 2 | FLAG_IF;
    deliverEvent(cpu, 8, EventKind.External, -1);
    interruptReturn(cpu, false);
    expect(cpu.segSel[Seg.CS]).toBe(0x1000);
    expect(cpu.segBase[Seg.CS]).toBe(0x10000);
    expect(cpu.eip).toBe(0x42);
    expect(cpu.esp).toBe(0x100);
    expect(cpu.getEflags()).toBe(2 | FLAG_IF);
  });

  it('32-bit IRET keeps VM and loads IOPL/NT', () => {
    const cpu = realCpu();
    cpu.push32(0x2 | FLAG_VM | FLAG_IOPL | FLAG_NT);
    cpu.push32(0x1234);
    cpu.push32(0x9abc);
    interruptReturn(cpu, true);
    expect(cpu.eip).toBe(0x9abc);
    expect(cpu.segSel[Seg.CS]).toBe(0x1234);
    expect(cpu.getEflags() & FLAG_VM).toBe(0);
    expect(cpu.getEflags() & (FLAG_IOPL | FLAG_NT)).toBe(FLAG_IOPL | FLAG_NT);
  });

  it('IVT limit violation escalates: #GP, then #DF, then triple fault', () => {
    const cpu = realCpu();
    cpu.idtrLimit = 0;
    deliverEvent(cpu, 0x10, EventKind.External, -1);
    expect(cpu.shutdownReason).toBe('triple fault');
  });

  it('software INT with an IVT limit violation throws #GP(0) and rolls back', () => {
    const cpu = realCpu();
    cpu.idtrLimit = 4 * 0x20 - 1;
    expect(faultOf(() => deliverEvent(cpu, 0x21, EventKind.Software, -1))).toEqual([Vec.GP, 0]);
    expect(cpu.esp).toBe(0x100);
  });

  it('far CALL / RETF / JMP keep the unreal-mode limit', () => {
    const cpu = realCpu();
    cpu.segLimit[Seg.DS] = 0xffffffff;
    farCall(cpu, 0x2345, 0x10, false, 0x47);
    expect(cpu.segSel[Seg.CS]).toBe(0x2345);
    expect(cpu.eip).toBe(0x10);
    expect(cpu.stack16(2)).toEqual([0x47, 0x1000]);
    farReturn(cpu, false, 4);
    expect(cpu.segSel[Seg.CS]).toBe(0x1000);
    expect(cpu.eip).toBe(0x47);
    expect(cpu.esp).toBe(0x104);
    farJump(cpu, 0xffff, 0x0, false);
    expect(cpu.segBase[Seg.CS]).toBe(0xffff0);
    loadSegment(cpu, Seg.DS, 0x40);
    expect(cpu.segBase[Seg.DS]).toBe(0x400);
    expect(cpu.segLimit[Seg.DS]).toBe(0xffffffff);
  });

  it('32-bit far call pushes dwords', () => {
    const cpu = realCpu();
    farCall(cpu, 0x2345, 0x10, true, 0x47);
    expect(cpu.esp).toBe(0xf8);
    expect(cpu.stack32(2)).toEqual([0x47, 0x1000]);
  });

  it('far jump beyond the CS limit is #GP(0)', () => {
    const cpu = realCpu();
    expect(faultOf(() => farJump(cpu, 0x1000, 0x10000, true))).toEqual([Vec.GP, 0]);
    expect(cpu.segSel[Seg.CS]).toBe(0x1000);
  });
});

describe('cpuid', () => {
  const run = (cpu: FakeCpu, leaf: number) => {
    cpu.reg32[0] = leaf;
    cpuid(cpu);
    return [cpu.reg32[0] >>> 0, cpu.reg32[3] >>> 0, cpu.reg32[1] >>> 0, cpu.reg32[2] >>> 0];
  };
  it('reports a GenuineIntel Pentium II', () => {
    const cpu = new FakeCpu();
    const [max, b, c, d] = run(cpu, 0);
    expect(max).toBe(2);
    const s = Buffer.alloc(12);
    s.writeUInt32LE(b, 0);
    s.writeUInt32LE(d, 4);
    s.writeUInt32LE(c, 8);
    expect(s.toString('latin1')).toBe('GenuineIntel');
    const [sig, , , features] = run(cpu, 1);
    expect((sig >> 8) & 0xf).toBe(6);
    expect(features & (1 << 9)).toBe(0); // no APIC unless wired
    expect(features & (1 << 23)).toBe(0); // no MMX
    expect(features & (1 << 6)).toBe(0); // no PAE
    cpu.apicPresent = true;
    expect(run(cpu, 1)[3] & (1 << 9)).toBe(1 << 9);
    cpu.apicBase &= ~0x800; // globally disabled through the MSR: CPUID hides it
    expect(run(cpu, 1)[3] & (1 << 9)).toBe(0);
    expect(run(cpu, 0x80000000)).toEqual(run(cpu, 2));
  });
});
