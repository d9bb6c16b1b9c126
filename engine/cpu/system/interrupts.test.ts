import { describe, expect, it } from 'vitest';
import { EventKind, Seg, Vec, CR4_VME, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VIF, FLAG_VM } from '../state';
import { deliverEvent, interruptReturn, SoftInt } from './index';
import { GDT_BASE, IDT_BASE, TSS_BASE, faultOf, gateDescriptor, protectedCpu, setCache, writeDescriptor, FakeCpu } from './test-support';

const INT32 = 14, TRAP32 = 15, INT16 = 6;

function withGate(cpu: FakeCpu, vector: number, type: number, dpl: number, offset = 0x100000 + vector * 16, sel = 0x08, present = true) {
  writeDescriptor(cpu, IDT_BASE, vector, gateDescriptor(sel, offset, type, dpl, 0, present));
}

function userCpu(): FakeCpu {
  const cpu = protectedCpu();
  setCache(cpu, Seg.CS, 0x1b, 0, 0xffffffff, 0xcfb);
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) setCache(cpu, s, 0x23, 0, 0xffffffff, 0xcf3);
  cpu.cpl = 3;
  return cpu;
}

function v86Cpu(): FakeCpu {
  const cpu = protectedCpu();
  cpu.eflags = 2 | FLAG_VM | FLAG_IF;
  const sels: [Seg, number][] = [[Seg.CS, 0x1000], [Seg.SS, 0x2000], [Seg.DS, 0x3000], [Seg.ES, 0x4000], [Seg.FS, 0x5000], [Seg.GS, 0x6000]];
  for (const [s, v] of sels) setCache(cpu, s, v, v << 4, 0xffff, s === Seg.CS ? 0xfb : 0xf3);
  cpu.cpl = 3;
  cpu.esp = 0xffe;
  cpu.eip = 0x0123;
  return cpu;
}

