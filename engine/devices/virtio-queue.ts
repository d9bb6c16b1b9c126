// A split virtqueue (virtio 1.x spec 2.7; legacy layout 2.7 "Legacy Interfaces" differs only in
// where the three parts live). The device side: pop available descriptor chains (direct or
// indirect), then push them to the used ring. All guest memory goes through the DMA helpers,
// so a ring or buffer outside RAM is a guest error, never a host exception. Any malformed
// chain (index out of range, loop, nested indirect, unreadable table) makes pop() throw
// VirtqError; the transport then marks the device DEVICE_NEEDS_RESET like QEMU's virtio_error.
import type { PhysicalMemory } from '../machine/physical-memory';
import type { ComponentState } from '../common/snapshot';

const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

export class VirtqError extends Error {}

export interface VirtqSegment {
  addr: number;
  len: number;
}

/** One request: the head index, device-readable (out) and device-writable (in) buffers in order. */
export interface VirtqChain {
  head: number;
  out: VirtqSegment[];
  in: VirtqSegment[];
  /** Total writable bytes. */
  inLen: number;
  outLen: number;
}

export class VirtQueue {
  /** Queue size chosen by the driver (modern) or fixed by the device (legacy). */
  size: number;
  desc = 0;
  avail = 0;
  used = 0;
  enabled = false;
  private lastAvail = 0;
  private usedIdx = 0;

  constructor(
    private readonly mem: PhysicalMemory,
    readonly maxSize: number,
  ) {
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.desc = this.avail = this.used = 0;
    this.enabled = false;
    this.lastAvail = 0;
    this.usedIdx = 0;
  }

  /** Legacy layout: everything in one area at pfn * 4096, the used ring 4096-aligned (virtio 0.9.5). */
  setLegacyPfn(pfn: number): void {
    if (pfn === 0) {
      this.reset();
      return;
    }
    const base = pfn * 4096;
    this.size = this.maxSize;
    this.desc = base;
    this.avail = base + 16 * this.size;
    this.used = Math.ceil((this.avail + 6 + 2 * this.size) / 4096) * 4096;
    this.enabled = true;
    this.lastAvail = 0;
    this.usedIdx = 0;
  }

  private read(addr: number, len: number): Uint8Array {
    const b = this.mem.dmaRead(addr, len);
    if (!b) throw new VirtqError(`ring access at 0x${addr.toString(16)}+${len} is outside RAM`);
    return b;
  }

  private read16(addr: number): number {
    const b = this.read(addr, 2);
    return b[0] | (b[1] << 8);
  }

  private write(addr: number, data: Uint8Array): void {
    if (!this.mem.dmaWrite(addr, data)) throw new VirtqError(`ring write at 0x${addr.toString(16)}+${data.length} is outside RAM`);
  }

  /** True when the driver has made buffers available that we have not consumed. */
  hasAvailable(): boolean {
    if (!this.enabled) return false;
    return this.read16(this.avail + 2) !== this.lastAvail;
  }

