// Behaviour of the X87 that the host comparison (test/unit/fpu/x87-vs-host.test.ts)
// cannot observe from a 64-bit user process: #MF/FERR#, fault safety, real-mode
// environment layouts, FIP/FDP/FOP, snapshots, FXSAVE alignment, reserved encodings.
import { describe, it, expect } from 'vitest';
import { X87 } from './x87';
import { CpuRegisters, CpuFault, CR0_NE, CR0_PE, Vec } from '../state';
import type { CpuCore } from '../core';

const DS = 3;

class FakeCpu extends CpuRegisters {
  readonly ram = new Uint8Array(0x20000);
  eflags = 2;
  ferrLog: boolean[] = [];
  /** Writes to offsets >= faultFrom raise #PF (to test fault safety). */
  faultFrom = Infinity;
  readonly bus = { onFerr: (a: boolean) => { this.ferrLog.push(a); } };
  constructor(readonly fpu: X87) { super(); }
  getEflags(): number { return this.eflags; }
  setEflags(v: number, mask = 0x3f7fd5): void { this.eflags = (this.eflags & ~mask) | (v & mask); }
  readSeg8(_s: number, o: number): number { return this.ram[o]; }
  readSeg16(s: number, o: number): number { return this.readSeg8(s, o) | (this.readSeg8(s, o + 1) << 8); }
  readSeg32(s: number, o: number): number { return (this.readSeg16(s, o) | (this.readSeg16(s, o + 2) << 16)) | 0; }
  writeSeg8(_s: number, o: number, v: number): void {
    if (o >= this.faultFrom) throw new CpuFault(Vec.PF, 2);
    this.ram[o] = v;
  }
  writeSeg16(s: number, o: number, v: number): void { this.writeSeg8(s, o + 1, (v >>> 8) & 0xff); this.writeSeg8(s, o, v & 0xff); }
  writeSeg32(s: number, o: number, v: number): void { this.writeSeg16(s, o + 2, v >>> 16); this.writeSeg16(s, o, v & 0xffff); }
}

function setup(cr0 = CR0_PE | CR0_NE) {
  const x = new X87();
  const cpu = new FakeCpu(x);
  cpu.cr0 = cr0;
  const core = cpu as unknown as CpuCore;
  /** Execute "D8+op modrm" with a memory operand at off (modrm mod=00 rm=6 style is irrelevant here). */
  const ex = (op: number, modrm: number, off = 0, o32 = true) => x.execute(core, op, modrm, DS, off, o32, 0x1000, 0x2345);
  return { x, cpu, core, ex };
}

const f64 = (cpu: FakeCpu, off: number, v: number) => new DataView(cpu.ram.buffer).setFloat64(off, v, true);
const rd64 = (cpu: FakeCpu, off: number) => new DataView(cpu.ram.buffer).getFloat64(off, true);

describe('X87 exceptions', () => {
  it('raises #MF on the next waiting instruction when CR0.NE is set', () => {
    const { x, cpu, core, ex } = setup();
    cpu.ram.set([0x7b, 0x03], 0x100); // CW 0x037B: zero-divide unmasked
    ex(1, 0x2e, 0x100); // FLDCW
    ex(1, 0xe8); // FLD1
    ex(1, 0xee); // FLDZ
    ex(4, 0xf9); // FDIV ST1, ST0 -> 1/0
    expect(x.statusWord() & 0x84).toBe(0x84); // ZE + ES
    ex(5, 0x3e, 0x200); // FNSTSW m16: no-wait, fine
    expect(() => ex(1, 0xe8)).toThrowError(CpuFault);
    expect(() => x.checkPending(core)).toThrow(expect.objectContaining({ vector: Vec.MF }));
    ex(3, 0xe2); // FNCLEX
    expect(() => x.checkPending(core)).not.toThrow();
  });

  it('asserts FERR# instead when CR0.NE is clear, and FNINIT deasserts it', () => {
    const { x, cpu, core, ex } = setup(CR0_PE);
    cpu.ram.set([0x7b, 0x03], 0x100);
    ex(1, 0x2e, 0x100);
    ex(1, 0xe8);
    ex(1, 0xee);
    ex(4, 0xf9);
    ex(1, 0xe8); // waiting instruction: FERR#, then executes
    expect(cpu.ferrLog).toEqual([true]);
    expect(x.isEmpty(0)).toBe(false);
    x.checkPending(core); // already asserted: no repeat
    expect(cpu.ferrLog).toEqual([true]);
    ex(3, 0xe3); // FNINIT
    expect(cpu.ferrLog).toEqual([true, false]);
  });

  it('FLDCW unmasking a pending flag makes the next waiting instruction fault', () => {
    const { x, cpu, ex } = setup();
    ex(1, 0xe8);
    ex(1, 0xee);
    ex(4, 0xf9); // masked ZE
    expect(x.statusWord() & 0x80).toBe(0);
    cpu.ram.set([0x7b, 0x03], 0x100);
    ex(1, 0x2e, 0x100); // unmask ZE
    expect(x.statusWord() & 0x8080).toBe(0x8080);
    expect(() => ex(1, 0xe8)).toThrowError(CpuFault);
  });

  it('FISTTP and other reserved memory encodings are #UD on a P6', () => {
    const { ex } = setup();
    for (const [op, reg] of [[3, 1], [5, 1], [7, 1], [1, 1], [3, 4], [3, 6], [5, 5]]) {
      expect(() => ex(op, reg << 3, 0x100)).toThrow(expect.objectContaining({ vector: Vec.UD }));
    }
  });
});

