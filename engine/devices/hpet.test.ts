import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { Hpet } from './hpet';

const B = 0xfed00000;

function setup() {
  const ctx = makeTestContext();
  const hpet = new Hpet(ctx);
  ctx.addTimer(hpet);
  const rd = (o: number) => ctx.mem.read32(B + o) >>> 0;
  const wr = (o: number, v: number) => ctx.mem.write32(B + o, v);
  return { ctx, hpet, rd, wr };
}

describe('HPET', () => {
  it('capabilities: 100 MHz, 3 timers, legacy capable', () => {
    const { rd } = setup();
    expect(rd(0x4)).toBe(10_000_000);
    expect(rd(0x0) & 0xffff).toBe(0xa201);
    expect(rd(0x0) >>> 16).toBe(0x8086);
  });

  it('main counter follows the virtual clock only while enabled', () => {
    const { ctx, rd, wr } = setup();
    ctx.setTime(1000);
    expect(rd(0xf0)).toBe(0);
    wr(0x10, 1);
    ctx.setTime(1000 + 10_000);
    expect(rd(0xf0)).toBe(1000);
    wr(0x10, 0);
    ctx.setTime(50_000);
    expect(rd(0xf0)).toBe(1000);
  });

  it('legacy replacement: periodic timer 0 pulses IRQ0 (Linux programming sequence)', () => {
    const { ctx, rd, wr, hpet } = setup();
    let legacy = false;
    hpet.onLegacyReplacement = (on) => (legacy = on);
    wr(0x10, 0x3); // enable + legacy
    expect(legacy).toBe(true);
    const delta = 100_000; // 1 ms at 100 MHz
    wr(0x100, (1 << 2) | (1 << 3) | (1 << 6) | (1 << 8)); // enable int, periodic, setval, 32-bit
    const now = rd(0xf0);
    wr(0x108, now + delta);
    wr(0x108, delta);
    ctx.advanceTo(500_000);
    expect(ctx.irqEdges[0]).toBe(0);
    ctx.advanceTo(1_000_000);
    expect(ctx.irqEdges[0]).toBe(1);
    expect(ctx.irqLevel[0]).toBe(false); // edge mode: a pulse
    ctx.advanceTo(2_000_000);
    expect(ctx.irqEdges[0]).toBe(2);
    expect(hpet.advance(2_000_000)).toBe(3_000_000);
  });

  it('level-triggered one-shot timer 2 holds its line until GINTR_STA is cleared', () => {
    const { ctx, rd, wr } = setup();
    wr(0x10, 1);
    wr(0x140, (1 << 1) | (1 << 2) | (11 << 9)); // level, enabled, route 11
    wr(0x148, 500);
    wr(0x14c, 0);
    ctx.advanceTo(5000);
    expect(ctx.irqLevel[11]).toBe(true);
    expect(rd(0x20)).toBe(4);
    wr(0x20, 4);
    expect(ctx.irqLevel[11]).toBe(false);
    ctx.advanceTo(100_000);
    expect(ctx.irqEdges[11]).toBe(1); // 64-bit one-shot does not repeat
  });
});
