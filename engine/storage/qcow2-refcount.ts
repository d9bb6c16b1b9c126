// qcow2 refcounts: the refcount table (kept whole in memory) and a bounded cache of
// refcount blocks, plus the cluster allocator.
//
// Refcounts only ever go up while a guest writes (allocation on write never frees);
// decrements (a rewritten compressed cluster, an old L1 or refcount table) are queued as
// "pending frees" and applied only after the structures that stopped referencing those
// clusters are durable. So on disk a cluster's refcount is never lower than its number
// of durable references: a crash can leak clusters but never double-use one.
//
// The in-memory table may grow past the on-disk table's capacity; `needsRelocation`
// tells the image to move the table (allocate a bigger one, write it, then switch the
// header) during its next metadata flush.
import type { FileHandle } from './file-handle';

interface Block {
  data: Uint8Array;
  dirty: boolean;
}

const MAX_CACHED_BLOCKS = 64;

export class RefcountManager {
  readonly clusterSize: number;
  private readonly refBits: number;
  /** Refcount entries per refcount block. */
  private readonly perBlock: number;
  private readonly perBlockShift: number;
  private readonly maxRef: number;
  /** Host offsets of the refcount blocks (0 = none), indexed by block number. */
  table: number[];
  /** Table entries that changed since the last write (indices). */
  private dirtyEntries = new Set<number>();
  private readonly blocks = new Map<number, Block>();
  /** Next cluster index to try when allocating. */
  private cursor: number;
  private pendingFrees: number[] = [];

  constructor(
    private readonly file: FileHandle,
    private readonly clusterBits: number,
    refcountOrder: number,
    tableOffset: number,
    /** On-disk table capacity in clusters. */
    public tableClusters: number,
    public tableOffsetOnDisk = tableOffset,
  ) {
    this.clusterSize = 2 ** clusterBits;
    this.refBits = 2 ** refcountOrder;
    this.perBlock = (this.clusterSize * 8) / this.refBits;
    this.perBlockShift = Math.log2(this.perBlock);
    this.maxRef = this.refBits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** this.refBits - 1;
    const raw = new Uint8Array(tableClusters * this.clusterSize);
    file.read(tableOffset, raw, 0, raw.length);
    const dv = new DataView(raw.buffer);
    const fileSize = file.size();
    this.table = [];
    let last = 0;
    for (let i = 0; i < raw.length / 8; i++) {
      const hi = dv.getUint32(i * 8);
      const lo = dv.getUint32(i * 8 + 4);
      const off = hi * 2 ** 32 + (lo & 0xfffffe00);
      if (lo & 0x1ff) throw new Error(`refcount table entry ${i} has reserved bits set`);
      if (off % this.clusterSize) throw new Error(`refcount block ${i} at ${off} is not cluster-aligned`);
      if (off && off + this.clusterSize > fileSize) throw new Error(`refcount block ${i} at ${off} lies outside the file (${fileSize} bytes)`);
      if (off === 0 && i === 0) throw new Error('refcount table has no block for the header cluster');
      this.table.push(off);
      if (off) last = i;
    }
    this.table.length = Math.max(last + 1, 1);
    this.cursor = Math.ceil(fileSize / this.clusterSize);
  }

  /** Entries the on-disk table can hold. */
  get tableCapacity(): number {
    return (this.tableClusters * this.clusterSize) / 8;
  }

  get needsRelocation(): boolean {
    return this.table.length > this.tableCapacity;
  }

  private loadBlock(bi: number): Block | null {
    const cached = this.blocks.get(bi);
    if (cached) {
      // Refresh LRU position.
      this.blocks.delete(bi);
      this.blocks.set(bi, cached);
      return cached;
    }
    const off = this.table[bi] ?? 0;
    if (!off) return null;
    const b: Block = { data: new Uint8Array(this.clusterSize), dirty: false };
    this.file.read(off, b.data, 0, this.clusterSize);
    this.insert(bi, b);
    return b;
  }

  private insert(bi: number, b: Block): void {
    // Writing a dirty block early is always safe (see the file comment), so eviction
    // just writes it out.
    while (this.blocks.size >= MAX_CACHED_BLOCKS) {
      const [victim, vb] = this.blocks.entries().next().value as [number, Block];
      if (vb.dirty) this.file.write(this.table[victim], vb.data);
      this.blocks.delete(victim);
    }
    this.blocks.set(bi, b);
  }

  private getIn(b: Block, i: number): number {
    const d = b.data;
    switch (this.refBits) {
      case 16:
        return (d[i * 2] << 8) | d[i * 2 + 1];
      case 8:
        return d[i];
      case 32:
        return ((d[i * 4] << 24) | (d[i * 4 + 1] << 16) | (d[i * 4 + 2] << 8) | d[i * 4 + 3]) >>> 0;
      case 64: {
        const dv = new DataView(d.buffer, d.byteOffset);
        return Number(dv.getBigUint64(i * 8));
      }
      default: {
        // 1, 2 or 4 bits: entries are packed from the least significant bit of each byte.
        const bit = i * this.refBits;
        return (d[bit >> 3] >> (bit & 7)) & ((1 << this.refBits) - 1);
      }
    }
  }

  private setIn(b: Block, i: number, v: number): void {
    const d = b.data;
    switch (this.refBits) {
      case 16:
        d[i * 2] = v >> 8;
        d[i * 2 + 1] = v;
        break;
      case 8:
        d[i] = v;
        break;
      case 32:
        new DataView(d.buffer, d.byteOffset).setUint32(i * 4, v);
        break;
      case 64:
        new DataView(d.buffer, d.byteOffset).setBigUint64(i * 8, BigInt(v));
        break;
      default: {
        const bit = i * this.refBits;
        const mask = ((1 << this.refBits) - 1) << (bit & 7);
        d[bit >> 3] = (d[bit >> 3] & ~mask) | ((v << (bit & 7)) & mask);
      }
    }
    b.dirty = true;
  }

