// VBE 2.0 (INT 10h AX=4Fxx) on the Bochs DISPI interface (index 0x1CE, data 0x1CF).
// The mode list, OEM strings and info pointers live in the ROM (see bios.ts: vbeRom).
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import { Seg } from '../cpu/state';
import { vga256Palette } from './vga-modes';

const DISPI_INDEX = 0x1ce;
const DISPI_DATA = 0x1cf;
const enum Dispi {
  Id = 0,
  XRes = 1,
  YRes = 2,
  Bpp = 3,
  Enable = 4,
  Bank = 5,
  VirtWidth = 6,
  VirtHeight = 7,
  XOffset = 8,
  YOffset = 9,
}
const DISPI_ENABLED = 0x01;
const DISPI_LFB = 0x40;
const DISPI_NOCLEAR = 0x80;

export interface VbeModeInfo {
  mode: number;
  width: number;
  height: number;
  bpp: number;
}

const SIZES: [number, number][] = [[640, 480], [800, 600], [1024, 768], [1280, 1024], [1920, 1080]];
/** VESA-standard numbers where they exist (Linux's vga=788 is 0x114 = 800x600x16). */
const STANDARD: Record<string, number> = {
  '640x480x8': 0x101, '800x600x8': 0x103, '1024x768x8': 0x105, '1280x1024x8': 0x107,
  '640x480x15': 0x110, '640x480x16': 0x111, '640x480x24': 0x112,
  '800x600x15': 0x113, '800x600x16': 0x114, '800x600x24': 0x115,
  '1024x768x15': 0x116, '1024x768x16': 0x117, '1024x768x24': 0x118,
  '1280x1024x15': 0x119, '1280x1024x16': 0x11a, '1280x1024x24': 0x11b,
};

/** The VBE modes offered, those fitting in `vramBytes`. Non-standard ones from 0x140 up. */
export function vbeModes(vramBytes: number): VbeModeInfo[] {
  const out: VbeModeInfo[] = [];
  let next = 0x140;
  for (const bpp of [8, 15, 16, 24, 32]) {
    for (const [w, h] of SIZES) {
      const key = `${w}x${h}x${bpp}`;
      const mode = STANDARD[key] ?? next++;
      if (w * h * ((bpp + 7) >> 3) <= vramBytes) out.push({ mode, width: w, height: h, bpp });
    }
  }
  return out.sort((a, b) => a.mode - b.mode);
}

/** Where the ROM keeps the VBE strings and the mode list (F000 offsets), filled in by bios.ts. */
export interface VbeRomPointers {
  oem: number;
  vendor: number;
  product: number;
  revision: number;
  modeList: number;
}

export interface VideoHost {
  setMode(m: number): boolean;
  resetGraphicsText(): void;
  setDac(index: number, rgb: number[][]): void;
}

export class Vbe {
  current: VbeModeInfo | null = null;
  lfb = false;
  modes: VbeModeInfo[] = [];
  rom: VbeRomPointers | null = null;
  /** Physical address of the LFB (PCI BAR of the VGA, or the configured address). */
  lfbBase = 0;

  constructor(
    private readonly b: BiosCtx,
    private readonly video: VideoHost,
  ) {
    const vga = b.cfg.vga;
    if (vga) {
      this.modes = vbeModes(vga.vramBytes);
      this.lfbBase = vga.lfbAddress ?? 0;
    }
  }

  get present(): boolean {
    return !!this.b.cfg.vga && this.rom !== null && this.lfbBase !== 0;
  }

  private write(i: Dispi, v: number): void {
    this.b.io.out16(DISPI_INDEX, i);
    this.b.io.out16(DISPI_DATA, v);
  }
  private read(i: Dispi): number {
    this.b.io.out16(DISPI_INDEX, i);
    return this.b.io.in16(DISPI_DATA);
  }

  lfbAddress(): number { return this.lfbBase; }
  pitch(): number {
    const c = this.current!;
    const virt = this.read(Dispi.VirtWidth) || c.width;
    return virt * ((c.bpp + 7) >> 3);
  }

  /** Leave VBE (a legacy mode set). */
  disable(): void {
    if (!this.current && !this.b.cfg.vga) return;
    if (this.b.cfg.vga) this.write(Dispi.Enable, 0);
    this.current = null;
  }

  find(mode: number): VbeModeInfo | undefined {
    return this.modes.find((m) => m.mode === (mode & 0x1ff));
  }

