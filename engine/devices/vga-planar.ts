// VGA graphics scan-out: 16-colour planar (modes 0Dh-12h), CGA 4-colour interleave (modes
// 4/5, GR5 bit 5) and 256-colour (mode 13h / unchained "mode X", AR10 bit 6). Rendering is
// per logical scan line: a line is redrawn only when the VRAM it reads was written since the
// last render (256-byte dirty blocks set by the CPU write path), or when everything is invalid.
import { AddressMode, DisplayKind, crtcToPlaneOffset, type VgaGeometry, type VgaRegisters } from './vga-registers';
import type { VgaMemory } from './vga-memory';
import type { DirtyBox, Surface } from './vga-surface';
import { attributeToDac } from './vga-text';

export class VgaGraphicsRenderer {
  private readonly offsets = new Int32Array(257);
  private line = new Uint32Array(0);

  render(regs: VgaRegisters, geo: VgaGeometry, mem: VgaMemory, dacRgba: Uint32Array, s: Surface, force: boolean, dirty: DirtyBox): void {
    const colours = new Uint32Array(16);
    for (let i = 0; i < 16; i++) colours[i] = dacRgba[attributeToDac(regs, i)];
    const cr17 = regs.crtc[0x17];
    const wrap15 = (cr17 & 0x20) !== 0;
    const lines = Math.min(geo.height, s.height);
    const width = Math.min(geo.width, s.width);
    const split = geo.lineCompare < regs.verticalDisplay ? Math.ceil((geo.lineCompare + 1) / geo.physicalPerLine) : Infinity;
    const vram32 = mem.vram32;
    const offsets = this.offsets;
    const px = s.pixels;
    const unit = geo.addressMode === AddressMode.Dword ? 4 : geo.addressMode === AddressMode.Word ? 2 : 1;

    for (let l = 0; l < lines; l++) {
      // Line compare restarts the address counter at 0 below the split (split-screen status bars).
      const below = l >= split;
      const ll = below ? l - split : l;
      const start = below ? 0 : geo.startAddress;
      const row = geo.rowsAreLines ? ll : Math.floor(ll / geo.rowHeight);
      const rowScan = geo.rowsAreLines ? 0 : ll % geo.rowHeight;
      const ma = start + row * geo.rowOffset;
      // CR17 bits 0/1 clear: row scan bits replace output address bits 13/14 (CGA-style bank interleave).
      let keep = 0xffff;
      let subst = 0;
      if (!(cr17 & 1)) {
        keep &= ~0x2000;
        subst |= (rowScan & 1) << 13;
      }
      if (!(cr17 & 2)) {
        keep &= ~0x4000;
        subst |= (rowScan & 2) << 13;
      }
      // AR13 pixel panning (256-colour: in half pixels); AR10 bit 5 keeps the split part unpanned.
      const pan = below && regs.attr[0x10] & 0x20 ? 0 : geo.kind === DisplayKind.Packed8 ? (regs.attr[0x13] & 7) >> 1 : regs.attr[0x13] & 7;
      // A panned line needs one more char clock on the right.
      const cols = Math.min(geo.cols + (pan ? 1 : 0), 257);
      let lo = 0x10000;
      let hi = 0;
      for (let i = 0; i < cols; i++) {
        const o = (crtcToPlaneOffset((ma + i) & 0xffff, geo.addressMode, wrap15) & keep) | subst;
        offsets[i] = o;
        if (o < lo) lo = o;
        if (o > hi) hi = o;
      }
      if (!force && !mem.isDirty(lo * 4, (hi + unit) * 4)) continue;

      if (pan === 0) drawLine(geo.kind, offsets, cols, vram32, colours, dacRgba, px, l * s.stride, width);
      else {
        if (this.line.length < width + pan + 8) this.line = new Uint32Array(width + pan + 8);
        drawLine(geo.kind, offsets, cols, vram32, colours, dacRgba, this.line, 0, width + pan);
        px.set(this.line.subarray(pan, pan + width), l * s.stride);
      }
      dirty.add(0, l, width, 1);
    }
  }
}

/** Decode `count` pixels of one scan line (char clocks at `offsets`) into out[start..]. */
function drawLine(
  kind: DisplayKind,
  offsets: Int32Array,
  cols: number,
  vram32: Uint32Array,
  colours: Uint32Array,
  dacRgba: Uint32Array,
  out: Uint32Array,
  start: number,
  count: number,
): void {
  let p = start;
  const end = start + count;
  if (kind === DisplayKind.Packed8) {
    for (let i = 0; i < cols && p < end; i++) {
      const w = vram32[offsets[i]];
      out[p++] = dacRgba[w & 0xff];
      if (p < end) out[p++] = dacRgba[(w >>> 8) & 0xff];
      if (p < end) out[p++] = dacRgba[(w >>> 16) & 0xff];
      if (p < end) out[p++] = dacRgba[w >>> 24];
    }
  } else if (kind === DisplayKind.Cga2) {
    for (let i = 0; i < cols && p < end; i++) {
      const w = vram32[offsets[i]];
      // Shift register interleave: 4 two-bit pixels from plane 0 (+2), then 4 from plane 1 (+3).
      const p0 = w & 0xff, p1 = (w >>> 8) & 0xff, p2 = (w >>> 16) & 0xff, p3 = w >>> 24;
      for (let k = 6; k >= 0 && p < end; k -= 2) out[p++] = colours[((p0 >> k) & 3) | (((p2 >> k) & 3) << 2)];
      for (let k = 6; k >= 0 && p < end; k -= 2) out[p++] = colours[((p1 >> k) & 3) | (((p3 >> k) & 3) << 2)];
    }
  } else {
    for (let i = 0; i < cols && p < end; i++) {
      const w = vram32[offsets[i]];
      for (let b = 7; b >= 0 && p < end; b--) {
        const v = (w >>> b) & 0x01010101;
        // Gather bit b of planes 0-3 into a 4-bit colour.
        out[p++] = colours[(v | (v >>> 7) | (v >>> 14) | (v >>> 21)) & 0x0f];
      }
    }
  }
}
