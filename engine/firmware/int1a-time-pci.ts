// INT 1Ah: tick counter (00h/01h), RTC time and date through the CMOS ports (02h-07h),
// and the PCI BIOS (B1xxh) — also reached from protected mode through the 32-bit entry.
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import { Seg } from '../cpu/state';
import { BDA_TICKS, BDA_MIDNIGHT } from './bda';

const bcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const unbcd = (v: number) => (v >> 4) * 10 + (v & 15);

export class TimeServices {
  constructor(private readonly b: BiosCtx) {}

  cmos(reg: number): number {
    this.b.io.out8(0x70, reg);
    return this.b.io.in8(0x71);
  }
  setCmos(reg: number, v: number): void {
    this.b.io.out8(0x70, reg);
    this.b.io.out8(0x71, v);
  }
  private get binaryMode(): boolean {
    return (this.cmos(0x0b) & 0x04) !== 0;
  }
  /** A time/date register as BCD whatever mode the RTC is in. */
  private rtcBcd(reg: number): number {
    const v = this.cmos(reg);
    return this.binaryMode ? bcd(v) : v;
  }
  private setRtcBcd(reg: number, v: number): void {
    this.setCmos(reg, this.binaryMode ? unbcd(v) : v);
  }

  /** Seconds since midnight from the RTC, for the BDA tick count at POST. */
  rtcSecondsOfDay(): number {
    let h = unbcd(this.rtcBcd(0x04) & 0x7f);
    const m = unbcd(this.rtcBcd(0x02));
    const s = unbcd(this.rtcBcd(0x00));
    if (!(this.cmos(0x0b) & 0x02)) {
      // 12-hour mode: bit 7 of the hour is PM.
      const pm = (this.cmos(0x04) & 0x80) !== 0;
      h = (h % 12) + (pm ? 12 : 0);
    }
    return (h * 3600 + m * 60 + s) % 86400;
  }

  private rtcUpdating(): boolean {
    return (this.cmos(0x0a) & 0x80) !== 0;
  }

  int1a(g: Guest, pci: PciBios): void {
    const mem = this.b.mem;
    switch (g.ah) {
      case 0x00: {
        const t = mem.read32(BDA_TICKS);
        g.cx = (t >>> 16) & 0xffff;
        g.dx = t & 0xffff;
        g.al = mem.read8(BDA_MIDNIGHT);
        mem.write8(BDA_MIDNIGHT, 0);
        return;
      }
      case 0x01:
        mem.write32(BDA_TICKS, ((g.cx << 16) | g.dx) >>> 0);
        mem.write8(BDA_MIDNIGHT, 0);
        return;
      case 0x02:
        if (this.rtcUpdating()) return g.setCF(true);
        g.ch = this.rtcBcd(0x04);
        g.cl = this.rtcBcd(0x02);
        g.dh = this.rtcBcd(0x00);
        g.dl = this.cmos(0x0b) & 0x01; // daylight saving enable
        return g.setCF(false);
      case 0x03:
        this.setRtcBcd(0x04, g.ch);
        this.setRtcBcd(0x02, g.cl);
        this.setRtcBcd(0x00, g.dh);
        this.setCmos(0x0b, (this.cmos(0x0b) & ~0x01) | (g.dl & 1));
        return g.setCF(false);
      case 0x04:
        if (this.rtcUpdating()) return g.setCF(true);
        g.ch = this.rtcBcd(0x32) || 0x20; // century
        g.cl = this.rtcBcd(0x09);
        g.dh = this.rtcBcd(0x08);
        g.dl = this.rtcBcd(0x07);
        return g.setCF(false);
      case 0x05:
        this.setRtcBcd(0x32, g.ch);
        this.setRtcBcd(0x09, g.cl);
        this.setRtcBcd(0x08, g.dh);
        this.setRtcBcd(0x07, g.dl);
        return g.setCF(false);
      case 0x06: // set alarm: not offered
      case 0x07:
        return g.setCF(true);
      case 0xb1:
        pci.call(g, false);
        return;
      default:
        return g.setCF(true);
    }
  }
}

const enum PciStatus {
  Successful = 0x00,
  FuncNotSupported = 0x81,
  BadVendorId = 0x83,
  DeviceNotFound = 0x86,
  BadRegisterNumber = 0x87,
  BufferTooSmall = 0x89,
}

/** PCI BIOS 2.10 through configuration mechanism #1 (0xCF8/0xCFC). */
export class PciBios {
  /** Highest bus number (only bus 0 exists on the machines Boxwood builds). */
  lastBus = 0;

  constructor(private readonly b: BiosCtx) {}

