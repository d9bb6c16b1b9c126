// Standard VGA register sets for the BIOS video modes, and the default DAC palettes.
// Values are the IBM VGA ones (as every compatible BIOS programs them).

export interface VgaModeRegs {
  /** BIOS mode number. */
  mode: number;
  text: boolean;
  /** Text: columns x rows; graphics: pixels. */
  cols: number;
  rows: number;
  width: number;
  height: number;
  /** Character cell height (text) or font used for text output (graphics). */
  charHeight: number;
  /** Bits per pixel in graphics modes (4 planar, 8 chained). */
  bpp: number;
  /** Physical address of the display buffer. */
  memBase: number;
  /** Bytes per display page. */
  pageSize: number;
  misc: number;
  seq: number[]; // sequencer 1..4
  crtc: number[]; // 0..0x18
  attr: number[]; // 0..0x13
  gc: number[]; // 0..8
}

const TEXT_ATTR = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08];
const TEXT_GC = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff];

const MODE_40x25: Omit<VgaModeRegs, 'mode'> = {
  text: true, cols: 40, rows: 25, width: 360, height: 400, charHeight: 16, bpp: 4, memBase: 0xb8000, pageSize: 0x800,
  misc: 0x67,
  seq: [0x08, 0x03, 0x00, 0x02],
  crtc: [0x2d, 0x27, 0x28, 0x90, 0x2b, 0xa0, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x1f, 0x96, 0xb9, 0xa3, 0xff],
  attr: TEXT_ATTR, gc: TEXT_GC,
};

const MODE_80x25: Omit<VgaModeRegs, 'mode'> = {
  text: true, cols: 80, rows: 25, width: 720, height: 400, charHeight: 16, bpp: 4, memBase: 0xb8000, pageSize: 0x1000,
  misc: 0x67,
  seq: [0x00, 0x03, 0x00, 0x02],
  crtc: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff],
  attr: TEXT_ATTR, gc: TEXT_GC,
};

const MODE_12: Omit<VgaModeRegs, 'mode'> = {
  text: false, cols: 80, rows: 30, width: 640, height: 480, charHeight: 16, bpp: 4, memBase: 0xa0000, pageSize: 0xa000,
  misc: 0xe3,
  seq: [0x01, 0x0f, 0x00, 0x06],
  crtc: [0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff],
  attr: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00],
  gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff],
};

const MODE_13: Omit<VgaModeRegs, 'mode'> = {
  text: false, cols: 40, rows: 25, width: 320, height: 200, charHeight: 8, bpp: 8, memBase: 0xa0000, pageSize: 0x10000,
  misc: 0x63,
  seq: [0x01, 0x0f, 0x00, 0x0e],
  crtc: [0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff],
  attr: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00],
  gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff],
};

/** Supported legacy modes. 0/1 are 40x25 (colour burst off/on), 2/3 80x25, 7 falls back to 3. */
export function vgaMode(mode: number): VgaModeRegs | null {
  switch (mode) {
    case 0x00: case 0x01: return { mode, ...MODE_40x25 };
    case 0x02: case 0x03: case 0x07: return { mode: mode === 0x07 ? 0x03 : mode, ...MODE_80x25 };
    case 0x12: return { mode, ...MODE_12 };
    case 0x13: return { mode, ...MODE_13 };
    default: return null;
  }
}

/** The 64-entry EGA palette loaded into DAC 0-63 for text and 16-colour modes (6-bit RGB). */
export function egaPalette(): number[][] {
  const p: number[][] = [];
  for (let i = 0; i < 64; i++) {
    // EGA colour byte: bits 0/3 blue, 1/4 green, 2/5 red (primary = 2/3 intensity, secondary = 1/3).
    const ch = (lo: number, hi: number) => ((i >> lo) & 1) * 0x2a + ((i >> hi) & 1) * 0x15;
    p.push([ch(2, 5), ch(1, 4), ch(0, 3)]);
  }
  return p;
}

/** The 16 text colours as 8-bit RGB (for direct-colour VBE modes). */
export function cgaRgb(color: number): [number, number, number] {
  const c = color & 15;
  if (c === 6) return [0xaa, 0x55, 0x00]; // brown
  const base = c & 8 ? 0x55 : 0;
  const on = c & 8 ? 0xff : 0xaa;
  return [c & 4 ? on : base, c & 2 ? on : base, c & 1 ? on : base];
}

/**
 * The default 256-colour DAC for mode 13h: 16 CGA colours, a 16-step grey ramp, then
 * 9 blocks of 24 hues (3 intensities x 3 saturations), then 8 blacks (6-bit values).
 */
export function vga256Palette(): number[][] {
  const p: number[][] = [];
  for (let i = 0; i < 16; i++) {
    const [r, g, b] = cgaRgb(i);
    p.push([r >> 2, g >> 2, b >> 2]);
  }
  const grey = [0x00, 0x05, 0x08, 0x0b, 0x0e, 0x11, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2d, 0x32, 0x38, 0x3f];
  for (const v of grey) p.push([v, v, v]);
  // Each block: a hue circle of 24 steps between `hi` and `lo` levels.
  const blocks = [
    [0x3f, 0x00], [0x3f, 0x1f], [0x3f, 0x2d],
    [0x1c, 0x00], [0x1c, 0x0e], [0x1c, 0x14],
    [0x10, 0x00], [0x10, 0x08], [0x10, 0x0b],
  ];
  for (const [hi, lo] of blocks) {
    const mid = (k: number) => lo + Math.round(((hi - lo) * k) / 4);
    const ramp = [lo, mid(1), mid(2), mid(3), hi, hi, hi, hi, hi, mid(3), mid(2), mid(1), lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo];
    // r, g, b phase-shifted by 8 steps make the hue circle blue→magenta→red→yellow→green→cyan.
    for (let k = 0; k < 24; k++) p.push([ramp[(k + 20) % 24], ramp[(k + 4) % 24], ramp[(k + 12) % 24]]);
  }
  while (p.length < 256) p.push([0, 0, 0]);
  return p;
}