describe('X87 fault safety', () => {
  it('a faulting FSTP m80 / FSTP m64 / FNSAVE leaves the FPU unchanged', () => {
    const { x, cpu, ex } = setup();
    ex(1, 0xeb); // FLDPI
    ex(1, 0xe8); // FLD1
    const before = JSON.stringify(x.saveState());
    cpu.faultFrom = 0x1008; // the last bytes of an operand at 0x1000 fault
    expect(() => ex(3, 0x38, 0x1000)).toThrowError(CpuFault); // FSTP m80
    expect(() => ex(5, 0x18, 0x1001)).toThrowError(CpuFault); // FSTP m64
    expect(() => ex(5, 0x30, 0x1000)).toThrowError(CpuFault); // FNSAVE
    expect(() => ex(1, 0x30, 0x0ff0)).toThrowError(CpuFault); // FNSTENV (28 bytes)
    expect(JSON.stringify(x.saveState())).toBe(before);
    cpu.faultFrom = Infinity;
    ex(3, 0x38, 0x1000);
    expect(x.isEmpty(0)).toBe(false); // popped 1.0, pi remains
    expect(cpu.ram.slice(0x1000, 0x100a)).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]));
  });
});

describe('X87 data paths', () => {
  it('FLD m80 / FSTP m80 round-trip every bit pattern class', () => {
    const { cpu, ex } = setup();
    let s = 0x12345678;
    const rnd = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
    for (let i = 0; i < 2000; i++) {
      const img = new Uint8Array(10);
      for (let j = 0; j < 10; j++) img[j] = rnd() & 0xff;
      if (i % 4 === 0) img[9] = (img[9] & 0x80) | 0x7f, img[8] = 0xff; // NaN/inf/pseudo space
      if (i % 4 === 1) img[9] &= 0x80, img[8] = 0; // denormal/pseudo-denormal space
      cpu.ram.set(img, 0x100);
      ex(3, 0x28, 0x100); // FLD m80
      ex(3, 0x38, 0x200); // FSTP m80
      expect(cpu.ram.slice(0x200, 0x20a)).toEqual(img);
    }
  });

  it('FILD m64 / FISTP m64 are exact for every 64-bit integer', () => {
    const { cpu, ex } = setup();
    const dv = new DataView(cpu.ram.buffer);
    const vals = [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), 0x123456789abcdefn, -0x7edcba9876543210n, (1n << 53n) + 1n];
    for (const v of vals) {
      dv.setBigInt64(0x100, v, true);
      ex(7, 0x28, 0x100); // FILD m64
      ex(7, 0x38, 0x200); // FISTP m64
      expect(dv.getBigInt64(0x200, true)).toBe(v);
    }
  });

  it('FLD/FADD/FSTP m64 give the exact double results at PC=53', () => {
    const { cpu, ex } = setup();
    cpu.ram.set([0x7f, 0x02], 0x100);
    ex(1, 0x28, 0x100); // FLDCW 0x027F
    f64(cpu, 0x108, 0.1);
    f64(cpu, 0x110, 0.2);
    ex(5, 0x00, 0x108);
    ex(4, 0x00, 0x110); // FADD m64
    ex(5, 0x18, 0x118);
    expect(rd64(cpu, 0x118)).toBe(0.1 + 0.2);
  });

  it('records FIP/FCS/FOP/FDP/FDS for non-control instructions only', () => {
    const { x, cpu, ex } = setup();
    cpu.segSel[DS] = 0x2b;
    f64(cpu, 0x108, 2);
    x.execute(cpu as unknown as CpuCore, 5, 0x06, DS, 0x108, true, 0x1b, 0x4444); // FLD m64
    expect([x.fip, x.fcs, x.fop, x.fdp, x.fds]).toEqual([0x4444, 0x1b, 0x506, 0x108, 0x2b]);
    x.execute(cpu as unknown as CpuCore, 1, 0x3e, DS, 0x300, true, 0x1b, 0x5555); // FNSTCW: control
    expect(x.fip).toBe(0x4444);
  });
});

