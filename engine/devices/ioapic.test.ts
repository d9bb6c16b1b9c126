import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { LocalApic } from './apic';
import { IoApic } from './ioapic';

function setup() {
  const ctx = makeTestContext();
  const pic = { hasInterrupt: () => false, acknowledge: () => 0 };
  const lapic = new LocalApic(ctx, pic);
  const io = new IoApic(ctx, lapic);
  ctx.mem.write32(0xfee000f0, 0x1ff); // APIC software enable
  const sel = (r: number) => ctx.mem.write32(0xfec00000, r);
  const rd = (r: number) => (sel(r), ctx.mem.read32(0xfec00010) >>> 0);
  const wr = (r: number, v: number) => (sel(r), ctx.mem.write32(0xfec00010, v));
  const eoi = () => ctx.mem.write32(0xfee000b0, 0);
  return { ctx, lapic, io, rd, wr, eoi };
}

describe('I/O APIC', () => {
  it('reports version and 24 entries, entries start masked', () => {
    const { rd } = setup();
    expect(rd(1)).toBe(0x00170020);
    expect(rd(0x10) & 0x10000).toBe(0x10000);
  });

  it('edge redirection delivers the programmed vector; masked edges latch until unmasked', () => {
    const { io, lapic, wr } = setup();
    wr(0x10 + 2 * 4, 0x10031); // pin 4 masked, vector 0x31, edge
    wr(0x11 + 2 * 4, 0);
    io.pin(4).raise();
    io.pin(4).lower();
    expect(lapic.hasInterrupt()).toBe(false);
    wr(0x10 + 2 * 4, 0x31); // unmask
    expect(lapic.acknowledge()).toBe(0x31);
  });

  it('level-triggered: remote IRR until EOI, re-delivery while still asserted', () => {
    const { io, lapic, wr, rd, eoi } = setup();
    wr(0x10 + 2 * 11, 0x8041); // level, vector 0x41
    io.pin(11).raise();
    expect(rd(0x10 + 2 * 11) & 0x4000).toBe(0x4000);
    expect(lapic.acknowledge()).toBe(0x41);
    eoi();
    // still asserted → delivered again
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x41);
    io.pin(11).lower();
    eoi();
    expect(rd(0x10 + 2 * 11) & 0x4000).toBe(0);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('physical destination not matching the CPU is not delivered', () => {
    const { io, lapic, wr } = setup();
    wr(0x10 + 2 * 2, 0x30);
    wr(0x11 + 2 * 2, 0x05000000);
    io.pin(2).raise();
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('bad register selections are ignored', () => {
    const { wr, rd } = setup();
    wr(0x90, 0x1234);
    expect(rd(0x90)).toBe(0);
  });
});
