import { describe, expect, it } from 'vitest';
import { Reg, Seg, Vec, CR0_PG, CR0_TS, FLAG_IF, FLAG_NT, FLAG_CF } from '../state';
import { farCall, farJump, interruptReturn } from './index';
import { GDT_BASE, IDT_BASE, TSS_BASE, TSS2_BASE, descriptor, faultOf, gateDescriptor, protectedCpu, writeDescriptor, FakeCpu } from './test-support';

const busyType = (cpu: FakeCpu, sel: number) => (cpu.r32(GDT_BASE + (sel & ~7) + 4) >>> 8) & 0xf;

/** Selector 0x58: available 32-bit TSS at TSS2_BASE describing a ring-0 task. */
function withTask(cpu: FakeCpu, opts: { cs?: number; ds?: number; eflags?: number; trap?: boolean; cr3?: number } = {}) {
  writeDescriptor(cpu, GDT_BASE, 11, descriptor(TSS2_BASE, 0x67, 0x89));
  const t = TSS2_BASE;
  cpu.w32(t + 0x1c, opts.cr3 ?? 0);
  cpu.w32(t + 0x20, 0x600000);
  cpu.w32(t + 0x24, opts.eflags ?? 2);
  for (let i = 0; i < 8; i++) cpu.w32(t + 0x28 + i * 4, 0x1000 + i);
  cpu.w32(t + 0x38, 0x8000); // ESP
  cpu.w32(t + 0x48, 0x10);
  cpu.w32(t + 0x4c, opts.cs ?? 0x08);
  cpu.w32(t + 0x50, 0x10);
  cpu.w32(t + 0x54, opts.ds ?? 0x10);
  cpu.w32(t + 0x58, 0);
  cpu.w32(t + 0x5c, 0);
  cpu.w32(t + 0x60, 0x50); // LDT
  cpu.w16(t + 0x64, opts.trap ? 1 : 0);
}