describe('X87 environment layouts', () => {
  it('real-mode FNSTENV stores linear FIP/FDP with the opcode; FLDENV reads them back', () => {
    const { x, cpu, core, ex } = setup(0);
    cpu.segSel[DS] = 0x1234;
    x.execute(core, 1, 0xe8, DS, 0, false, 0xf000, 0xfff0); // FLD1 at F000:FFF0
    x.execute(core, 5, 0x06, DS, 0x0108, false, 0xf000, 0xfff2); // FLD m64 at F000:FFF2, DS:0108
    ex(1, 0x30, 0x400, true); // FNSTENV 32-bit real layout
    const dv = new DataView(cpu.ram.buffer, 0x400);
    const ip = 0xf0000 + 0xfff2, dp = 0x12340 + 0x108;
    expect(dv.getUint32(12, true)).toBe((0xffff0000 | (ip & 0xffff)) >>> 0);
    expect(dv.getUint32(16, true)).toBe(((ip >>> 16) << 12) | 0x506);
    expect(dv.getUint32(20, true)).toBe((0xffff0000 | (dp & 0xffff)) >>> 0);
    expect(dv.getUint32(24, true)).toBe((dp >>> 16) << 12);
    ex(1, 0x30, 0x500, false); // 16-bit real layout
    const w = new DataView(cpu.ram.buffer, 0x500);
    expect(w.getUint16(6, true)).toBe(ip & 0xffff);
    expect(w.getUint16(8, true)).toBe(((ip >>> 16) << 12) | 0x506);
    expect(w.getUint16(0, true)).toBe(0x037f);
    expect(w.getUint16(4, true)).toBe(0x1fff); // ST0 = +0 (zero tag), ST1 = 1.0 (valid), others empty
    expect(x.cw).toBe(0x037f); // masks were already all set
    ex(1, 0x20, 0x400, true); // FLDENV
    expect(x.fip).toBe(ip);
    expect(x.fdp).toBe(dp);
    expect(x.fop).toBe(0x506);
  });

  it('FNSAVE/FRSTOR round-trip in all four layouts', () => {
    for (const [cr0, o32] of [[0, false], [0, true], [CR0_PE, false], [CR0_PE, true]] as const) {
      const { x, cpu, ex } = setup(cr0);
      ex(1, 0xeb);
      ex(1, 0xea);
      ex(1, 0xee);
      ex(5, 0xc1); // FFREE ST1
      const before = x.saveState();
      ex(5, 0x30, 0x800, o32); // FNSAVE
      expect(x.statusWord()).toBe(0);
      expect(x.tagWord()).toBe(0xffff);
      ex(5, 0x20, 0x800, o32); // FRSTOR
      const after = x.saveState();
      for (const k of ['cw', 'sw', 'top', 'empty', 'regSE', 'regHi', 'regLo']) expect(after[k]).toEqual(before[k]);
      void cpu;
    }
  });

  it('FXSAVE/FXRSTOR round-trip, and #GP(0) on a misaligned area', () => {
    const { x, cpu, core, ex } = setup();
    ex(1, 0xeb);
    ex(1, 0xe9);
    const before = x.saveState();
    x.fxsave(core, DS, 0x1000);
    expect(cpu.ram[0x1004]).toBe(0xc0); // abridged tag: physical 6 and 7 in use
    ex(3, 0xe3);
    x.fxrstor(core, DS, 0x1000);
    expect(x.saveState()).toEqual(before);
    expect(() => x.fxsave(core, DS, 0x1008)).toThrow(expect.objectContaining({ vector: Vec.GP }));
  });

  it('saveState/loadState restores everything', () => {
    const a = setup();
    a.ex(1, 0xeb);
    a.ex(1, 0xe8);
    a.ex(0, 0xf1);
    const st = a.x.saveState();
    const b = setup();
    b.x.loadState(structuredClone(st), b.x.stateVersion);
    expect(b.x.saveState()).toEqual(st);
    expect(() => b.x.loadState(st, 99)).toThrow();
  });
});