describe('protected-mode delivery', () => {
  it('exception from ring 3 through an interrupt gate: stack switch, error code, RF', () => {
    const cpu = userCpu();
    withGate(cpu, 13, INT32, 0);
    cpu.eflags = 2 | FLAG_IF | FLAG_TF | FLAG_NT;
    cpu.esp = 0x6ffc;
    cpu.eip = 0x401000;
    deliverEvent(cpu, 13, EventKind.Exception, 0x28);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[Seg.CS]).toBe(0x08);
    expect(cpu.eip).toBe(0x1000d0);
    expect(cpu.segSel[Seg.SS]).toBe(0x10);
    expect(cpu.esp).toBe(0x9000 - 24);
    expect(cpu.stack32(6)).toEqual([0x28, 0x401000, 0x1b, 2 | FLAG_IF | FLAG_TF | FLAG_NT | FLAG_RF, 0x6ffc, 0x23]);
    expect(cpu.getEflags() & (FLAG_IF | FLAG_TF | FLAG_NT | FLAG_RF)).toBe(0);
    // IRET back to ring 3
    cpu.esp += 4; // the handler pops the error code
    interruptReturn(cpu, true);
    expect(cpu.cpl).toBe(3);
    expect(cpu.eip).toBe(0x401000);
    expect(cpu.esp).toBe(0x6ffc);
  });

  it('software INT through a trap gate at the same privilege keeps IF', () => {
    const cpu = protectedCpu();
    withGate(cpu, 0x80, TRAP32, 0);
    cpu.eflags = 2 | FLAG_IF;
    deliverEvent(cpu, 0x80, EventKind.Software, -1);
    expect(cpu.esp).toBe(0x7000 - 12);
    expect(cpu.stack32(3)).toEqual([0x1234, 0x08, 2 | FLAG_IF]);
    expect(cpu.getEflags() & FLAG_IF).toBe(FLAG_IF);
  });

  it('16-bit interrupt gate pushes words', () => {
    const cpu = protectedCpu();
    withGate(cpu, 0x20, INT16, 0, 0x5678);
    cpu.eflags = 2 | FLAG_IF;
    deliverEvent(cpu, 0x20, EventKind.External, -1);
    expect(cpu.esp).toBe(0x7000 - 6);
    expect(cpu.stack16(3)).toEqual([0x1234, 0x08, 2 | FLAG_IF]);
    expect(cpu.eip).toBe(0x5678);
  });

  it('software INT to a gate with DPL < CPL throws #GP(vector*8+2)', () => {
    const cpu = userCpu();
    withGate(cpu, 0x30, INT32, 0);
    expect(faultOf(() => deliverEvent(cpu, 0x30, EventKind.Software, -1))).toEqual([Vec.GP, 0x30 * 8 + 2]);
    expect(cpu.cpl).toBe(3);
    // ... but hardware interrupts ignore the gate DPL
    deliverEvent(cpu, 0x30, EventKind.External, -1);
    expect(cpu.cpl).toBe(0);
    // ... and so does INT1 (ICEBP)
    const c2 = userCpu();
    withGate(c2, 1, INT32, 0);
    deliverEvent(c2, 1, EventKind.Software, -1, SoftInt.Icebp);
    expect(c2.cpl).toBe(0);
  });

  it('not-present gate during an external interrupt: #NP(vector*8+2+EXT) delivered', () => {
    const cpu = protectedCpu();
    withGate(cpu, 0x21, INT32, 0, 0, 0x08, false);
    withGate(cpu, 11, INT32, 0);
    deliverEvent(cpu, 0x21, EventKind.External, -1);
    expect(cpu.eip).toBe(0x1000b0);
    expect(cpu.stack32(1)).toEqual([0x21 * 8 + 3]);
  });

  it('contributory fault while delivering #GP becomes #DF with error 0', () => {
    const cpu = protectedCpu();
    withGate(cpu, 13, INT32, 0, 0, 0x08, false);
    withGate(cpu, 8, INT32, 0);
    deliverEvent(cpu, 13, EventKind.Exception, 0);
    expect(cpu.eip).toBe(0x100080);
    expect(cpu.stack32(2)).toEqual([0, 0x1234]);
  });

  it('#PF while delivering #PF becomes #DF; a fault delivering #DF shuts down', () => {
    const cpu = protectedCpu();
    withGate(cpu, 14, INT32, 0);
    withGate(cpu, 8, INT32, 0);
    cpu.esp = 0; // pushing wraps to 0xfffffff4: beyond the 4 MiB of RAM is fine, but make the stack limit fail:
    setCache(cpu, Seg.SS, 0x10, 0, 0xfff, 0x493);
    cpu.esp = 0x8; // room for 2 dwords only: #SS during #PF delivery -> #DF -> #SS again -> triple fault
    deliverEvent(cpu, 14, EventKind.Exception, 2);
    expect(cpu.shutdownReason).toBe('triple fault');
  });

  it('benign exception during delivery is simply delivered', () => {
    const cpu = protectedCpu();
    cpu.idtrLimit = 8 * 14 - 1; // vector 14 beyond the IDT
    withGate(cpu, 13, INT32, 0);
    deliverEvent(cpu, 3, EventKind.Exception, -1); // #BP gate empty -> #GP(3*8+2+1), benign first: just delivered
    expect(cpu.eip).toBe(0x1000d0);
    expect(cpu.stack32(2)).toEqual([3 * 8 + 3, 0x1234]);
    cpu.eip = 0x1234;
    deliverEvent(cpu, 14, EventKind.Exception, 0); // #PF -> #GP(14*8+2+1) -> contributory after PF -> #DF
    // gate 8 is empty (type 0): #GP during #DF -> triple fault
    expect(cpu.shutdownReason).toBe('triple fault');
  });

  it('NMI sets nmiBlocked until IRET', () => {
    const cpu = protectedCpu();
    withGate(cpu, 2, INT32, 0);
    deliverEvent(cpu, 2, EventKind.External, -1);
    expect(cpu.nmiBlocked).toBe(true);
    interruptReturn(cpu, true);
    expect(cpu.nmiBlocked).toBe(false);
  });
});

