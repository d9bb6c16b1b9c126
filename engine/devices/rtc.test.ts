import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { Rtc } from './rtc';

const START = Date.UTC(2024, 1, 29, 23, 59, 58); // 2024-02-29 23:59:58 UTC

function setup() {
  const ctx = makeTestContext();
  const rtc = new Rtc(ctx, { startDateMs: START });
  const read = (i: number) => {
    ctx.io.out8(0x70, i);
    return ctx.io.in8(0x71);
  };
  const write = (i: number, v: number) => {
    ctx.io.out8(0x70, i);
    ctx.io.out8(0x71, v);
  };
  return { ctx, rtc, read, write };
}

describe('MC146818 RTC', () => {
  it('reports the start date in BCD, 24h, and advances with virtual time', () => {
    const { ctx, read } = setup();
    expect(read(0x00)).toBe(0x58);
    expect(read(0x02)).toBe(0x59);
    expect(read(0x04)).toBe(0x23);
    expect(read(0x07)).toBe(0x29);
    expect(read(0x08)).toBe(0x02);
    expect(read(0x09)).toBe(0x24);
    expect(read(0x32)).toBe(0x20);
    ctx.setTime(3e9); // 3 s later: 2024-03-01 00:00:01
    expect(read(0x00)).toBe(0x01);
    expect(read(0x04)).toBe(0x00);
    expect(read(0x07)).toBe(0x01);
    expect(read(0x08)).toBe(0x03);
    expect(read(0x0d)).toBe(0x80);
  });

  it('binary and 12-hour modes', () => {
    const { read, write } = setup();
    write(0x0b, 0x04); // binary, 12h
    expect(read(0x00)).toBe(58);
    expect(read(0x04)).toBe(0x80 | 11); // 11 PM
  });

  it('sets the time through the SET bit', () => {
    const { ctx, read, write } = setup();
    write(0x0b, 0x82); // SET, 24h BCD
    write(0x04, 0x10);
    write(0x02, 0x30);
    write(0x00, 0x00);
    ctx.setTime(5e9); // frozen while SET
    expect(read(0x00)).toBe(0x00);
    write(0x0b, 0x02);
    ctx.setTime(7e9);
    expect(read(0x04)).toBe(0x10);
    expect(read(0x02)).toBe(0x30);
    expect(read(0x00)).toBe(0x02);
  });

  it('shows UIP just before the update', () => {
    const { ctx, read } = setup();
    ctx.setTime(0.5e9);
    expect(read(0x0a) & 0x80).toBe(0);
    ctx.setTime(0.9999e9);
    expect(read(0x0a) & 0x80).toBe(0x80);
  });

  it('periodic interrupt on IRQ 8, cleared by reading C', () => {
    const { ctx, read, write } = setup();
    write(0x0a, 0x26); // 1024 Hz
    write(0x0b, 0x42); // PIE
    const period = 1e9 / 1024;
    const next = ctx.timers[0].advance(0);
    expect(next).toBeCloseTo(period, 0);
    ctx.advanceTo(next);
    expect(ctx.irqLevel[8]).toBe(true);
    expect(read(0x0c)).toBe(0xc0);
    expect(ctx.irqLevel[8]).toBe(false);
    expect(read(0x0c)).toBe(0x00);
  });

  it('update-ended and alarm interrupts', () => {
    const { ctx, read, write } = setup();
    write(0x0a, 0x20); // no periodic rate: PF stays clear
    write(0x01, 0x00); // alarm at second 0
    write(0x03, 0xff); // any minute
    write(0x05, 0xff); // any hour
    write(0x0b, 0x32); // AIE | UIE
    ctx.advanceTo(1.0e9); // 23:59:59: update only
    expect(read(0x0c)).toBe(0x90);
    ctx.advanceTo(2.0e9); // 00:00:00: update + alarm
    expect(read(0x0c)).toBe(0xb0);
  });

  it('masks NMI with bit 7 of port 0x70 and keeps CMOS RAM', () => {
    const { ctx, rtc, read, write } = setup();
    ctx.io.out8(0x70, 0x0f);
    expect(rtc.nmiMasked).toBe(false);
    ctx.io.out8(0x70, 0x8f);
    expect(rtc.nmiMasked).toBe(true);
    write(0x40, 0x5a);
    expect(read(0x40)).toBe(0x5a);
    rtc.cmos[0x10] = 0x40;
    rtc.updateChecksum();
    expect((read(0x2e) << 8) | read(0x2f)).toBe(0x40);
  });

  it('saves and restores', () => {
    const { ctx, rtc, write } = setup();
    write(0x0b, 0x06);
    const s = structuredClone(rtc.saveState());
    const c2 = makeTestContext();
    const r2 = new Rtc(c2, { startDateMs: 0 });
    r2.loadState(s, 1);
    c2.setTime(ctx.clock.nowNs());
    c2.io.out8(0x70, 0x00);
    expect(c2.io.in8(0x71)).toBe(58);
  });
});
