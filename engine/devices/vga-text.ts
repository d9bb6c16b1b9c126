// Alphanumeric mode: cells of (character in plane 0, attribute in plane 1) drawn with the
// glyphs the guest/BIOS loaded into plane 2 (32 bytes per character, SR3 picks the maps),
// 8- or 9-dot columns (SR1 bit 0; line-graphics 0xC0-0xDF extend into the 9th column when
// AR10 bit 2 is set), blink (AR10 bit 3), cursor (CR0A/CR0B/CR0E/CR0F) and underline
// (CR14). The renderer keeps the last drawn key of every cell and redraws only cells whose
// key changed, so a teletype line costs a few cells, not a frame.
import type { VgaRegisters, VgaGeometry } from './vga-registers';
import { crtcToPlaneOffset } from './vga-registers';
import type { DirtyBox, Surface } from './vga-surface';
import { CP437 } from './vga-cp437';

/** Plane 2 offset of character map n (SR3 encoding: 0,1,2,3 → 0,16K,32K,48K; +8K when bit 2 set). */
export function fontMapOffset(n: number): number {
  return (n & 3) * 0x4000 + (n & 4 ? 0x2000 : 0);
}

/** Attribute controller: 4-bit colour → DAC index (plane enable AR12, palette AR0-F, AR10 bit 7 / AR14). */
export function attributeToDac(regs: VgaRegisters, colour: number): number {
  const a = regs.attr;
  const pal = a[colour & a[0x12] & 0x0f] & 0x3f;
  if (a[0x10] & 0x80) return ((a[0x14] & 0x0f) << 4) | (pal & 0x0f);
  return ((a[0x14] & 0x0c) << 4) | pal;
}

/** Plane offset of the cell at (row, col): CRTC start address + row offset, through the address mode. */
function cellOffset(geo: VgaGeometry, regs: VgaRegisters, row: number, col: number): number {
  const ma = (geo.startAddress + row * geo.rowOffset + col) & 0xffff;
  return crtcToPlaneOffset(ma, geo.addressMode, (regs.crtc[0x17] & 0x20) !== 0);
}

export class VgaTextRenderer {
  /** Last drawn key per cell: char | attr << 8 | cursor << 16 | blinkHidden << 17; -1 = must draw. */
  private keys = new Int32Array(0);
  private cols = 0;
  private rows = 0;

  invalidate(): void {
    this.keys.fill(-1);
  }

  render(
    regs: VgaRegisters,
    geo: VgaGeometry,
    vram: Uint8Array,
    dacRgba: Uint32Array,
    s: Surface,
    blinkOn: boolean,
    cursorOn: boolean,
    dirty: DirtyBox,
  ): void {
    const { charWidth: cw, charHeight: ch } = geo;
    // Smooth scrolling: CR08 preset row scan shifts text up, AR13 pixel panning shifts it left
    // (9-dot cells: 8 means no shift, 0-7 shift 1-8 dots). One extra row/column fills the gap.
    const preset = Math.min(regs.crtc[0x08] & 0x1f, ch - 1);
    const ar13 = regs.attr[0x13] & 0x0f;
    const pan = cw === 9 ? (ar13 >= 8 ? 0 : ar13 + 1) : ar13 & 7;
    const cols = geo.cols + (pan ? 1 : 0);
    const rows = geo.rows + (preset ? 1 : 0);
    if (cols !== this.cols || rows !== this.rows || this.keys.length !== cols * rows) {
      this.cols = cols;
      this.rows = rows;
      this.keys = new Int32Array(cols * rows).fill(-1);
    }
    const attr = regs.attr;
    const blinkEnabled = (attr[0x10] & 0x08) !== 0;
    const lineGraphics = (attr[0x10] & 0x04) !== 0;
    const colours = new Uint32Array(16);
    for (let i = 0; i < 16; i++) colours[i] = dacRgba[attributeToDac(regs, i)];
    const sr3 = regs.seq[3];
    const fontA = fontMapOffset(((sr3 >> 3) & 4) | ((sr3 >> 2) & 3)) * 4 + 2;
    const fontB = fontMapOffset(((sr3 >> 2) & 4) | (sr3 & 3)) * 4 + 2;
    const cursorMa = regs.cursorAddress;
    const cStart = regs.crtc[0x0a] & 0x1f;
    const cEnd = regs.crtc[0x0b] & 0x1f;
    const cursorShown = cursorOn && (regs.crtc[0x0a] & 0x20) === 0 && cStart <= cEnd && cStart < ch;
    const underline = regs.crtc[0x14] & 0x1f;
    const px = s.pixels;
    const stride = s.stride;
    const wrap15 = (regs.crtc[0x17] & 0x20) !== 0;

    for (let row = 0; row < rows; row++) {
      const y0 = row * ch - preset;
      if (y0 >= s.height) break;
      const ys = Math.max(0, -y0);
      const ye = Math.min(ch, s.height - y0);
      const rowMa = geo.startAddress + row * geo.rowOffset;
      for (let col = 0; col < cols; col++) {
        const x0 = col * cw - pan;
        if (x0 >= s.width) break;
        const ma = (rowMa + col) & 0xffff;
        const off = crtcToPlaneOffset(ma, geo.addressMode, wrap15) * 4;
        const c = vram[off];
        const a = vram[off + 1];
        const hasCursor = cursorShown && ma === cursorMa;
        const hidden = blinkEnabled && (a & 0x80) !== 0 && !blinkOn;
        const key = c | (a << 8) | (hasCursor ? 0x10000 : 0) | (hidden ? 0x20000 : 0);
        const k = row * cols + col;
        if (this.keys[k] === key) continue;
        this.keys[k] = key;

        const bgIndex = blinkEnabled ? (a >> 4) & 7 : a >> 4;
        const bg = colours[bgIndex];
        const fg = hidden ? bg : colours[a & 0x0f];
        const glyph = (a & 0x08 ? fontA : fontB) + c * 128;
        const ninth = cw === 9 && lineGraphics && c >= 0xc0 && c <= 0xdf;
        const isUnderlined = (a & 0x77) === 0x01;
        const xs = Math.max(0, -x0);
        const xe = Math.min(cw, s.width - x0);
        for (let y = ys; y < ye; y++) {
          let bits = vram[glyph + y * 4];
          if ((hasCursor && y >= cStart && y <= cEnd) || (isUnderlined && y === underline)) bits = 0xff | 0x100;
          else if (ninth && bits & 1) bits |= 0x100;
          // Bit 7 is the leftmost dot; the 9th dot (bit 8 here) comes from the flag above.
          let p = (y0 + y) * stride + x0 + xs;
          for (let x = xs; x < xe; x++) {
            const on = x < 8 ? (bits >> (7 - x)) & 1 : (bits >> 8) & 1;
            px[p++] = on ? fg : bg;
          }
        }
        dirty.add(x0 + xs, y0 + ys, xe - xs, ye - ys);
      }
    }
  }

  /** The screen as Unicode lines (trailing spaces trimmed), read straight from planes 0/1. */
  static text(regs: VgaRegisters, geo: VgaGeometry, vram: Uint8Array): string {
    const lines: string[] = [];
    for (let row = 0; row < geo.rows; row++) {
      let line = '';
      for (let col = 0; col < geo.cols; col++) line += CP437[vram[cellOffset(geo, regs, row, col) * 4]];
      lines.push(line.trimEnd());
    }
    return lines.join('\n');
  }
}
