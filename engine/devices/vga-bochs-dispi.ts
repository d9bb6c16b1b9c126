// The Bochs VBE "DISPI" interface (index port 0x1CE, data port 0x1CF; QEMU stdvga also
// exposes the registers as 16-bit MMIO at BAR2+0x500). It is what SeaBIOS's VGA BIOS
// (vgasrc/bochsvga.c) and Linux's bochs-drm program. Register numbers and bits follow
// Bochs' vbe.h / QEMU's hw/display/vga.c; the clamping on enable mirrors QEMU's
// vbe_fixup_regs so guests that ask for too much get a consistent, smaller mode.
import type { ComponentState } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { MmioHandler } from '../machine/physical-memory';
import { DIRTY_SHIFT, type VgaMemory } from './vga-memory';
import type { DirtyBox, Surface } from './vga-surface';

export const DISPI_INDEX_ID = 0x0;
export const DISPI_INDEX_XRES = 0x1;
export const DISPI_INDEX_YRES = 0x2;
export const DISPI_INDEX_BPP = 0x3;
export const DISPI_INDEX_ENABLE = 0x4;
export const DISPI_INDEX_BANK = 0x5;
export const DISPI_INDEX_VIRT_WIDTH = 0x6;
export const DISPI_INDEX_VIRT_HEIGHT = 0x7;
export const DISPI_INDEX_X_OFFSET = 0x8;
export const DISPI_INDEX_Y_OFFSET = 0x9;
export const DISPI_INDEX_VIDEO_MEMORY_64K = 0xa;
const DISPI_INDEX_COUNT = 0xb;

export const DISPI_ID0 = 0xb0c0;
export const DISPI_ID5 = 0xb0c5;

export const DISPI_ENABLED = 0x01;
export const DISPI_GETCAPS = 0x02;
export const DISPI_8BIT_DAC = 0x20;
export const DISPI_LFB_ENABLED = 0x40;
export const DISPI_NOCLEARMEM = 0x80;

/** Largest mode offered (Bochs' limits); VRAM size limits it further. */
export const DISPI_MAX_XRES = 2560;
export const DISPI_MAX_YRES = 1600;
export const DISPI_MAX_BPP = 32;

/** Default physical address of the LFB on machines without PCI (Bochs' VBE_DISPI_LFB_PHYSICAL_ADDRESS). */
export const DISPI_DEFAULT_LFB_ADDRESS = 0xe0000000;

const VALID_BPP = new Set([8, 15, 16, 24, 32]);

export class BochsDispi {
  index = 0;
  readonly regs = new Uint16Array(16);
  /** Effective mode after clamping, valid while enabled. */
  lineBytes = 0;
  startByte = 0;

  constructor(
    private readonly mem: VgaMemory,
    /** Called when the enable bit or the mode geometry changes (Vga re-evaluates the display). */
    private readonly onModeChange: () => void,
  ) {
    this.reset();
  }

  reset(): void {
    this.regs.fill(0);
    this.regs[DISPI_INDEX_ID] = DISPI_ID5;
    this.regs[DISPI_INDEX_BPP] = 8;
    this.index = 0;
  }

  get enabled(): boolean {
    return (this.regs[DISPI_INDEX_ENABLE] & DISPI_ENABLED) !== 0;
  }

  get xres(): number { return this.regs[DISPI_INDEX_XRES]; }
  get yres(): number { return this.regs[DISPI_INDEX_YRES]; }
  get bpp(): number { return this.regs[DISPI_INDEX_BPP]; }
  get bank(): number { return this.regs[DISPI_INDEX_BANK]; }

  readData(): number {
    const i = this.index;
    const caps = (this.regs[DISPI_INDEX_ENABLE] & DISPI_GETCAPS) !== 0;
    switch (i) {
      case DISPI_INDEX_XRES: return caps ? DISPI_MAX_XRES : this.regs[i];
      case DISPI_INDEX_YRES: return caps ? DISPI_MAX_YRES : this.regs[i];
      case DISPI_INDEX_BPP: return caps ? DISPI_MAX_BPP : this.regs[i];
      case DISPI_INDEX_VIDEO_MEMORY_64K: return this.mem.size >>> 16;
      default:
        if (i < DISPI_INDEX_COUNT) return this.regs[i];
        logGuestError('vga', 'dispi-read-index', `DISPI read of unknown index 0x${i.toString(16)}`);
        return 0;
    }
  }

