// INT 10h: video services. Legacy modes are set by programming the VGA registers from
// vga-modes.ts; text goes to the display memory through the physical bus, so the VGA
// device sees exactly what a real BIOS would write. VBE (AH=4Fh) lives in vbe.ts.
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import { Seg } from '../cpu/state';
import * as B from './bda';
import { vgaMode, egaPalette, vga256Palette, cgaRgb, type VgaModeRegs } from './vga-modes';
import { font8x16, font8x8, cp437ToUnicode } from './font';
import { Vbe, type VbeModeInfo } from './vbe';

const SEQ = 0x3c4;
const GC = 0x3ce;
const CRTC = 0x3d4;
const ATTR = 0x3c0;

export class Video {
  /** The legacy mode in force (null while a VBE mode is set). */
  mode: VgaModeRegs | null = null;
  readonly vbe: Vbe;
  /** ROM locations of the fonts (F000/E000 segment:offset) for AX=1130h and INT 43h. */
  fontPtr = { f16: { seg: 0, off: 0 }, f8: { seg: 0, off: 0 }, f8hi: { seg: 0, off: 0 } };

  /** Characters drawn in the current graphics mode, for BiosConfig.vga.graphicsText. */
  private gtext: string[][] | null = null;

  constructor(private readonly b: BiosCtx) {
    this.vbe = new Vbe(b, this);
  }

  private get mem() { return this.b.mem; }
  private get io() { return this.b.io; }

  // ---- register helpers ----
  private seq(i: number, v: number): void { this.io.out8(SEQ, i); this.io.out8(SEQ + 1, v); }
  private gc(i: number, v: number): void { this.io.out8(GC, i); this.io.out8(GC + 1, v); }
  private crtc(i: number, v: number): void { this.io.out8(CRTC, i); this.io.out8(CRTC + 1, v); }
  private crtcRead(i: number): number { this.io.out8(CRTC, i); return this.io.in8(CRTC + 1); }
  private attr(i: number, v: number): void {
    this.io.in8(0x3da); // reset the address/data flip-flop
    this.io.out8(ATTR, i);
    this.io.out8(ATTR, v);
    this.io.out8(ATTR, 0x20); // palette address source on: display enabled
  }
  setDac(index: number, rgb: number[][]): void {
    this.io.out8(0x3c8, index);
    for (const [r, g, bl] of rgb) {
      this.io.out8(0x3c9, r);
      this.io.out8(0x3c9, g);
      this.io.out8(0x3c9, bl);
    }
  }

  // ---- BDA ----
  private bda8(a: number): number { return this.mem.read8(a); }
  private bda16(a: number): number { return this.mem.read16(a); }
  private setBda8(a: number, v: number): void { this.mem.write8(a, v); }
  private setBda16(a: number, v: number): void { this.mem.write16(a, v); }
  get cols(): number { return this.bda16(B.BDA_VIDEO_COLS) || 80; }
  get rows(): number { return this.bda8(B.BDA_ROWS) + 1; }
  get activePage(): number { return this.bda8(B.BDA_ACTIVE_PAGE) & 7; }
  cursor(page: number): { col: number; row: number } {
    const v = this.bda16(B.BDA_CURSOR_POS + 2 * (page & 7));
    return { col: v & 0xff, row: v >>> 8 };
  }