  int10(g: Guest): void {
    if (!this.present) {
      g.ax = 0x014f; // function call failed
      return;
    }
    switch (g.al) {
      case 0x00: return this.controllerInfo(g);
      case 0x01: return this.modeInfo(g);
      case 0x02: return this.setMode(g);
      case 0x03:
        g.bx = this.current ? this.current.mode | (this.lfb ? 0x4000 : 0) : this.b.mem.read8(0x449);
        g.ax = 0x004f;
        return;
      case 0x05: return this.window(g);
      case 0x06: return this.scanline(g);
      case 0x07: return this.displayStart(g);
      case 0x08:
        // The DAC stays 6 bits wide (capabilities bit 0 is clear).
        g.bh = 6;
        g.ax = 0x004f;
        return;
      case 0x09: return this.paletteData(g);
      default:
        g.ax = 0x014f; // 4F04 state save, 4F0A PM interface, 4F15 DDC: not supported
    }
  }

  private controllerInfo(g: Guest): void {
    const rom = this.rom!;
    const a = g.lin(Seg.ES, g.di);
    const vbe2 = g.read32(a) === 0x32454256; // "VBE2": the caller has a 512-byte buffer
    const size = vbe2 ? 512 : 256;
    for (let i = 0; i < size; i++) g.write8(a + i, 0);
    g.write32(a, 0x41534556); // "VESA"
    g.write16(a + 4, 0x0200);
    const far = (off: number) => ((0xf000 << 16) | off) >>> 0;
    g.write32(a + 6, far(rom.oem));
    g.write32(a + 0x0a, 0); // capabilities: fixed 6-bit DAC, VGA compatible
    g.write32(a + 0x0e, far(rom.modeList));
    g.write16(a + 0x12, Math.floor(this.b.cfg.vga!.vramBytes / 0x10000));
    if (vbe2) {
      g.write16(a + 0x14, 0x0100);
      g.write32(a + 0x16, far(rom.vendor));
      g.write32(a + 0x1a, far(rom.product));
      g.write32(a + 0x1e, far(rom.revision));
    }
    g.ax = 0x004f;
  }

  private modeInfo(g: Guest): void {
    const m = this.find(g.cx);
    if (!m) {
      g.ax = 0x014f;
      return;
    }
    const a = g.lin(Seg.ES, g.di);
    for (let i = 0; i < 256; i++) g.write8(a + i, 0);
    const bytes = (m.bpp + 7) >> 3;
    const pitch = m.width * bytes;
    const pages = Math.max(0, Math.min(255, Math.floor(this.b.cfg.vga!.vramBytes / (pitch * m.height)) - 1));
    // Supported, extended info, TTY output, colour, graphics, linear framebuffer.
    g.write16(a + 0x00, 0x009f);
    g.write8(a + 0x02, 0x07); // window A: exists, readable, writable
    g.write16(a + 0x04, 64); // granularity KiB
    g.write16(a + 0x06, 64); // window size KiB
    g.write16(a + 0x08, 0xa000);
    g.write16(a + 0x10, pitch);
    g.write16(a + 0x12, m.width);
    g.write16(a + 0x14, m.height);
    g.write8(a + 0x16, 8);
    g.write8(a + 0x17, 16);
    g.write8(a + 0x18, 1);
    g.write8(a + 0x19, m.bpp);
    g.write8(a + 0x1a, 1);
    g.write8(a + 0x1b, m.bpp === 8 ? 4 : 6); // packed pixel / direct colour
    g.write8(a + 0x1d, pages);
    g.write8(a + 0x1e, 1);
    const fmt = pixelFormat(m.bpp);
    if (fmt) {
      for (let i = 0; i < 8; i++) g.write8(a + 0x1f + i, fmt[i]);
      g.write8(a + 0x27, m.bpp === 32 || m.bpp === 15 ? 2 : 0); // reserved field usable
    }
    g.write32(a + 0x28, this.lfbBase);
    // VBE 3.0 linear fields (harmless for 2.0 callers).
    g.write16(a + 0x32, pitch);
    g.write8(a + 0x34, pages);
    g.write8(a + 0x35, pages);
    if (fmt) for (let i = 0; i < 8; i++) g.write8(a + 0x36 + i, fmt[i]);
    g.write32(a + 0x3e, 0);
    g.ax = 0x004f;
  }

