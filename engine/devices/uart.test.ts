import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { Uart } from './uart';

const B = 0x3f8;

function setup() {
  const ctx = makeTestContext();
  const uart = new Uart(ctx, 0);
  return { ctx, uart, io: ctx.io };
}

describe('16550A UART', () => {
  it('transmits at once and emits batched serial-output', () => {
    const { ctx, uart, io } = setup();
    for (const c of 'Hi\n') {
      expect(io.in8(B + 5) & 0x60).toBe(0x60);
      io.out8(B, c.charCodeAt(0));
    }
    uart.flush();
    const ev = ctx.emitted.find((e) => e.name === 'serial-output');
    expect(Buffer.from((ev!.payload as { data: Uint8Array }).data).toString()).toBe('Hi\n');
  });

  it('reports a 16550A: FIFO bits in IIR and a scratch register', () => {
    const { io } = setup();
    io.out8(B + 2, 0x07);
    expect(io.in8(B + 2) & 0xc0).toBe(0xc0);
    io.out8(B + 7, 0xa5);
    expect(io.in8(B + 7)).toBe(0xa5);
    io.out8(B + 2, 0x00);
    expect(io.in8(B + 2) & 0xc0).toBe(0);
  });

  it('divisor latch via DLAB', () => {
    const { io } = setup();
    io.out8(B + 3, 0x80);
    io.out8(B, 0x01);
    io.out8(B + 1, 0x00);
    expect(io.in8(B)).toBe(1);
    io.out8(B + 3, 0x03);
    expect(io.in8(B + 3)).toBe(0x03);
  });

  it('THRE interrupt when enabled, cleared by reading IIR', () => {
    const { ctx, io } = setup();
    io.out8(B + 1, 0x02);
    expect(ctx.irqLevel[4]).toBe(true);
    expect(io.in8(B + 2) & 0x0f).toBe(0x02);
    expect(ctx.irqLevel[4]).toBe(false);
    expect(io.in8(B + 2) & 0x0f).toBe(0x01);
    io.out8(B, 0x41); // transmit: THRE again
    expect(ctx.irqLevel[4]).toBe(true);
  });

  it('receive FIFO with trigger level and character timeout', () => {
    const { ctx, uart, io } = setup();
    io.out8(B + 2, 0x81); // FIFO on, trigger 8
    io.out8(B + 1, 0x01); // RDA interrupt
    uart.receive([1, 2, 3]);
    expect(io.in8(B + 5) & 1).toBe(1);
    expect(ctx.irqLevel[4]).toBe(false); // below trigger
    const deadline = ctx.timers[0].advance(0);
    expect(deadline).toBeGreaterThan(0);
    ctx.advanceTo(deadline);
    expect(ctx.irqLevel[4]).toBe(true);
    expect(io.in8(B + 2) & 0x0f).toBe(0x0c); // character timeout
    expect([io.in8(B), io.in8(B), io.in8(B)]).toEqual([1, 2, 3]);
    expect(io.in8(B + 5) & 1).toBe(0);
    expect(ctx.irqLevel[4]).toBe(false);
    uart.receive([...Array(10).keys()]);
    expect(ctx.irqLevel[4]).toBe(true);
    expect(io.in8(B + 2) & 0x0f).toBe(0x04);
  });

  it('never loses host input beyond 16 bytes', () => {
    const { uart, io } = setup();
    io.out8(B + 2, 0x01);
    const data = [...Array(40).keys()];
    uart.receive(data);
    const got: number[] = [];
    while (io.in8(B + 5) & 1) got.push(io.in8(B));
    expect(got).toEqual(data);
  });

  it('loopback connects TX to RX and MCR to MSR', () => {
    const { ctx, io } = setup();
    io.out8(B + 4, 0x10 | 0x0b); // loop, OUT2, RTS, DTR
    io.out8(B, 0x55);
    expect(io.in8(B + 5) & 1).toBe(1);
    expect(io.in8(B)).toBe(0x55);
    expect(io.in8(B + 6) & 0xf0).toBe(0x80 | 0x20 | 0x10);
    expect(ctx.emitted.length).toBe(0);
  });

  it('saves and restores', () => {
    const { uart, io } = setup();
    io.out8(B + 7, 0x42);
    uart.receive([9]);
    const s = structuredClone(uart.saveState());
    const c2 = makeTestContext();
    const u2 = new Uart(c2, 0);
    u2.loadState(s, 1);
    expect(c2.io.in8(B + 7)).toBe(0x42);
    expect(c2.io.in8(B)).toBe(9);
  });
});
