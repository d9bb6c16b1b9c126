import { describe, expect, it } from 'vitest';
import { Reg, Seg, Vec, CR0_PE, CR0_PG, CR4_DE, CR4_PAE, CR4_PGE, CR4_TSD, FLAG_IOPL, FLAG_VM, FLAG_IF, FLAG_RF } from '../state';
import {
  readCr,
  writeCr,
  readDr,
  writeDr,
  rdmsr,
  wrmsr,
  rdtsc,
  checkIo,
  sysenter,
  sysexit,
  checkCodeBreakpoint,
  checkDataBreakpoint,
  checkIoBreakpoint,
} from './index';
import { FakeCpu, TSS_BASE, faultOf, protectedCpu } from './test-support';

describe('control registers', () => {
  it('CR0 rules', () => {
    const cpu = new FakeCpu();
    writeCr(cpu, 0, 0);
    expect(readCr(cpu, 0)).toBe(0x10); // ET hardwired
    expect(faultOf(() => writeCr(cpu, 0, CR0_PG))).toEqual([Vec.GP, 0]);
    expect(faultOf(() => writeCr(cpu, 0, CR0_PE | (1 << 29)))).toEqual([Vec.GP, 0]); // NW without CD
    writeCr(cpu, 0, CR0_PE | CR0_PG);
    expect(cpu.tlbFlushes).toEqual([true]);
    cpu.cpl = 3;
    expect(faultOf(() => readCr(cpu, 0))).toEqual([Vec.GP, 0]);
    cpu.cpl = 0;
    expect(faultOf(() => readCr(cpu, 1))).toEqual([Vec.UD, -1]);
  });

  it('CR3 and CR4', () => {
    const cpu = new FakeCpu();
    writeCr(cpu, 3, 0x12345fff);
    expect(cpu.cr3).toBe(0x12345018);
    expect(cpu.tlbFlushes).toEqual([false]);
    expect(faultOf(() => writeCr(cpu, 4, CR4_PAE))).toEqual([Vec.GP, 0]);
    expect(faultOf(() => writeCr(cpu, 4, 1 << 6))).toEqual([Vec.GP, 0]); // MCE not offered
    writeCr(cpu, 4, CR4_PGE);
    expect(cpu.tlbFlushes).toEqual([false, true]);
  });

  it('v86 mode is CPL 3 for MOV CR', () => {
    const cpu = protectedCpu();
    cpu.eflags |= FLAG_VM;
    cpu.cpl = 3;
    expect(faultOf(() => writeCr(cpu, 3, 0))).toEqual([Vec.GP, 0]);
  });

  it('debug registers: DR4/5 aliasing, CR4.DE, DR7.GD', () => {
    const cpu = new FakeCpu();
    writeDr(cpu, 0, 0x1234);
    expect(readDr(cpu, 0)).toBe(0x1234);
    writeDr(cpu, 5, 0x3);
    expect(cpu.dr[7]).toBe(0x403);
    expect(readDr(cpu, 4) >>> 0).toBe(0xffff0ff0);
    cpu.cr4 = CR4_DE;
    expect(faultOf(() => readDr(cpu, 4))).toEqual([Vec.UD, -1]);
    writeDr(cpu, 7, 1 << 13);
    expect(faultOf(() => readDr(cpu, 0))).toEqual([Vec.DB, -1]);
    expect(cpu.dr[6] & (1 << 13)).toBe(1 << 13);
    expect(cpu.dr[7] & (1 << 13)).toBe(0);
  });
});

