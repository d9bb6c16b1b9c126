// virtio over PCI, "transitional" like QEMU's devices (virtio 1.x spec 4.1): one function
// that offers BOTH the legacy interface (I/O BAR0: registers + device config, 0.9.5 layout)
// and the modern one (vendor capabilities pointing into memory BAR4: common config, notify,
// ISR, device config). PCI ids 1af4:10xx (transitional) with the virtio device type as subsystem id,
// which is how both Linux drivers identify the device. Interrupts are INTx only (no MSI-X):
// the ISR register says why (bit 0 used buffers, bit 1 config change) and reading it deasserts.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';
import { VirtQueue, VirtqError } from './virtio-queue';

// Device status bits (2.1).
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;

// Transport feature bits.
export const F_RING_INDIRECT_DESC = 28;
export const F_VERSION_1 = 32;

// Capability layout in BAR4 (offsets as QEMU uses them).
const CAP_COMMON = 1;
const CAP_NOTIFY = 2;
const CAP_ISR = 3;
const CAP_DEVICE = 4;
const MODERN_BAR = 4;
const OFF_COMMON = 0x0000;
const OFF_ISR = 0x1000;
const OFF_DEVICE = 0x2000;
const OFF_NOTIFY = 0x3000;
const NOTIFY_MULTIPLIER = 4;
const LEGACY_HEADER = 0x14;

/** What a virtio device (blk, console...) supplies to the transport. */
export interface VirtioBackend {
  /** Virtio device type (2 block, 3 console). */
  readonly deviceType: number;
  /** Transitional PCI device id (virtio 1.x table 4.1.2.3: net 0x1000, block 0x1001, console 0x1003). */
  readonly transitionalDeviceId: number;
  /** PCI class code (e.g. 0x010000 SCSI-class storage for blk, as QEMU). */
  readonly classCode: number;
  /** Device feature bits (bit numbers below 64) offered besides the transport's. */
  readonly features: number[];
  /** Maximum size of each queue. */
  readonly queueSizes: number[];
  /** Size in bytes of the device-specific configuration. */
  readonly configSize: number;
  configRead(offset: number): number;
  configWrite(offset: number, value: number): void;
  /** The driver notified queue `q` (or DRIVER_OK made it worth looking). */
  queueNotify(q: number): void;
  /** The driver reset the device (status written 0, or machine reset): drop device-side state. */
  deviceReset(): void;
}

export class VirtioPci implements PciFunction, Snapshottable {
  readonly stateId: string;
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;
  readonly queues: VirtQueue[];
  /** Features the device offers (64 bits as two halves). */
  private readonly offered: [number, number];
  private driverFeatures: [number, number] = [0, 0];
  private deviceFeatureSel = 0;
  private driverFeatureSel = 0;
  private queueSel = 0;
  status = 0;
  private isr = 0;
  private configGeneration = 0;
  /** Set once the driver touched the legacy BAR: the legacy rules (no VERSION_1, PFN queues) apply. */
  private legacy = false;

  constructor(
    private readonly ctx: DeviceContext,
    bus: PciBus,
    dev: number,
    private readonly backend: VirtioBackend,
    name: string,
  ) {
    this.stateId = `virtio-pci-${name}`;
    this.queues = backend.queueSizes.map((n) => new VirtQueue(ctx.mem, n));
    const lo = backend.features.filter((b) => b < 32).reduce((a, b) => a | (1 << b), 1 << F_RING_INDIRECT_DESC) >>> 0;
    const hi = backend.features.filter((b) => b >= 32).reduce((a, b) => a | (1 << (b - 32)), 1 << (F_VERSION_1 - 32)) >>> 0;
    this.offered = [lo, hi];
    let legacySize = 1;
    while (legacySize < LEGACY_HEADER + backend.configSize) legacySize <<= 1;
    this.pci = new PciConfigSpace(name, {
      vendorId: 0x1af4,
      deviceId: backend.transitionalDeviceId,
      revision: 0, // transitional devices have revision 0
      classCode: backend.classCode,
      subsystemVendorId: 0x1af4,
      subsystemId: backend.deviceType,
      interruptPin: 1,
      bars: [
        {
          kind: 'io',
          size: Math.max(legacySize, 0x20),
          io: {
            read8: (p) => this.legacyRead(p - this.pci.barBase(0)!, 1),
            read16: (p) => this.legacyRead(p - this.pci.barBase(0)!, 2),
            read32: (p) => this.legacyRead(p - this.pci.barBase(0)!, 4),
            write8: (p, v) => this.legacyWrite(p - this.pci.barBase(0)!, 1, v),
            write16: (p, v) => this.legacyWrite(p - this.pci.barBase(0)!, 2, v),
            write32: (p, v) => this.legacyWrite(p - this.pci.barBase(0)!, 4, v),
          },
        },
        undefined,
        undefined,
        undefined,
        {
          kind: 'mem',
          size: 0x4000,
          mmio: {
            read8: (o) => this.modernRead(o, 1),
            read16: (o) => this.modernRead(o, 2),
            read32: (o) => this.modernRead(o, 4),
            write8: (o, v) => this.modernWrite(o, 1, v),
            write16: (o, v) => this.modernWrite(o, 2, v),
            write32: (o, v) => this.modernWrite(o, 4, v),
          },
        },
      ],
    });
    this.addCap(CAP_COMMON, OFF_COMMON, 0x38);
    this.addCap(CAP_ISR, OFF_ISR, 1);
    this.addCap(CAP_DEVICE, OFF_DEVICE, Math.max(backend.configSize, 1));
    const n = this.addCap(CAP_NOTIFY, OFF_NOTIFY, NOTIFY_MULTIPLIER * this.queues.length, 4);
    this.pci.set32(n + 16, NOTIFY_MULTIPLIER);
    bus.attach(dev, 0, this);
  }