  private setMode(g: Guest): void {
    const bx = g.bx;
    const mode = bx & 0x1ff;
    if (mode < 0x100) {
      g.ax = this.video.setMode(mode | (bx & 0x8000 ? 0x80 : 0)) ? 0x004f : 0x014f;
      return;
    }
    const m = this.find(mode);
    if (!m) {
      g.ax = 0x014f;
      return;
    }
    this.write(Dispi.Enable, 0);
    this.write(Dispi.XRes, m.width);
    this.write(Dispi.YRes, m.height);
    this.write(Dispi.Bpp, m.bpp);
    this.write(Dispi.Bank, 0);
    this.write(Dispi.VirtWidth, m.width);
    this.write(Dispi.VirtHeight, Math.floor(this.b.cfg.vga!.vramBytes / (m.width * ((m.bpp + 7) >> 3))));
    this.write(Dispi.XOffset, 0);
    this.write(Dispi.YOffset, 0);
    this.lfb = (bx & 0x4000) !== 0;
    this.write(Dispi.Enable, DISPI_ENABLED | DISPI_LFB | (bx & 0x8000 ? DISPI_NOCLEAR : 0));
    this.current = m;
    this.video.resetGraphicsText();
    if (m.bpp === 8) this.video.setDac(0, vga256Palette());
    // Text output in this mode uses 8x16 cells; start at the top-left.
    this.b.mem.write16(0x450, 0);
    g.ax = 0x004f;
  }

  private window(g: Guest): void {
    if (g.bl !== 0) {
      g.ax = 0x014f; // only window A
      return;
    }
    if (g.bh === 0) this.write(Dispi.Bank, g.dx);
    else g.dx = this.read(Dispi.Bank);
    g.ax = 0x004f;
  }

  private scanline(g: Guest): void {
    const c = this.current;
    if (!c) {
      g.ax = 0x014f;
      return;
    }
    const bytes = (c.bpp + 7) >> 3;
    const vram = this.b.cfg.vga!.vramBytes;
    switch (g.bl) {
      case 0x00: this.write(Dispi.VirtWidth, g.cx); break;
      case 0x02: this.write(Dispi.VirtWidth, Math.floor(g.cx / bytes)); break;
      case 0x01: break;
      case 0x03: {
        const maxPixels = Math.min(0xffff, Math.floor(vram / c.height / bytes));
        g.bx = Math.min(0xffff, maxPixels * bytes);
        g.cx = maxPixels;
        g.dx = c.height;
        g.ax = 0x004f;
        return;
      }
      default:
        g.ax = 0x014f;
        return;
    }
    const virt = this.read(Dispi.VirtWidth);
    g.bx = virt * bytes;
    g.cx = virt;
    g.dx = Math.min(0xffff, Math.floor(vram / (virt * bytes)));
    g.ax = 0x004f;
  }

  private displayStart(g: Guest): void {
    if (g.bl === 0x00 || g.bl === 0x80) {
      this.write(Dispi.XOffset, g.cx);
      this.write(Dispi.YOffset, g.dx);
    } else if (g.bl === 0x01) {
      g.bh = 0;
      g.cx = this.read(Dispi.XOffset);
      g.dx = this.read(Dispi.YOffset);
    } else {
      g.ax = 0x014f;
      return;
    }
    g.ax = 0x004f;
  }

  private paletteData(g: Guest): void {
    const a = g.lin(Seg.ES, g.di);
    if (g.bl === 0x00 || g.bl === 0x80) {
      const rgb: number[][] = [];
      for (let i = 0; i < g.cx; i++) rgb.push([g.read8(a + 4 * i + 2), g.read8(a + 4 * i + 1), g.read8(a + 4 * i)]);
      this.video.setDac(g.dx & 0xff, rgb);
    } else if (g.bl === 0x01) {
      this.b.io.out8(0x3c7, g.dx & 0xff);
      for (let i = 0; i < g.cx; i++) {
        const r = this.b.io.in8(0x3c9), gg = this.b.io.in8(0x3c9), bl = this.b.io.in8(0x3c9);
        g.write8(a + 4 * i, bl);
        g.write8(a + 4 * i + 1, gg);
        g.write8(a + 4 * i + 2, r);
        g.write8(a + 4 * i + 3, 0);
      }
    } else {
      g.ax = 0x014f;
      return;
    }
    g.ax = 0x004f;
  }

  /** Confirm the DISPI interface answers (ID register 0xB0C0-0xB0C5). */
  probe(): boolean {
    this.b.io.out16(DISPI_INDEX, Dispi.Id);
    const id = this.b.io.in16(DISPI_DATA);
    return id >= 0xb0c0 && id <= 0xb0cf;
  }
}

/** Red size/pos, green size/pos, blue size/pos, reserved size/pos. */
function pixelFormat(bpp: number): number[] | null {
  switch (bpp) {
    case 15: return [5, 10, 5, 5, 5, 0, 1, 15];
    case 16: return [5, 11, 6, 5, 5, 0, 0, 0];
    case 24: return [8, 16, 8, 8, 8, 0, 0, 0];
    case 32: return [8, 16, 8, 8, 8, 0, 8, 24];
    default: return null;
  }
}