describe('task switching', () => {
  it('CALL to a TSS and IRET back (nesting, busy bits, saved state)', () => {
    const cpu = protectedCpu();
    withTask(cpu);
    cpu.reg32[Reg.EAX] = 0xaaaa;
    cpu.eflags = 2 | FLAG_IF | FLAG_CF;
    farCall(cpu, 0x58, 0, true, 0x4321);
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    expect(cpu.eip).toBe(0x600000);
    expect(cpu.reg32[Reg.EAX]).toBe(0x1000);
    expect(cpu.esp).toBe(0x8000);
    expect(cpu.segSel[Seg.LDTR]).toBe(0x50);
    expect(cpu.getEflags() & FLAG_NT).toBe(FLAG_NT);
    expect(cpu.cr0 & CR0_TS).toBe(CR0_TS);
    expect(busyType(cpu, 0x58)).toBe(0xb);
    expect(busyType(cpu, 0x28)).toBe(0xb); // the caller stays busy
    expect(cpu.r16(TSS2_BASE)).toBe(0x28);
    expect(cpu.r32(TSS_BASE + 0x20)).toBe(0x4321);
    expect(cpu.r32(TSS_BASE + 0x28)).toBe(0xaaaa);
    expect(cpu.r32(TSS_BASE + 0x24)).toBe(2 | FLAG_IF | FLAG_CF);

    cpu.eip = 0x600010; // the task runs to its IRET
    interruptReturn(cpu, true);
    expect(cpu.segSel[Seg.TR]).toBe(0x28);
    expect(cpu.eip).toBe(0x4321);
    expect(cpu.reg32[Reg.EAX]).toBe(0xaaaa);
    expect(cpu.esp).toBe(0x7000);
    expect(cpu.getEflags()).toBe(2 | FLAG_IF | FLAG_CF);
    expect(busyType(cpu, 0x58)).toBe(0x9); // IRET frees the inner task
    expect(cpu.r32(TSS2_BASE + 0x20)).toBe(0x600010);
    expect(cpu.r32(TSS2_BASE + 0x24) & FLAG_NT).toBe(0); // NT cleared in the saved image
  });

  it('JMP to a TSS frees the old one and does not nest', () => {
    const cpu = protectedCpu();
    withTask(cpu);
    farJump(cpu, 0x58, 0, true);
    expect(busyType(cpu, 0x28)).toBe(0x9);
    expect(busyType(cpu, 0x58)).toBe(0xb);
    expect(cpu.getEflags() & FLAG_NT).toBe(0);
    expect(faultOf(() => farJump(cpu, 0x58, 0, true))).toEqual([Vec.GP, 0x58]); // busy
  });

  it('JMP through a task gate; privilege checks on the gate', () => {
    const cpu = protectedCpu();
    withTask(cpu);
    writeDescriptor(cpu, GDT_BASE, 12, gateDescriptor(0x58, 0, 5, 0));
    cpu.cpl = 3;
    expect(faultOf(() => farJump(cpu, 0x63, 0, true))).toEqual([Vec.GP, 0x60]);
    cpu.cpl = 0;
    farJump(cpu, 0x60, 0, true);
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
  });

  it('loads CR3 with paging on and flushes the TLB', () => {
    const cpu = protectedCpu();
    // identity-map the first 4 MiB so the walk keeps working
    cpu.w32(0x20000, 0x21000 | 7);
    for (let i = 0; i < 1024; i++) cpu.w32(0x21000 + i * 4, (i << 12) | 7);
    cpu.cr3 = 0x20000;
    cpu.cr0 |= CR0_PG;
    withTask(cpu, { cr3: 0x20000 });
    cpu.w32(TSS2_BASE + 0x1c, 0x20000);
    farJump(cpu, 0x58, 0, true);
    expect(cpu.cr3).toBe(0x20000);
    expect(cpu.tlbFlushes).toContain(false);
  });

  it('T bit in the new TSS records a BT debug trap', () => {
    const cpu = protectedCpu();
    withTask(cpu, { trap: true });
    farJump(cpu, 0x58, 0, true);
    expect(cpu.pendingDebugTrap).toBe(1 << 15);
  });

  it('a bad DS in the new TSS faults in the new task (#TS(ds))', () => {
    const cpu = protectedCpu();
    withTask(cpu, { ds: 0x28 });
    writeDescriptor(cpu, IDT_BASE, 10, gateDescriptor(0x08, 0x700000, 14, 0));
    farJump(cpu, 0x58, 0, true); // no throw: the #TS was delivered in the new task
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    expect(cpu.eip).toBe(0x700000);
    expect(cpu.esp).toBe(0x8000 - 16);
    expect(cpu.stack32(3)).toEqual([0x28, 0x600000, 0x08]);
    expect(cpu.segSel[Seg.DS]).toBe(0x28); // the selector is visible, the cache unusable
    expect(cpu.segAccess[Seg.DS]).toBe(0);
  });

  it('a bad CS in the new TSS is #TS(cs) in the new task', () => {
    const cpu = protectedCpu();
    withTask(cpu, { cs: 0x10 });
    // No #TS handler: #TS -> #GP (contributory pair) -> #DF -> #GP -> shutdown, all in the new task.
    farJump(cpu, 0x58, 0, true);
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    expect(cpu.shutdownReason).toBe('triple fault');
  });

  it('16-bit TSS round trip through CALL/IRET', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(TSS2_BASE, 0x2b, 0x81));
    const t = TSS2_BASE;
    cpu.w16(t + 0x0e, 0x2222); // IP
    cpu.w16(t + 0x10, 2);
    for (let i = 0; i < 8; i++) cpu.w16(t + 0x12 + i * 2, 0x100 + i);
    cpu.w16(t + 0x22, 0x38); // ES
    cpu.w16(t + 0x24, 0x30); // CS (16-bit code)
    cpu.w16(t + 0x26, 0x38); // SS
    cpu.w16(t + 0x28, 0x38); // DS
    cpu.w16(t + 0x2a, 0);
    farCall(cpu, 0x58, 0, true, 0x99);
    expect(cpu.eip).toBe(0x2222);
    expect(cpu.reg32[Reg.EAX] >>> 0).toBe(0x00000100); // upper half kept from before (EAX was 0)
    expect(cpu.segSel[Seg.CS]).toBe(0x30);
    expect(cpu.r16(t)).toBe(0x28);
    expect(busyType(cpu, 0x58)).toBe(3);
    interruptReturn(cpu, false);
    expect(cpu.eip).toBe(0x99);
    expect(busyType(cpu, 0x58)).toBe(1);
  });

  it('new TSS limit too small: #TS(sel) in the old task', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(TSS2_BASE, 0x60, 0x89));
    expect(faultOf(() => farJump(cpu, 0x58, 0, true))).toEqual([Vec.TS, 0x58]);
    expect(cpu.segSel[Seg.TR]).toBe(0x28);
  });
});