describe('virtual-8086 mode', () => {
  it('interrupt from v86 pushes the segment registers and nulls them', () => {
    const cpu = v86Cpu();
    withGate(cpu, 0x20, INT32, 0);
    deliverEvent(cpu, 0x20, EventKind.External, -1);
    expect(cpu.cpl).toBe(0);
    expect(cpu.getEflags() & (FLAG_VM | FLAG_IF)).toBe(0);
    expect(cpu.esp).toBe(0x9000 - 36);
    expect(cpu.stack32(9)).toEqual([0x0123, 0x1000, 2 | FLAG_VM | FLAG_IF, 0xffe, 0x2000, 0x4000, 0x3000, 0x5000, 0x6000]);
    for (const s of [Seg.DS, Seg.ES, Seg.FS, Seg.GS]) expect(cpu.segSel[s]).toBe(0);
    // IRET at CPL 0 with VM in the image returns to v86
    interruptReturn(cpu, true);
    expect(cpu.cpl).toBe(3);
    expect(cpu.getEflags() & FLAG_VM).toBe(FLAG_VM);
    expect(cpu.segBase[Seg.DS]).toBe(0x30000);
    expect(cpu.segBase[Seg.CS]).toBe(0x10000);
    expect(cpu.eip).toBe(0x123);
    expect(cpu.esp).toBe(0xffe);
  });

  it('INT n with IOPL < 3 is #GP(0); with IOPL 3 it goes to the IDT', () => {
    const cpu = v86Cpu();
    withGate(cpu, 0x21, INT32, 3);
    expect(faultOf(() => deliverEvent(cpu, 0x21, EventKind.Software, -1))).toEqual([Vec.GP, 0]);
    // INT3 is not IOPL-sensitive
    withGate(cpu, 3, INT32, 3);
    deliverEvent(cpu, 3, EventKind.Software, -1, SoftInt.Int3OrInto);
    expect(cpu.cpl).toBe(0);
    const c2 = v86Cpu();
    c2.eflags |= FLAG_IOPL;
    withGate(c2, 0x21, INT32, 3);
    deliverEvent(c2, 0x21, EventKind.Software, -1);
    expect(c2.cpl).toBe(0);
  });

  it('handler with DPL != 0 is #GP(sel)', () => {
    const cpu = v86Cpu();
    withGate(cpu, 0x20, INT32, 0, 0x1000, 0x41);
    deliverEvent(cpu, 0x20, EventKind.External, -1); // #GP(0x40|EXT) -> gate 13 empty -> #GP -> #DF -> empty -> shutdown
    expect(cpu.shutdownReason).toBe('triple fault');
  });

  it('IRET in v86 with IOPL < 3 is #GP(0)', () => {
    const cpu = v86Cpu();
    expect(faultOf(() => interruptReturn(cpu, false))).toEqual([Vec.GP, 0]);
  });

  it('VME: INT n redirected through the v86 IVT per the redirection bitmap', () => {
    const cpu = v86Cpu();
    cpu.cr4 = CR4_VME;
    cpu.segLimit[Seg.TR] = 0x68 + 0x2000;
    cpu.w16(TSS_BASE + 0x66, 0x88); // redirection bitmap at 0x68..0x87
    cpu.w16(0x10 * 4, 0x4444);
    cpu.w16(0x10 * 4 + 2, 0xc000);
    cpu.eflags = 2 | FLAG_VM | FLAG_VIF | FLAG_IF; // IOPL 0
    deliverEvent(cpu, 0x10, EventKind.Software, -1);
    expect(cpu.segSel[Seg.CS]).toBe(0xc000);
    expect(cpu.eip).toBe(0x4444);
    expect(cpu.cpl).toBe(3);
    // FLAGS image: IF from VIF, IOPL reads 3
    expect(cpu.stack16(3)).toEqual([0x0123, 0x1000, 2 | FLAG_IF | FLAG_IOPL]);
    expect(cpu.getEflags() & FLAG_VIF).toBe(0);
    expect(cpu.getEflags() & FLAG_IF).toBe(FLAG_IF);
    // bit set -> IDT path, and with IOPL < 3 that is #GP(0)
    cpu.w16(TSS_BASE + 0x68 + 2, 1);
    expect(faultOf(() => deliverEvent(cpu, 0x10, EventKind.Software, -1))).toEqual([Vec.GP, 0]);
  });
});

