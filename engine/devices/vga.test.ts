import { describe, expect, it } from 'vitest';
import { makeTestContext, type TestContext } from './test-context';
import { Vga } from './vga';
import { VGA_MODES, programVgaMode, programDac, egaPalette } from './vga-modes';
import { packRgba } from './vga-palette';
import type { RenderTarget } from './vga-surface';
import { PciBus } from './pci-bus';

function setup(mode?: number): { ctx: TestContext; vga: Vga } {
  const ctx = makeTestContext();
  const vga = new Vga(ctx, { vramSize: 4 * 1024 * 1024 });
  if (mode !== undefined) {
    programVgaMode(ctx.io, VGA_MODES[mode]);
    programDac(ctx.io, 0, egaPalette());
  }
  return { ctx, vga };
}

/** Load glyphs (16 rows each) into character map 0 the way SeaBIOS' vgafonts do (get/release_font_access). */
function loadFont(ctx: TestContext, glyphs: { [ch: number]: number[] }): void {
  const io = ctx.io;
  const seq = (i: number, v: number) => (io.out8(0x3c4, i), io.out8(0x3c5, v));
  const gr = (i: number, v: number) => (io.out8(0x3ce, i), io.out8(0x3cf, v));
  seq(0, 0x01); seq(2, 0x04); seq(4, 0x07); seq(0, 0x03);
  gr(4, 0x02); gr(5, 0x00); gr(6, 0x04);
  for (const [ch, rows] of Object.entries(glyphs)) {
    for (let i = 0; i < rows.length; i++) ctx.mem.write8(0xa0000 + Number(ch) * 32 + i, rows[i]);
  }
  seq(0, 0x01); seq(2, 0x03); seq(4, 0x03); seq(0, 0x03);
  gr(6, 0x0e); gr(4, 0x00); gr(5, 0x10);
}

function target(w: number, h: number): RenderTarget {
  return { width: w, height: h, data: new Uint8ClampedArray(w * h * 4) };
}

function pixel(t: RenderTarget, x: number, y: number): number {
  return new Uint32Array(t.data.buffer)[y * t.width + x];
}

const EGA = egaPalette();
function ega(i: number): number {
  const c = (v: number) => (v << 2) | ((v & 1) * 3);
  return packRgba(c(EGA[i * 3]), c(EGA[i * 3 + 1]), c(EGA[i * 3 + 2]));
}
const BLACK = ega(0);
const LIGHT_GREY = ega(7);

function crtc(ctx: TestContext, i: number, v: number): void {
  ctx.io.out8(0x3d4, i);
  ctx.io.out8(0x3d5, v);
}

