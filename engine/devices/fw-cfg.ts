// QEMU's firmware configuration device, as SeaBIOS expects it on the PC: selector at
// port 0x510 (16-bit), data at 0x511 (8-bit), DMA interface at 0x514 (64-bit address
// written big-endian as two 32-bit halves; writing the low half at 0x518 starts it).
// Items are numbered keys (signature, RAM size, kernel/initrd/cmdline for direct
// boot...) plus named files listed in the directory at key 0x19 ("etc/e820",
// "genroms/linuxboot_dma.bin", ...). See QEMU docs/specs/fw_cfg.rst.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { PhysicalMemory } from '../machine/physical-memory';
import type { DeviceContext } from './device-context';

export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;

export const enum FwCfgKey {
  Signature = 0x00,
  Id = 0x01,
  Uuid = 0x02,
  RamSize = 0x03,
  NoGraphic = 0x04,
  NbCpus = 0x05,
  MachineId = 0x06,
  KernelAddr = 0x07,
  KernelSize = 0x08,
  KernelCmdline = 0x09,
  InitrdAddr = 0x0a,
  InitrdSize = 0x0b,
  BootDevice = 0x0c,
  Numa = 0x0d,
  BootMenu = 0x0e,
  MaxCpus = 0x0f,
  KernelEntry = 0x10,
  KernelData = 0x11,
  InitrdData = 0x12,
  CmdlineAddr = 0x13,
  CmdlineSize = 0x14,
  CmdlineData = 0x15,
  SetupAddr = 0x16,
  SetupSize = 0x17,
  SetupData = 0x18,
  FileDir = 0x19,
  FileFirst = 0x20,
  /** x86-specific keys. */
  AcpiTables = 0x8000,
  SmbiosEntries = 0x8001,
  Irq0Override = 0x8002,
  E820Table = 0x8003,
  Hpet = 0x8004,
}

const DMA_ERROR = 0x01;
const DMA_READ = 0x02;
const DMA_SKIP = 0x04;
const DMA_SELECT = 0x08;
const DMA_WRITE = 0x10;

/** Items are read-only host data; their bytes are not part of the saved state (the config rebuilds them). */
export class FwCfg implements Snapshottable {
  readonly stateId = 'fw-cfg';
  readonly stateVersion = 1;
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; key: number }[] = [];
  private selector = 0;
  private offset = 0;
  private dmaAddrHigh = 0;
  private readonly mem: PhysicalMemory;

  constructor(ctx: DeviceContext) {
    this.mem = ctx.mem;
    this.addBytes(FwCfgKey.Signature, new TextEncoder().encode('QEMU'));
    this.addU32(FwCfgKey.Id, 0x3); // traditional interface + DMA
    ctx.io.register(FW_CFG_PORT_SEL, 2, {
      write16: (_p, v) => this.select(v),
      write8: (p, v) => {
        if (p === FW_CFG_PORT_SEL) this.select(v);
      },
      read16: () => this.selector,
    });
    ctx.io.register(FW_CFG_PORT_DATA, 1, { read8: () => this.readByte(), write8: () => {} });
    ctx.io.register(FW_CFG_PORT_DMA, 8, {
      // Reading the DMA address register returns the "QEMU CFG" signature (big-endian).
      read32: (p) => (p === FW_CFG_PORT_DMA ? 0x51454d55 : 0x20434647),
      read8: (p) => 'QEMU CFG'.charCodeAt(p - FW_CFG_PORT_DMA),
      write32: (p, v) => {
        const host = bswap32(v);
        if (p === FW_CFG_PORT_DMA) this.dmaAddrHigh = host;
        else if (p === FW_CFG_PORT_DMA + 4) {
          if (this.dmaAddrHigh !== 0) logGuestError('fw-cfg', 'dma64', 'fw_cfg: DMA descriptor above 4 GiB');
          else this.dma(host);
          this.dmaAddrHigh = 0;
        }
      },
    });
  }

  addBytes(key: number, data: Uint8Array): void {
    this.items.set(key, data);
  }

  addU16(key: number, v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.items.set(key, b);
  }

  addU32(key: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.items.set(key, b);
  }

  addU64(key: number, v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.items.set(key, b);
  }

  /** Add a named file; returns its key. Names are at most 55 bytes. */
  addFile(name: string, data: Uint8Array): number {
    const existing = this.files.find((f) => f.name === name);
    const key = existing ? existing.key : FwCfgKey.FileFirst + this.files.length;
    if (!existing) this.files.push({ name, key });
    this.items.set(key, data);
    this.rebuildDirectory();
    return key;
  }

  hasFile(name: string): boolean {
    return this.files.some((f) => f.name === name);
  }

  private rebuildDirectory(): void {
    // Big-endian count, then { u32 size, u16 select, u16 reserved, char name[56] }, sorted by name as QEMU does.
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + 64 * sorted.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, sorted.length);
    sorted.forEach((f, i) => {
      const o = 4 + i * 64;
      dv.setUint32(o, this.items.get(f.key)!.length);
      dv.setUint16(o + 4, f.key);
      dir.set(new TextEncoder().encode(f.name).subarray(0, 55), o + 8);
    });
    this.items.set(FwCfgKey.FileDir, dir);
  }

  private select(v: number): void {
    this.selector = v & 0xffff;
    this.offset = 0;
  }

  private current(): Uint8Array | undefined {
    // Bit 14 was the legacy write flag; it is not part of the key.
    return this.items.get(this.selector & ~0x4000);
  }

  private readByte(): number {
    const item = this.current();
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  private dma(addr: number): void {
    const mem = this.mem;
    const control = bswap32(mem.read32(addr));
    let length = bswap32(mem.read32(addr + 4)) >>> 0;
    const high = bswap32(mem.read32(addr + 8)) >>> 0;
    const target = bswap32(mem.read32(addr + 12)) >>> 0;
    let error = false;
    if (control & DMA_SELECT) this.select(control >>> 16);
    if (high !== 0) error = true;
    else if (control & DMA_READ || control & DMA_SKIP) {
      const item = this.current();
      const avail = item ? Math.max(0, item.length - this.offset) : 0;
      const n = Math.min(length, avail);
      if (control & DMA_READ) {
        // Bytes past the item's end read as zero.
        const buf = new Uint8Array(length);
        if (item && n > 0) buf.set(item.subarray(this.offset, this.offset + n));
        if (length && !mem.dmaWrite(target, buf)) error = true;
      }
      this.offset += n;
      length = 0;
    } else if (control & DMA_WRITE) {
      // Items are read-only here (QEMU only allows writes to a few files we do not offer).
      error = true;
    }
    mem.write32(addr, bswap32(error ? DMA_ERROR : 0));
  }

  reset(): void {
    this.selector = 0;
    this.offset = 0;
    this.dmaAddrHigh = 0;
  }

  saveState(): ComponentState {
    return { selector: this.selector, offset: this.offset, dmaAddrHigh: this.dmaAddrHigh };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.selector = state.selector as number;
    this.offset = state.offset as number;
    this.dmaAddrHigh = state.dmaAddrHigh as number;
  }
}

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
}