  /** Set a legacy mode (bit 7 of `m`: keep the display memory). Returns false for unknown modes. */
  setMode(m: number): boolean {
    const noClear = (m & 0x80) !== 0;
    const r = vgaMode(m & 0x7f);
    if (!r) return false;
    this.vbe.disable();
    this.mode = r;
    this.resetGraphicsText();
    this.seq(0, 0x01); // synchronous reset while the clocking changes
    this.io.out8(0x3c2, r.misc);
    for (let i = 0; i < 4; i++) this.seq(i + 1, r.seq[i]);
    this.seq(0, 0x03);
    this.crtc(0x11, this.crtcRead(0x11) & 0x7f); // unlock CRTC 0-7
    for (let i = 0; i < r.crtc.length; i++) this.crtc(i, r.crtc[i]);
    this.io.in8(0x3da);
    for (let i = 0; i < r.attr.length; i++) {
      this.io.out8(ATTR, i);
      this.io.out8(ATTR, r.attr[i]);
    }
    this.io.out8(ATTR, 0x20);
    for (let i = 0; i < r.gc.length; i++) this.gc(i, r.gc[i]);
    this.io.out8(0x3c6, 0xff); // PEL mask
    if (r.bpp === 8) this.setDac(0, vga256Palette());
    else this.setDac(0, egaPalette());

    if (r.text) {
      this.loadFont(font8x16(), 16, 0);
      if (!noClear) for (let i = 0; i < 0x8000; i += 2) this.mem.write16(0xb8000 + i, 0x0720);
    } else if (!noClear) {
      this.clearGraphics(r);
    }

    this.setBda8(B.BDA_VIDEO_MODE, r.mode);
    this.setBda16(B.BDA_VIDEO_COLS, r.cols);
    this.setBda16(B.BDA_VIDEO_PAGE_SIZE, r.pageSize);
    this.setBda16(B.BDA_VIDEO_PAGE_START, 0);
    for (let p = 0; p < 8; p++) this.setBda16(B.BDA_CURSOR_POS + 2 * p, 0);
    this.setBda16(B.BDA_CURSOR_SHAPE, 0x0607);
    this.setBda8(B.BDA_ACTIVE_PAGE, 0);
    this.setBda16(B.BDA_CRTC_BASE, CRTC);
    this.setBda8(B.BDA_MODE_CTL, r.text ? 0x29 : 0x09);
    this.setBda8(B.BDA_PALETTE, 0x30);
    this.setBda8(B.BDA_ROWS, r.rows - 1);
    this.setBda16(B.BDA_CHAR_HEIGHT, r.charHeight);
    this.setBda8(B.BDA_VIDEO_CTL, 0x60 | (noClear ? 0x80 : 0));
    this.setBda8(B.BDA_VIDEO_SWITCHES, 0xf9);
    this.setBda8(B.BDA_VGA_FLAGS, 0x51);
    this.setBda8(B.BDA_DCC_INDEX, 0x08);
    this.crtc(0x0c, 0);
    this.crtc(0x0d, 0);
    this.updateCursor();
    return true;
  }

  /** After loading a snapshot: the legacy mode in force (-1: none/VBE), registers untouched. */
  restoreMode(m: number): void {
    this.mode = m >= 0 ? vgaMode(m) : null;
  }

  private clearGraphics(r: VgaModeRegs): void {
    if (r.bpp === 8) {
      for (let i = 0; i < 0x10000; i += 4) this.mem.write32(0xa0000 + i, 0);
      return;
    }
    // Planar: write mode 0 with all planes enabled stores the CPU byte in every plane.
    this.seq(2, 0x0f);
    for (let i = 0; i < 0x10000; i++) this.mem.write8(0xa0000 + i, 0);
  }

  /** Load `height`-row glyphs into plane 2 (32-byte slots) at font block `block`. */
  loadFont(font: Uint8Array, height: number, block: number, first = 0, count = 256): void {
    // Open plane 2 for linear CPU access, as every VGA BIOS does around a font load.
    this.seq(2, 0x04);
    this.seq(4, 0x07);
    this.gc(4, 0x02);
    this.gc(5, 0x00);
    this.gc(6, 0x04);
    const base = 0xa0000 + block * 0x4000;
    for (let c = first; c < first + count && c < 256; c++) {
      for (let row = 0; row < 32; row++) {
        const i = c - first;
        this.mem.write8(base + c * 32 + row, row < height ? font[i * height + row] ?? 0 : 0);
      }
    }
    this.seq(2, 0x03);
    this.seq(4, 0x02);
    this.gc(4, 0x00);
    this.gc(5, 0x10);
    this.gc(6, 0x0e);
  }