describe('VGA text mode', () => {
  it('programs mode 3 to 80x25 with 9x16 cells and reports it', () => {
    const { ctx, vga } = setup(0x03);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'text', width: 720, height: 400, cols: 80, rows: 25 });
    expect(ctx.emitted.filter((e) => e.name === 'display-mode').length).toBe(1);
  });

  it('shows characters written to 0xB8000 as text and pixels from the plane 2 font', () => {
    const { ctx, vga } = setup(0x03);
    const A = Array(16).fill(0x81); // dots at x=0 and x=7 on every line
    const bar = [0xff, ...Array(15).fill(0)];
    loadFont(ctx, { 0x41: A, 0xc4: bar });
    const text = 'AAA';
    for (let i = 0; i < text.length; i++) ctx.mem.write16(0xb8000 + i * 2, text.charCodeAt(i) | (0x07 << 8));
    ctx.mem.write16(0xb8000 + 160 + 2, 0xc4 | (0x1e << 8)); // row 1, col 1: '─' yellow on blue
    ctx.mem.write16(0xb8000 + 158, 0x20 | (0x07 << 8)); // trailing space on row 0 is trimmed
    const screen = vga.getTextScreen().split('\n');
    expect(screen.length).toBe(25);
    expect(screen[0]).toBe('AAA');
    expect(screen[1]).toBe(' ─');
    expect(screen[2]).toBe('');

    crtc(ctx, 0x0a, 0x20); // cursor off for the pixel checks
    const t = target(720, 400);
    vga.render(t);
    expect(pixel(t, 0, 0)).toBe(LIGHT_GREY);
    expect(pixel(t, 1, 0)).toBe(BLACK);
    expect(pixel(t, 7, 5)).toBe(LIGHT_GREY);
    expect(pixel(t, 8, 5)).toBe(BLACK); // 9th column of a non line-graphics char is background
    expect(pixel(t, 9, 3)).toBe(LIGHT_GREY); // second 'A'
    // Line graphics (0xC0-0xDF) repeat the 8th dot into the 9th column (AR10 bit 2 in mode 3).
    expect(pixel(t, 9 + 8, 16)).toBe(ega(0x3e));
    expect(pixel(t, 9 + 4, 17)).toBe(ega(0x01)); // AR1 = 0x01: blue background
  });

  it('draws the cursor from CR0A/CR0B at CR0E/CR0F and blinks it with virtual time', () => {
    const { ctx, vga } = setup(0x03);
    crtc(ctx, 0x0a, 0x0e);
    crtc(ctx, 0x0b, 0x0f);
    crtc(ctx, 0x0e, 0x00);
    crtc(ctx, 0x0f, 80 * 2 + 5); // row 2, col 5
    ctx.mem.write16(0xb8000 + (80 * 2 + 5) * 2, 0x20 | (0x07 << 8));
    const t = target(720, 400);
    vga.render(t);
    expect(pixel(t, 5 * 9 + 3, 2 * 16 + 14)).toBe(LIGHT_GREY);
    expect(pixel(t, 5 * 9 + 3, 2 * 16 + 13)).toBe(BLACK);
    ctx.setTime(9 * (1e9 / 60)); // 9 frames later: the cursor is in its off phase
    const r = vga.render(t);
    expect(r).toEqual({ x: 45, y: 32, width: 9, height: 16 });
    expect(pixel(t, 5 * 9 + 3, 2 * 16 + 14)).toBe(BLACK);
  });

  it('supports 80x50 via an 8-line character height and 8-dot cells', () => {
    const { ctx, vga } = setup(0x03);
    crtc(ctx, 0x09, 0x47); // max scan line 7
    ctx.io.out8(0x3c4, 1);
    ctx.io.out8(0x3c5, 0x01); // 8-dot characters
    expect(vga.updateDisplayMode()).toEqual({ mode: 'text', width: 640, height: 400, cols: 80, rows: 50 });
    ctx.mem.write8(0xb8000 + 49 * 160, 'Z'.charCodeAt(0));
    expect(vga.getTextScreen().split('\n')[49]).toBe('Z');
  });

  it('reports 40x25 for mode 1', () => {
    const { vga } = setup(0x01);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'text', width: 360, height: 400, cols: 40, rows: 25 });
  });

  it('hides blinking characters in the off phase when AR10 bit 3 is set', () => {
    const { ctx, vga } = setup(0x03);
    loadFont(ctx, { 0x41: Array(16).fill(0xff) });
    crtc(ctx, 0x0a, 0x20);
    ctx.mem.write16(0xb8000, 0x41 | (0x87 << 8)); // blink, grey on black
    const t = target(720, 400);
    vga.render(t);
    expect(pixel(t, 2, 2)).toBe(LIGHT_GREY);
    ctx.setTime(17 * (1e9 / 60));
    vga.render(t);
    expect(pixel(t, 2, 2)).toBe(BLACK);
  });

  it('smooth-scrolls with CR08 preset row scan and AR13 pixel panning', () => {
    const { ctx, vga } = setup(0x03);
    loadFont(ctx, { 0x41: [0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 0] }); // diagonal
    crtc(ctx, 0x0a, 0x20);
    ctx.mem.write16(0xb8000, 0x41 | (0x07 << 8));
    const t = target(720, 400);
    vga.render(t);
    expect(pixel(t, 3, 3)).toBe(LIGHT_GREY);
    crtc(ctx, 0x08, 2); // glyph line 2 is now the top line of the screen
    vga.render(t);
    expect(pixel(t, 2, 0)).toBe(LIGHT_GREY);
    expect(pixel(t, 3, 1)).toBe(LIGHT_GREY);
    crtc(ctx, 0x08, 0);
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x13 | 0x20);
    ctx.io.out8(0x3c0, 0x01); // 9-dot cells: 1 = shift left by 2 dots
    vga.render(t);
    expect(pixel(t, 0, 2)).toBe(LIGHT_GREY);
    expect(pixel(t, 3, 5)).toBe(LIGHT_GREY);
  });

  it('emits display-dirty with only the changed cell', () => {
    const { ctx, vga } = setup(0x03);
    crtc(ctx, 0x0a, 0x20);
    const t = target(720, 400);
    expect(vga.render(t)).toEqual({ x: 0, y: 0, width: 720, height: 400 });
    expect(vga.render(t)).toBeNull();
    ctx.mem.write16(0xb8000 + (3 * 80 + 10) * 2, 0x41 | (0x07 << 8));
    ctx.emitted.length = 0;
    expect(vga.render(t)).toEqual({ x: 90, y: 48, width: 9, height: 16 });
    expect(ctx.emitted).toEqual([{ name: 'display-dirty', payload: { x: 90, y: 48, width: 9, height: 16 } }]);
  });

  it('blanks the screen while the palette address source bit is clear', () => {
    const { ctx, vga } = setup(0x03);
    ctx.mem.write16(0xb8000, 0x20 | (0x70 << 8)); // grey background
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x00); // PAS clear: the CPU owns the palette, the screen shows nothing
    const t = target(720, 400);
    vga.render(t);
    expect(pixel(t, 0, 0)).toBe(0xff000000);
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x20);
    vga.render(t);
    expect(pixel(t, 0, 0)).toBe(LIGHT_GREY);
  });
});

