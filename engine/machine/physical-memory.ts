// The 32-bit physical address space: RAM, ROM, MMIO and holes, at 4 KiB page
// granularity. The CPU's TLB caches page kinds, so anything that changes a
// page's kind (PAM, A20, MMIO remaps) must call onMapChange to flush it.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_COUNT = 1 << (32 - PAGE_SHIFT);

/** What a physical page is. RAM and ROM are both backed by `ram` (ROM pages ignore writes). */
export const enum PageKind {
  Ram = 0,
  Rom = 1,
  Mmio = 2,
  Unmapped = 3,
}

/** A device window in the physical address space. Offsets are relative to `base`. */
export interface MmioHandler {
  read8(offset: number): number;
  write8(offset: number, value: number): void;
  /** Optional wide accessors; when absent, bytes are combined little-endian. */
  read16?(offset: number): number;
  write16?(offset: number, value: number): void;
  read32?(offset: number): number;
  write32?(offset: number, value: number): void;
}

interface MmioRegion {
  base: number;
  size: number;
  handler: MmioHandler;
}

export class PhysicalMemory implements Snapshottable {
  readonly stateId = 'memory';
  readonly stateVersion = 1;

  /** Guest RAM. Also backs ROM pages below ramSize (legacy BIOS area). */
  readonly ram: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramSize: number;

  /** Kind of each 4 KiB page of the 4 GiB space. */
  readonly pageKind = new Uint8Array(PAGE_COUNT);
  /** Index+1 into `regions` for MMIO pages (0 = none). */
  private readonly pageRegion = new Uint16Array(PAGE_COUNT);
  private readonly regions: MmioRegion[] = [];

  /**
   * Per RAM page: non-zero when the CPU holds decoded code for it. A write to such
   * a page calls onCodeWrite so self-modifying code is re-decoded.
   */
  readonly codePages: Uint8Array;
  onCodeWrite: (page: number) => void = () => {};
  /** Called after the memory map changed (A20, PAM, MMIO): the CPU flushes its TLB. */
  onMapChange: () => void = () => {};

  /** 0xFFEFFFFF when the A20 gate is off (addresses wrap at 1 MiB), else all ones. */
  a20Mask = -1;