  /** struct virtio_pci_cap (4.1.4): vendor capability 0x09. */
  private addCap(type: number, offset: number, length: number, extra = 0): number {
    const off = this.pci.addCapability(0x09, 16 + extra);
    this.pci.set8(off + 2, 16 + extra); // cap_len
    this.pci.set8(off + 3, type);
    this.pci.set8(off + 4, MODERN_BAR);
    this.pci.set32(off + 8, offset);
    this.pci.set32(off + 12, length);
    return off;
  }

  /** Whether feature bit `bit` was accepted by the driver. */
  hasFeature(bit: number): boolean {
    return bit < 32 ? (this.driverFeatures[0] & (1 << bit)) !== 0 : (this.driverFeatures[1] & (1 << (bit - 32))) !== 0;
  }

  get driverOk(): boolean {
    return (this.status & STATUS_DRIVER_OK) !== 0 && !(this.status & STATUS_NEEDS_RESET);
  }

  /** Signal used buffers on queue q (unless the driver suppressed interrupts for it). */
  notifyUsed(q: number): void {
    let want = true;
    try {
      want = this.queues[q].wantsInterrupt();
    } catch {
      // An unreadable avail ring: interrupt anyway, the driver will find out.
    }
    if (!want) return;
    this.isr |= 1;
    this.pci.setIrq(true);
  }

  /** A malformed ring or request: log it and put the device in DEVICE_NEEDS_RESET (spec 2.1.2). */
  deviceError(e: unknown): void {
    if (!(e instanceof VirtqError)) throw e;
    logGuestError(this.pci.name, 'ring', `${this.pci.name}: ${e.message}; device needs reset`);
    this.status |= STATUS_NEEDS_RESET;
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    this.isr |= 2;
    this.pci.setIrq(true);
  }

