import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { PciBus } from './pci-bus';
import { AcpiPm, PM_TIMER_HZ } from './acpi-pm';

function setup() {
  const ctx = makeTestContext();
  const bus = new PciBus(ctx);
  const pm = new AcpiPm(ctx, bus);
  ctx.addTimer(pm);
  return { ctx, bus, pm };
}

describe('PIIX4 ACPI PM', () => {
  it('is 8086:7113 at 00:01.3 with PMBA 0x600 enabled', () => {
    const { bus } = setup();
    expect(bus.readConfig(0x0b, 0, 4)).toBe(0x71138086);
    expect(bus.readConfig(0x0b, 0x40, 4)).toBe(0x601);
  });

  it('PM timer runs at 3.579545 MHz of virtual time and wraps at 24 bits', () => {
    const { ctx } = setup();
    ctx.setTime(0);
    const a = ctx.io.in32(0x608);
    ctx.setTime(1e9); // one virtual second
    const b = ctx.io.in32(0x608);
    expect(((b - a) & 0xffffff)).toBe(PM_TIMER_HZ & 0xffffff);
    expect(b >>> 24).toBe(0);
    ctx.setTime(10e9);
    expect(ctx.io.in32(0x608)).toBe(Math.floor(10 * PM_TIMER_HZ) & 0xffffff);
  });

  it('S5: SLP_TYP=0 with SLP_EN emits power-off', () => {
    const { ctx } = setup();
    ctx.io.out16(0x604, 0x0001); // SCI_EN
    expect(ctx.emitted.length).toBe(0);
    ctx.io.out16(0x604, (0 << 10) | (1 << 13) | 1);
    expect(ctx.emitted.map((e) => e.name)).toEqual(['power-off']);
    expect(ctx.io.in16(0x604) & (1 << 13)).toBe(0);
  });

  it('APM port 0xB2: ACPI_ENABLE sets SCI_EN, ACPI_DISABLE clears it', () => {
    const { ctx } = setup();
    expect(ctx.io.in16(0x604) & 1).toBe(1); // always-ACPI machine: SCI_EN set at power-on
    ctx.io.out8(0xb2, 0xf0);
    expect(ctx.io.in16(0x604) & 1).toBe(0);
    ctx.io.out8(0xb2, 0xf1);
    expect(ctx.io.in16(0x604) & 1).toBe(1);
  });

  it('S3 is refused without powering off', () => {
    const { ctx } = setup();
    ctx.io.out16(0x604, (1 << 10) | (1 << 13));
    expect(ctx.emitted.length).toBe(0);
  });

  it('timer carry sets TMR_STS and raises SCI (IRQ 9) when enabled; W1C clears', () => {
    const { ctx } = setup();
    ctx.io.out16(0x602, 1); // TMR_EN
    const carryNs = ((1 << 23) / PM_TIMER_HZ) * 1e9;
    ctx.advanceTo(carryNs - 1000);
    expect(ctx.irqLevel[9]).toBe(false);
    ctx.advanceTo(carryNs + 1000);
    expect(ctx.io.in16(0x600) & 1).toBe(1);
    expect(ctx.irqLevel[9]).toBe(true);
    ctx.io.out16(0x600, 1);
    expect(ctx.irqLevel[9]).toBe(false);
  });

  it('moving PMBA moves the registers', () => {
    const { ctx, bus } = setup();
    bus.writeConfig(0x0b, 0x40, 4, 0xb000);
    expect(ctx.io.isClaimed(0x608)).toBe(false);
    ctx.io.out16(0xb004, (1 << 13));
    expect(ctx.emitted[0].name).toBe('power-off');
  });
});
