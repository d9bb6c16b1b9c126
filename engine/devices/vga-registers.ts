// The VGA register file (misc output, sequencer, CRTC, graphics controller, attribute
// controller) and the display geometry it implies. Register meanings follow the IBM VGA
// Technical Reference as summarised by FreeVGA (http://www.osdever.net/FreeVGA/vga/vga.htm).
// This file only stores and decodes; port handling is in vga.ts, memory access in
// vga-memory.ts, pixels in the renderers.
import type { ComponentState } from '../common/snapshot';

/** What the CRT controller is scanning out (VBE DISPI modes bypass it: vga-bochs-dispi.ts). */
export const enum DisplayKind {
  /** Alphanumeric (GR6 bit 0 clear): character + attribute cells, glyphs from plane 2. */
  Text = 0,
  /** 16-colour planar: one bit per plane per pixel (modes 0Dh-12h, and mono 0Fh/11h via the plane enable). */
  Planar = 1,
  /** CGA 4-colour (GR5 bit 5 "shift register interleave", modes 4/5): 2 bits per pixel from plane pairs. */
  Cga2 = 2,
  /** 256-colour (AR10 bit 6, mode 13h and "mode X"): one byte per pixel, 4 pixels per address (planes 0-3). */
  Packed8 = 3,
}

/** CRTC memory address to plane offset mapping (CR14 bit 6 / CR17 bit 6). */
export const enum AddressMode {
  Byte = 0,
  Word = 1,
  Dword = 2,
}

export interface VgaGeometry {
  kind: DisplayKind;
  /** Logical size in pixels (e.g. 720×400 for 80×25 text with 9-dot cells, 320×200 for mode 13h). */
  width: number;
  height: number;
  /** Text: cells and cell size. Graphics: char clocks per line and scan lines per row. */
  cols: number;
  rows: number;
  charWidth: number;
  charHeight: number;
  addressMode: AddressMode;
  /** CRTC start address (MA units). */
  startAddress: number;
  /** MA increment per character row (CR13 × 2). */
  rowOffset: number;
  /** Scan lines per character row (CR09 bits 0-4, + 1). */
  rowHeight: number;
  /** Graphics: true when every scan line of a row reads the same memory (so one logical line = one row). */
  rowsAreLines: boolean;
  /** Physical scan lines per logical line (double scan × repeated rows), for the line compare register. */
  physicalPerLine: number;
  /** Line compare (split screen) in physical scan lines; >= display height means off. */
  lineCompare: number;
  /** Screen off (SR1 bit 5) or palette address source clear (attribute index bit 5): draw black. */
  blanked: boolean;
}

export class VgaRegisters {
  misc = 0;
  featureControl = 0;
  seqIndex = 0;
  readonly seq = new Uint8Array(8);
  crtcIndex = 0;
  /** 256 so out-of-range indices read back what was written (some probes do that) without aliasing real registers. */
  readonly crtc = new Uint8Array(256);
  grIndex = 0;
  readonly gr = new Uint8Array(16);
  /** Attribute index including the PAS bit (0x20). */
  attrIndex = 0;
  readonly attr = new Uint8Array(32);
  /** false: the next 0x3C0 write is an index; true: data. Reset by reading input status 1. */
  attrFlipFlop = false;

  // ---- Decoded fields used on hot paths ----

  /** CRTC and input status 1 at 0x3Dx (colour) rather than 0x3Bx (mono): misc bit 0. */
  get colorIo(): boolean {
    return (this.misc & 1) !== 0;
  }

  get chain4(): boolean {
    return (this.seq[4] & 0x08) !== 0;
  }

  /** CPU writes use odd/even addressing (SR4 bit 2 clear). */
  get oddEvenWrite(): boolean {
    return (this.seq[4] & 0x04) === 0;
  }

  /** CPU reads use odd/even addressing (GR5 bit 4). */
  get oddEvenRead(): boolean {
    return (this.gr[5] & 0x10) !== 0;
  }

  /** Memory map select (GR6 bits 2-3): 0 A0000/128K, 1 A0000/64K, 2 B0000/32K, 3 B8000/32K. */
  get memoryMap(): number {
    return (this.gr[6] >> 2) & 3;
  }

  get graphicsMode(): boolean {
    return (this.gr[6] & 1) !== 0;
  }

  /** Cursor location (MA units), CR0E:CR0F. */
  get cursorAddress(): number {
    return (this.crtc[0x0e] << 8) | this.crtc[0x0f];
  }

