// Video memory and the VGA's CPU access path through the legacy window (0xA0000-0xBFFFF).
//
// Layout: one VRAM buffer serves both the VGA and the Bochs VBE framebuffer (like QEMU's
// stdvga). For the VGA, the four 64 KiB planes are interleaved: plane offset `a` of plane
// `p` is byte `a * 4 + p`, so the 32-bit word `vram32[a]` holds all four planes at `a` —
// which is exactly the VGA's 32-bit latch and lets the write modes work on 4 planes at once.
// Little-endian host assumed (every platform Electron and Node ship on).
//
// Addressing follows the hardware rather than QEMU's compressed form: chain-4 puts CPU byte
// `A` in plane `A & 3` at offset `A & ~3`; odd/even puts it in plane `A & 1` (or 2|1) at
// offset `A & ~1`. The CRTC's word/dword address modes (vga-registers.ts) read them back.
//
// Write modes, set/reset, rotate, logical function, bit mask and read mode 1 colour compare
// follow FreeVGA's graphics controller description ("Graphics Registers", "Read/Write Logic").
import type { VgaRegisters } from './vga-registers';

/** Bit p of a 4-bit plane mask → byte p of a 32-bit word set to 0xFF. */
const EXPAND = new Uint32Array(16);
for (let i = 0; i < 16; i++) {
  EXPAND[i] = ((i & 1 ? 0xff : 0) | (i & 2 ? 0xff00 : 0) | (i & 4 ? 0xff0000 : 0) | (i & 8 ? 0xff000000 : 0)) >>> 0;
}

/** Dirty tracking granularity: 256 bytes of VRAM (64 plane offsets of a planar mode), finer than a scan line. */
export const DIRTY_SHIFT = 8;

/** Base (relative to 0xA0000) and size of each GR6 memory map. */
const MAP_BASE = [0x00000, 0x00000, 0x10000, 0x18000];
const MAP_SIZE = [0x20000, 0x10000, 0x08000, 0x08000];

export class VgaMemory {
  readonly vram: Uint8Array;
  readonly vram32: Uint32Array;
  /** One byte per 256-byte block: non-zero when written since the last render. */
  readonly dirty: Uint8Array;
  anyDirty = true;
  /** Plane 2 (the character generator) was written: text must be redrawn with the new glyphs. */
  fontDirty = true;
  /** The four latches, loaded by every CPU read of the legacy window. */
  latch = 0;

  constructor(
    readonly size: number,
    private readonly regs: VgaRegisters,
  ) {
    this.vram = new Uint8Array(size);
    this.vram32 = new Uint32Array(this.vram.buffer);
    this.dirty = new Uint8Array(size >>> DIRTY_SHIFT);
  }

  /** Mark VRAM bytes [start, end) as changed (VBE writes, loadState, clears). */
  markDirty(start: number, end: number): void {
    if (end <= start) return;
    const first = Math.max(0, start >>> DIRTY_SHIFT);
    const last = Math.min(this.dirty.length - 1, (end - 1) >>> DIRTY_SHIFT);
    for (let b = first; b <= last; b++) this.dirty[b] = 1;
    this.anyDirty = true;
  }

  markAllDirty(): void {
    this.dirty.fill(1);
    this.anyDirty = true;
    this.fontDirty = true;
  }

  /** Is any of VRAM [start, end) dirty? */
  isDirty(start: number, end: number): boolean {
    const d = this.dirty;
    const last = Math.min(d.length - 1, (end - 1) >>> DIRTY_SHIFT);
    for (let b = start >>> DIRTY_SHIFT; b <= last; b++) if (d[b]) return true;
    return false;
  }

  clearDirty(): void {
    if (this.anyDirty) this.dirty.fill(0);
    this.anyDirty = false;
    this.fontDirty = false;
  }

  /** Offset inside the selected GR6 memory map for a window offset (0-0x1FFFF), or -1 when not decoded. */
  private mapOffset(windowOffset: number): number {
    const m = this.regs.memoryMap;
    const o = windowOffset - MAP_BASE[m];
    return o >= 0 && o < MAP_SIZE[m] ? o : -1;
  }

  /** A CPU read from the legacy window (offset relative to 0xA0000). */
  read(windowOffset: number): number {
    const off = this.mapOffset(windowOffset);
    if (off < 0) return 0xff;
    const r = this.regs;
    let plane: number;
    let addr: number;
    if (r.chain4) {
      plane = off & 3;
      addr = (off & ~3) & 0xffff;
    } else if (r.oddEvenRead) {
      plane = (r.gr[4] & 2) | (off & 1);
      addr = (off & ~1) & 0xffff;
    } else {
      plane = r.gr[4] & 3;
      addr = off & 0xffff;
    }
    const latch = this.vram32[addr];
    this.latch = latch;
    if ((r.gr[5] & 0x08) === 0) return (latch >>> (plane * 8)) & 0xff;
    // Read mode 1: a 1 bit where every plane enabled in Color Don't Care matches Color Compare.
    const care = r.gr[7] & 0x0f;
    const diff = (latch ^ EXPAND[r.gr[2] & 0x0f]) & EXPAND[care];
    const any = (diff | (diff >>> 8) | (diff >>> 16) | (diff >>> 24)) & 0xff;
    return ~any & 0xff;
  }

  /** A CPU write to the legacy window. */
  write(windowOffset: number, value: number): void {
    const off = this.mapOffset(windowOffset);
    if (off < 0) return;
    const r = this.regs;
    const gr = r.gr;
    let planes = r.seq[2] & 0x0f;
    let addr: number;
    if (r.chain4) {
      planes &= 1 << (off & 3);
      addr = (off & ~3) & 0xffff;
    } else if (r.oddEvenWrite) {
      planes &= off & 1 ? 0x0a : 0x05;
      addr = (off & ~1) & 0xffff;
    } else {
      addr = off & 0xffff;
    }
    if (planes === 0) return;
    const latch = this.latch;
    const mode = gr[5] & 3;
    let v: number;
    let bitMask = gr[8];
    if (mode === 1) {
      // Write mode 1: the latches are written back unchanged (fast copies).
      v = latch;
    } else {
      if (mode === 2) {
        v = EXPAND[value & 0x0f];
      } else {
        const rot = gr[3] & 7;
        const b = ((value >>> rot) | (value << (8 - rot))) & 0xff;
        if (mode === 0) {
          const sre = EXPAND[gr[1] & 0x0f];
          v = ((b * 0x01010101) & ~sre) | (EXPAND[gr[0] & 0x0f] & sre);
        } else {
          // Write mode 3: set/reset is the colour, the rotated byte ANDed with the bit mask is the mask.
          v = EXPAND[gr[0] & 0x0f];
          bitMask &= b;
        }
      }
      switch ((gr[3] >> 3) & 3) {
        case 1: v &= latch; break;
        case 2: v |= latch; break;
        case 3: v ^= latch; break;
      }
      const bm = bitMask * 0x01010101;
      v = (v & bm) | (latch & ~bm);
    }
    const wm = EXPAND[planes];
    const old = this.vram32[addr];
    const next = ((old & ~wm) | (v & wm)) >>> 0;
    if (next === old) return;
    this.vram32[addr] = next;
    this.dirty[addr >>> (DIRTY_SHIFT - 2)] = 1;
    this.anyDirty = true;
    if (wm & 0x00ff0000) this.fontDirty = true;
  }
}