  private addr(bdf: number, reg: number): void {
    this.b.io.out32(0xcf8, (0x80000000 | (bdf << 8) | (reg & 0xfc)) >>> 0);
  }
  read(bdf: number, reg: number, size: 1 | 2 | 4): number {
    this.addr(bdf, reg);
    const port = 0xcfc + (reg & 3);
    return size === 1 ? this.b.io.in8(port) : size === 2 ? this.b.io.in16(port) : this.b.io.in32(port) >>> 0;
  }
  write(bdf: number, reg: number, size: 1 | 2 | 4, v: number): void {
    this.addr(bdf, reg);
    const port = 0xcfc + (reg & 3);
    if (size === 1) this.b.io.out8(port, v);
    else if (size === 2) this.b.io.out16(port, v);
    else this.b.io.out32(port, v);
  }

  /** Every present function on bus 0: bdf values. */
  functions(): number[] {
    const out: number[] = [];
    for (let dev = 0; dev < 32; dev++) {
      for (let fn = 0; fn < 8; fn++) {
        const bdf = (dev << 3) | fn;
        const id = this.read(bdf, 0, 4);
        if (id === 0xffffffff || id === 0) {
          if (fn === 0) break;
          continue;
        }
        out.push(bdf);
        if (fn === 0 && !(this.read(bdf, 0x0e, 1) & 0x80)) break; // single-function device
      }
    }
    return out;
  }

  /**
   * AX=B1xxh. `pm`: called through the 32-bit entry (full registers, CF in the live EFLAGS),
   * else from real mode through INT 1Ah (CF in the stacked FLAGS).
   */
  call(g: Guest, pm: boolean): void {
    const setCF = (on: boolean) => (pm ? g.setLiveCF(on) : g.setCF(on));
    const done = (st: number) => {
      g.ah = st;
      setCF(st !== 0);
    };
    if (!this.b.cfg.pci) return done(PciStatus.FuncNotSupported);
    const bdf = g.bx;
    const reg = pm ? g.edi & 0xff : g.di & 0xff;
    switch (g.al) {
      case 0x01:
        g.edx = 0x20494350; // "PCI "
        g.al = 0x01; // configuration mechanism #1
        g.bh = 0x02;
        g.bl = 0x10; // version 2.10
        g.cl = this.lastBus;
        return done(PciStatus.Successful);
      case 0x02: {
        // Find device CX (device id), DX (vendor), SI (index).
        if (g.dx === 0xffff) return done(PciStatus.BadVendorId);
        let n = g.si;
        for (const f of this.functions()) {
          const id = this.read(f, 0, 4);
          if ((id & 0xffff) === g.dx && id >>> 16 === g.cx && n-- === 0) {
            g.bx = f;
            return done(PciStatus.Successful);
          }
        }
        return done(PciStatus.DeviceNotFound);
      }
      case 0x03: {
        // Find class code ECX (24 bits), index SI.
        const want = g.ecx & 0xffffff;
        let n = g.si;
        for (const f of this.functions()) {
          if (this.read(f, 8, 4) >>> 8 === want && n-- === 0) {
            g.bx = f;
            return done(PciStatus.Successful);
          }
        }
        return done(PciStatus.DeviceNotFound);
      }
      case 0x08:
        g.cl = this.read(bdf, reg, 1);
        return done(PciStatus.Successful);
      case 0x09:
        if (reg & 1) return done(PciStatus.BadRegisterNumber);
        g.cx = this.read(bdf, reg, 2);
        return done(PciStatus.Successful);
      case 0x0a:
        if (reg & 3) return done(PciStatus.BadRegisterNumber);
        g.ecx = this.read(bdf, reg, 4);
        return done(PciStatus.Successful);
      case 0x0b:
        this.write(bdf, reg, 1, g.cl);
        return done(PciStatus.Successful);
      case 0x0c:
        if (reg & 1) return done(PciStatus.BadRegisterNumber);
        this.write(bdf, reg, 2, g.cx);
        return done(PciStatus.Successful);
      case 0x0d:
        if (reg & 3) return done(PciStatus.BadRegisterNumber);
        this.write(bdf, reg, 4, g.ecx);
        return done(PciStatus.Successful);
      case 0x0e: {
        // Get IRQ routing options: we publish no routing table ($PIR); say so with size 0.
        const a = pm ? (g.cpu.segBase[Seg.ES] + g.edi) >>> 0 : g.lin(Seg.ES, g.di);
        g.write16(a, 0);
        g.bx = 0;
        return done(PciStatus.BufferTooSmall);
      }
      default:
        return done(PciStatus.FuncNotSupported);
    }
  }
}
