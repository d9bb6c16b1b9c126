// The adapter driven by the real thing: Debian's SeaBIOS VGA BIOS (vgabios-stdvga.bin, the ROM
// QEMU uses for this device) runs on the interpreter, POSTs (finds the PCI function, the DISPI
// interface and the LFB BAR), sets a mode through the VGA registers, loads its font into plane 2
// and prints with INT 10h teletype. Skipped when the ROM is not installed.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Cpu } from '../cpu/cpu';
import { Reg, Seg } from '../cpu/state';
import { makeTestContext } from './test-context';
import { PciBus } from './pci-bus';
import { Vga } from './vga';

const ROM = '/usr/share/seabios/vgabios-stdvga.bin';

function runVgaBios(mode: number, text: string) {
  const ctx = makeTestContext(4 << 20);
  let debug = '';
  ctx.io.register(0x402, 1, { write8: (_p, v) => void (debug += String.fromCharCode(v)) });
  const bus = new PciBus(ctx);
  const vga = new Vga(ctx);
  bus.attach(2, 0, vga);
  // What SeaBIOS assigns under QEMU: LFB BAR0, MMIO BAR2, then memory decoding on.
  bus.writeConfig(0x10, 0x10, 4, 0xfd000000);
  bus.writeConfig(0x10, 0x18, 4, 0xfebf0000);
  bus.writeConfig(0x10, 0x04, 2, 0x0003);
  const mem = ctx.mem;
  mem.ram.set(readFileSync(ROM), 0xc0000);
  for (let v = 0; v < 256; v++) mem.write32(v * 4, 0x0500); // unused vectors → IRET at 0:0500
  mem.write8(0x500, 0xcf);
  // mov ax,0010h (our BDF 00:02.0); call far C000:0003 (option ROM init); set mode; teletype; hlt
  const code = [0xb8, 0x10, 0x00, 0x9a, 0x03, 0x00, 0x00, 0xc0];
  if (mode >= 0x100) code.push(0xb8, 0x02, 0x4f, 0xbb, mode & 0xff, (mode >> 8) | 0x40, 0xcd, 0x10);
  else code.push(0xb8, mode, 0x00, 0xcd, 0x10);
  for (const ch of text) code.push(0xb8, ch.charCodeAt(0), 0x0e, 0xbb, 0x0f, 0x00, 0xcd, 0x10);
  code.push(0xf4);
  mem.ram.set(code, 0x7c00);
  let shutdown = '';
  const cpu = new Cpu({
    mem,
    io: ctx.io,
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    clock: ctx.clock,
    onShutdown: (r) => void (shutdown = r),
  });
  cpu.segSel[Seg.CS] = 0;
  cpu.segBase[Seg.CS] = 0;
  cpu.eip = 0x7c00;
  cpu.reg32[Reg.ESP] = 0x7000;
  // SeaBIOS calls option ROMs in "big real mode" (4 GiB limits): the VGA BIOS reads BAR2 and the LFB with 32-bit addresses.
  for (let s = 0; s < 6; s++) cpu.segLimit[s] = 0xffffffff;
  let ns = 0;
  for (let total = 0; !cpu.halted && !shutdown && total < 3_000_000; ) {
    total += cpu.run(10_000);
    ctx.setTime((ns += 50_000));
  }
  return { vga, ctx, debug, halted: cpu.halted, shutdown };
}

describe.skipIf(!existsSync(ROM))('VGA under SeaBIOS vgabios-stdvga.bin', () => {
  it('POSTs, sets mode 3 and prints with teletype', () => {
    const { vga, debug, halted } = runVgaBios(0x03, 'HELLO');
    expect(debug).toContain('VBE DISPI: bdf 00:02.0, bar 0');
    expect(debug).toContain('lfb_addr=fd000000, size 16 MB');
    expect(halted).toBe(true);
    expect(vga.getTextScreen().split('\n')[0]).toBe('HELLO');
    expect(vga.updateDisplayMode()).toEqual({ mode: 'text', width: 720, height: 400, cols: 80, rows: 25 });
    const t = { width: 720, height: 400, data: new Uint8ClampedArray(720 * 400 * 4) };
    vga.render(t);
    const px = new Uint32Array(t.data.buffer);
    // The 'H' glyph from the BIOS font has lit pixels in its first cell; the cell after the text is blank.
    let lit = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 9; x++) if (px[y * 720 + x] !== 0xff000000) lit++;
    expect(lit).toBeGreaterThan(10);
    let litAfter = 0;
    for (let y = 0; y < 12; y++) for (let x = 6 * 9; x < 7 * 9; x++) if (px[y * 720 + x] !== 0xff000000) litAfter++;
    expect(litAfter).toBe(0);
  });

  it('sets mode 13h and draws teletype text as 256-colour pixels', () => {
    const { vga, halted } = runVgaBios(0x13, 'Hi');
    expect(halted).toBe(true);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 320, height: 200 });
    const t = { width: 320, height: 200, data: new Uint8ClampedArray(320 * 200 * 4) };
    vga.render(t);
    const px = new Uint32Array(t.data.buffer);
    let lit = 0;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) if (px[y * 320 + x] === 0xffffffff) lit++;
    expect(lit).toBeGreaterThan(10); // colour 15 = white in the mode 13h default palette
  });

  it('sets VBE mode 0x114 (800x600x16, LFB) through DISPI', () => {
    const { vga, halted } = runVgaBios(0x114, '');
    expect(halted).toBe(true);
    expect(vga.dispi.enabled).toBe(true);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 800, height: 600 });
  });
});
