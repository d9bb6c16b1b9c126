// virtio block device (virtio 1.x spec 5.2) over a BlockDevice, on the transitional
// virtio-pci transport. One request queue; requests are served synchronously when the
// driver notifies. Offered features: SEG_MAX, BLK_SIZE, FLUSH (FLUSH → BlockDevice.flush;
// without it the device is write-through and flushes after every write), RO for read-only
// images. Bad requests (short header, out-of-range sector, odd length, unknown type) complete
// with IOERR/UNSUPP status; malformed rings put the device in NEEDS_RESET.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { BlockDevice } from '../storage/block-device';
import type { PciBus, PciConfigSpace, PciFunction } from './pci-bus';
import { VirtioPci, type VirtioBackend } from './virtio-pci';
import type { VirtqChain } from './virtio-queue';

const F_SEG_MAX = 2;
const F_RO = 5;
const F_BLK_SIZE = 6;
const F_FLUSH = 9;

const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;

const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;

const QUEUE_SIZE = 256;
const SEG_MAX = QUEUE_SIZE - 2;
const CONFIG_SIZE = 0x24;

export class VirtioBlk implements VirtioBackend, PciFunction, Snapshottable {
  readonly deviceType = 2;
  readonly transitionalDeviceId = 0x1001;
  readonly classCode = 0x010000; // mass storage, SCSI (what QEMU reports for virtio-blk)
  readonly features: number[];
  readonly queueSizes = [QUEUE_SIZE];
  readonly configSize = CONFIG_SIZE;
  readonly transport: VirtioPci;
  readonly stateId: string;
  readonly stateVersion = 1;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private lastActivity = { read: -Infinity, write: -Infinity };

  constructor(
    private readonly ctx: DeviceContext,
    bus: PciBus,
    dev: number,
    private readonly image: BlockDevice,
    private readonly name = 'virtio-blk',
    private readonly serial = 'BWVIRTIO',
  ) {
    this.stateId = name;
    this.features = [F_SEG_MAX, F_BLK_SIZE, F_FLUSH, ...(image.readOnly ? [F_RO] : [])];
    const v = new DataView(this.config.buffer);
    const sectors = Math.floor(image.size / 512);
    v.setUint32(0, sectors % 2 ** 32, true); // capacity in 512-byte sectors (le64)
    v.setUint32(4, Math.floor(sectors / 2 ** 32), true);
    v.setUint32(0x0c, SEG_MAX, true); // seg_max
    v.setUint32(0x14, 512, true); // blk_size
    this.transport = new VirtioPci(ctx, bus, dev, this, name);
  }

  get pci(): PciConfigSpace {
    return this.transport.pci;
  }

  configRead(offset: number): number {
    return this.config[offset];
  }

  configWrite(offset: number): void {
    // All fields we offer are read-only (writeback needs CONFIG_WCE, which is not offered).
    logGuestError(this.name, 'cfgw', `${this.name}: write to read-only config byte ${offset}`);
  }

  deviceReset(): void {}

  /** Machine reset: the transport returns to power-on state (BARs unmapped, queues gone). */
  reset(): void {
    this.transport.reset();
  }

  queueNotify(q: number): void {
    if (q !== 0) return;
    const vq = this.transport.queues[0];
    let served = false;
    for (let chain = vq.pop(); chain; chain = vq.pop()) {
      const written = this.serve(chain);
      vq.push(chain, written);
      served = true;
    }
    if (served) this.transport.notifyUsed(0);
  }

