import { describe, expect, it } from 'vitest';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PSE, Vec } from '../state';
import { translate } from './index';
import { FakeCpu, faultOf } from './test-support';

const PD = 0x10000;
const PT = 0x11000;
const P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80;

function pagedCpu(pde: number, pte: number): FakeCpu {
  const cpu = new FakeCpu();
  cpu.cr0 = CR0_PE | CR0_PG;
  cpu.cr3 = PD;
  // Linear 0x00400000-0x007fffff -> PT; page 0x00401000 -> physical 0x123000.
  cpu.w32(PD + 4, (PT & ~0xfff) | pde);
  cpu.w32(PT + 4, 0x123000 | pte);
  return cpu;
}
const LIN = 0x00401abc;

describe('two-level paging', () => {
  it('translates a 4 KiB page and sets A (and D on write) in memory', () => {
    const cpu = pagedCpu(P | W | U, P | W | U);
    expect(translate(cpu, LIN, false, true)).toBe(0x123abc);
    expect(cpu.r32(PD + 4) & (A | D)).toBe(A);
    expect(cpu.r32(PT + 4) & (A | D)).toBe(A);
    expect(translate(cpu, LIN, true, true)).toBe(0x123abc);
    expect(cpu.r32(PT + 4) & (A | D)).toBe(A | D);
    expect(cpu.r32(PD + 4) & D).toBe(0); // the PDE of a 4 KiB page has no dirty bit
  });

  it('translates a 4 MiB page with CR4.PSE and sets A/D in the PDE', () => {
    const cpu = new FakeCpu();
    cpu.cr0 = CR0_PE | CR0_PG;
    cpu.cr3 = PD;
    cpu.cr4 = CR4_PSE;
    cpu.w32(PD + 8, 0x00c00000 | P | W | PS);
    expect(translate(cpu, 0x00912345, true, false)).toBe(0x00d12345);
    expect(cpu.r32(PD + 8) & (A | D)).toBe(A | D);
  });

  it('ignores PS without CR4.PSE', () => {
    const cpu = pagedCpu(P | W | PS, P | W);
    expect(translate(cpu, LIN, false, false)).toBe(0x123abc);
  });

  it('reserved bits 21:13 of a 4 MiB PDE fault with RSVD', () => {
    const cpu = new FakeCpu();
    cpu.cr0 = CR0_PE | CR0_PG;
    cpu.cr3 = PD;
    cpu.cr4 = CR4_PSE;
    cpu.w32(PD + 8, 0x00c00000 | 0x2000 | P | W | PS);
    expect(faultOf(() => translate(cpu, 0x00912345, false, false))).toEqual([Vec.PF, 0b1001]);
  });

  const cases: [string, number, number, boolean, boolean, number | null][] = [
    // name, pde, pte, write, user, expected error code (null = ok)
    ['PDE not present, supervisor read', 0, P | W | U, false, false, 0b000],
    ['PDE not present, user write', 0, P | W | U, true, true, 0b110],
    ['PTE not present, supervisor write', P | W | U, 0, true, false, 0b010],
    ['PTE not present, user read', P | W | U, 0, false, true, 0b100],
    ['user read of supervisor PTE', P | W | U, P | W, false, true, 0b101],
    ['user read with supervisor PDE', P | W, P | W | U, false, true, 0b101],
    ['user write to read-only PTE', P | W | U, P | U, true, true, 0b111],
    ['user write with read-only PDE', P | U, P | W | U, true, true, 0b111],
    ['supervisor write to read-only page, WP clear', P | U, P | U, true, false, null],
    ['supervisor read of user page', P | W | U, P | W | U, false, false, null],
  ];
  for (const [name, pde, pte, write, user, code] of cases) {
    it(name, () => {
      const cpu = pagedCpu(pde, pte);
      const f = faultOf(() => translate(cpu, LIN, write, user));
      if (code === null) expect(f).toBeNull();
      else {
        expect(f).toEqual([Vec.PF, code]);
        expect(cpu.cr2 >>> 0).toBe(LIN);
        // A faulting walk sets no accessed bits.
        expect(cpu.r32(PT + 4) & A).toBe(0);
      }
    });
  }

  it('CR0.WP makes supervisor writes honour R/W', () => {
    const cpu = pagedCpu(P | W | U, P | U);
    cpu.cr0 |= CR0_WP;
    expect(faultOf(() => translate(cpu, LIN, true, false))).toEqual([Vec.PF, 0b011]);
    expect(faultOf(() => translate(cpu, LIN, false, false))).toBeNull();
  });
});
