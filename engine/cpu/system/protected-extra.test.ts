// More protected-mode paths: EXT bits, paging faults during delivery, conforming
// targets, and IRET's VM bit at CPL > 0.
import { describe, expect, it } from 'vitest';
import { EventKind, Seg, CR0_PG, FLAG_VM, FLAG_IF } from '../state';
import { deliverEvent, farCall, interruptReturn } from './index';
import { GDT_BASE, IDT_BASE, descriptor, gateDescriptor, protectedCpu, setCache, writeDescriptor, FakeCpu } from './test-support';

function identityPaging(cpu: FakeCpu): void {
  const PD = 0x20000, PT = 0x21000;
  cpu.w32(PD, PT | 7);
  for (let i = 0; i < 1024; i++) cpu.w32(PT + i * 4, (i << 12) | 7);
  cpu.cr3 = PD;
  cpu.cr0 |= CR0_PG;
}

describe('protected mode, more paths', () => {
  it('bad handler CS during an external interrupt: #GP(sel | EXT)', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, IDT_BASE, 0x22, gateDescriptor(0x10, 0, 14, 0)); // CS = data segment
    writeDescriptor(cpu, IDT_BASE, 13, gateDescriptor(0x08, 0x5000, 14, 0));
    deliverEvent(cpu, 0x22, EventKind.External, -1);
    expect(cpu.eip).toBe(0x5000);
    expect(cpu.stack32(2)).toEqual([0x11, 0x1234]);
  });

  it('not-present stack page while delivering #PF: #DF, handled on a good stack', () => {
    const cpu = protectedCpu();
    identityPaging(cpu);
    cpu.w32(0x21000 + 6 * 4, 0x6000 | 6); // page 0x6000 (the stack below 0x7000) not present
    writeDescriptor(cpu, IDT_BASE, 14, gateDescriptor(0x08, 0x4000, 14, 0));
    writeDescriptor(cpu, IDT_BASE, 8, gateDescriptor(0x58, 0, 5, 0)); // #DF through a task gate
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(0x3800, 0x67, 0x89));
    const t = 0x3800;
    cpu.w32(t + 0x1c, 0x20000);
    cpu.w32(t + 0x20, 0x8888);
    cpu.w32(t + 0x24, 2);
    cpu.w32(t + 0x38, 0x9800);
    cpu.w32(t + 0x4c, 0x08);
    for (const o of [0x48, 0x50, 0x54]) cpu.w32(t + o, 0x10);
    deliverEvent(cpu, 14, EventKind.Exception, 0);
    expect(cpu.cr2).toBe(0x6ffc); // the faulting push
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    expect(cpu.eip).toBe(0x8888);
    expect(cpu.stack32(1)).toEqual([0]); // #DF error code
    expect(cpu.shutdownReason).toBeNull();
  });

  it('call gate to conforming code keeps CPL and the stack', () => {
    const cpu = protectedCpu();
    setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
    setCache(cpu, Seg.SS, 0x23, 0, 0xffffffff, 0xcf3);
    cpu.cpl = 3;
    writeDescriptor(cpu, GDT_BASE, 12, descriptor(0, 0xfffff, 0x9e, 0xc)); // conforming code, DPL 0
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x60, 0x7777, 12, 3));
    farCall(cpu, 0x5b, 0, true, 0x42);
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[Seg.CS]).toBe(0x63);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
    expect(cpu.stack32(2)).toEqual([0x42, 0x1b]);
  });

  it('IRET at CPL > 0 ignores VM in the popped image', () => {
    const cpu = protectedCpu();
    setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
    setCache(cpu, Seg.SS, 0x23, 0, 0xffffffff, 0xcf3);
    cpu.cpl = 3;
    cpu.push32(FLAG_VM | FLAG_IF);
    cpu.push32(0x1b);
    cpu.push32(0x100);
    interruptReturn(cpu, true);
    expect(cpu.getEflags() & FLAG_VM).toBe(0);
    expect(cpu.eip).toBe(0x100);
  });

  it('interrupt gate DPL 3 from ring 3 to ring 1 uses SS1:ESP1', () => {
    const cpu = protectedCpu();
    setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
    setCache(cpu, Seg.SS, 0x23, 0, 0xffffffff, 0xcf3);
    cpu.cpl = 3;
    writeDescriptor(cpu, IDT_BASE, 0x40, gateDescriptor(0x41, 0x1111, 14, 3));
    deliverEvent(cpu, 0x40, EventKind.Software, -1);
    expect(cpu.cpl).toBe(1);
    expect(cpu.segSel[Seg.SS]).toBe(0x49);
    expect(cpu.esp).toBe(0x8800 - 20);
    expect(cpu.segSel[Seg.CS]).toBe(0x41);
  });

  it('a #PF on the inner stack rolls back CPL, SS and ESP', () => {
    const cpu = protectedCpu();
    identityPaging(cpu);
    cpu.w32(0x21000 + 8 * 4, 0x8000 | 6); // page 0x8000 (below ESP0 = 0x9000) not present
    setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
    setCache(cpu, Seg.SS, 0x23, 0, 0xffffffff, 0xcf3);
    cpu.cpl = 3;
    writeDescriptor(cpu, GDT_BASE, 11, gateDescriptor(0x08, 0x1000, 12, 3));
    let fault: unknown = null;
    try {
      farCall(cpu, 0x5b, 0, true, 0x42);
    } catch (e) {
      fault = e;
    }
    expect(fault).toMatchObject({ vector: 14, errorCode: 0b010 }); // a supervisor write to a not-present page
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
    expect(cpu.segSel[Seg.CS]).toBe(0x1b);
    expect(cpu.esp).toBe(0x7000);
    expect(cpu.cr2).toBe(0x8ffc);
  });
});