  /** Execute one request; returns the number of bytes written into the chain's writable buffers. */
  private serve(chain: VirtqChain): number {
    const vq = this.transport.queues[0];
    if (chain.outLen < 16 || chain.inLen < 1) {
      logGuestError(this.name, 'short', `${this.name}: request without a 16-byte header or a status byte`);
      if (chain.inLen >= 1) return this.status(chain, 0, S_IOERR);
      return 0;
    }
    const hdr = new DataView(vq.readOut(chain, 16).buffer);
    const type = hdr.getUint32(0, true);
    const sector = hdr.getUint32(8, true) + hdr.getUint32(12, true) * 2 ** 32;
    const dataIn = chain.inLen - 1; // writable bytes before the status byte
    switch (type) {
      case T_IN: {
        if (!this.checkRange(sector, dataIn)) return this.status(chain, 0, S_IOERR);
        const buf = new Uint8Array(dataIn);
        try {
          this.image.read(sector * 512, buf, 0, dataIn);
        } catch (e) {
          logGuestError(this.name, 'readerr', `${this.name}: read at sector ${sector} failed: ${(e as Error).message}`);
          return this.status(chain, 0, S_IOERR);
        }
        vq.writeIn(chain, buf);
        this.activity('read');
        return this.status(chain, dataIn, S_OK);
      }
      case T_OUT: {
        const len = chain.outLen - 16;
        if (this.image.readOnly) return this.status(chain, 0, S_IOERR);
        if (!this.checkRange(sector, len)) return this.status(chain, 0, S_IOERR);
        const data = vq.readOut(chain).subarray(16);
        try {
          this.image.write(sector * 512, data);
          // Without a negotiated FLUSH the driver assumes write-through (5.2.6.2).
          if (!this.transport.hasFeature(F_FLUSH)) this.image.flush();
        } catch (e) {
          logGuestError(this.name, 'writeerr', `${this.name}: write at sector ${sector} failed: ${(e as Error).message}`);
          return this.status(chain, 0, S_IOERR);
        }
        this.activity('write');
        return this.status(chain, 0, S_OK);
      }
      case T_FLUSH:
        try {
          this.image.flush();
        } catch (e) {
          logGuestError(this.name, 'flush', `${this.name}: flush failed: ${(e as Error).message}`);
          return this.status(chain, 0, S_IOERR);
        }
        return this.status(chain, 0, S_OK);
      case T_GET_ID: {
        // Up to 20 bytes, not necessarily NUL-terminated (5.2.6).
        const id = new Uint8Array(20);
        for (let i = 0; i < Math.min(20, this.serial.length); i++) id[i] = this.serial.charCodeAt(i) & 0x7f;
        const n = Math.min(20, dataIn);
        vq.writeIn(chain, id.subarray(0, n));
        return this.status(chain, n, S_OK);
      }
    }
    logGuestError(this.name, `type${type}`, `${this.name}: unsupported request type ${type}`);
    return this.status(chain, 0, S_UNSUPP);
  }

  /** At most one activity event per direction per 100 ms of virtual time: the host only blinks a LED. */
  private activity(kind: 'read' | 'write'): void {
    const now = this.ctx.clock.nowNs();
    if (now - this.lastActivity[kind] < 100e6) return;
    this.lastActivity[kind] = now;
    this.ctx.events.emit('storage-activity', { device: this.name, kind });
  }

  private checkRange(sector: number, bytes: number): boolean {
    if (bytes % 512 !== 0) {
      logGuestError(this.name, 'align', `${this.name}: transfer of ${bytes} bytes is not a multiple of 512`);
      return false;
    }
    if (sector * 512 + bytes > this.image.size) {
      logGuestError(this.name, 'range', `${this.name}: sector ${sector}+${bytes / 512} is past the end (${this.image.size / 512})`);
      return false;
    }
    return true;
  }

  /** Store the status byte as the last writable byte; the used length counts the data written plus it. */
  private status(chain: VirtqChain, dataBytes: number, code: number): number {
    const vq = this.transport.queues[0];
    vq.writeIn(chain, Uint8Array.of(code), chain.inLen - 1);
    return dataBytes + 1;
  }

  saveState(): ComponentState {
    return { transport: this.transport.saveState() };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.transport.loadState(s.transport as ComponentState, this.transport.stateVersion);
  }
}
