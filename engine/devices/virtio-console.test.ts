import { describe, expect, it } from 'vitest';
import { makeTestContext } from './test-context';
import { PciBus } from './pci-bus';
import { VirtioConsole, VIRTIO_CONSOLE_PORT } from './virtio-console';
import { TestVirtioDriver } from './virtio-test-driver';

function setup(legacy: boolean) {
  const ctx = makeTestContext(8 * 1024 * 1024);
  const bus = new PciBus(ctx);
  const con = new VirtioConsole(ctx, bus, 5);
  const drv = new TestVirtioDriver(ctx, bus, 5 << 3, legacy);
  return { ctx, bus, con, drv };
}

describe('virtio-console', () => {
  it('is 1af4:1003 with subsystem 3 and one port', () => {
    const { bus, drv } = setup(false);
    expect(bus.readConfig(5 << 3, 0, 4)).toBe(0x10031af4);
    expect(bus.readConfig(5 << 3, 0x2e, 2)).toBe(3);
    drv.init([], 2);
    expect(drv.config32(4)).toBe(1);
  });

  for (const legacy of [false, true]) {
    it(`${legacy ? 'legacy' : 'modern'}: transmit → serial-output port 100; host input → receive buffers`, () => {
      const { ctx, con, drv } = setup(legacy);
      drv.init([], 2);
      const out = drv.alloc(16, 1);
      ctx.mem.ram.set(new TextEncoder().encode('hello'), out);
      drv.submit(1, [{ addr: out, len: 5 }]);
      drv.notify(1);
      const ev = ctx.emitted.filter((e) => e.name === 'serial-output');
      expect(ev.length).toBe(1);
      const p = ev[0].payload as { port: number; data: Uint8Array };
      expect(p.port).toBe(VIRTIO_CONSOLE_PORT);
      expect(new TextDecoder().decode(p.data)).toBe('hello');
      expect(drv.used(1).length).toBe(1);
      // Input typed before a receive buffer exists waits for one.
      con.sendInput(new TextEncoder().encode('ls\n'));
      const rx = drv.alloc(64, 1);
      drv.submit(0, [{ addr: rx, len: 64, write: true }]);
      drv.notify(0);
      const used = drv.used(0);
      expect(used[0][1]).toBe(3);
      expect(new TextDecoder().decode(ctx.mem.ram.subarray(rx, rx + 3))).toBe('ls\n');
      // More input goes straight into the next posted buffer.
      drv.submit(0, [{ addr: rx, len: 2, write: true }]);
      drv.submit(0, [{ addr: rx + 8, len: 8, write: true }]);
      con.sendInput(new TextEncoder().encode('abcd'));
      expect(drv.used(0).map((u) => u[1])).toEqual([2, 2]);
      expect(drv.readIsr() & 1).toBe(1);
    });
  }
});
