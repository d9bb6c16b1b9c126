// The VGA DAC (ports 0x3C6-0x3C9): 256 RGB triplets written/read one component at a
// time through an auto-incrementing index, plus the PEL mask. Components are 6 bits
// on a real VGA; the Bochs DISPI interface can switch the DAC to 8 bits (VBE 8BIT_DAC).
// The renderer reads colours through `rgba`, a cache of ready-to-store RGBA words
// rebuilt lazily after any change (mode 13h guests rewrite the DAC every frame).
import type { ComponentState } from '../common/snapshot';

/** Pack r,g,b (0-255) into the 32-bit word a little-endian Uint32Array view of RGBA bytes holds. */
export function packRgba(r: number, g: number, b: number): number {
  return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
}

/**
 * 6-bit DAC component to 8 bits the way QEMU's VGA does (c6_to_8: bit 0 fills the two new low
 * bits, so 0x3F → 0xFF and 0x2A → 0xA8), which makes our screens pixel-identical to the QEMU
 * reference screenshots. Values left over from 8-bit mode are masked.
 */
function six(v: number): number {
  v &= 0x3f;
  const b = v & 1;
  return (v << 2) | (b << 1) | b;
}

export class VgaDac {
  /** 256 × (r, g, b), as the guest wrote them (masked to 6 bits unless in 8-bit mode). */
  readonly entries = new Uint8Array(768);
  pelMask = 0xff;
  /** 0x3C8 write index and 0x3C7 read index; they share the component counter like real hardware. */
  writeIndex = 0;
  readIndex = 0;
  component = 0;
  /** Last index register written: 0x3C7 (read mode, state 0) or 0x3C8 (write mode, state 3). */
  lastWasRead = false;
  /** VBE DISPI 8BIT_DAC: components are full bytes. */
  eightBit = false;
  /** Bumped on any colour change, so renderers know when to redraw everything. */
  version = 0;

  private readonly cache = new Uint32Array(256);
  private cacheVersion = -1;

  setWriteIndex(v: number): void {
    this.writeIndex = v & 0xff;
    this.component = 0;
    this.lastWasRead = false;
  }

  setReadIndex(v: number): void {
    this.readIndex = v & 0xff;
    this.component = 0;
    this.lastWasRead = true;
  }

  writeData(v: number): void {
    this.entries[this.writeIndex * 3 + this.component] = this.eightBit ? v & 0xff : v & 0x3f;
    this.version++;
    if (++this.component === 3) {
      this.component = 0;
      this.writeIndex = (this.writeIndex + 1) & 0xff;
    }
  }

  readData(): number {
    const e = this.entries[this.readIndex * 3 + this.component];
    const v = this.eightBit ? e : e & 0x3f;
    if (++this.component === 3) {
      this.component = 0;
      this.readIndex = (this.readIndex + 1) & 0xff;
    }
    return v;
  }

  /** 0x3C7 read: DAC state (0 = read mode, 3 = write mode). */
  state(): number {
    return this.lastWasRead ? 0 : 3;
  }

  setPelMask(v: number): void {
    if ((v & 0xff) !== this.pelMask) {
      this.pelMask = v & 0xff;
      this.version++;
    }
  }

  setEightBit(on: boolean): void {
    if (on !== this.eightBit) {
      this.eightBit = on;
      this.version++;
    }
  }

  /** RGBA words for all 256 DAC entries (PEL mask applied to the index, as the hardware does). */
  rgba(): Uint32Array {
    if (this.cacheVersion !== this.version) {
      const e = this.entries;
      const mask = this.pelMask;
      for (let i = 0; i < 256; i++) {
        const j = (i & mask) * 3;
        if (this.eightBit) this.cache[i] = packRgba(e[j], e[j + 1], e[j + 2]);
        else this.cache[i] = packRgba(six(e[j]), six(e[j + 1]), six(e[j + 2]));
      }
      this.cacheVersion = this.version;
    }
    return this.cache;
  }

  saveState(): ComponentState {
    return {
      entries: this.entries.slice(),
      pelMask: this.pelMask,
      writeIndex: this.writeIndex,
      readIndex: this.readIndex,
      component: this.component,
      lastWasRead: this.lastWasRead,
      eightBit: this.eightBit,
    };
  }

  loadState(s: ComponentState): void {
    this.entries.set(s.entries as Uint8Array);
    this.pelMask = s.pelMask as number;
    this.writeIndex = s.writeIndex as number;
    this.readIndex = s.readIndex as number;
    this.component = s.component as number;
    this.lastWasRead = s.lastWasRead as boolean;
    this.eightBit = s.eightBit as boolean;
    this.version++;
  }
}