  /** Vertical display end + 1 in physical scan lines (CR12 with overflow bits in CR07). */
  get verticalDisplay(): number {
    const c = this.crtc;
    return (c[0x12] | ((c[0x07] & 0x02) << 7) | ((c[0x07] & 0x40) << 3)) + 1;
  }

  /** Derive what is on screen from the current register values. */
  geometry(): VgaGeometry {
    const c = this.crtc;
    const text = !this.graphicsMode;
    const charClocks = c[0x01] + 1;
    const doubleScan = (c[0x09] & 0x80) !== 0;
    const rowHeight = (c[0x09] & 0x1f) + 1;
    const scanLines = Math.max(1, Math.floor(this.verticalDisplay / (doubleScan ? 2 : 1)));
    const addressMode = c[0x14] & 0x40 ? AddressMode.Dword : c[0x17] & 0x40 ? AddressMode.Byte : AddressMode.Word;
    const startAddress = (c[0x0c] << 8) | c[0x0d];
    const rowOffset = c[0x13] * 2;
    const lineCompare = c[0x18] | ((c[0x07] & 0x10) << 4) | ((c[0x09] & 0x40) << 3);
    const blanked = (this.seq[1] & 0x20) !== 0 || (this.attrIndex & 0x20) === 0;
    const base = { addressMode, startAddress, rowOffset, rowHeight, lineCompare, blanked };
    if (text) {
      const charWidth = this.seq[1] & 0x01 ? 8 : 9;
      const rows = Math.max(1, Math.floor(scanLines / rowHeight));
      return {
        ...base,
        kind: DisplayKind.Text,
        width: charClocks * charWidth,
        height: rows * rowHeight,
        cols: charClocks,
        rows,
        charWidth,
        charHeight: rowHeight,
        rowsAreLines: false,
        physicalPerLine: doubleScan ? 2 : 1,
      };
    }
    const kind = this.attr[0x10] & 0x40 ? DisplayKind.Packed8 : this.gr[5] & 0x20 ? DisplayKind.Cga2 : DisplayKind.Planar;
    // CR17 bits 0/1 clear substitute row-scan bits for MA13/MA14 (CGA/Hercules interleave): then each
    // scan line of a row shows different memory; otherwise all scan lines of a row are identical.
    const rowsAreLines = (c[0x17] & 0x03) === 0x03;
    const lines = rowsAreLines ? Math.ceil(scanLines / rowHeight) : scanLines;
    return {
      ...base,
      kind,
      width: charClocks * (kind === DisplayKind.Packed8 ? 4 : 8),
      height: lines,
      cols: charClocks,
      rows: rowsAreLines ? lines : Math.ceil(scanLines / rowHeight),
      charWidth: 8,
      charHeight: rowHeight,
      rowsAreLines,
      physicalPerLine: (doubleScan ? 2 : 1) * (rowsAreLines ? rowHeight : 1),
    };
  }

  saveState(): ComponentState {
    return {
      misc: this.misc,
      featureControl: this.featureControl,
      seqIndex: this.seqIndex,
      seq: this.seq.slice(),
      crtcIndex: this.crtcIndex,
      crtc: this.crtc.slice(),
      grIndex: this.grIndex,
      gr: this.gr.slice(),
      attrIndex: this.attrIndex,
      attr: this.attr.slice(),
      attrFlipFlop: this.attrFlipFlop,
    };
  }

  loadState(s: ComponentState): void {
    this.misc = s.misc as number;
    this.featureControl = s.featureControl as number;
    this.seqIndex = s.seqIndex as number;
    this.seq.set(s.seq as Uint8Array);
    this.crtcIndex = s.crtcIndex as number;
    this.crtc.set(s.crtc as Uint8Array);
    this.grIndex = s.grIndex as number;
    this.gr.set(s.gr as Uint8Array);
    this.attrIndex = s.attrIndex as number;
    this.attr.set(s.attr as Uint8Array);
    this.attrFlipFlop = s.attrFlipFlop as boolean;
  }
}

/** Map a CRTC memory address counter value to a plane offset (0-0xFFFF). */
export function crtcToPlaneOffset(ma: number, mode: AddressMode, wrapBit15: boolean): number {
  if (mode === AddressMode.Dword) return ((ma << 2) | ((ma >> 14) & 3)) & 0xffff;
  if (mode === AddressMode.Word) return ((ma << 1) | ((ma >> (wrapBit15 ? 15 : 13)) & 1)) & 0xffff;
  return ma & 0xffff;
}
