import { describe, expect, it } from 'vitest';
import { IoBus } from '../machine/io-bus';
import { Pic } from './pic';

function setup() {
  const io = new IoBus();
  io.logUnclaimed = false;
  const pic = new Pic(io);
  // Standard PC initialisation: master vectors 0x08, slave 0x70, cascade on IRQ 2, 8086 mode.
  io.out8(0x20, 0x11);
  io.out8(0x21, 0x08);
  io.out8(0x21, 0x04);
  io.out8(0x21, 0x01);
  io.out8(0xa0, 0x11);
  io.out8(0xa1, 0x70);
  io.out8(0xa1, 0x02);
  io.out8(0xa1, 0x01);
  io.out8(0x21, 0x00);
  io.out8(0xa1, 0x00);
  return { io, pic };
}

describe('8259A pair', () => {
  it('delivers by priority and needs EOI to allow lower levels', () => {
    const { io, pic } = setup();
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
    // IRQ 3 is lower priority than the in-service IRQ 1.
    expect(pic.hasInterrupt()).toBe(false);
    io.out8(0x20, 0x20); // non-specific EOI
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0b);
  });

  it('higher priority interrupts nest', () => {
    const { pic } = setup();
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x0c);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x08);
  });

  it('is edge triggered by default and level triggered per ELCR', () => {
    const { io, pic } = setup();
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x0d);
    io.out8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false); // still high, no new edge
    io.out8(0x4d0, 0x20); // IRQ 5 level triggered
    expect(io.in8(0x4d0)).toBe(0x20);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0d);
    io.out8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(true); // level still asserted
    pic.setIrq(5, false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('cascades the slave through master IRQ 2', () => {
    const { io, pic } = setup();
    pic.setIrq(12, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x74);
    // master ISR bit 2 and slave ISR bit 4
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0x04);
    io.out8(0xa0, 0x0b);
    expect(io.in8(0xa0)).toBe(0x10);
    io.out8(0xa0, 0x20);
    io.out8(0x20, 0x20);
    expect(io.in8(0x20)).toBe(0);
  });

  it('masks with the IMR and returns spurious IRQ 7 when the request vanishes', () => {
    const { io, pic } = setup();
    io.out8(0x21, 0x02);
    pic.setIrq(1, true);
    expect(pic.hasInterrupt()).toBe(false);
    expect(io.in8(0x21)).toBe(0x02);
    expect(pic.acknowledge()).toBe(0x0f);
  });

  it('supports specific EOI, rotation and poll mode', () => {
    const { io, pic } = setup();
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x0e);
    io.out8(0x20, 0x66); // specific EOI for IRQ 6
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0);
    // Set priority: IRQ 4 lowest → IRQ 5 highest.
    io.out8(0x20, 0xc4);
    pic.setIrq(3, true);
    pic.setIrq(7, true);
    expect(pic.acknowledge()).toBe(0x0f); // 7 beats 3 now
    io.out8(0x20, 0x20);
    // Poll: returns 0x80 | level and acknowledges it.
    io.out8(0x20, 0x0c);
    expect(io.in8(0x20)).toBe(0x83);
    io.out8(0x20, 0x0c);
    expect(io.in8(0x20)).toBe(0x00); // 3 in service, nothing else
  });

  it('auto-EOI leaves nothing in service', () => {
    const io = new IoBus();
    io.logUnclaimed = false;
    const pic = new Pic(io);
    io.out8(0x20, 0x13); // single, ICW4
    io.out8(0x21, 0x20);
    io.out8(0x21, 0x03); // auto-EOI, 8086
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0);
  });

  it('special mask mode lets lower levels through', () => {
    const { io, pic } = setup();
    pic.setIrq(2 + 1, true);
    expect(pic.acknowledge()).toBe(0x0b);
    io.out8(0x21, 0x08); // mask IRQ 3 (in service)
    io.out8(0x20, 0x68); // set special mask
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it('saves and restores', () => {
    const { io, pic } = setup();
    pic.setIrq(4, true);
    const s = pic.saveState();
    const io2 = new IoBus();
    const pic2 = new Pic(io2);
    pic2.loadState(structuredClone(s), 1);
    expect(pic2.hasInterrupt()).toBe(true);
    expect(pic2.acknowledge()).toBe(0x0c);
    void io;
  });
});