  /** Switch the character height (AX=1111h/1112h/1114h): 400 scan lines / height rows. */
  private setCharHeight(h: number): void {
    this.crtc(0x09, (this.crtcRead(0x09) & 0xe0) | (h - 1));
    this.crtc(0x0a, h - 3);
    this.crtc(0x0b, h - 2);
    const rows = Math.floor(400 / h);
    this.setBda8(B.BDA_ROWS, rows - 1);
    this.setBda16(B.BDA_CHAR_HEIGHT, h);
    this.setBda16(B.BDA_VIDEO_PAGE_SIZE, ((rows * this.cols * 2 + 0xff) & ~0xff) >>> 0);
    this.setBda16(B.BDA_CURSOR_SHAPE, h === 8 ? 0x0607 : 0x0607);
  }

  updateCursor(): void {
    const page = this.activePage;
    const { col, row } = this.cursor(page);
    const pos = (this.bda16(B.BDA_VIDEO_PAGE_START) >>> 1) + row * this.cols + col;
    this.crtc(0x0e, (pos >>> 8) & 0xff);
    this.crtc(0x0f, pos & 0xff);
  }
  setCursor(page: number, col: number, row: number): void {
    this.setBda16(B.BDA_CURSOR_POS + 2 * (page & 7), ((row & 0xff) << 8) | (col & 0xff));
    if ((page & 7) === this.activePage) this.updateCursor();
  }

  private get isText(): boolean {
    return !this.vbe.current && (this.mode?.text ?? true);
  }
  private textAddr(page: number, col: number, row: number): number {
    return 0xb8000 + (page & 7) * this.bda16(B.BDA_VIDEO_PAGE_SIZE) + (row * this.cols + col) * 2;
  }

  /** Text rows/cols currently addressable by the BIOS (graphics modes use 8x16 or 8x8 cells). */
  private geometry(): { cols: number; rows: number } {
    const v = this.vbe.current;
    if (v) return { cols: Math.floor(v.width / 8), rows: Math.floor(v.height / 16) };
    return { cols: this.cols, rows: this.rows };
  }

  // ---- drawing ----
  /** Draw one character cell with attribute (text) or colour (graphics). */
  putChar(page: number, col: number, row: number, ch: number, attr: number, keepAttr: boolean): void {
    if (this.isText) {
      const a = this.textAddr(page, col, row);
      this.mem.write8(a, ch);
      if (!keepAttr) this.mem.write8(a + 1, attr);
      return;
    }
    this.drawGlyph(col, row, ch, attr);
    this.b.cfg.vga?.onGraphicsText?.(col, row, ch, attr);
    if (this.b.cfg.vga?.graphicsText) {
      const { cols, rows } = this.geometry();
      this.gtext ??= Array.from({ length: rows }, () => new Array<string>(cols).fill(' '));
      if (row < this.gtext.length && col < cols) this.gtext[row][col] = ch < 0x20 ? ' ' : cp437ToUnicode(ch);
      this.reportGraphicsText();
    }
  }

  /** A mode set: no firmware text on the screen any more. */
  resetGraphicsText(): void {
    this.gtext = null;
    this.b.cfg.vga?.graphicsText?.(null);
  }

  private reportGraphicsText(): void {
    if (this.gtext) this.b.cfg.vga?.graphicsText?.(this.gtext.map((r) => r.join('')));
  }

  /** Mirror a graphics-mode scroll in the text grid. */
  private scrollGraphicsText(up: boolean, lines: number, top: number, left: number, bottom: number, right: number): void {
    const g = this.gtext;
    if (!g) return;
    const order = up ? range(top, bottom) : range(top, bottom).reverse();
    for (const r of order) {
      if (r >= g.length) continue;
      const src = up ? r + lines : r - lines;
      for (let c = left; c <= right && c < g[r].length; c++) g[r][c] = src >= top && src <= bottom && src < g.length ? g[src][c] : ' ';
    }
    this.reportGraphicsText();
  }