describe('VGA registers', () => {
  it('resets the attribute flip-flop on an input status 1 read', () => {
    const { ctx, vga } = setup(0x03);
    const io = ctx.io;
    io.in8(0x3da);
    io.out8(0x3c0, 0x01); // index
    io.out8(0x3c0, 0x2a); // data
    expect(vga.regs.attr[1]).toBe(0x2a);
    io.out8(0x3c0, 0x02); // index again (flip-flop back at index)
    io.in8(0x3da); // reset: the next write is an index even though we are mid-pair
    io.out8(0x3c0, 0x03 | 0x20);
    io.out8(0x3c0, 0x15);
    expect(vga.regs.attr[3]).toBe(0x15);
    expect(vga.regs.attr[2]).toBe(0x02); // untouched (mode 3 table value)
    expect(io.in8(0x3c0)).toBe(0x23);
    expect(io.in8(0x3c1)).toBe(0x15);
  });

  it('toggles retrace and display-enable bits so polling loops progress', () => {
    const { ctx } = setup(0x03);
    const seen = new Set<number>();
    let sawRetraceEnd = false;
    let inRetrace = false;
    for (let i = 0; i < 20000 && !sawRetraceEnd; i++) {
      const v = ctx.io.in8(0x3da);
      seen.add(v & 0x09);
      if (v & 8) inRetrace = true;
      else if (inRetrace) sawRetraceEnd = true;
    }
    expect(sawRetraceEnd).toBe(true); // even with a frozen clock
    expect(seen.has(0x00)).toBe(true);
    expect(seen.has(0x01)).toBe(true);
    expect(seen.has(0x09)).toBe(true);
  });

  it('decodes only the window GR6 selects (A0000/128K, A0000/64K, B0000/32K, B8000/32K)', () => {
    const { ctx, vga } = setup(0x03); // GR6 = 0x0E: B8000, 32K
    ctx.mem.write8(0xa0000, 0x55);
    expect(ctx.mem.read8(0xa0000)).toBe(0xff);
    expect(ctx.mem.read8(0xb0000)).toBe(0xff);
    ctx.mem.write16(0xb8000, 0x0741);
    expect(ctx.mem.read16(0xb8000)).toBe(0x0741);
    expect(vga.mem.vram32[0] & 0xffff).toBe(0x0741); // plane 0 = char, plane 1 = attribute
    ctx.io.out8(0x3ce, 6);
    ctx.io.out8(0x3cf, 0x02); // 128K map: B8000 is window offset 0x18000
    expect(ctx.mem.read16(0xb8000)).toBe(vga.mem.vram32[0x8000] & 0xffff);
    ctx.io.out8(0x3cf, 0x0a); // B0000 (monochrome)
    ctx.mem.write16(0xb0000, 0x0742);
    expect(ctx.mem.read16(0xb0000)).toBe(0x0742);
    expect(ctx.mem.read8(0xb8000)).toBe(0xff);
  });

  it('DAC: 6-bit values, auto-increment, read-back, PEL mask', () => {
    const { ctx, vga } = setup(0x13);
    const io = ctx.io;
    io.out8(0x3c8, 10);
    for (const v of [0x3f, 0x40 | 0x01, 0x20, 1, 2, 3]) io.out8(0x3c9, v);
    io.out8(0x3c7, 10);
    expect([0, 1, 2, 3, 4, 5].map(() => io.in8(0x3c9))).toEqual([0x3f, 0x01, 0x20, 1, 2, 3]);
    expect(io.in8(0x3c7)).toBe(0); // read mode
    expect(vga.dac.rgba()[10]).toBe(packRgba(0xff, 0x07, 0x80));
    io.out8(0x3c6, 0x0f);
    expect(vga.dac.rgba()[0x1a]).toBe(vga.dac.rgba()[0x0a]);
  });

  it('never throws on out-of-range indices and garbage', () => {
    const { ctx, vga } = setup(0x03);
    const io = ctx.io;
    expect(() => {
      for (let p = 0x3b0; p < 0x3e0; p++) for (const v of [0, 0x7f, 0xff]) {
        io.out8(p, v);
        io.in8(p);
      }
      for (let i = 0; i < 32; i++) {
        io.out16(0x1ce, i);
        io.out16(0x1cf, 0xffff);
        io.in16(0x1cf);
      }
      vga.render(target(100, 100));
      vga.getTextScreen();
    }).not.toThrow();
  });
});

