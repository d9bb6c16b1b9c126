import { describe, expect, it } from 'vitest';
import { Seg, Vec, FLAG_VM } from '../state';
import { loadSegment, lldt, ltr, lar, lsl, verr, verw } from './index';
import { FLAT_DATA, GDT_BASE, LDT_BASE, descriptor, faultOf, protectedCpu, writeDescriptor } from './test-support';

describe('loadSegment (protected mode)', () => {
  it('loads a data segment, applies G and sets the accessed bit', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(0x123456, 0x2, FLAT_DATA, 0x8));
    loadSegment(cpu, Seg.DS, 0x58);
    expect(cpu.segBase[Seg.DS]).toBe(0x123456);
    expect(cpu.segLimit[Seg.DS]).toBe(0x2fff);
    expect(cpu.segAccess[Seg.DS]).toBe(0x893);
    expect((cpu.r32(GDT_BASE + 11 * 8 + 4) >>> 8) & 1).toBe(1);
  });

  it('allows a null selector in DS but not in SS', () => {
    const cpu = protectedCpu();
    loadSegment(cpu, Seg.DS, 3);
    expect(cpu.segSel[Seg.DS]).toBe(3);
    expect(cpu.segAccess[Seg.DS] & 0x80).toBe(0);
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0))).toEqual([Vec.GP, 0]);
  });

  it('error codes of data-segment loads', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(0, 0xffff, 0x98)); // execute-only code
    writeDescriptor(cpu, GDT_BASE, 12, descriptor(0, 0xffff, FLAT_DATA & 0x7f)); // not present
    writeDescriptor(cpu, GDT_BASE, 13, descriptor(0, 0xffff, 0x9e)); // conforming readable code DPL0
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x80))).toEqual([Vec.GP, 0x80]); // beyond GDT limit
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x2b))).toEqual([Vec.GP, 0x28]); // system (TSS)
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x58))).toEqual([Vec.GP, 0x58]); // execute-only
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x60))).toEqual([Vec.NP, 0x60]);
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x08))).toBeNull(); // readable code is fine
    cpu.cpl = 3;
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x13))).toEqual([Vec.GP, 0x10]); // DPL 0 < CPL 3
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x6b))).toBeNull(); // conforming code: no privilege check
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x23))).toBeNull();
    cpu.cpl = 0;
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x4b))).toEqual([Vec.GP, 0x48]); // RPL 3 > DPL 1
    expect(faultOf(() => loadSegment(cpu, Seg.ES, 0x07))).toEqual([Vec.GP, 0x04]); // LDT reference without LDT
  });

  it('error codes of SS loads', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, GDT_BASE, 12, descriptor(0, 0xffff, FLAT_DATA & 0x7f));
    writeDescriptor(cpu, GDT_BASE, 13, descriptor(0, 0xffff, 0x90)); // read-only data
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0x13))).toEqual([Vec.GP, 0x10]); // RPL != CPL
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0x20))).toEqual([Vec.GP, 0x20]); // DPL != CPL
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0x68))).toEqual([Vec.GP, 0x68]); // not writable
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0x08))).toEqual([Vec.GP, 0x08]); // code
    expect(faultOf(() => loadSegment(cpu, Seg.SS, 0x60))).toEqual([Vec.SS, 0x60]); // not present
    const before = cpu.modeUpdates;
    loadSegment(cpu, Seg.SS, 0x38);
    expect(cpu.segAccess[Seg.SS] & 0x400).toBe(0);
    expect(cpu.modeUpdates).toBe(before + 1);
  });

  it('loads through the LDT', () => {
    const cpu = protectedCpu();
    writeDescriptor(cpu, LDT_BASE, 1, descriptor(0x5000, 0xfff, FLAT_DATA | 0x60));
    lldt(cpu, 0x50);
    expect(cpu.segBase[Seg.LDTR]).toBe(LDT_BASE);
    loadSegment(cpu, Seg.FS, 0x0f);
    expect(cpu.segBase[Seg.FS]).toBe(0x5000);
    expect(faultOf(() => loadSegment(cpu, Seg.FS, 0x24))).toEqual([Vec.GP, 0x24]); // index 4 beyond LDT limit 0x1f
  });

  it('v86 loads: base sel*16, 64 KiB, DPL 3', () => {
    const cpu = protectedCpu();
    cpu.eflags |= FLAG_VM;
    loadSegment(cpu, Seg.DS, 0xb800);
    expect(cpu.segBase[Seg.DS]).toBe(0xb8000);
    expect(cpu.segLimit[Seg.DS]).toBe(0xffff);
    expect(cpu.segAccess[Seg.DS]).toBe(0xf3);
  });
});

describe('LLDT / LTR / LAR / LSL / VERR / VERW', () => {
  it('LLDT and LTR checks', () => {
    const cpu = protectedCpu();
    expect(faultOf(() => lldt(cpu, 0x10))).toEqual([Vec.GP, 0x10]);
    expect(faultOf(() => lldt(cpu, 0x54))).toEqual([Vec.GP, 0x54]); // TI set: the error code keeps it
    lldt(cpu, 0);
    expect(cpu.segAccess[Seg.LDTR]).toBe(0);
    expect(faultOf(() => ltr(cpu, 0x28))).toEqual([Vec.GP, 0x28]); // already busy
    writeDescriptor(cpu, GDT_BASE, 11, descriptor(0x3800, 0x67, 0x89));
    ltr(cpu, 0x58);
    expect((cpu.r32(GDT_BASE + 0x58 + 4) >>> 8) & 0xf).toBe(0xb);
    expect(cpu.segSel[Seg.TR]).toBe(0x58);
    cpu.cpl = 3;
    expect(faultOf(() => lldt(cpu, 0x50))).toEqual([Vec.GP, 0]);
  });

  it('probes follow the type and privilege rules', () => {
    const cpu = protectedCpu();
    expect(lar(cpu, 0x08)).toBe(0x00c09a00); // limit 19:16 masked out
    expect(lar(cpu, 0x10)! & 0xff00).toBe(0x9200);
    expect(lsl(cpu, 0x10)).toBe(0xffffffff);
    expect(lsl(cpu, 0x28)).toBe(0x67);
    expect(lar(cpu, 0)).toBeNull();
    expect(lar(cpu, 0x80)).toBeNull();
    cpu.cpl = 3;
    expect(lar(cpu, 0x10)).toBeNull();
    expect(lar(cpu, 0x20)).not.toBeNull();
    expect(verr(cpu, 0x23)).toBe(true);
    expect(verw(cpu, 0x23)).toBe(true);
    expect(verr(cpu, 0x1b)).toBe(true);
    expect(verw(cpu, 0x1b)).toBe(false);
    expect(verr(cpu, 0x13)).toBe(false);
    cpu.cpl = 0;
    expect(verw(cpu, 0x10)).toBe(true);
    expect(verw(cpu, 0x4b)).toBe(false); // RPL 3 > DPL 1
  });

  it('are #UD outside protected mode', () => {
    const cpu = protectedCpu();
    cpu.eflags |= FLAG_VM;
    expect(faultOf(() => lar(cpu, 8))).toEqual([Vec.UD, -1]);
  });
});


