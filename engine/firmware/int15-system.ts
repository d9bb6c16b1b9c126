// INT 15h: system services — memory sizing (E820h/E801h/88h), A20 (2400h-2403h), block
// move (87h), configuration table (C0h), wait (86h), keyboard intercept (4Fh), APM (53h:
// not present).
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import { Seg } from '../cpu/state';
import { e820Map, extendedRamBytes } from './e820';
import { EBDA_SEG } from './bda';
import { FIXED } from './rom-image';

const SMAP = 0x534d4150;

export class SystemServices {
  /** Virtual time when an AH=86h wait ends (NaN when none is running). */
  private waitUntil = NaN;

  constructor(private readonly b: BiosCtx) {}

  int15(g: Guest): void {
    const ah = g.ah;
    switch (ah) {
      case 0x24:
        return this.a20(g);
      case 0x4f: // keyboard intercept: leave the scan code and CF as they are (process it)
        return;
      case 0x53: // APM: no APM BIOS
        return g.status(0x86);
      case 0x86:
        return this.wait(g);
      case 0x87:
        return this.blockMove(g);
      case 0x88: {
        const kb = Math.floor(extendedRamBytes(this.b.ramBytes) / 1024);
        g.ax = Math.min(kb, 0xfc00); // <= 63 MiB: what old callers can represent
        g.setCF(false);
        return;
      }
      case 0x90: // device busy
      case 0x91: // interrupt complete
        return g.status(0);
      case 0xc0:
        g.setRealSeg(Seg.ES, 0xf000);
        g.bx = FIXED.configTable;
        return g.status(0);
      case 0xc1:
        g.setRealSeg(Seg.ES, EBDA_SEG);
        g.setCF(false);
        return;
      case 0xe8:
        if (g.al === 0x20) return this.e820(g);
        if (g.al === 0x01 || g.al === 0x81) return this.e801(g);
        return g.status(0x86);
      default:
        // C2h (PS/2 mouse), 89h (protected mode), E980h and the rest: not supported.
        return g.status(0x86);
    }
  }

  private a20(g: Guest): void {
    const mem = this.b.mem;
    switch (g.al) {
      case 0x00:
        mem.setA20(false);
        return g.status(0);
      case 0x01:
        mem.setA20(true);
        return g.status(0);
      case 0x02:
        g.al = mem.a20Enabled ? 1 : 0;
        return g.status(0);
      case 0x03:
        g.bx = 0x0003; // supported through the keyboard controller and port 0x92
        return g.status(0);
      default:
        return g.status(0x86);
    }
  }

  private e820(g: Guest): void {
    if (g.edx !== SMAP || g.ecx < 20) return g.status(0x86);
    const map = e820Map(this.b.ramBytes);
    const i = g.ebx;
    if (i >= map.length) return g.status(0x86);
    const e = map[i];
    const a = g.lin(Seg.ES, g.di);
    g.write32(a, e.base);
    g.write32(a + 4, 0);
    g.write32(a + 8, e.length);
    g.write32(a + 12, 0);
    g.write32(a + 16, e.type);
    // ACPI 3.0 extended attributes only for callers that ask for 24 bytes.
    if (g.ecx >= 24) {
      g.write32(a + 20, 1);
      g.ecx = 24;
    } else {
      g.ecx = 20;
    }
    g.eax = SMAP;
    g.ebx = i + 1 < map.length ? i + 1 : 0;
    g.setCF(false);
  }

  private e801(g: Guest): void {
    const ext = extendedRamBytes(this.b.ramBytes);
    const below16 = Math.min(ext, 15 * 1024 * 1024) / 1024; // KiB between 1 and 16 MiB
    const above16 = Math.max(0, ext - 15 * 1024 * 1024) / 65536; // 64 KiB blocks above 16 MiB
    g.ax = g.cx = Math.floor(below16);
    g.bx = g.dx = Math.min(0xffff, Math.floor(above16));
    g.setCF(false);
  }

  private wait(g: Guest): void {
    // CX:DX microseconds. The ROM's wait loop HLTs until the next interrupt (IRQ0 every
    // 55 ms) and calls us again, so waits are honoured with tick resolution.
    const now = this.b.clock.nowNs();
    if (Number.isNaN(this.waitUntil)) {
      const us = ((g.cx << 16) | g.dx) >>> 0;
      if (us < 1000) return g.status(0);
      this.waitUntil = now + us * 1000;
    }
    if (now >= this.waitUntil) {
      this.waitUntil = NaN;
      return g.status(0);
    }
    this.b.setEip(g, this.b.waitOffset(0x15));
  }

  private blockMove(g: Guest): void {
    // ES:SI -> GDT: descriptors at +0x10 (source) and +0x18 (destination); CX words.
    const gdt = g.lin(Seg.ES, g.si);
    const base = (d: number) => (g.read16(d + 2) | (g.read8(d + 4) << 16) | (g.read8(d + 7) << 24)) >>> 0;
    const src = base(gdt + 0x10);
    const dst = base(gdt + 0x18);
    const bytes = g.cx * 2;
    const mem = this.b.mem;
    // Physical copy with A20 on, as the protected-mode move would do.
    const a20 = mem.a20Enabled;
    mem.setA20(true);
    for (let i = 0; i < bytes; i++) mem.write8(dst + i, mem.read8(src + i));
    mem.setA20(a20);
    g.ah = 0;
    g.setCF(false);
    g.setZF(true);
  }
}