  /** Refcount of host cluster `c` (0 when no block covers it). */
  get(c: number): number {
    const b = this.loadBlock(Math.floor(c / this.perBlock));
    return b ? this.getIn(b, c % this.perBlock) : 0;
  }

  /** Add `delta` to cluster `c`'s refcount (in memory; written at the next flush). */
  adjust(c: number, delta: number): void {
    const bi = Math.floor(c / this.perBlock);
    const b = this.loadBlock(bi) ?? this.createBlock(bi);
    const i = c % this.perBlock;
    const v = this.getIn(b, i) + delta;
    if (v < 0) throw new Error(`refcount of cluster ${c} would go negative`);
    if (v > this.maxRef) throw new Error(`refcount of cluster ${c} overflows ${this.refBits} bits`);
    this.setIn(b, i, v);
  }

  /**
   * A new (zeroed) refcount block for block number `bi`. Its own cluster comes from the
   * allocator; when that cluster lies inside the range the block covers, the block counts
   * itself, otherwise another block (possibly new as well) counts it.
   */
  private createBlock(bi: number): Block {
    const c = this.findFree(1);
    this.cursor = c + 1;
    const b: Block = { data: new Uint8Array(this.clusterSize), dirty: true };
    this.table[bi] = c * this.clusterSize;
    this.dirtyEntries.add(bi);
    this.insert(bi, b);
    this.adjust(c, 1);
    return b;
  }

  private findFree(n: number): number {
    let start = this.cursor;
    for (let c = start; c < start + n; c++) {
      if (this.get(c) !== 0) start = c + 1;
    }
    return start;
  }

  /** Allocate `n` contiguous clusters with refcount 1; returns the host byte offset. */
  allocate(n: number): number {
    const start = this.findFree(n);
    this.cursor = start + n;
    for (let c = start; c < start + n; c++) this.adjust(c, 1);
    return start * this.clusterSize;
  }

  /** Queue a decrement for clusters covering [offset, offset+length), applied by applyPendingFrees. */
  deferFree(offset: number, length: number): void {
    const first = Math.floor(offset / this.clusterSize);
    const last = Math.floor((offset + length - 1) / this.clusterSize);
    for (let c = first; c <= last; c++) this.pendingFrees.push(c);
  }

  get hasPendingFrees(): boolean {
    return this.pendingFrees.length > 0;
  }

  /** Apply queued decrements (call once no durable structure references them). */
  applyPendingFrees(): void {
    for (const c of this.pendingFrees) this.adjust(c, -1);
    this.pendingFrees = [];
  }

  /** Write dirty refcount blocks. Returns whether anything was written. */
  writeBlocks(): boolean {
    let wrote = false;
    for (const [bi, b] of this.blocks) {
      if (!b.dirty) continue;
      this.file.write(this.table[bi], b.data);
      b.dirty = false;
      wrote = true;
    }
    return wrote;
  }

  /**
   * The whole table as `clusters` clusters for writing a relocated table. All of them are
   * written (zero-padded), so the header never points past the end of the file.
   */
  serializeTable(clusters: number): Uint8Array {
    const out = new Uint8Array(clusters * this.clusterSize);
    const dv = new DataView(out.buffer);
    this.table.forEach((off, i) => {
      dv.setUint32(i * 8, Math.floor(off / 2 ** 32));
      dv.setUint32(i * 8 + 4, off >>> 0);
    });
    return out;
  }

  /** Write changed table entries in place (the table has room). Returns whether anything was written. */
  writeTableEntries(): boolean {
    if (this.dirtyEntries.size === 0) return false;
    const sectors = new Set<number>();
    for (const i of this.dirtyEntries) sectors.add(Math.floor((i * 8) / 512));
    for (const s of sectors) {
      const buf = new Uint8Array(512);
      const dv = new DataView(buf.buffer);
      for (let k = 0; k < 64; k++) {
        const off = this.table[s * 64 + k] ?? 0;
        dv.setUint32(k * 8, Math.floor(off / 2 ** 32));
        dv.setUint32(k * 8 + 4, off >>> 0);
      }
      this.file.write(this.tableOffsetOnDisk + s * 512, buf.subarray(0, Math.min(512, this.tableClusters * this.clusterSize - s * 512)));
    }
    this.dirtyEntries.clear();
    return true;
  }

  /**
   * Allocate a bigger table (with headroom) and return its location; the caller writes
   * the serialized table there, makes it durable, switches the header, then frees the old.
   */
  relocateTable(): { offset: number; clusters: number; oldOffset: number; oldClusters: number } {
    // Allocating the new table may create refcount blocks, growing the table again:
    // size it with headroom and re-check.
    let clusters = Math.ceil((this.table.length * 2 * 8) / this.clusterSize);
    for (;;) {
      const offset = this.allocate(clusters);
      if (this.table.length <= (clusters * this.clusterSize) / 8) {
        const old = { oldOffset: this.tableOffsetOnDisk, oldClusters: this.tableClusters };
        return { offset, clusters, ...old };
      }
      // Too small after all: drop it (free immediately: nothing references it) and retry bigger.
      for (let c = 0; c < clusters; c++) this.adjust(offset / this.clusterSize + c, -1);
      clusters *= 2;
    }
  }

  /** Switch to the relocated table once the header points to it. */
  tableMoved(offset: number, clusters: number): void {
    this.tableOffsetOnDisk = offset;
    this.tableClusters = clusters;
    this.dirtyEntries.clear();
  }
}