describe('VGA graphics modes', () => {
  it('mode 13h: the byte at A000:(y*320+x) is the DAC colour of pixel (x, y)', () => {
    const { ctx, vga } = setup(0x13);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 320, height: 200 });
    programDac(ctx.io, 0x42, [0x3f, 0x20, 0x00]);
    ctx.mem.write8(0xa0000 + 123 * 320 + 45, 0x42);
    ctx.mem.write8(0xa0000 + 199 * 320 + 319, 0x42);
    expect(ctx.mem.read8(0xa0000 + 123 * 320 + 45)).toBe(0x42);
    const t = target(320, 200);
    vga.render(t);
    const orange = packRgba(0xff, 0x80, 0x00);
    expect(pixel(t, 45, 123)).toBe(orange);
    expect(pixel(t, 319, 199)).toBe(orange);
    expect(pixel(t, 44, 123)).toBe(BLACK);
    // A later pixel write dirties just its line.
    ctx.mem.write8(0xa0000 + 7 * 320 + 3, 0x42);
    expect(vga.render(t)).toEqual({ x: 0, y: 7, width: 320, height: 1 });
    // getTextScreen in graphics mode: firmware-reported text only.
    expect(vga.getTextScreen()).toBe('');
    vga.setShadowText(['Hello  ', 'world']);
    expect(vga.getTextScreen()).toBe('Hello\nworld');
  });

  it('mode 12h: 640x480 planar, write modes 0-3 and read mode 1', () => {
    const { ctx, vga } = setup(0x12);
    const io = ctx.io;
    const gr = (i: number, v: number) => (io.out8(0x3ce, i), io.out8(0x3cf, v));
    const mapMask = (v: number) => (io.out8(0x3c4, 2), io.out8(0x3c5, v));
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 640, height: 480 });
    const planes = (off: number) => vga.mem.vram32[off];

    // Write mode 0 with map mask: plane 1 only.
    mapMask(0x02);
    ctx.mem.write8(0xa0000, 0xf0);
    expect(planes(0)).toBe(0x0000f000);
    // Set/reset on planes 0 and 2 with colour 0b0101, bit mask 0x0F (other bits from latches).
    mapMask(0x0f);
    gr(0, 0x05); gr(1, 0x05); gr(8, 0x0f);
    ctx.mem.read8(0xa0000); // load latches
    ctx.mem.write8(0xa0000, 0x00); // planes 1/3 take the (zero) data, planes 0/2 the set/reset ones
    expect(planes(0)).toBe(0x000ff00f);
    gr(1, 0x00); gr(8, 0xff);

    // Write mode 2: colour 9 (planes 0 and 3) into all 8 pixels, XOR with latches.
    gr(5, 0x02);
    ctx.mem.write8(0xa0001, 0x09);
    expect(planes(1) >>> 0).toBe(0xff0000ff);
    gr(3, 0x18); // function XOR
    ctx.mem.read8(0xa0001);
    ctx.mem.write8(0xa0001, 0x01);
    expect(planes(1) >>> 0).toBe(0xff000000);
    gr(3, 0x00);

    // Write mode 1: copy the latches (from offset 1) to offset 2.
    gr(5, 0x01);
    ctx.mem.read8(0xa0001);
    ctx.mem.write8(0xa0002, 0x00);
    expect(planes(2) >>> 0).toBe(0xff000000);

    // Write mode 3: set/reset colour 0b0110, CPU byte AND bit mask selects pixels.
    gr(5, 0x03); gr(0, 0x06); gr(8, 0xff);
    ctx.mem.read8(0xa0003);
    ctx.mem.write8(0xa0003, 0x3c);
    expect(planes(3)).toBe(0x003c3c00);

    // Read mode 1: colour compare 6 on all planes → bits where the pixel colour is 6.
    gr(5, 0x08); gr(2, 0x06); gr(7, 0x0f);
    expect(ctx.mem.read8(0xa0003)).toBe(0x3c);
    gr(7, 0x00); // no plane cares: every pixel matches
    expect(ctx.mem.read8(0xa0003)).toBe(0xff);
    // Read mode 0 with read map select.
    gr(5, 0x00); gr(4, 0x01);
    expect(ctx.mem.read8(0xa0003)).toBe(0x3c);

    // Rendered pixels: offset 3 covers x = 24..31 on line 0; colour 6 → AR6 (0x14) → EGA brown.
    const t = target(640, 480);
    vga.render(t);
    expect(pixel(t, 26, 0)).toBe(ega(0x14));
    expect(pixel(t, 24, 0)).toBe(BLACK);
    // Offset 1 was XORed to colour 8 (plane 3): AR8 = 0x38.
    expect(pixel(t, 8, 0)).toBe(ega(0x38));
  });

  it('mode 12h: AR13 pans the picture left by whole pixels', () => {
    const { ctx, vga } = setup(0x12);
    ctx.mem.write8(0xa0000 + 80 * 10, 0x10); // line 10, pixel 3 lit in every plane (colour 15)
    const t = target(640, 480);
    vga.render(t);
    expect(pixel(t, 3, 10)).toBe(ega(0x3f));
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x13 | 0x20);
    ctx.io.out8(0x3c0, 0x03);
    vga.render(t);
    expect(pixel(t, 0, 10)).toBe(ega(0x3f));
    expect(pixel(t, 3, 10)).toBe(BLACK);
  });

  it('mode 4: CGA 2-bit pixels with the odd-line bank at B800:2000', () => {
    const { ctx, vga } = setup(0x04);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 320, height: 200 });
    ctx.mem.write8(0xb8000, 0b11_10_01_00); // line 0, pixels 0-3: colours 3,2,1,0
    ctx.mem.write8(0xba000, 0b01_000000); // line 1, pixel 0: colour 1
    const t = target(320, 200);
    vga.render(t);
    expect(pixel(t, 0, 0)).toBe(ega(0x17)); // AR3 = 0x17
    expect(pixel(t, 1, 0)).toBe(ega(0x15)); // AR2
    expect(pixel(t, 2, 0)).toBe(ega(0x13)); // AR1
    expect(pixel(t, 3, 0)).toBe(BLACK);
    expect(pixel(t, 0, 1)).toBe(ega(0x13));
  });
});