  constructor(ramBytes: number) {
    const size = Math.ceil(ramBytes / PAGE_SIZE) * PAGE_SIZE;
    if (size < 1024 * 1024 || size > 3584 * 1024 * 1024) {
      throw new RangeError(`RAM size ${ramBytes} bytes is outside 1 MiB..3.5 GiB`);
    }
    this.ramSize = size;
    const buffer = new ArrayBuffer(size);
    this.ram = new Uint8Array(buffer);
    this.ram16 = new Uint16Array(buffer);
    this.ram32 = new Int32Array(buffer);
    this.codePages = new Uint8Array(size >>> PAGE_SHIFT);
    const ramPages = size >>> PAGE_SHIFT;
    this.pageKind.fill(PageKind.Unmapped);
    this.pageKind.fill(PageKind.Ram, 0, ramPages);
  }

  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask !== this.a20Mask) {
      this.a20Mask = mask;
      this.onMapChange();
    }
  }

  get a20Enabled(): boolean {
    return this.a20Mask === -1;
  }

  /** Map a device window. base and size must be page aligned. Later maps win. */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    if ((base & (PAGE_SIZE - 1)) !== 0 || (size & (PAGE_SIZE - 1)) !== 0 || size <= 0) {
      throw new RangeError(`MMIO window ${base.toString(16)}+${size.toString(16)} is not page aligned`);
    }
    this.regions.push({ base: base >>> 0, size, handler });
    const index = this.regions.length;
    const first = base >>> PAGE_SHIFT;
    const last = first + (size >>> PAGE_SHIFT);
    for (let p = first; p < last; p++) {
      this.pageKind[p] = PageKind.Mmio;
      this.pageRegion[p] = index;
    }
    this.onMapChange();
  }

  /** Remove a window mapped with mapMmio; pages below ramSize revert to RAM. */
  unmapMmio(handler: MmioHandler): void {
    const index = this.regions.findIndex((r) => r.handler === handler);
    if (index < 0) return;
    const region = this.regions[index];
    const first = region.base >>> PAGE_SHIFT;
    const last = first + (region.size >>> PAGE_SHIFT);
    for (let p = first; p < last; p++) {
      if (this.pageRegion[p] === index + 1) {
        this.pageRegion[p] = 0;
        this.pageKind[p] = p < this.ramSize >>> PAGE_SHIFT ? PageKind.Ram : PageKind.Unmapped;
      }
    }
    this.onMapChange();
  }

  /** Make RAM-backed pages read-only (ROM) or writable again (shadow RAM, PAM). */
  setReadOnly(base: number, size: number, readOnly: boolean): void {
    const first = base >>> PAGE_SHIFT;
    const last = first + Math.ceil(size / PAGE_SIZE);
    for (let p = first; p < last; p++) {
      const kind = this.pageKind[p];
      if (kind === PageKind.Ram || kind === PageKind.Rom) this.pageKind[p] = readOnly ? PageKind.Rom : PageKind.Ram;
    }
    this.onMapChange();
  }

  /** Copy firmware into RAM-backed pages and mark them read-only. */
  loadRom(base: number, data: Uint8Array): void {
    if (base + data.length > this.ramSize) throw new RangeError('ROM outside RAM-backed area; map it with mapMmio');
    this.ram.set(data, base);
    this.setReadOnly(base, data.length, true);
  }

  // ---- Slow-path accessors (any kind of page). The CPU uses its own fast paths for RAM. ----

  read8(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    const kind = this.pageKind[page];
    if (kind <= PageKind.Rom) return this.ram[addr];
    if (kind === PageKind.Mmio) {
      const r = this.regions[this.pageRegion[page] - 1];
      return r.handler.read8(addr - r.base) & 0xff;
    }
    return 0xff;
  }

  read16(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    const kind = this.pageKind[page];
    if (kind <= PageKind.Rom && (addr & 0xfff) !== 0xfff) {
      return (addr & 1) === 0 ? this.ram16[addr >>> 1] : this.ram[addr] | (this.ram[addr + 1] << 8);
    }
    if (kind === PageKind.Mmio && (addr & 0xfff) !== 0xfff) {
      const r = this.regions[this.pageRegion[page] - 1];
      if (r.handler.read16) return r.handler.read16(addr - r.base) & 0xffff;
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  read32(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    const kind = this.pageKind[page];
    if (kind <= PageKind.Rom && (addr & 0xfff) <= 0xffc) {
      return (addr & 3) === 0
        ? this.ram32[addr >>> 2]
        : this.ram[addr] | (this.ram[addr + 1] << 8) | (this.ram[addr + 2] << 16) | (this.ram[addr + 3] << 24);
    }
    if (kind === PageKind.Mmio && (addr & 0xfff) <= 0xffc) {
      const r = this.regions[this.pageRegion[page] - 1];
      if (r.handler.read32) return r.handler.read32(addr - r.base) | 0;
    }
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) | 0;
  }

  write8(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    const kind = this.pageKind[page];
    if (kind === PageKind.Ram) {
      if (this.codePages[page]) this.onCodeWrite(page);
      this.ram[addr] = value;
    } else if (kind === PageKind.Mmio) {
      const r = this.regions[this.pageRegion[page] - 1];
      r.handler.write8(addr - r.base, value & 0xff);
    }
    // ROM and unmapped: writes are dropped, as on the real bus.
  }

  write16(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) !== 0xfff) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram) {
        if (this.codePages[page]) this.onCodeWrite(page);
        this.ram[addr] = value;
        this.ram[addr + 1] = value >>> 8;
        return;
      }
      if (kind === PageKind.Mmio) {
        const r = this.regions[this.pageRegion[page] - 1];
        if (r.handler.write16) {
          r.handler.write16(addr - r.base, value & 0xffff);
          return;
        }
      }
    }
    this.write8(addr, value);
    this.write8(addr + 1, value >>> 8);
  }

  write32(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) <= 0xffc) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram) {
        if (this.codePages[page]) this.onCodeWrite(page);
        if ((addr & 3) === 0) this.ram32[addr >>> 2] = value;
        else {
          this.ram[addr] = value;
          this.ram[addr + 1] = value >>> 8;
          this.ram[addr + 2] = value >>> 16;
          this.ram[addr + 3] = value >>> 24;
        }
        return;
      }
      if (kind === PageKind.Mmio) {
        const r = this.regions[this.pageRegion[page] - 1];
        if (r.handler.write32) {
          r.handler.write32(addr - r.base, value | 0);
          return;
        }
      }
    }
    this.write16(addr, value);
    this.write16(addr + 2, value >>> 16);
  }

  /**
   * Bus-master DMA into guest memory. Returns false (and logs) when the range is not
   * entirely RAM, so a device can report an error to the guest instead of crashing.
   */
  dmaWrite(addr: number, data: Uint8Array): boolean {
    if (!this.isRam(addr, data.length)) {
      logGuestError('dma', 'write', `DMA write of ${data.length} bytes at ${addr.toString(16)} is outside RAM`);
      return false;
    }
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + data.length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) if (this.codePages[p]) this.onCodeWrite(p);
    this.ram.set(data, addr);
    return true;
  }

  /** Bus-master DMA from guest memory; null (and a log line) when the range is not RAM/ROM. */
  dmaRead(addr: number, length: number): Uint8Array | null {
    if (!this.isRam(addr, length, true)) {
      logGuestError('dma', 'read', `DMA read of ${length} bytes at ${addr.toString(16)} is outside RAM`);
      return null;
    }
    return this.ram.slice(addr, addr + length);
  }

  private isRam(addr: number, length: number, allowRom = false): boolean {
    if (addr < 0 || length < 0 || addr + length > this.ramSize) return false;
    if (length === 0) return true;
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      const k = this.pageKind[p];
      if (!(k === PageKind.Ram || (allowRom && k === PageKind.Rom))) return false;
    }
    return true;
  }

  saveState(): ComponentState {
    // RAM is saved raw here; the snapshot writer compresses it.
    const romPages: number[] = [];
    const ramPages = this.ramSize >>> PAGE_SHIFT;
    for (let p = 0; p < ramPages; p++) if (this.pageKind[p] === PageKind.Rom) romPages.push(p);
    return { ramSize: this.ramSize, ram: this.ram, romPages, a20: this.a20Enabled };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    if (state.ramSize !== this.ramSize) throw new Error(`saved RAM is ${state.ramSize} bytes, machine has ${this.ramSize}`);
    this.ram.set(state.ram as Uint8Array);
    const ramPages = this.ramSize >>> PAGE_SHIFT;
    for (let p = 0; p < ramPages; p++) if (this.pageKind[p] === PageKind.Rom) this.pageKind[p] = PageKind.Ram;
    for (const p of state.romPages as number[]) if (this.pageKind[p] === PageKind.Ram) this.pageKind[p] = PageKind.Rom;
    this.codePages.fill(0);
    this.a20Mask = state.a20 ? -1 : ~(1 << 20);
    this.onMapChange();
  }
}