  private drawGlyph(col: number, row: number, ch: number, color: number): void {
    const v = this.vbe.current;
    if (v) {
      this.drawGlyphLinear(v, col, row, ch, color);
      return;
    }
    const m = this.mode!;
    if (m.bpp === 8) {
      const f = font8x8();
      for (let y = 0; y < 8; y++) {
        const bits = f[ch * 8 + y];
        const base = 0xa0000 + (row * 8 + y) * 320 + col * 8;
        for (let x = 0; x < 8; x++) this.mem.write8(base + x, bits & (0x80 >> x) ? color : 0);
      }
      return;
    }
    // Planar 16-colour: set/reset carries the colour, the bit mask selects the glyph's pixels.
    const f = font8x16();
    this.gc(1, 0x0f);
    for (let y = 0; y < 16; y++) {
      const addr = 0xa0000 + (row * 16 + y) * 80 + col;
      const bits = f[ch * 16 + y];
      this.gc(0, color & 0x0f);
      this.gc(8, bits);
      this.mem.read8(addr); // load the latches
      this.mem.write8(addr, 0xff);
      this.gc(0, 0);
      this.gc(8, ~bits & 0xff);
      this.mem.read8(addr);
      this.mem.write8(addr, 0xff);
    }
    this.gc(8, 0xff);
    this.gc(1, 0);
    this.gc(0, 0);
  }

  private pixelValue(v: VbeModeInfo, color: number): number {
    if (v.bpp === 8) return color & 0xff;
    const [r, g, bl] = cgaRgb(color);
    if (v.bpp === 15) return ((r >> 3) << 10) | ((g >> 3) << 5) | (bl >> 3);
    if (v.bpp === 16) return ((r >> 3) << 11) | ((g >> 2) << 5) | (bl >> 3);
    return (r << 16) | (g << 8) | bl;
  }

  private drawGlyphLinear(v: VbeModeInfo, col: number, row: number, ch: number, color: number): void {
    const f = font8x16();
    const fg = this.pixelValue(v, color);
    const bg = 0;
    const bytes = (v.bpp + 7) >> 3;
    const pitch = this.vbe.pitch();
    const lfb = this.vbe.lfbAddress();
    for (let y = 0; y < 16; y++) {
      const bits = f[ch * 16 + y];
      let a = lfb + (row * 16 + y) * pitch + col * 8 * bytes;
      for (let x = 0; x < 8; x++, a += bytes) {
        const p = bits & (0x80 >> x) ? fg : bg;
        if (bytes === 1) this.mem.write8(a, p);
        else if (bytes === 2) this.mem.write16(a, p);
        else if (bytes === 3) { this.mem.write16(a, p & 0xffff); this.mem.write8(a + 2, p >>> 16); }
        else this.mem.write32(a, p);
      }
    }
  }

  /** Scroll a window up (n > 0) or down (n < 0); n = 0 clears it. */
  scroll(n: number, attr: number, top: number, left: number, bottom: number, right: number, page: number): void {
    const { cols, rows } = this.geometry();
    right = Math.min(right, cols - 1);
    bottom = Math.min(bottom, rows - 1);
    if (top > bottom || left > right) return;
    const height = bottom - top + 1;
    if (!this.isText) this.b.cfg.vga?.onGraphicsScroll?.(n, top, bottom);
    if (n === 0 || Math.abs(n) >= height) n = height;
    const up = n > 0;
    const lines = Math.abs(n);
    if (!this.isText) {
      this.scrollGraphics(up, lines, attr, top, left, bottom, right);
      this.scrollGraphicsText(up, lines, top, left, bottom, right);
      return;
    }
    const rowsOrder = up ? range(top, bottom) : range(top, bottom).reverse();
    for (const r of rowsOrder) {
      const src = up ? r + lines : r - lines;
      for (let c = left; c <= right; c++) {
        const dst = this.textAddr(page, c, r);
        if (src >= top && src <= bottom) this.mem.write16(dst, this.mem.read16(this.textAddr(page, c, src)));
        else this.mem.write16(dst, (attr << 8) | 0x20);
      }
    }
  }

