import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { Pit, PIT_HZ } from './pit';
import { SystemControl } from './system-control';

const tickNs = (n: number) => (n * 1e9) / PIT_HZ;

function setup() {
  const ctx = makeTestContext();
  const pit = new Pit(ctx);
  const sys = new SystemControl(ctx, pit, { resetControl: true });
  return { ctx, pit, sys, io: ctx.io };
}

describe('8254 PIT', () => {
  it('mode 2 rate generator interrupts once per period', () => {
    const { ctx, io } = setup();
    io.out8(0x43, 0x34); // ch0, lo/hi, mode 2
    io.out8(0x40, 100);
    io.out8(0x40, 0);
    expect(ctx.irqEdges[0]).toBe(0);
    ctx.advanceTo(tickNs(99));
    expect(ctx.irqEdges[0]).toBe(0);
    const next = ctx.timers[0].advance(tickNs(99));
    expect(next).toBeGreaterThan(tickNs(99));
    expect(next).toBeLessThanOrEqual(tickNs(100) + 1);
    ctx.advanceTo(tickNs(100) + 1);
    expect(ctx.irqEdges[0]).toBe(1);
    ctx.advanceTo(tickNs(350) + 1);
    expect(ctx.irqEdges[0]).toBe(2); // late advance: missed periods collapse into one edge
  });

  it('counts down and latches the count', () => {
    const { ctx, io } = setup();
    io.out8(0x43, 0x34);
    io.out8(0x40, 0x00);
    io.out8(0x40, 0x10); // 0x1000
    ctx.setTime(tickNs(0x100));
    io.out8(0x43, 0x00); // latch ch0
    ctx.setTime(tickNs(0x200));
    const lo = io.in8(0x40);
    const hi = io.in8(0x40);
    expect((hi << 8) | lo).toBe(0x1000 - 0x100);
    // Unlatched read follows time.
    expect(io.in8(0x40) | (io.in8(0x40) << 8)).toBe(0x1000 - 0x200);
  });

  it('mode 0 raises OUT at terminal count and stays high', () => {
    const { ctx, io } = setup();
    io.out8(0x43, 0x30); // ch0 lo/hi mode 0
    io.out8(0x40, 50);
    io.out8(0x40, 0);
    ctx.advanceTo(tickNs(49));
    expect(ctx.irqLevel[0]).toBe(false);
    ctx.advanceTo(tickNs(51));
    expect(ctx.irqLevel[0]).toBe(true);
    expect(ctx.irqEdges[0]).toBe(1);
    ctx.advanceTo(tickNs(500));
    expect(ctx.irqEdges[0]).toBe(1);
    io.out8(0x43, 0x30); // reprogramming drops OUT
    expect(ctx.irqLevel[0]).toBe(false);
  });

  it('channel 2 is gated and read through port 0x61 (TSC calibration path)', () => {
    const { ctx, io } = setup();
    io.out8(0x61, 0x01); // gate on, speaker off
    io.out8(0x43, 0xb0); // ch2 lo/hi mode 0
    io.out8(0x42, 0xe8);
    io.out8(0x42, 0x03); // 1000
    ctx.setTime(tickNs(500));
    expect(io.in8(0x61) & 0x20).toBe(0);
    ctx.setTime(tickNs(1001));
    expect(io.in8(0x61) & 0x20).toBe(0x20);
    expect(io.in8(0x61) & 0x01).toBe(1);
  });

  it('mode 1 one-shot waits for a gate edge', () => {
    const { ctx, io } = setup();
    io.out8(0x61, 0x00);
    io.out8(0x43, 0xb2); // ch2 lo/hi mode 1
    io.out8(0x42, 10);
    io.out8(0x42, 0);
    ctx.setTime(tickNs(100));
    expect(io.in8(0x61) & 0x20).toBe(0x20); // not triggered: OUT high
    io.out8(0x61, 0x01); // rising gate triggers
    ctx.setTime(tickNs(105));
    expect(io.in8(0x61) & 0x20).toBe(0);
    ctx.setTime(tickNs(111));
    expect(io.in8(0x61) & 0x20).toBe(0x20);
  });

  it('read-back returns status and count', () => {
    const { ctx, io } = setup();
    io.out8(0x43, 0x36); // ch0 lo/hi mode 3
    io.out8(0x40, 0);
    io.out8(0x40, 0); // 65536
    ctx.setTime(tickNs(10));
    io.out8(0x43, 0xc2); // read-back count+status of ch0
    const status = io.in8(0x40);
    expect(status & 0x3f).toBe(0x36);
    expect(status & 0x40).toBe(0); // count loaded
    const v = io.in8(0x40) | (io.in8(0x40) << 8);
    expect(v).toBe((0x10000 - 20) & 0xffff); // mode 3 counts by two
  });

  it('supports LSB-only and MSB-only access and BCD', () => {
    const { ctx, io } = setup();
    io.out8(0x43, 0x50); // ch1 LSB only mode 0
    io.out8(0x41, 0x80);
    ctx.setTime(tickNs(0x10));
    expect(io.in8(0x41)).toBe(0x70);
    io.out8(0x43, 0x61); // ch1 MSB only mode 0 BCD
    io.out8(0x41, 0x12); // 1200 in BCD
    ctx.setTime(tickNs(0x10 + 100));
    expect(io.in8(0x41)).toBe(0x11); // 1100 → MSB 0x11
  });

  it('saves and restores', () => {
    const { ctx, io, pit } = setup();
    io.out8(0x43, 0x34);
    io.out8(0x40, 0x00);
    io.out8(0x40, 0x10);
    ctx.setTime(tickNs(5));
    const s = structuredClone(pit.saveState());
    const c2 = makeTestContext();
    const p2 = new Pit(c2);
    p2.loadState(s, 1);
    c2.setTime(tickNs(0x20));
    expect(p2.peek(0).count).toBe(0x1000 - 0x20);
  });
});