  /** Device config changed (e.g. capacity): config interrupt. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (!(this.status & STATUS_DRIVER_OK)) return;
    this.isr |= 2;
    this.pci.setIrq(true);
  }

  private resetDevice(): void {
    this.status = 0;
    this.isr = 0;
    this.driverFeatures = [0, 0];
    this.deviceFeatureSel = this.driverFeatureSel = this.queueSel = 0;
    for (const q of this.queues) q.reset();
    this.pci.setIrq(false);
    this.backend.deviceReset();
  }

  private readIsr(): number {
    const v = this.isr;
    this.isr = 0;
    this.pci.setIrq(false);
    return v;
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.resetDevice();
      return;
    }
    const was = this.status;
    if (v & STATUS_FEATURES_OK && !(was & STATUS_FEATURES_OK)) {
      // 3.1.1: refuse features we did not offer, and a modern driver that did not take VERSION_1.
      const extra = (this.driverFeatures[0] & ~this.offered[0]) | (this.driverFeatures[1] & ~this.offered[1]);
      if (extra || (!this.legacy && !this.hasFeature(F_VERSION_1))) {
        logGuestError(this.pci.name, 'features', `${this.pci.name}: driver accepted features it was not offered or no VERSION_1`);
        v &= ~STATUS_FEATURES_OK;
      }
    }
    this.status = (v & 0xff) | (was & STATUS_NEEDS_RESET);
    if (v & STATUS_DRIVER_OK && !(was & STATUS_DRIVER_OK)) {
      for (let q = 0; q < this.queues.length; q++) this.kick(q);
    }
  }

  private kick(q: number): void {
    if (q >= this.queues.length) {
      logGuestError(this.pci.name, 'notify', `${this.pci.name}: notify of nonexistent queue ${q}`);
      return;
    }
    if (!this.driverOk && !this.legacy) return;
    if (this.status & STATUS_NEEDS_RESET) return;
    if (!this.queues[q].enabled) return;
    try {
      this.backend.queueNotify(q);
    } catch (e) {
      this.deviceError(e);
    }
  }

  // ---- Legacy interface (I/O BAR0) ----

  private legacyRead(off: number, size: number): number {
    this.legacy = true;
    if (off >= LEGACY_HEADER) return this.configRead(off - LEGACY_HEADER, size);
    const q = this.queues[this.queueSel];
    let v: number;
    switch (off) {
      case 0x00:
        v = this.offered[0]; // legacy drivers see only the low 32 feature bits (no VERSION_1)
        break;
      case 0x04:
        v = this.driverFeatures[0];
        break;
      case 0x08:
        v = q && q.enabled ? q.desc / 4096 : 0;
        break;
      case 0x0c:
        v = q ? q.maxSize : 0;
        break;
      case 0x0e:
        v = this.queueSel;
        break;
      case 0x10:
        v = 0;
        break;
      case 0x12:
        v = this.status;
        break;
      case 0x13:
        return this.readIsr();
      default:
        v = 0;
    }
    // Legacy registers are accessed at their natural width (as Linux's virtio_pci_legacy does).
    return size === 4 ? v | 0 : v & ((1 << (8 * size)) - 1);
  }

  private legacyWrite(off: number, size: number, v: number): void {
    this.legacy = true;
    if (off >= LEGACY_HEADER) {
      this.configWrite(off - LEGACY_HEADER, size, v);
      return;
    }
    switch (off) {
      case 0x04:
        this.driverFeatures = [v >>> 0, 0];
        return;
      case 0x08: {
        const q = this.queues[this.queueSel];
        if (!q) return;
        const pfn = v >>> 0;
        if (pfn * 4096 + 2 * 4096 + 16 * q.maxSize > this.ctx.mem.ramSize) {
          logGuestError(this.pci.name, 'pfn', `${this.pci.name}: queue PFN 0x${pfn.toString(16)} is outside RAM`);
        }
        q.setLegacyPfn(pfn);
        return;
      }
      case 0x0e:
        this.queueSel = v & 0xffff;
        return;
      case 0x10:
        this.kick(v & 0xffff);
        return;
      case 0x12:
        this.writeStatus(v & 0xff);
        return;
    }
  }

  // ---- Device-specific configuration (little endian, both interfaces) ----

  private configRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      v |= (o < this.backend.configSize ? this.backend.configRead(o) & 0xff : 0) << (8 * i);
    }
    return v;
  }

  private configWrite(off: number, size: number, v: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      if (o < this.backend.configSize) this.backend.configWrite(o, (v >>> (8 * i)) & 0xff);
    }
  }

  // ---- Modern interface (memory BAR4) ----

  private modernRead(off: number, size: number): number {
    if (off >= OFF_COMMON && off < OFF_COMMON + 0x38) return this.commonRead(off - OFF_COMMON, size);
    if (off === OFF_ISR) return this.readIsr();
    if (off >= OFF_DEVICE && off < OFF_DEVICE + 0x1000) return this.configRead(off - OFF_DEVICE, size);
    return 0;
  }

  private modernWrite(off: number, size: number, v: number): void {
    if (off >= OFF_COMMON && off < OFF_COMMON + 0x38) return this.commonWrite(off - OFF_COMMON, size, v);
    if (off >= OFF_DEVICE && off < OFF_DEVICE + 0x1000) return this.configWrite(off - OFF_DEVICE, size, v);
    if (off >= OFF_NOTIFY && off < OFF_NOTIFY + NOTIFY_MULTIPLIER * this.queues.length) {
      this.kick((off - OFF_NOTIFY) / NOTIFY_MULTIPLIER);
      return;
    }
  }

  private commonRead(off: number, size: number): number {
    const q = this.queues[this.queueSel];
    // Registers are read with their natural width; compute the containing field then extract bytes.
    const field = (o: number): [number, number] => {
      switch (o) {
        case 0x00: return [this.deviceFeatureSel, 4];
        case 0x04: return [this.deviceFeatureSel < 2 ? this.offered[this.deviceFeatureSel] : 0, 4];
        case 0x08: return [this.driverFeatureSel, 4];
        case 0x0c: return [this.driverFeatureSel < 2 ? this.driverFeatures[this.driverFeatureSel] : 0, 4];
        case 0x10: return [0xffff, 2]; // msix_config: VIRTIO_MSI_NO_VECTOR
        case 0x12: return [this.queues.length, 2];
        case 0x14: return [this.status, 1];
        case 0x15: return [this.configGeneration, 1];
        case 0x16: return [this.queueSel, 2];
        case 0x18: return [q ? q.size : 0, 2];
        case 0x1a: return [0xffff, 2];
        case 0x1c: return [q && q.enabled ? 1 : 0, 2];
        case 0x1e: return [q ? this.queueSel : 0, 2];
        case 0x20: return [q ? q.desc : 0, 4];
        case 0x24: return [0, 4];
        case 0x28: return [q ? q.avail : 0, 4];
        case 0x2c: return [0, 4];
        case 0x30: return [q ? q.used : 0, 4];
        case 0x34: return [0, 4];
      }
      return [0, 0];
    };
    for (const start of [off, off & ~1, off & ~3]) {
      const [v, w] = field(start);
      if (w && off + size <= start + w) {
        const shifted = v >>> (8 * (off - start));
        return size === 4 ? shifted | 0 : shifted & ((1 << (8 * size)) - 1);
      }
    }
    return 0;
  }

  private commonWrite(off: number, size: number, v: number): void {
    const q = this.queues[this.queueSel];
    v >>>= 0;
    switch (off) {
      case 0x00:
        this.deviceFeatureSel = v;
        return;
      case 0x08:
        this.driverFeatureSel = v;
        return;
      case 0x0c:
        if (this.driverFeatureSel < 2 && !(this.status & STATUS_FEATURES_OK)) this.driverFeatures[this.driverFeatureSel] = v;
        return;
      case 0x10:
      case 0x1a:
        return; // MSI-X vectors: none exist; reads keep returning NO_VECTOR
      case 0x14:
        this.writeStatus(v & 0xff);
        return;
      case 0x16:
        this.queueSel = v & 0xffff;
        return;
    }
    if (!q) {
      logGuestError(this.pci.name, 'qsel', `${this.pci.name}: access to nonexistent queue ${this.queueSel}`);
      return;
    }
    switch (off) {
      case 0x18: {
        // 4.1.4.3.2: a power of two no larger than the maximum (the legacy limit applies too).
        if (v === 0 || v > q.maxSize || (v & (v - 1)) !== 0) {
          logGuestError(this.pci.name, 'qsize', `${this.pci.name}: invalid queue size ${v}`);
          return;
        }
        if (!q.enabled) q.size = v;
        return;
      }
      case 0x1c:
        if (v === 1) q.enabled = true;
        return;
      case 0x20:
        if (!q.enabled) q.desc = v;
        return;
      case 0x28:
        if (!q.enabled) q.avail = v;
        return;
      case 0x30:
        if (!q.enabled) q.used = v;
        return;
      case 0x24:
      case 0x2c:
      case 0x34:
        if (v !== 0) logGuestError(this.pci.name, 'hiaddr', `${this.pci.name}: queue address above 4 GiB`);
        return;
    }
    void size;
  }

  reset(): void {
    this.resetDevice();
    this.legacy = false;
    this.configGeneration = 0;
    this.pci.reset();
  }

  saveState(): ComponentState {
    return {
      pci: this.pci.saveState(),
      driverFeatures: [this.driverFeatures[0], this.driverFeatures[1]],
      deviceFeatureSel: this.deviceFeatureSel, driverFeatureSel: this.driverFeatureSel, queueSel: this.queueSel,
      status: this.status, isr: this.isr, configGeneration: this.configGeneration, legacy: this.legacy,
      queues: this.queues.map((q) => q.saveState()),
    };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.pci.loadState(s.pci as ComponentState);
    const f = s.driverFeatures as number[];
    this.driverFeatures = [f[0], f[1]];
    this.deviceFeatureSel = s.deviceFeatureSel as number;
    this.driverFeatureSel = s.driverFeatureSel as number;
    this.queueSel = s.queueSel as number;
    this.status = s.status as number;
    this.isr = s.isr as number;
    this.configGeneration = s.configGeneration as number;
    this.legacy = s.legacy as boolean;
    (s.queues as ComponentState[]).forEach((q, i) => this.queues[i].loadState(q));
  }
}