  private scrollGraphics(up: boolean, lines: number, attr: number, top: number, left: number, bottom: number, right: number): void {
    const v = this.vbe.current;
    if (v) {
      const pitch = this.vbe.pitch();
      const lfb = this.vbe.lfbAddress();
      const bytes = (v.bpp + 7) >> 3;
      const x0 = left * 8 * bytes;
      const x1 = (right + 1) * 8 * bytes;
      const order = up ? range(top * 16, bottom * 16 + 15) : range(top * 16, bottom * 16 + 15).reverse();
      for (const y of order) {
        const sy = up ? y + lines * 16 : y - lines * 16;
        const inside = sy >= top * 16 && sy <= bottom * 16 + 15;
        for (let x = x0; x < x1; x += 4) {
          const val = inside ? this.mem.read32(lfb + sy * pitch + x) : 0;
          this.mem.write32(lfb + y * pitch + x, val);
        }
      }
      return;
    }
    const m = this.mode!;
    if (m.bpp === 8) {
      const order = up ? range(top * 8, bottom * 8 + 7) : range(top * 8, bottom * 8 + 7).reverse();
      for (const y of order) {
        const sy = up ? y + lines * 8 : y - lines * 8;
        const inside = sy >= top * 8 && sy <= bottom * 8 + 7;
        for (let x = left * 8; x < (right + 1) * 8; x++) {
          this.mem.write8(0xa0000 + y * 320 + x, inside ? this.mem.read8(0xa0000 + sy * 320 + x) : attr & 0 /* background */);
        }
      }
      return;
    }
    // Planar: write mode 1 copies all four planes through the latches.
    this.gc(5, 0x01);
    const order = up ? range(top * 16, bottom * 16 + 15) : range(top * 16, bottom * 16 + 15).reverse();
    const cleared: number[] = [];
    for (const y of order) {
      const sy = up ? y + lines * 16 : y - lines * 16;
      if (sy < top * 16 || sy > bottom * 16 + 15) { cleared.push(y); continue; }
      for (let x = left; x <= right; x++) {
        this.mem.read8(0xa0000 + sy * 80 + x);
        this.mem.write8(0xa0000 + y * 80 + x, 0);
      }
    }
    this.gc(5, 0x00);
    this.seq(2, 0x0f);
    for (const y of cleared) for (let x = left; x <= right; x++) this.mem.write8(0xa0000 + y * 80 + x, 0);
  }

  /** Teletype output (AH=0Eh) with BEL/BS/LF/CR handling, wrapping and scrolling. */
  teletype(ch: number, page: number, color: number): void {
    let { col, row } = this.cursor(page);
    switch (ch) {
      case 0x07:
        return;
      case 0x08:
        if (col > 0) col--;
        break;
      case 0x0a:
        row++;
        break;
      case 0x0d:
        col = 0;
        break;
      default:
        this.putChar(page, col, row, ch, color, this.isText);
        col++;
    }
    this.moveTo(page, col, row);
  }

  /** Put the cursor at col/row, wrapping past the last column and scrolling past the last row. */
  private moveTo(page: number, col: number, row: number): void {
    const { cols, rows } = this.geometry();
    if (col >= cols) {
      col = 0;
      row++;
    }
    if (row >= rows) {
      // New lines take the attribute under the cursor in text modes (as the IBM BIOS does).
      const attr = this.isText ? this.mem.read8(this.textAddr(page, col, rows - 1) + 1) : 0;
      this.scroll(1, attr, 0, 0, rows - 1, cols - 1, page);
      row = rows - 1;
    }
    this.setCursor(page, col, row);
  }