  writeData(value: number): void {
    const i = this.index;
    const v = value & 0xffff;
    const r = this.regs;
    switch (i) {
      case DISPI_INDEX_ID:
        if (v >= DISPI_ID0 && v <= DISPI_ID5) r[i] = v;
        else logGuestError('vga', 'dispi-id', `DISPI ID 0x${v.toString(16)} not supported`);
        return;
      case DISPI_INDEX_BPP: {
        const bpp = v === 0 ? 8 : v;
        if (!VALID_BPP.has(bpp)) {
          logGuestError('vga', 'dispi-bpp', `DISPI ignores ${bpp} bits per pixel`);
          return;
        }
        r[i] = bpp;
        break;
      }
      case DISPI_INDEX_XRES:
      case DISPI_INDEX_YRES:
      case DISPI_INDEX_VIRT_WIDTH:
      case DISPI_INDEX_X_OFFSET:
      case DISPI_INDEX_Y_OFFSET:
        r[i] = v;
        break;
      case DISPI_INDEX_BANK: {
        const banks = Math.max(1, this.mem.size >>> 16);
        if ((v & 0x7fff) >= banks) logGuestError('vga', 'dispi-bank', `DISPI bank ${v} beyond ${banks} banks`);
        // Bit 15 is QEMU's "bank read/write split" flag, meaningless here: keep the bank number only.
        r[i] = Math.min(v & 0x7fff, banks - 1);
        return;
      }
      case DISPI_INDEX_ENABLE: {
        const wasEnabled = this.enabled;
        r[i] = v & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC | DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);
        if (this.enabled && !wasEnabled) {
          // Like QEMU: a mode set starts with an unpanned virtual screen as wide as the mode, so a
          // VIRT_WIDTH left over from a bigger earlier mode cannot skew the new one.
          r[DISPI_INDEX_BANK] = 0;
          r[DISPI_INDEX_VIRT_WIDTH] = r[DISPI_INDEX_XRES];
          r[DISPI_INDEX_X_OFFSET] = 0;
          r[DISPI_INDEX_Y_OFFSET] = 0;
          this.fixup();
          if (!(v & DISPI_NOCLEARMEM)) {
            const bytes = Math.min(this.mem.size, this.lineBytes * r[DISPI_INDEX_YRES]); // the visible screen, as QEMU
            this.mem.vram.fill(0, 0, bytes);
            this.mem.markDirty(0, bytes);
          }
        }
        this.onModeChange();
        return;
      }
      case DISPI_INDEX_VIRT_HEIGHT:
      case DISPI_INDEX_VIDEO_MEMORY_64K:
        return; // read-only: derived from VRAM size and the line length
      default:
        logGuestError('vga', 'dispi-write-index', `DISPI write to unknown index 0x${i.toString(16)}`);
        return;
    }
    if (this.enabled) {
      this.fixup();
      this.onModeChange();
    }
  }

  /** Clamp the registers to a mode that fits (QEMU vbe_fixup_regs) and derive line length and start. */
  fixup(): void {
    const r = this.regs;
    if (!VALID_BPP.has(r[DISPI_INDEX_BPP])) r[DISPI_INDEX_BPP] = 8;
    const bytesPP = (r[DISPI_INDEX_BPP] + 7) >> 3;
    const clampX = (v: number) => Math.max(8, Math.min(DISPI_MAX_XRES, v) & ~7);
    const wanted = `${r[DISPI_INDEX_XRES]}x${r[DISPI_INDEX_YRES]}`;
    r[DISPI_INDEX_XRES] = clampX(r[DISPI_INDEX_XRES]);
    r[DISPI_INDEX_VIRT_WIDTH] = clampX(Math.max(r[DISPI_INDEX_VIRT_WIDTH], r[DISPI_INDEX_XRES]));
    let lineBytes = r[DISPI_INDEX_VIRT_WIDTH] * bytesPP;
    if (lineBytes > this.mem.size) {
      r[DISPI_INDEX_VIRT_WIDTH] = r[DISPI_INDEX_XRES];
      lineBytes = r[DISPI_INDEX_XRES] * bytesPP;
    }
    const maxY = Math.floor(this.mem.size / lineBytes);
    r[DISPI_INDEX_YRES] = Math.max(1, Math.min(r[DISPI_INDEX_YRES], DISPI_MAX_YRES, maxY));
    r[DISPI_INDEX_VIRT_HEIGHT] = Math.min(maxY, 0xffff);
    let start = r[DISPI_INDEX_X_OFFSET] * bytesPP + r[DISPI_INDEX_Y_OFFSET] * lineBytes;
    if (start + r[DISPI_INDEX_YRES] * lineBytes > this.mem.size) {
      r[DISPI_INDEX_Y_OFFSET] = 0;
      start = r[DISPI_INDEX_X_OFFSET] * bytesPP;
      if (start + r[DISPI_INDEX_YRES] * lineBytes > this.mem.size) {
        r[DISPI_INDEX_X_OFFSET] = 0;
        start = 0;
      }
    }
    if (wanted !== `${r[DISPI_INDEX_XRES]}x${r[DISPI_INDEX_YRES]}`) {
      logGuestError('vga', 'dispi-clamp', `DISPI mode ${wanted} clamped to ${r[DISPI_INDEX_XRES]}x${r[DISPI_INDEX_YRES]}`);
    }
    this.lineBytes = lineBytes;
    this.startByte = start;
  }

  /** Draw changed lines of the linear framebuffer (all lines when `force`). */
  render(dacRgba: Uint32Array, s: Surface, force: boolean, dirty: DirtyBox): void {
    const mem = this.mem;
    const vram = mem.vram;
    const v32 = mem.vram32;
    const px = s.pixels;
    const bpp = this.bpp;
    const bytesPP = (bpp + 7) >> 3;
    const w = Math.min(this.xres, s.width);
    const h = Math.min(this.yres, s.height);
    const size = mem.size;
    for (let y = 0; y < h; y++) {
      const src = this.startByte + y * this.lineBytes;
      const n = Math.min(w * bytesPP, size - src);
      if (n <= 0) break;
      if (!force && !mem.isDirty(src, src + n)) continue;
      let p = y * s.stride;
      const count = Math.floor(n / bytesPP);
      if (bpp === 32 && (src & 3) === 0) {
        // BGRX in memory (0x00RRGGBB little-endian) → RGBA words (0xAABBGGRR): swap R and B.
        let q = src >>> 2;
        for (let x = 0; x < count; x++) {
          const c = v32[q++];
          px[p++] = 0xff000000 | ((c & 0xff) << 16) | (c & 0xff00) | ((c >>> 16) & 0xff);
        }
      } else if (bpp === 32 || bpp === 24) {
        let q = src;
        for (let x = 0; x < count; x++, q += bytesPP) px[p++] = 0xff000000 | (vram[q] << 16) | (vram[q + 1] << 8) | vram[q + 2];
      } else if (bpp === 16) {
        let q = src;
        for (let x = 0; x < count; x++, q += 2) {
          const c = vram[q] | (vram[q + 1] << 8);
          const r5 = c >>> 11, g6 = (c >>> 5) & 0x3f, b5 = c & 0x1f;
          px[p++] = 0xff000000 | (((b5 << 3) | (b5 >> 2)) << 16) | (((g6 << 2) | (g6 >> 4)) << 8) | ((r5 << 3) | (r5 >> 2));
        }
      } else if (bpp === 15) {
        let q = src;
        for (let x = 0; x < count; x++, q += 2) {
          const c = vram[q] | (vram[q + 1] << 8);
          const r5 = (c >>> 10) & 0x1f, g5 = (c >>> 5) & 0x1f, b5 = c & 0x1f;
          px[p++] = 0xff000000 | (((b5 << 3) | (b5 >> 2)) << 16) | (((g5 << 3) | (g5 >> 2)) << 8) | ((r5 << 3) | (r5 >> 2));
        }
      } else {
        for (let x = 0; x < count; x++) px[p++] = dacRgba[vram[src + x]];
      }
      dirty.add(0, y, w, 1);
    }
  }

  saveState(): ComponentState {
    return { index: this.index, regs: Array.from(this.regs) };
  }

  loadState(s: ComponentState): void {
    this.index = s.index as number;
    this.regs.set(s.regs as number[]);
    if (this.enabled) this.fixup();
  }
}

