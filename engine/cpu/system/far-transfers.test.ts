import { describe, expect, it } from 'vitest';
import { Seg, Vec, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_CF } from '../state';
import { farCall, farJump, farReturn, interruptReturn } from './index';
import { GDT_BASE, descriptor, faultOf, gateDescriptor, protectedCpu, setCache, writeDescriptor } from './test-support';

/** CPL 3 caller on the flat DPL3 segments. */
function userCpu() {
  const cpu = protectedCpu();
  setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) setCache(cpu, s, 0x23, 0, 0xffffffff, 0xcf3);
  cpu.cpl = 3;
  cpu.esp = 0x7000;
  return cpu;
}

describe('far JMP/CALL/RET in protected mode', () => {
  it('direct far JMP: privilege and type checks', () => {
    const cpu = protectedCpu();
    expect(faultOf(() => farJump(cpu, 0, 0, true))).toEqual([Vec.GP, 0]);
    expect(faultOf(() => farJump(cpu, 0x10, 0, true))).toEqual([Vec.GP, 0x10]); // data
    expect(faultOf(() => farJump(cpu, 0x1b, 0, true))).toEqual([Vec.GP, 0x18]); // DPL 3 != CPL 0
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(0, 0xfff, 0x1a)); // not present code
    expect(faultOf(() => farJump(cpu, 0x58, 0, true))).toEqual([Vec.NP, 0x58]);
    expect(faultOf(() => farJump(cpu, 0x30, 0x10000, true))).toEqual([Vec.GP, 0]); // beyond 16-bit code limit
    farJump(cpu, 0x30, 0x1234, false);
    expect(cpu.segSel[Seg.CS]).toBe(0x30);
    expect(cpu.segAccess[Seg.CS] & 0x400).toBe(0);
    expect(cpu.eip).toBe(0x1234);
  });

  it('CALL through a 32-bit call gate to ring 0 switches stacks and copies parameters', () => {
    const cpu = userCpu();
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0x00402000, 12, 3, 2));
    cpu.push32(0x2222); // second parameter
    cpu.push32(0x1111); // first parameter (top of stack)
    farCall(cpu, 0x5b, 0, true, 0xabcd);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[Seg.CS]).toBe(0x08);
    expect(cpu.eip).toBe(0x00402000);
    expect(cpu.segSel[Seg.SS]).toBe(0x10);
    expect(cpu.esp).toBe(0x9000 - 24);
    // EIP, CS, params (same order as on the caller's stack), ESP, SS
    expect(cpu.stack32(6)).toEqual([0xabcd, 0x1b, 0x1111, 0x2222, 0x7000 - 8, 0x23]);

    // RET 8 back to ring 3: pops the parameters on both stacks and nulls ring-0 data segments.
    setCache(cpu, Seg.DS, 0x10, 0, 0xffffffff, 0xc93);
    farReturn(cpu, true, 8);
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[Seg.CS]).toBe(0x1b);
    expect(cpu.eip).toBe(0xabcd);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
    expect(cpu.esp).toBe(0x7000);
    expect(cpu.segSel[Seg.DS]).toBe(0);
    expect(cpu.segAccess[Seg.DS]).toBe(0);
    expect(cpu.segSel[Seg.ES]).toBe(0x23);
  });

  it('CALL through a 16-bit call gate pushes words', () => {
    const cpu = userCpu();
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0x3000, 4, 3, 1));
    cpu.push16(0x5555);
    farCall(cpu, 0x5b, 0, false, 0x77);
    expect(cpu.esp).toBe(0x9000 - 10);
    expect(cpu.stack16(5)).toEqual([0x77, 0x1b, 0x5555, 0x7000 - 2, 0x23]);
    expect(cpu.eip).toBe(0x3000);
  });

  it('call gate errors', () => {
    const cpu = userCpu();
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0, 12, 0)); // gate DPL 0 < CPL 3
    expect(faultOf(() => farCall(cpu, 0x5b, 0, true, 0))).toEqual([Vec.GP, 0x58]);
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0, 12, 3, 0, false));
    expect(faultOf(() => farCall(cpu, 0x5b, 0, true, 0))).toEqual([Vec.NP, 0x58]);
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x10, 0, 12, 3));
    expect(faultOf(() => farCall(cpu, 0x5b, 0, true, 0))).toEqual([Vec.GP, 0x10]);
    // Bad SS0 in the TSS: #TS(SS0)
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0, 12, 3));
    cpu.w32(0x3000 + 8, 0x20);
    expect(faultOf(() => farCall(cpu, 0x5b, 0, true, 0))).toEqual([Vec.TS, 0x20]);
    cpu.w32(0x3000 + 8, 0);
    expect(faultOf(() => farCall(cpu, 0x5b, 0, true, 0))).toEqual([Vec.TS, 0]);
    // Nothing changed after the faults.
    expect(cpu.cpl).toBe(3);
    expect(cpu.esp).toBe(0x7000);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
  });

  it('JMP through a call gate to the same privilege', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0x4444, 12, 0));
    farJump(cpu, 0x58, 0, true);
    expect(cpu.eip).toBe(0x4444);
    expect(cpu.segSel[Seg.CS]).toBe(0x08);
    expect(cpu.esp).toBe(0x7000);
  });

  it('RET to an inner privilege level is #GP(cs)', () => {
    const cpu = userCpu();
    cpu.push32(0x08);
    cpu.push32(0x1000);
    expect(faultOf(() => farReturn(cpu, true, 0))).toEqual([Vec.GP, 0x08]);
    expect(cpu.esp).toBe(0x7000 - 8);
  });
});