describe('MSRs and TSC', () => {
  const rd = (cpu: FakeCpu, n: number) => {
    cpu.reg32[Reg.ECX] = n;
    rdmsr(cpu);
    return [cpu.reg32[Reg.EDX] >>> 0, cpu.reg32[Reg.EAX] >>> 0];
  };
  const wr = (cpu: FakeCpu, n: number, hi: number, lo: number) => {
    cpu.reg32[Reg.ECX] = n;
    cpu.reg32[Reg.EDX] = hi;
    cpu.reg32[Reg.EAX] = lo;
    wrmsr(cpu);
  };
  it('TSC reads the clock at 1 GHz and WRMSR 0x10 sets it', () => {
    const cpu = new FakeCpu();
    cpu.nowNs = 5_000_000_123;
    rdtsc(cpu);
    expect([cpu.reg32[Reg.EDX], cpu.reg32[Reg.EAX] >>> 0]).toEqual([1, 5_000_000_123 - 4294967296]);
    wr(cpu, 0x10, 0, 1000);
    expect(rd(cpu, 0x10)).toEqual([0, 1000]);
    cpu.nowNs += 50;
    expect(rd(cpu, 0x10)).toEqual([0, 1050]);
  });
  it('CR4.TSD makes RDTSC privileged', () => {
    const cpu = protectedCpu();
    cpu.cr4 = CR4_TSD;
    cpu.cpl = 3;
    expect(faultOf(() => rdtsc(cpu))).toEqual([Vec.GP, 0]);
  });
  it('SYSENTER MSRs, MTRRs, unknown MSRs', () => {
    const cpu = new FakeCpu();
    wr(cpu, 0x174, 0, 0x10);
    wr(cpu, 0x176, 0, 0xc0001000);
    expect(cpu.sysenterCs).toBe(0x10);
    expect(rd(cpu, 0x176)).toEqual([0, 0xc0001000]);
    expect(rd(cpu, 0xfe)).toEqual([0, 0x508]);
    wr(cpu, 0x200, 0, 0x06);
    expect(rd(cpu, 0x200)).toEqual([0, 6]);
    expect(faultOf(() => wr(cpu, 0x200, 0, 0x02))).toEqual([Vec.GP, 0]); // memory type 2 reserved
    expect(faultOf(() => rd(cpu, 0x277))).toEqual([Vec.GP, 0]); // PAT not offered
    expect(faultOf(() => rd(cpu, 0x1b))).toEqual([Vec.GP, 0]); // no APIC wired
    cpu.apicPresent = true;
    expect(rd(cpu, 0x1b)).toEqual([0, 0xfee00900]);
    const seen: number[] = [];
    cpu.onApicBaseWrite = (v) => seen.push(v);
    wr(cpu, 0x1b, 0, 0xfec00000);
    expect(cpu.apicBase >>> 0).toBe(0xfec00100); // disabled, BSP bit kept
    expect(seen).toEqual([0xfec00100]);
    expect(faultOf(() => wr(cpu, 0xfe, 0, 0))).toEqual([Vec.GP, 0]);
    expect(faultOf(() => rd(cpu, 0x12345))).toEqual([Vec.GP, 0]);
  });
  it('RDMSR at CPL 3 is #GP(0)', () => {
    const cpu = protectedCpu();
    cpu.cpl = 3;
    expect(faultOf(() => rd(cpu, 0x10))).toEqual([Vec.GP, 0]);
  });
});

describe('I/O permission bitmap', () => {
  function ioCpu() {
    const cpu = protectedCpu();
    cpu.cpl = 3;
    cpu.segLimit[Seg.TR] = 0x68 + 0x2000; // full bitmap plus the trailing byte
    return cpu;
  }
  it('CPL <= IOPL needs no bitmap', () => {
    const cpu = protectedCpu();
    cpu.cpl = 3;
    cpu.eflags |= FLAG_IOPL;
    expect(faultOf(() => checkIo(cpu, 0x60, 1))).toBeNull();
  });
  it('checks every bit of the access, across byte boundaries', () => {
    const cpu = ioCpu();
    expect(faultOf(() => checkIo(cpu, 0x3f8, 4))).toBeNull();
    cpu.mem.write8(TSS_BASE + 0x68 + (0x3fa >> 3), 1 << (0x3fa & 7));
    expect(faultOf(() => checkIo(cpu, 0x3f8, 1))).toBeNull();
    expect(faultOf(() => checkIo(cpu, 0x3f8, 4))).toEqual([Vec.GP, 0]);
    cpu.mem.write8(TSS_BASE + 0x68 + 1, 0x01); // port 8
    expect(faultOf(() => checkIo(cpu, 0x7, 2))).toEqual([Vec.GP, 0]);
  });
  it('bitmap beyond the TSS limit denies; v86 always checks', () => {
    const cpu = protectedCpu();
    cpu.cpl = 3;
    expect(faultOf(() => checkIo(cpu, 0x60, 1))).toEqual([Vec.GP, 0]);
    const v = ioCpu();
    v.eflags |= FLAG_VM | FLAG_IOPL;
    expect(faultOf(() => checkIo(v, 0x60, 1))).toBeNull();
    v.mem.write8(TSS_BASE + 0x68 + (0x60 >> 3), 1);
    expect(faultOf(() => checkIo(v, 0x60, 1))).toEqual([Vec.GP, 0]);
  });
  it('real mode never checks', () => {
    expect(faultOf(() => checkIo(new FakeCpu(), 0x60, 1))).toBeNull();
  });
});