describe('VGA shadow text (firmware text in graphics modes)', () => {
  it('collects characters, scrolls, and forgets them on the next mode set', () => {
    const { ctx, vga } = setup(0x12);
    vga.shadowPutChar(0, 0, 'O'.charCodeAt(0));
    vga.shadowPutChar(1, 0, 'K'.charCodeAt(0));
    vga.shadowPutChar(3, 2, 0xc4);
    expect(vga.getTextScreen()).toBe('OK\n\n   ─');
    vga.shadowScroll(1, 0, 29);
    expect(vga.getTextScreen().split('\n').slice(0, 2)).toEqual(['', '   ─']);
    vga.shadowScroll(-1, 0, 29);
    expect(vga.getTextScreen().split('\n').slice(0, 3)).toEqual(['', '', '   ─']);
    vga.shadowScroll(0, 0, 29);
    expect(vga.getTextScreen().trim()).toBe('');
    vga.setShadowText(['stale']);
    programVgaMode(ctx.io, VGA_MODES[0x13]); // a mode set starts with a sequencer reset
    expect(vga.getTextScreen()).toBe('');
  });
});

describe('Bochs VBE DISPI', () => {
  function dispi(ctx: TestContext, index: number, value?: number): number {
    ctx.io.out16(0x1ce, index);
    if (value !== undefined) ctx.io.out16(0x1cf, value);
    return ctx.io.in16(0x1cf);
  }

  it('identifies itself and reports capabilities and VRAM', () => {
    const { ctx } = setup();
    expect(dispi(ctx, 0)).toBe(0xb0c5);
    dispi(ctx, 0, 0xb0c0);
    expect(dispi(ctx, 0)).toBe(0xb0c0);
    dispi(ctx, 0, 0x1234); // not an ID: ignored
    expect(dispi(ctx, 0)).toBe(0xb0c0);
    expect(dispi(ctx, 0xa)).toBe(64); // 4 MiB in 64 KiB units
    dispi(ctx, 4, 0x02); // GETCAPS
    expect([dispi(ctx, 1), dispi(ctx, 2), dispi(ctx, 3)]).toEqual([2560, 1600, 32]);
  });

  it('800x600x16 with LFB: writes through the framebuffer become RGBA pixels', () => {
    const { ctx, vga } = setup(0x03);
    vga.setLinearFramebufferBase(0xe0000000);
    dispi(ctx, 1, 800);
    dispi(ctx, 2, 600);
    dispi(ctx, 3, 16);
    dispi(ctx, 4, 0x41); // ENABLED | LFB
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: 800, height: 600 });
    expect(dispi(ctx, 7)).toBe(Math.floor((4 << 20) / 1600)); // virtual height from VRAM
    const lfb = 0xe0000000;
    ctx.mem.write16(lfb + (10 * 800 + 20) * 2, 0xf800); // red
    ctx.mem.write32(lfb + (599 * 800 + 798) * 2, 0x07e0 | (0x001f << 16)); // green, blue
    expect(ctx.mem.read16(lfb + (10 * 800 + 20) * 2)).toBe(0xf800);
    const t = target(800, 600);
    const full = vga.render(t);
    expect(full).toEqual({ x: 0, y: 0, width: 800, height: 600 });
    expect(pixel(t, 20, 10)).toBe(packRgba(0xff, 0, 0));
    expect(pixel(t, 798, 599)).toBe(packRgba(0, 0xff, 0));
    expect(pixel(t, 799, 599)).toBe(packRgba(0, 0, 0xff));
    expect(pixel(t, 21, 10)).toBe(packRgba(0, 0, 0));
    ctx.mem.write16(lfb + (300 * 800) * 2, 0xffff);
    expect(vga.render(t)).toEqual({ x: 0, y: 300, width: 800, height: 1 });
    expect(pixel(t, 0, 300)).toBe(packRgba(0xff, 0xff, 0xff));
    // Palette address source clear blanks the VBE screen as well (bochs-drm's blank).
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x00);
    vga.render(t);
    expect(pixel(t, 0, 300)).toBe(0xff000000);
    ctx.io.in8(0x3da);
    ctx.io.out8(0x3c0, 0x20);
    vga.render(t);
    expect(pixel(t, 0, 300)).toBe(packRgba(0xff, 0xff, 0xff));
    // Disabling DISPI returns to the VGA text mode.
    dispi(ctx, 4, 0);
    expect(vga.updateDisplayMode().mode).toBe('text');
  });

  it('32 bpp and 8 bpp (through the DAC), banked window at 0xA0000', () => {
    const { ctx, vga } = setup();
    dispi(ctx, 1, 1024);
    dispi(ctx, 2, 768);
    dispi(ctx, 3, 32);
    dispi(ctx, 4, 0x01); // banked only
    const off = (700 * 1024 + 5) * 4; // beyond the first 64 KiB bank
    dispi(ctx, 5, off >>> 16);
    ctx.mem.write32(0xa0000 + (off & 0xffff), 0x00123456);
    expect(ctx.mem.read32(0xa0000 + (off & 0xffff))).toBe(0x00123456);
    const t = target(1024, 768);
    vga.render(t);
    expect(pixel(t, 5, 700)).toBe(packRgba(0x12, 0x34, 0x56));

    dispi(ctx, 4, 0x00);
    dispi(ctx, 3, 8);
    dispi(ctx, 4, 0x01 | 0x20); // 8-bit DAC
    programDac(ctx.io, 7, [0x80, 0x40, 0xff]);
    ctx.mem.write8(0xa0000 + 3, 7);
    vga.render(t);
    expect(pixel(t, 3, 0)).toBe(packRgba(0x80, 0x40, 0xff));
  });

  it('clamps absurd resolutions and bad values instead of failing', () => {
    const { ctx, vga } = setup();
    dispi(ctx, 1, 65535);
    dispi(ctx, 2, 65535);
    dispi(ctx, 3, 7); // not a depth: ignored
    expect(dispi(ctx, 3)).toBe(8);
    dispi(ctx, 3, 32);
    dispi(ctx, 4, 0x41);
    const xres = dispi(ctx, 1);
    const yres = dispi(ctx, 2);
    expect(xres).toBe(2560);
    expect(yres).toBe(Math.floor((4 << 20) / (2560 * 4)));
    expect(vga.updateDisplayMode()).toEqual({ mode: 'graphics', width: xres, height: yres });
    // Panning and a wider virtual screen (bochs-drm page flipping) after the mode is enabled.
    dispi(ctx, 4, 0);
    dispi(ctx, 1, 640);
    dispi(ctx, 2, 480);
    dispi(ctx, 6, 2048); // stale virtual width from an earlier mode: reset on enable
    dispi(ctx, 4, 0x41);
    expect(dispi(ctx, 6)).toBe(640);
    dispi(ctx, 6, 1024);
    dispi(ctx, 9, 100);
    expect(vga.dispi.lineBytes).toBe(4096);
    expect(vga.dispi.startByte).toBe(100 * 4096);
    dispi(ctx, 9, 60000); // offset past VRAM: dropped
    expect(dispi(ctx, 9)).toBe(0);
    dispi(ctx, 5, 9999); // bank past VRAM: clamped
    expect(dispi(ctx, 5)).toBe(63);
    expect(() => vga.render(target(xres, yres))).not.toThrow();
  });

  it('is a PCI function 1234:1111 whose BAR0 maps the LFB and BAR2 the QEMU MMIO registers', () => {
    const ctx = makeTestContext();
    const bus = new PciBus(ctx);
    const vga = new Vga(ctx, { vramSize: 16 << 20 });
    bus.attach(2, 0, vga);
    const devfn = 2 << 3;
    expect(bus.readConfig(devfn, 0, 4)).toBe(0x11111234);
    expect(bus.readConfig(devfn, 8, 4) >>> 8).toBe(0x030000);
    bus.writeConfig(devfn, 0x10, 4, 0xffffffff);
    expect(bus.readConfig(devfn, 0x10, 4)).toBe((~(16 * 1024 * 1024 - 1) | 8) >>> 0); // prefetchable
    bus.writeConfig(devfn, 0x10, 4, 0xfd000000);
    bus.writeConfig(devfn, 0x18, 4, 0xfebf0000);
    bus.writeConfig(devfn, 4, 2, 0x0003);
    expect(vga.linearFramebufferBase).toBe(0xfd000000);
    ctx.mem.write32(0xfd000010, 0xcafef00d);
    expect(vga.mem.vram32[4]).toBe(0xcafef00d);
    // DISPI registers at BAR2 + 0x500 + index * 2.
    ctx.mem.write16(0xfebf0500 + 2 * 1, 640);
    expect(ctx.mem.read16(0xfebf0500 + 2 * 1)).toBe(640);
    expect(vga.dispi.xres).toBe(640);
    expect(ctx.mem.read32(0xfebf0604) >>> 0).toBe(0x1e1e1e1e);
    // VGA ports at BAR2 + 0x400 (0x3C0-based): misc output read at 0x3CC.
    expect(ctx.mem.read8(0xfebf0400 + 0x0c)).toBe(vga.regs.misc);
    bus.writeConfig(devfn, 4, 2, 0x0000);
    expect(vga.linearFramebufferBase).toBeNull();
  });
});