  /** The next available chain, or null when the ring is empty. Throws VirtqError on a malformed ring. */
  pop(): VirtqChain | null {
    if (!this.enabled) return null;
    const availIdx = this.read16(this.avail + 2);
    if (availIdx === this.lastAvail) return null;
    if (((availIdx - this.lastAvail) & 0xffff) > this.size) {
      throw new VirtqError(`avail index ${availIdx} is more than the queue size ahead of ${this.lastAvail}`);
    }
    const head = this.read16(this.avail + 4 + 2 * (this.lastAvail % this.size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (head >= this.size) throw new VirtqError(`descriptor head ${head} >= queue size ${this.size}`);
    const chain: VirtqChain = { head, out: [], in: [], inLen: 0, outLen: 0 };
    let table = this.desc;
    let tableSize = this.size;
    let i = head;
    let indirect = false;
    // A chain visits each descriptor at most once: more steps than the table has means a loop.
    for (let steps = 0; ; steps++) {
      if (steps >= tableSize) throw new VirtqError('descriptor chain loops or is longer than its table');
      const d = this.read(table + 16 * i, 16);
      const addrLo = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
      const addrHi = (d[4] | (d[5] << 8) | (d[6] << 16) | (d[7] << 24)) >>> 0;
      const len = (d[8] | (d[9] << 8) | (d[10] << 16) | (d[11] << 24)) >>> 0;
      const flags = d[12] | (d[13] << 8);
      const next = d[14] | (d[15] << 8);
      if (addrHi !== 0) throw new VirtqError('descriptor address above 4 GiB');
      if (flags & DESC_F_INDIRECT) {
        // 2.7.5.3: an indirect table replaces the chain; it may not nest or be combined with NEXT.
        if (indirect) throw new VirtqError('nested indirect descriptor');
        if (flags & DESC_F_NEXT) throw new VirtqError('indirect descriptor with NEXT set');
        if (len === 0 || len % 16 !== 0) throw new VirtqError(`indirect table length ${len} is not a multiple of 16`);
        indirect = true;
        table = addrLo;
        tableSize = len / 16;
        i = 0;
        steps = -1;
        continue;
      }
      if (flags & DESC_F_WRITE) {
        chain.in.push({ addr: addrLo, len });
        chain.inLen += len;
      } else {
        if (chain.in.length) throw new VirtqError('device-readable descriptor after a writable one');
        chain.out.push({ addr: addrLo, len });
        chain.outLen += len;
      }
      if (!(flags & DESC_F_NEXT)) break;
      if (next >= tableSize) throw new VirtqError(`next descriptor ${next} >= table size ${tableSize}`);
      i = next;
    }
    return chain;
  }

  /** Return a chain to the driver with `written` bytes stored in its writable buffers. */
  push(chain: VirtqChain, written: number): void {
    const slot = this.used + 4 + 8 * (this.usedIdx % this.size);
    const e = new Uint8Array(8);
    const v = new DataView(e.buffer);
    v.setUint32(0, chain.head, true);
    v.setUint32(4, written, true);
    this.write(slot, e);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // The index is published after the element (2.7.8): with synchronous emulation, order of writes suffices.
    this.write(this.used + 2, Uint8Array.of(this.usedIdx & 0xff, this.usedIdx >>> 8));
  }

  /** Whether the driver wants an interrupt for used buffers (VIRTQ_AVAIL_F_NO_INTERRUPT clear). */
  wantsInterrupt(): boolean {
    return (this.read16(this.avail) & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** All device-readable bytes of a chain. */
  readOut(chain: VirtqChain, max = chain.outLen): Uint8Array {
    const out = new Uint8Array(Math.min(max, chain.outLen));
    let off = 0;
    for (const s of chain.out) {
      if (off >= out.length) break;
      const n = Math.min(s.len, out.length - off);
      out.set(this.read(s.addr, n), off);
      off += n;
    }
    return out;
  }

  /** Copy `data` into the writable buffers starting at byte `at` of the writable area; returns bytes stored. */
  writeIn(chain: VirtqChain, data: Uint8Array, at = 0): number {
    let skip = at;
    let off = 0;
    for (const s of chain.in) {
      if (off >= data.length) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, data.length - off);
      this.write(s.addr + skip, data.subarray(off, off + n));
      off += n;
      skip = 0;
    }
    return off;
  }

  saveState(): ComponentState {
    return {
      size: this.size, desc: this.desc, avail: this.avail, used: this.used, enabled: this.enabled,
      lastAvail: this.lastAvail, usedIdx: this.usedIdx,
    };
  }

  loadState(s: ComponentState): void {
    this.size = s.size as number;
    this.desc = s.desc as number;
    this.avail = s.avail as number;
    this.used = s.used as number;
    this.enabled = s.enabled as boolean;
    this.lastAvail = s.lastAvail as number;
    this.usedIdx = s.usedIdx as number;
  }
}