/**
 * The linear framebuffer as an MMIO window (BAR0, or DISPI_DEFAULT_LFB_ADDRESS without PCI).
 * Every write marks its 256-byte block dirty so render() touches only changed lines.
 */
export function makeLfbHandler(mem: VgaMemory): MmioHandler {
  const vram = mem.vram;
  const v32 = mem.vram32;
  const dirty = mem.dirty;
  const mask = mem.size - 1;
  return {
    read8: (o) => vram[o & mask],
    write8: (o, v) => {
      o &= mask;
      vram[o] = v;
      dirty[o >>> DIRTY_SHIFT] = 1;
      mem.anyDirty = true;
    },
    read16: (o) => {
      o &= mask;
      return vram[o] | (vram[(o + 1) & mask] << 8);
    },
    write16: (o, v) => {
      o &= mask;
      vram[o] = v;
      vram[(o + 1) & mask] = v >>> 8;
      dirty[o >>> DIRTY_SHIFT] = 1;
      dirty[((o + 1) & mask) >>> DIRTY_SHIFT] = 1;
      mem.anyDirty = true;
    },
    read32: (o) => {
      o &= mask;
      if ((o & 3) === 0) return v32[o >>> 2] | 0;
      return vram[o] | (vram[(o + 1) & mask] << 8) | (vram[(o + 2) & mask] << 16) | (vram[(o + 3) & mask] << 24);
    },
    write32: (o, v) => {
      o &= mask;
      if ((o & 3) === 0) {
        v32[o >>> 2] = v;
        dirty[o >>> DIRTY_SHIFT] = 1;
      } else {
        for (let i = 0; i < 4; i++) {
          const a = (o + i) & mask;
          vram[a] = v >>> (8 * i);
          dirty[a >>> DIRTY_SHIFT] = 1;
        }
      }
      mem.anyDirty = true;
    },
  };
}