describe('IRET in protected mode', () => {
  it('same privilege: EFLAGS rules follow CPL and IOPL', () => {
    const cpu = protectedCpu();
    cpu.cpl = 1;
    setCache(cpu, Seg.CS, 0x41, 0, 0xffffffff, 0xcbb);
    setCache(cpu, Seg.SS, 0x49, 0, 0xffffffff, 0xcb3);
    cpu.eflags = 2; // IOPL 0 < CPL 1: IF cannot change; IOPL cannot change at CPL > 0
    cpu.push32(FLAG_IF | FLAG_IOPL | FLAG_CF);
    cpu.push32(0x41);
    cpu.push32(0x5678);
    interruptReturn(cpu, true);
    expect(cpu.eip).toBe(0x5678);
    expect(cpu.getEflags()).toBe(2 | FLAG_CF);
  });

  it('to an outer privilege level reloads SS:ESP', () => {
    const cpu = protectedCpu();
    cpu.eflags = 2;
    cpu.push32(0x23);
    cpu.push32(0x6000);
    cpu.push32(FLAG_IF | FLAG_IOPL);
    cpu.push32(0x1b);
    cpu.push32(0x400000);
    cpu.nmiBlocked = true;
    interruptReturn(cpu, true);
    expect(cpu.cpl).toBe(3);
    expect(cpu.esp).toBe(0x6000);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
    expect(cpu.getEflags()).toBe(2 | FLAG_IF | FLAG_IOPL); // CPL 0 may set both
    expect(cpu.segSel[Seg.DS]).toBe(0); // DPL 0 data dropped
    expect(cpu.nmiBlocked).toBe(false);
  });

  it('bad SS on return: #GP(ss) and no state change', () => {
    const cpu = protectedCpu();
    cpu.push32(0x10 | 3); // RPL 3 but DPL 0
    cpu.push32(0x6000);
    cpu.push32(0);
    cpu.push32(0x1b);
    cpu.push32(0x400000);
    expect(faultOf(() => interruptReturn(cpu, true))).toEqual([Vec.GP, 0x10]);
    expect(cpu.cpl).toBe(0);
    expect(cpu.esp).toBe(0x7000 - 20);
  });

  it('NT with a bad back-link: #TS(link)', () => {
    const cpu = protectedCpu();
    cpu.eflags = 2 | FLAG_NT;
    cpu.w16(0x3000, 0x10);
    expect(faultOf(() => interruptReturn(cpu, true))).toEqual([Vec.TS, 0x10]);
  });
});
