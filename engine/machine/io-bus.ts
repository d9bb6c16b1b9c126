// The x86 I/O port space (64 KiB of ports). Devices register byte handlers and,
// where their hardware decodes them natively, word/dword handlers. Unclaimed
// ports read as all ones and swallow writes, like an open ISA bus.
import { logGuestError } from '../common/log';

export type PortRead = (port: number) => number;
export type PortWrite = (port: number, value: number) => void;

export interface PortHandlers {
  read8?: PortRead;
  write8?: PortWrite;
  read16?: PortRead;
  write16?: PortWrite;
  read32?: PortRead;
  write32?: PortWrite;
}

export class IoBus {
  private readonly r8: (PortRead | undefined)[] = new Array(0x10000);
  private readonly w8: (PortWrite | undefined)[] = new Array(0x10000);
  private readonly r16: (PortRead | undefined)[] = new Array(0x10000);
  private readonly w16: (PortWrite | undefined)[] = new Array(0x10000);
  private readonly r32: (PortRead | undefined)[] = new Array(0x10000);
  private readonly w32: (PortWrite | undefined)[] = new Array(0x10000);
  /** Report accesses to unclaimed ports (rate-limited) — useful while bringing up guests. */
  logUnclaimed = true;

  register(first: number, count: number, h: PortHandlers): void {
    for (let p = first; p < first + count; p++) {
      if (h.read8) this.r8[p] = h.read8;
      if (h.write8) this.w8[p] = h.write8;
      if (h.read16) this.r16[p] = h.read16;
      if (h.write16) this.w16[p] = h.write16;
      if (h.read32) this.r32[p] = h.read32;
      if (h.write32) this.w32[p] = h.write32;
    }
  }

  unregister(first: number, count: number): void {
    for (let p = first; p < first + count; p++) {
      this.r8[p] = this.w8[p] = this.r16[p] = this.w16[p] = this.r32[p] = this.w32[p] = undefined;
    }
  }

  isClaimed(port: number): boolean {
    return !!(this.r8[port] || this.w8[port] || this.r16[port] || this.w16[port] || this.r32[port] || this.w32[port]);
  }

  in8(port: number): number {
    const h = this.r8[port & 0xffff];
    if (h) return h(port & 0xffff) & 0xff;
    this.unclaimed('in', port, 1);
    return 0xff;
  }

  in16(port: number): number {
    port &= 0xffff;
    const h = this.r16[port];
    if (h) return h(port) & 0xffff;
    return this.in8(port) | (this.in8(port + 1) << 8);
  }

  in32(port: number): number {
    port &= 0xffff;
    const h = this.r32[port];
    if (h) return h(port) | 0;
    return (this.in16(port) | (this.in16(port + 2) << 16)) | 0;
  }

  out8(port: number, value: number): void {
    const h = this.w8[port & 0xffff];
    if (h) h(port & 0xffff, value & 0xff);
    else this.unclaimed('out', port, 1);
  }

  out16(port: number, value: number): void {
    port &= 0xffff;
    const h = this.w16[port];
    if (h) h(port, value & 0xffff);
    else {
      this.out8(port, value);
      this.out8(port + 1, value >>> 8);
    }
  }

  out32(port: number, value: number): void {
    port &= 0xffff;
    const h = this.w32[port];
    if (h) h(port, value | 0);
    else {
      this.out16(port, value);
      this.out16(port + 2, value >>> 16);
    }
  }

  private unclaimed(dir: string, port: number, size: number): void {
    if (this.logUnclaimed) logGuestError('io', `${dir}${port}`, `guest ${dir} ${size} byte(s) at unclaimed port 0x${(port & 0xffff).toString(16)}`, 3);
  }
}