  writeString(s: string, color = 0x07): void {
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\n') this.teletype(0x0d, this.activePage, color);
      this.teletype(s.charCodeAt(i) & 0xff, this.activePage, color);
    }
  }

  // ---- INT 10h dispatcher ----
  int10(g: Guest): void {
    const ah = g.ah;
    switch (ah) {
      case 0x00:
        this.setMode(g.al);
        // AL returns the CRT mode-control byte convention: 0x30 for text (IBM), 0x20 otherwise.
        g.al = (this.mode?.text ?? false) ? 0x30 : 0x20;
        return;
      case 0x01: {
        // Cursor shape: CH start (bit 5 = hidden), CL end. VGA cursor emulation maps the
        // CGA 8-line values onto the current character height.
        const start = g.ch;
        const end = g.cl;
        this.setBda16(B.BDA_CURSOR_SHAPE, (start << 8) | end);
        const h = this.bda16(B.BDA_CHAR_HEIGHT) || 16;
        let s = start & 0x1f;
        let e = end & 0x1f;
        if (h > 8 && s < 8 && e < 8) {
          s = s >= 6 ? h - (8 - s) : s;
          e = e >= 6 ? h - (8 - e) : e;
        }
        this.crtc(0x0a, (start & 0x20) | s);
        this.crtc(0x0b, e);
        return;
      }
      case 0x02:
        this.setCursor(g.bh, g.dl, g.dh);
        return;
      case 0x03: {
        const { col, row } = this.cursor(g.bh);
        g.dl = col;
        g.dh = row;
        g.cx = this.bda16(B.BDA_CURSOR_SHAPE);
        g.ax = 0;
        return;
      }
      case 0x04: // light pen: not triggered
        g.ah = 0;
        return;
      case 0x05: {
        const p = g.al & 7;
        this.setBda8(B.BDA_ACTIVE_PAGE, p);
        const start = p * this.bda16(B.BDA_VIDEO_PAGE_SIZE);
        this.setBda16(B.BDA_VIDEO_PAGE_START, start);
        this.crtc(0x0c, (start >>> 9) & 0xff);
        this.crtc(0x0d, (start >>> 1) & 0xff);
        this.updateCursor();
        return;
      }
      case 0x06:
      case 0x07:
        this.scroll(ah === 0x06 ? g.al : -g.al, g.bh, g.ch, g.cl, g.dh, g.dl, this.activePage);
        return;
      case 0x08: {
        const { col, row } = this.cursor(g.bh);
        if (this.isText) g.ax = this.mem.read16(this.textAddr(g.bh, col, row));
        else g.ax = 0;
        return;
      }
      case 0x09:
      case 0x0a: {
        // Write CX copies at the cursor without moving it (09: with attribute, 0A: keep it).
        const page = g.bh;
        const { cols, rows } = this.geometry();
        let { col, row } = this.cursor(page);
        for (let n = g.cx; n > 0 && row < rows; n--) {
          this.putChar(page, col, row, g.al, g.bl, ah === 0x0a && this.isText);
          if (++col >= cols) { col = 0; row++; }
        }
        return;
      }
      case 0x0b: // CGA palette: the border/background colour goes to the overscan register
        if (g.bh === 0) this.attr(0x11, g.bl & 0x0f);
        return;
      case 0x0c:
        this.writePixel(g.cx, g.dx, g.al);
        return;
      case 0x0d:
        g.al = this.readPixel(g.cx, g.dx);
        return;
      case 0x0e:
        this.teletype(g.al, this.activePage, g.bl);
        return;
      case 0x0f:
        g.al = this.vbe.current ? 0x6a : this.bda8(B.BDA_VIDEO_MODE) | (this.bda8(B.BDA_VIDEO_CTL) & 0x80);
        g.ah = this.cols;
        g.bh = this.activePage;
        return;
      case 0x10:
        this.palette(g);
        return;
      case 0x11:
        this.font(g);
        return;
      case 0x12:
        this.alternate(g);
        return;
      case 0x13:
        this.writeStringFn(g);
        return;
      case 0x1a:
        if (g.al === 0x00) {
          g.al = 0x1a;
          g.bx = 0x0008; // VGA with analog colour display, no secondary
        } else if (g.al === 0x01) {
          g.al = 0x1a;
        }
        return;
      case 0x1b: // functionality/state information: not provided (AL != 1Bh tells the caller)
        g.al = 0;
        return;
      case 0x4f:
        this.vbe.int10(g);
        return;
      default:
        return; // unknown: registers unchanged, as IBM's BIOS does
    }
  }

  private writePixel(x: number, y: number, c: number): void {
    const m = this.mode;
    if (!m || m.text) return;
    if (m.bpp === 8) {
      this.mem.write8(0xa0000 + y * 320 + x, c);
      return;
    }
    const addr = 0xa0000 + y * 80 + (x >> 3);
    this.gc(1, 0x0f);
    this.gc(0, c & 0x0f);
    this.gc(8, 0x80 >> (x & 7));
    if (c & 0x80) this.gc(3, 0x18); // XOR
    this.mem.read8(addr);
    this.mem.write8(addr, 0xff);
    this.gc(3, 0);
    this.gc(8, 0xff);
    this.gc(1, 0);
  }

  private readPixel(x: number, y: number): number {
    const m = this.mode;
    if (!m || m.text) return 0;
    if (m.bpp === 8) return this.mem.read8(0xa0000 + y * 320 + x);
    let c = 0;
    const addr = 0xa0000 + y * 80 + (x >> 3);
    for (let p = 0; p < 4; p++) {
      this.gc(4, p);
      if (this.mem.read8(addr) & (0x80 >> (x & 7))) c |= 1 << p;
    }
    this.gc(4, 0);
    return c;
  }

  private palette(g: Guest): void {
    switch (g.al) {
      case 0x00:
        this.attr(g.bl & 0x1f, g.bh);
        return;
      case 0x01:
        this.attr(0x11, g.bh);
        return;
      case 0x02: {
        const a = g.lin(Seg.ES, g.dx);
        for (let i = 0; i < 16; i++) this.attr(i, g.read8(a + i));
        this.attr(0x11, g.read8(a + 16));
        return;
      }
      case 0x03: {
        // Blink (BL=1) or intensity (BL=0): attribute mode control bit 3.
        this.io.in8(0x3da);
        this.io.out8(ATTR, 0x10);
        const v = this.io.in8(ATTR + 1);
        this.attr(0x10, g.bl ? v | 0x08 : v & ~0x08);
        return;
      }
      case 0x07:
        this.io.in8(0x3da);
        this.io.out8(ATTR, g.bl & 0x1f);
        g.bh = this.io.in8(ATTR + 1);
        this.io.in8(0x3da);
        this.io.out8(ATTR, 0x20);
        return;
      case 0x08:
        this.io.in8(0x3da);
        this.io.out8(ATTR, 0x11);
        g.bh = this.io.in8(ATTR + 1);
        this.io.in8(0x3da);
        this.io.out8(ATTR, 0x20);
        return;
      case 0x10:
        this.setDac(g.bx & 0xff, [[g.dh, g.ch, g.cl]]);
        return;
      case 0x12: {
        const a = g.lin(Seg.ES, g.dx);
        const rgb: number[][] = [];
        for (let i = 0; i < g.cx; i++) rgb.push([g.read8(a + 3 * i), g.read8(a + 3 * i + 1), g.read8(a + 3 * i + 2)]);
        this.setDac(g.bx & 0xff, rgb);
        return;
      }
      case 0x15:
        this.io.out8(0x3c7, g.bx & 0xff);
        g.dh = this.io.in8(0x3c9);
        g.ch = this.io.in8(0x3c9);
        g.cl = this.io.in8(0x3c9);
        return;
      case 0x17: {
        const a = g.lin(Seg.ES, g.dx);
        this.io.out8(0x3c7, g.bx & 0xff);
        for (let i = 0; i < g.cx * 3; i++) g.write8(a + i, this.io.in8(0x3c9));
        return;
      }
      case 0x18:
        this.io.out8(0x3c6, g.bl);
        return;
      case 0x19:
        g.bl = this.io.in8(0x3c6);
        return;
      case 0x1a:
        g.bx = 0; // paging mode 0, page 0
        return;
      case 0x1b: {
        // Sum to grey shades (0.30 R + 0.59 G + 0.11 B).
        for (let i = 0; i < g.cx; i++) {
          const idx = (g.bx + i) & 0xff;
          this.io.out8(0x3c7, idx);
          const r = this.io.in8(0x3c9), gg = this.io.in8(0x3c9), bl = this.io.in8(0x3c9);
          const y = Math.min(63, Math.round(0.3 * r + 0.59 * gg + 0.11 * bl));
          this.setDac(idx, [[y, y, y]]);
        }
        return;
      }
      default:
        return;
    }
  }

  private font(g: Guest): void {
    const al = g.al;
    const block = g.bl & 7;
    switch (al) {
      case 0x00:
      case 0x10: {
        // User font: ES:BP, CX chars from DX, BH bytes per char.
        const h = g.bh || 16;
        const data = g.readBytes(g.lin(Seg.ES, g.bp), g.cx * h);
        this.loadFont(data, h, block, g.dx, g.cx);
        if (al === 0x10) this.setCharHeight(h);
        return;
      }
      case 0x01:
      case 0x11:
      case 0x04:
      case 0x14:
        // 8x14 has no separate glyph set here: the 8x16 font serves both (25 rows).
        this.loadFont(font8x16(), 16, block);
        if (al & 0x10) this.setCharHeight(16);
        return;
      case 0x02:
      case 0x12:
        this.loadFont(font8x8(), 8, block);
        if (al & 0x10) this.setCharHeight(8);
        return;
      case 0x03: {
        // Character map select (SR3).
        this.seq(3, g.bl);
        return;
      }
      case 0x30: {
        // Font information: CX = char height, DL = rows - 1, ES:BP -> the font.
        const which = g.bh;
        let p = this.fontPtr.f16;
        if (which === 0x03 || which === 0x01) p = this.fontPtr.f8; // 8x8 / INT 43h
        else if (which === 0x04) p = this.fontPtr.f8hi; // 8x8 upper half / INT 1Fh
        else if (which === 0x00) p = { seg: this.mem.read16(0x1f * 4 + 2), off: this.mem.read16(0x1f * 4) };
        g.setRealSeg(Seg.ES, p.seg);
        g.bp = p.off;
        g.cx = this.bda16(B.BDA_CHAR_HEIGHT) || 16;
        g.dl = this.bda8(B.BDA_ROWS);
        return;
      }
      default:
        return;
    }
  }

  private alternate(g: Guest): void {
    switch (g.bl) {
      case 0x10: // EGA/VGA information
        g.bh = 0; // colour
        g.bl = 3; // 256 KiB
        g.ch = 0;
        g.cl = 0x09; // switch setting for an EGA/VGA colour display
        return;
      case 0x20: // alternate print screen: nothing to install
        return;
      case 0x30: // scan lines for the next mode set: accepted
      case 0x31: // default palette loading
      case 0x32: // video enable
      case 0x33: // grey summing
      case 0x34: // cursor emulation
      case 0x36: // video refresh
        g.al = 0x12;
        return;
      case 0x35:
      default:
        return;
    }
  }

  private writeStringFn(g: Guest): void {
    // AL bit 0: move cursor; bit 1: string holds char/attr pairs. ES:BP string, CX count, DH/DL position.
    const mode = g.al;
    const page = g.bh;
    const saved = this.cursor(page);
    this.setCursor(page, g.dl, g.dh);
    const a = g.lin(Seg.ES, g.bp);
    for (let i = 0; i < g.cx; i++) {
      const ch = g.read8(a + (mode & 2 ? 2 * i : i));
      const attr = mode & 2 ? g.read8(a + 2 * i + 1) : g.bl;
      if (ch === 0x07 || ch === 0x08 || ch === 0x0a || ch === 0x0d) {
        this.teletype(ch, page, attr);
        continue;
      }
      const { col, row } = this.cursor(page);
      this.putChar(page, col, row, ch, attr, false);
      this.moveTo(page, col + 1, row);
    }
    if (!(mode & 1)) this.setCursor(page, saved.col, saved.row);
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
