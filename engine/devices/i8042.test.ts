import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { I8042 } from './i8042';

function setup() {
  const ctx = makeTestContext();
  const kbc = new I8042(ctx);
  const io = ctx.io;
  const drain = () => {
    const out: number[] = [];
    while (io.in8(0x64) & 1) out.push(io.in8(0x60));
    return out;
  };
  return { ctx, kbc, io, drain };
}

describe('i8042 keyboard controller', () => {
  it('self-test, interface tests and the command byte', () => {
    const { io, drain } = setup();
    io.out8(0x64, 0xaa);
    expect(drain()).toEqual([0x55]);
    expect(io.in8(0x64) & 0x04).toBe(0x04); // system flag
    io.out8(0x64, 0xab);
    expect(drain()).toEqual([0x00]);
    io.out8(0x64, 0xa9);
    expect(drain()).toEqual([0x00]);
    io.out8(0x64, 0x20);
    expect(drain()).toEqual([0x47]);
    io.out8(0x64, 0x60);
    io.out8(0x60, 0x65);
    io.out8(0x64, 0x20);
    expect(drain()).toEqual([0x65]);
  });

  it('drives A20 through the output port and resets with 0xFE', () => {
    const { ctx, io, drain } = setup();
    expect(ctx.mem.a20Enabled).toBe(true);
    io.out8(0x64, 0xd1);
    io.out8(0x60, 0xdd); // A20 off (bit 1 clear), reset line high
    expect(ctx.mem.a20Enabled).toBe(false);
    io.out8(0x64, 0xd0);
    expect(drain()[0] & 0x03).toBe(0x01);
    io.out8(0x64, 0xd1);
    io.out8(0x60, 0xdf);
    expect(ctx.mem.a20Enabled).toBe(true);
    io.out8(0x64, 0xfe);
    expect(ctx.emitted.some((e) => e.name === 'reset-request')).toBe(true);
  });

  it('keyboard commands: reset, identify, echo, LEDs, scan set', () => {
    const { io, drain } = setup();
    io.out8(0x60, 0xff);
    expect(drain()).toEqual([0xfa, 0xaa]);
    io.out8(0x60, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]); // translated
    io.out8(0x60, 0xee);
    expect(drain()).toEqual([0xee]);
    io.out8(0x60, 0xed);
    io.out8(0x60, 0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
    io.out8(0x60, 0xf0);
    io.out8(0x60, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x41]);
    io.out8(0x60, 0xf5);
    io.out8(0x60, 0xf4);
    io.out8(0x60, 0xf6);
    expect(drain()).toEqual([0xfa, 0xfa, 0xfa]);
  });

  it('translates set 2 scan codes to set 1 and raises IRQ 1', () => {
    const { ctx, kbc, io, drain } = setup();
    kbc.keyboard.sendScancodes([0x1c, 0xf0, 0x1c]); // 'A' make/break
    expect(ctx.irqLevel[1]).toBe(true);
    expect(drain()).toEqual([0x1e, 0x9e]);
    expect(ctx.irqLevel[1]).toBe(false);
    io.out8(0x64, 0x60);
    io.out8(0x60, 0x05); // no translation
    kbc.keyboard.sendScancodes([0x1c, 0xf0, 0x1c]);
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]);
  });

  it('aux port: mouse commands, IntelliMouse id and packets on IRQ 12', () => {
    const { ctx, kbc, io, drain } = setup();
    const mouse = (b: number) => {
      io.out8(0x64, 0xd4);
      io.out8(0x60, b);
    };
    mouse(0xff);
    expect(io.in8(0x64) & 0x20).toBe(0x20);
    expect(drain()).toEqual([0xfa, 0xaa, 0x00]);
    for (const r of [200, 100, 80]) {
      mouse(0xf3);
      mouse(r);
    }
    drain();
    mouse(0xf2);
    expect(drain()).toEqual([0xfa, 0x03]);
    mouse(0xf4);
    drain();
    kbc.mouse.move(5, -3, 1, 1);
    expect(ctx.irqLevel[12]).toBe(true);
    expect(drain()).toEqual([0x29, 5, 0xfd, 1]);
    mouse(0xe9);
    expect(drain()).toEqual([0xfa, 0x20 | 0x04, 2, 80]);
  });

  it('saves and restores', () => {
    const { kbc, io } = setup();
    io.out8(0x64, 0x60);
    io.out8(0x60, 0x25);
    const s = structuredClone(kbc.saveState());
    const c2 = makeTestContext();
    const k2 = new I8042(c2);
    k2.loadState(s, 1);
    expect(k2.commandByte).toBe(0x25);
  });
});

describe('i8042 interrupt edges and injected bytes', () => {
  it('raises a fresh IRQ1 edge for each queued key byte (edge-triggered PIC)', () => {
    const { ctx, kbc, io } = setup();
    kbc.keyboard.sendScancodes([0x1c, 0xf0, 0x1c]); // press + release of A (set 2)
    const edges = ctx.irqEdges[1];
    expect(io.in8(0x60)).toBe(0x1e); // translated to set 1
    expect(ctx.irqEdges[1]).toBe(edges + 1); // the line dropped and rose again for the release
    expect(io.in8(0x60)).toBe(0x9e);
  });

  it('puts 0xD3 bytes in the output buffer as AUX data even while the aux port is disabled', () => {
    const { io } = setup();
    io.out8(0x64, 0xa7); // disable aux
    io.out8(0x64, 0xd3);
    io.out8(0x60, 0x5a);
    expect(io.in8(0x64) & 0x21).toBe(0x21); // OBF + AUX_OBF
    expect(io.in8(0x60)).toBe(0x5a);
  });
});
