import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { LocalApic } from './apic';

function fakePic() {
  return {
    pending: -1,
    hasInterrupt() {
      return this.pending >= 0;
    },
    acknowledge() {
      const v = this.pending;
      this.pending = -1;
      return v;
    },
  };
}

const B = 0xfee00000;

function setup() {
  const ctx = makeTestContext();
  const pic = fakePic();
  const apic = new LocalApic(ctx, pic);
  ctx.addTimer(apic);
  const rd = (r: number) => ctx.mem.read32(B + r) >>> 0;
  const wr = (r: number, v: number) => ctx.mem.write32(B + r, v);
  return { ctx, pic, apic, rd, wr };
}

describe('local APIC', () => {
  it('reports ID and version; passes the 8259A through LINT0 ExtINT after reset', () => {
    const { rd, pic, apic } = setup();
    expect(rd(0x30)).toBe(0x00050014);
    expect(rd(0x350)).toBe(0x700);
    pic.pending = 0x08;
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x08);
  });

  it('masking LINT0 stops PIC pass-through; global disable bypasses the APIC', () => {
    const { wr, pic, apic } = setup();
    wr(0xf0, 0x1ff);
    wr(0x350, 0x10700);
    pic.pending = 0x20;
    expect(apic.hasInterrupt()).toBe(false);
    apic.setBaseMsr(0xfee00000 | 0x100); // BSP, globally disabled
    expect(apic.hasInterrupt()).toBe(true);
  });

  it('periodic timer fires at initial*divide ns and current count follows the clock', () => {
    const { ctx, wr, rd, apic } = setup();
    wr(0xf0, 0x1ff); // software enable
    wr(0x3e0, 0x3); // divide by 16
    wr(0x320, 0x20000 | 0x40); // periodic, vector 0x40
    wr(0x380, 1000); // 1000 ticks * 16 ns = 16 us
    ctx.advanceTo(8000);
    expect(rd(0x390)).toBe(500);
    expect(apic.hasInterrupt()).toBe(false);
    ctx.advanceTo(16000);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x40);
    expect(rd(0x100 + 0x20) & 1).toBe(1); // ISR bit 0x40
    wr(0xb0, 0); // EOI
    expect(rd(0x100 + 0x20)).toBe(0);
    expect(ctx.timers[0].advance(20000)).toBe(32000);
    ctx.advanceTo(32000);
    expect(apic.acknowledge()).toBe(0x40);
  });

  it('one-shot timer stops at zero; masked timer does not interrupt', () => {
    const { ctx, wr, rd, apic } = setup();
    wr(0xf0, 0x1ff);
    wr(0x3e0, 0xb); // divide by 1
    wr(0x320, 0x10050); // masked one-shot
    wr(0x380, 100);
    ctx.advanceTo(150);
    expect(rd(0x390)).toBe(0);
    expect(apic.hasInterrupt()).toBe(false);
    wr(0x320, 0x50);
    wr(0x380, 100);
    ctx.advanceTo(260);
    expect(apic.acknowledge()).toBe(0x50);
  });

  it('TPR blocks lower-priority vectors; ISR priority nests', () => {
    const { wr, apic } = setup();
    wr(0xf0, 0x1ff);
    wr(0x80, 0x50);
    apic.deliver({ vector: 0x45, mode: 0, level: false, logical: false, dest: 0 });
    expect(apic.hasInterrupt()).toBe(false);
    wr(0x80, 0);
    expect(apic.acknowledge()).toBe(0x45);
    apic.deliver({ vector: 0x41, mode: 0, level: false, logical: false, dest: 0 });
    expect(apic.hasInterrupt()).toBe(false); // same class as in-service 0x45
    apic.deliver({ vector: 0x61, mode: 0, level: false, logical: false, dest: 0 });
    expect(apic.acknowledge()).toBe(0x61);
  });

  it('self IPI via ICR, NMI IPI, illegal vector sets ESR', () => {
    const { wr, rd, apic } = setup();
    let nmis = 0;
    apic.onNmi = () => nmis++;
    wr(0xf0, 0x1ff);
    wr(0x300, 0x40000 | 0x33); // shorthand self, fixed, vector 0x33
    expect(apic.acknowledge()).toBe(0x33);
    wr(0x300, 0x40000 | 0x400); // self NMI
    expect(nmis).toBe(1);
    wr(0x300, 0x40000 | 0x05); // illegal vector
    wr(0x280, 0);
    expect(rd(0x280) & 0x20).toBe(0x20);
  });

  it('logical flat destination matching', () => {
    const { wr, apic } = setup();
    wr(0xf0, 0x1ff);
    wr(0xe0, 0xffffffff);
    wr(0xd0, 0x01000000);
    expect(apic.deliver({ vector: 0x30, mode: 0, level: false, logical: true, dest: 0x02 })).toBe(false);
    expect(apic.deliver({ vector: 0x30, mode: 0, level: false, logical: true, dest: 0x01 })).toBe(true);
  });

  it('snapshot round trip keeps the running timer', () => {
    const a = setup();
    a.wr(0xf0, 0x1ff);
    a.wr(0x320, 0x20030);
    a.wr(0x380, 1000);
    a.ctx.advanceTo(100);
    const st = a.apic.saveState();
    const b = setup();
    b.apic.loadState(st, 1);
    b.ctx.setTime(100);
    expect(b.rd(0x390)).toBe(a.rd(0x390));
  });
});