describe('SYSENTER / SYSEXIT', () => {
  it('enters ring 0 flat and exits to ring 3', () => {
    const cpu = protectedCpu();
    cpu.cpl = 3;
    cpu.eflags = 2 | FLAG_IF | FLAG_RF;
    expect(faultOf(() => sysenter(cpu))).toEqual([Vec.GP, 0]);
    cpu.sysenterCs = 0x08;
    cpu.sysenterEsp = 0x9000;
    cpu.sysenterEip = 0xc0100000;
    sysenter(cpu);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[Seg.CS]).toBe(0x08);
    expect(cpu.segSel[Seg.SS]).toBe(0x10);
    expect(cpu.esp).toBe(0x9000);
    expect(cpu.eip).toBe(0xc0100000);
    expect(cpu.getEflags() & (FLAG_IF | FLAG_RF)).toBe(0);
    cpu.reg32[Reg.ECX] = 0xbffff000;
    cpu.reg32[Reg.EDX] = 0x08048000;
    sysexit(cpu);
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[Seg.CS]).toBe(0x1b);
    expect(cpu.segSel[Seg.SS]).toBe(0x23);
    expect(cpu.segAccess[Seg.CS] & 0x60).toBe(0x60);
    expect(cpu.esp).toBe(0xbffff000);
    expect(cpu.eip).toBe(0x08048000);
    expect(faultOf(() => sysexit(cpu))).toEqual([Vec.GP, 0]);
  });
  it('is #GP(0) in real mode', () => {
    const cpu = new FakeCpu();
    cpu.sysenterCs = 8;
    expect(faultOf(() => sysenter(cpu))).toEqual([Vec.GP, 0]);
  });
});

describe('hardware breakpoints', () => {
  it('code breakpoints fault with Bn set unless RF', () => {
    const cpu = new FakeCpu();
    cpu.dr[0] = 0x1000;
    cpu.dr[1] = 0x2000;
    cpu.dr[7] = 0x400 | 0b0101; // L0, L1, both execute
    expect(faultOf(() => checkCodeBreakpoint(cpu, 0x1001))).toBeNull();
    expect(faultOf(() => checkCodeBreakpoint(cpu, 0x2000))).toEqual([Vec.DB, -1]);
    expect(cpu.dr[6] & 0xf).toBe(0b10);
    cpu.eflags |= FLAG_RF;
    expect(faultOf(() => checkCodeBreakpoint(cpu, 0x2000))).toBeNull();
  });
  it('data breakpoints record pending traps by type and length', () => {
    const cpu = new FakeCpu();
    cpu.dr[2] = 0x3003; // aligned down to 0x3000 for a 4-byte length
    cpu.dr[7] = 0x400 | (1 << 4) | (0b1101 << 24); // G2... L2, RW=01 write, LEN=11 (4 bytes)
    checkDataBreakpoint(cpu, 0x3002, 1, false);
    expect(cpu.pendingDebugTrap).toBe(0);
    checkDataBreakpoint(cpu, 0x2fff, 2, true);
    expect(cpu.pendingDebugTrap).toBe(0b100);
  });
  it('I/O breakpoints need CR4.DE', () => {
    const cpu = new FakeCpu();
    cpu.dr[3] = 0x60;
    cpu.dr[7] = 0x400 | (1 << 6) | (0b0010 << 28);
    checkIoBreakpoint(cpu, 0x60, 1);
    expect(cpu.pendingDebugTrap).toBe(0);
    cpu.cr4 = CR4_DE;
    checkIoBreakpoint(cpu, 0x60, 1);
    expect(cpu.pendingDebugTrap).toBe(0b1000);
  });
});