describe('VGA state', () => {
  it('save/restore round trip reproduces registers, DAC, VRAM and DISPI state', () => {
    const { ctx, vga } = setup(0x03);
    loadFont(ctx, { 0x41: Array(16).fill(0x3c) });
    ctx.mem.write16(0xb8000 + 20, 0x41 | (0x1f << 8));
    crtc(ctx, 0x0f, 10);
    ctx.io.out16(0x1ce, 1);
    ctx.io.out16(0x1cf, 1024);
    const state = structuredClone(vga.saveState());
    const t1 = target(720, 400);
    vga.render(t1);

    const ctx2 = makeTestContext();
    const vga2 = new Vga(ctx2, { vramSize: 4 * 1024 * 1024 });
    vga2.loadState(state, vga2.stateVersion);
    const t2 = target(720, 400);
    vga2.render(t2);
    expect(Buffer.from(t2.data).equals(Buffer.from(t1.data))).toBe(true);
    expect(vga2.getTextScreen()).toBe(vga.getTextScreen());
    expect(vga2.regs.cursorAddress).toBe(10);
    expect(vga2.dispi.xres).toBe(1024);
    expect(vga2.saveState().regs).toEqual(vga.saveState().regs);
    expect(() => vga2.loadState(state, 99)).toThrow();
  });

  it('reset returns to a blank 80x25 text screen with VBE off', () => {
    const { ctx, vga } = setup(0x13);
    for (const [i, v] of [[1, 640], [2, 480], [4, 0x41]]) {
      ctx.io.out16(0x1ce, i);
      ctx.io.out16(0x1cf, v);
    }
    expect(vga.updateDisplayMode().width).toBe(640);
    vga.reset();
    expect(vga.dispi.enabled).toBe(false);
    expect(vga.updateDisplayMode()).toEqual({ mode: 'text', width: 720, height: 400, cols: 80, rows: 25 });
    expect(vga.getTextScreen().trim()).toBe('');
  });
});