describe('task gates in the IDT', () => {
  it('switches to the handler task and pushes the error code there', () => {
    const cpu = protectedCpu();
    // 32-bit TSS #2 at 0x3800 (selector 0x58)
    writeDescriptor(cpu, GDT_BASE, 11, [((0x3800 & 0xffff) << 16) | 0x67, 0x00008900]);
    const t = 0x3800;
    cpu.w32(t + 0x20, 0x500000); // EIP
    cpu.w32(t + 0x24, 2);
    cpu.w32(t + 0x38, 0x8800); // ESP
    cpu.w32(t + 0x4c, 0x08);
    cpu.w32(t + 0x50, 0x10);
    for (const o of [0x48, 0x54, 0x58, 0x5c]) cpu.w32(t + o, 0x10);
    writeDescriptor(cpu, IDT_BASE, 8, gateDescriptor(0x58, 0, 5, 0));
    cpu.eflags = 2 | FLAG_IF;
    deliverEvent(cpu, 8, EventKind.Exception, 0);
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    expect(cpu.eip).toBe(0x500000);
    expect(cpu.esp).toBe(0x8800 - 4);
    expect(cpu.stack32(1)).toEqual([0]);
    expect(cpu.getEflags() & FLAG_NT).toBe(FLAG_NT);
    expect(cpu.r16(t)).toBe(0x28); // back-link
    expect(cpu.r32(TSS_BASE + 0x20)).toBe(0x1234); // old EIP saved
    expect(cpu.r32(TSS_BASE + 0x24)).toBe(2 | FLAG_IF);
  });
});

describe('v86 IRET', () => {
  it('IOPL 3: 8086-style, IOPL and VM untouched', () => {
    const cpu = v86Cpu();
    cpu.eflags |= FLAG_IOPL;
    cpu.push16(0); // FLAGS image with IOPL 0, IF 0
    cpu.push16(0x1234);
    cpu.push16(0x5678);
    interruptReturn(cpu, false);
    expect(cpu.segBase[Seg.CS]).toBe(0x12340);
    expect(cpu.eip).toBe(0x5678);
    expect(cpu.getEflags() & (FLAG_IOPL | FLAG_VM | FLAG_IF)).toBe(FLAG_IOPL | FLAG_VM);
  });

  it('VME with IOPL < 3: IF goes to VIF; a pending VIP with IF set is #GP(0)', () => {
    const cpu = v86Cpu();
    cpu.cr4 = CR4_VME;
    cpu.eflags = 2 | FLAG_VM | FLAG_IF;
    cpu.push16(FLAG_IF);
    cpu.push16(0x1234);
    cpu.push16(0x5678);
    interruptReturn(cpu, false);
    expect(cpu.getEflags() & (FLAG_VIF | FLAG_IF | FLAG_IOPL)).toBe(FLAG_VIF | FLAG_IF);
    cpu.eflags = 2 | FLAG_VM | (1 << 20); // VIP
    cpu.push16(FLAG_IF);
    cpu.push16(0x1234);
    cpu.push16(0x5678);
    const esp = cpu.esp;
    expect(faultOf(() => interruptReturn(cpu, false))).toEqual([Vec.GP, 0]);
    expect(cpu.esp).toBe(esp);
    expect(faultOf(() => interruptReturn(cpu, true))).toEqual([Vec.GP, 0]); // 32-bit IRET under VME
  });
});
