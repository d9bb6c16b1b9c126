// A qcow2 (v2 read, v3 read/write) image as a BlockDevice over an injected FileHandle.
//
// Crash safety — the ordering of metadata writes
// ----------------------------------------------
// Guest data goes to the file at once; metadata changes (refcounts, L2 entries, L1
// entries) are kept in memory and written by flushMetadata() in this order, with an
// fsync after each stage that wrote something:
//   1. refcount blocks (a new block counts its own cluster or is counted by another)
//   2. refcount table entries for new blocks (or a relocated table, then the header)
//   3. L2 tables (new tables, new entries; entries pointing to new data clusters)
//   4. L1 entries pointing to new L2 tables
//   5. pending refcount decrements (clusters no longer referenced), written unsynced.
// So at every moment the durable image satisfies: every referenced cluster has a
// durable refcount >= its references, and every reference points to written content.
// A crash (kill -9 of the process, or of the host with a disk honouring fsync) can only
// leave leaked clusters (refcount > references), which `qemu-img check` reports as leaks
// and which never corrupt data. Data written before a completed flush() is durable.
// Allocation never frees, and no dirty bit / lazy refcounts are used, so the image is
// consistent without repair at every fsync boundary.
//
// Internal snapshots are readable (the active L1 is used) but an image with snapshots
// is not opened writable: shared clusters would need refcount-aware copy-on-write.
import type { BlockDevice } from './block-device';
import type { FileHandle } from './file-handle';
import {
  INCOMPAT_CORRUPT,
  INCOMPAT_DIRTY,
  Qcow2FormatError,
  parseQcow2Header,
  serializeQcow2Header,
  type Qcow2Header,
} from './qcow2-header';
import { L2Cache, type L2Table } from './qcow2-l2-cache';
import { RefcountManager } from './qcow2-refcount';
import { inflateRaw } from './qcow2-inflate';

const COPIED_HI = 0x80000000;
const COMPRESSED_HI = 0x40000000;
const ZERO_LO = 1;
const TWO32 = 2 ** 32;

export type ClusterKind = 'unallocated' | 'zero' | 'data' | 'compressed';

export interface Qcow2OpenOptions {
  /** The backing image (already opened by the host), when the header names one. */
  backing?: BlockDevice | null;
  readOnly?: boolean;
  /** Open without the backing image (header validation only; unallocated reads as zero). */
  ignoreBacking?: boolean;
}

export class Qcow2Image implements BlockDevice {
  readonly header: Qcow2Header;
  readonly readOnly: boolean;
  readonly clusterSize: number;
  private readonly clusterBits: number;
  private readonly l2Entries: number;
  private _size: number;
  private l1: number[];
  private readonly dirtyL1 = new Set<number>();
  private readonly refcounts: RefcountManager;
  private readonly l2: L2Cache;
  private readonly backing: BlockDevice | null;
  private readonly scratch: Uint8Array;
  // One-cluster cache of the last decompressed cluster (sequential reads of it).
  private compCacheOffset = -1;
  private readonly compCache: Uint8Array;
  private closed = false;

  /**
   * Open an image. Everything is validated before anything is written; the only write
   * on open is clearing unknown autoclear bits when opened writable (qcow2 spec rule).
   */
  constructor(
    private readonly file: FileHandle,
    opts: Qcow2OpenOptions = {},
  ) {
    const fileSize = file.size();
    const head = new Uint8Array(Math.min(fileSize, 2 * 1024 * 1024));
    file.read(0, head, 0, head.length);
    const h = parseQcow2Header(head, fileSize);
    this.header = h;
    this.readOnly = opts.readOnly ?? file.readOnly;
    if (!this.readOnly) {
      if (file.readOnly) throw new Error('qcow2: a writable image needs a writable file');
      if (h.version !== 3) throw new Qcow2FormatError('version 2 images are opened read-only (convert to version 3 to write)');
      if (h.incompatible & INCOMPAT_DIRTY)
        throw new Qcow2FormatError('the dirty flag is set (lazy refcounts after a crash); repair with `qemu-img check -r all` first');
      if (h.incompatible & INCOMPAT_CORRUPT) throw new Qcow2FormatError('the image is marked corrupt; repair with `qemu-img check -r all` first');
      if (h.nbSnapshots > 0) throw new Qcow2FormatError('images with internal snapshots can only be opened read-only');
    }
    this.clusterBits = h.clusterBits;
    this.clusterSize = 2 ** h.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    this._size = h.size;
    if (h.backingFile && !opts.backing && !opts.ignoreBacking) throw new Error(`qcow2: backing file ${h.backingFile} was not provided`);
    this.backing = opts.backing ?? null;
    this.scratch = new Uint8Array(this.clusterSize);
    this.compCache = new Uint8Array(this.clusterSize);

    // L1: validate every entry now so a bad image fails at open, not mid-boot.
    const raw = new Uint8Array(h.l1Size * 8);
    file.read(h.l1TableOffset, raw, 0, raw.length);
    const dv = new DataView(raw.buffer);
    this.l1 = new Array<number>(h.l1Size);
    for (let i = 0; i < h.l1Size; i++) {
      const hi = dv.getUint32(i * 8) & 0x00ffffff;
      const lo = dv.getUint32(i * 8 + 4);
      const off = hi * TWO32 + (lo & 0xfffffe00);
      if (off % this.clusterSize) throw new Qcow2FormatError(`L1 entry ${i} (${off}) is not cluster-aligned`);
      if (off && off + this.clusterSize > fileSize) throw new Qcow2FormatError(`L1 entry ${i} points outside the file (L2 table at ${off}, file is ${fileSize} bytes)`);
      this.l1[i] = off;
    }
    try {
      this.refcounts = new RefcountManager(file, h.clusterBits, h.refcountOrder, h.refcountTableOffset, h.refcountTableClusters);
    } catch (e) {
      throw new Qcow2FormatError((e as Error).message);
    }
    this.l2 = new L2Cache(file, this.clusterSize, () => this.flushMetadata());

    if (!this.readOnly && h.autoclear !== 0n) {
      // Unknown autoclear features (e.g. persistent bitmaps) become stale once we write.
      h.autoclear = 0n;
      this.writeHeader();
      file.sync();
    }
  }

  get size(): number {
    return this._size;
  }

  get backingDevice(): BlockDevice | null {
    return this.backing;
  }

  // ---- L2 entry access -------------------------------------------------------------

  private l2For(vcluster: number, allocate: boolean): L2Table | null {
    const l1i = Math.floor(vcluster / this.l2Entries);
    const off = this.l1[l1i];
    if (off) return this.l2.get(off);
    if (!allocate) return null;
    // New L2 table: a fresh cluster, zero-filled (unallocated entries).
    const host = this.refcounts.allocate(1);
    const t = this.l2.add(host, new Uint8Array(this.clusterSize), true);
    this.l1[l1i] = host;
    this.dirtyL1.add(l1i);
    return t;
  }

  /** Kind of the cluster holding virtual `offset` in this layer (not the backing chain). */
  clusterKind(offset: number): ClusterKind {
    const vc = Math.floor(offset / this.clusterSize);
    const t = this.l2For(vc, false);
    if (!t) return 'unallocated';
    const i = (vc % this.l2Entries) * 8;
    const hi = t.view.getUint32(i);
    const lo = t.view.getUint32(i + 4);
    if (hi & COMPRESSED_HI) return 'compressed';
    if (lo & ZERO_LO) return 'zero';
    if ((hi & 0x00ffffff) === 0 && (lo & 0xfffffe00) === 0) return 'unallocated';
    return 'data';
  }

  // ---- reads -----------------------------------------------------------------------

  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this._size)
      throw new RangeError(`read of ${length} bytes at ${offset} is past the end of the image (${this._size})`);
    const cs = this.clusterSize;
    while (length > 0) {
      const vc = Math.floor(offset / cs);
      const within = offset - vc * cs;
      const n = Math.min(cs - within, length);
      const t = this.l2For(vc, false);
      if (!t) this.readBacking(offset, into, intoOffset, n);
      else {
        const i = (vc % this.l2Entries) * 8;
        const hi = t.view.getUint32(i);
        const lo = t.view.getUint32(i + 4);
        if (hi & COMPRESSED_HI) {
          this.decompress(hi, lo);
          into.set(this.compCache.subarray(within, within + n), intoOffset);
        } else if (lo & ZERO_LO) into.fill(0, intoOffset, intoOffset + n);
        else {
          const host = (hi & 0x00ffffff) * TWO32 + (lo & 0xfffffe00);
          if (host === 0) this.readBacking(offset, into, intoOffset, n);
          else this.file.read(host + within, into, intoOffset, n);
        }
      }
      offset += n;
      intoOffset += n;
      length -= n;
    }
  }

  private readBacking(offset: number, into: Uint8Array, intoOffset: number, n: number): void {
    const b = this.backing;
    const avail = b ? Math.max(0, Math.min(n, b.size - offset)) : 0;
    if (avail > 0) b!.read(offset, into, intoOffset, avail);
    if (avail < n) into.fill(0, intoOffset + avail, intoOffset + n);
  }

  /** Inflate the compressed cluster described by an L2 entry into compCache. */
  private decompress(hi: number, lo: number): void {
    const entry = (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo >>> 0);
    const x = BigInt(62 - (this.clusterBits - 8));
    const host = Number(entry & ((1n << x) - 1n));
    if (host === this.compCacheOffset) return;
    const sectors = Number(entry >> x) + 1;
    // The data runs from `host` to the end of the last 512-byte sector it occupies.
    const end = Math.floor(host / 512) * 512 + sectors * 512;
    const src = new Uint8Array(end - host);
    this.file.read(host, src, 0, src.length);
    this.compCacheOffset = -1;
    let n: number;
    try {
      n = inflateRaw(src, this.compCache);
    } catch (e) {
      throw new Error(`qcow2: compressed cluster at ${host} is damaged: ${(e as Error).message}`);
    }
    if (n !== this.clusterSize) throw new Error(`qcow2: compressed cluster at ${host} inflates to ${n} bytes, not ${this.clusterSize}`);
    this.compCacheOffset = host;
  }

  private compressedExtent(hi: number, lo: number): [number, number] {
    const entry = (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo >>> 0);
    const x = BigInt(62 - (this.clusterBits - 8));
    const host = Number(entry & ((1n << x) - 1n));
    const end = Math.floor(host / 512) * 512 + (Number(entry >> x) + 1) * 512;
    return [host, end - host];
  }

  // ---- writes ----------------------------------------------------------------------

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('image is read-only');
    if (offset < 0 || offset + data.length > this._size)
      throw new RangeError(`write of ${data.length} bytes at ${offset} is past the end of the image (${this._size})`);
    const cs = this.clusterSize;
    let pos = 0;
    while (pos < data.length) {
      const vc = Math.floor((offset + pos) / cs);
      const within = offset + pos - vc * cs;
      const n = Math.min(cs - within, data.length - pos);
      this.writeInCluster(vc, within, data.subarray(pos, pos + n));
      pos += n;
    }
  }

  private writeInCluster(vc: number, within: number, piece: Uint8Array): void {
    const cs = this.clusterSize;
    const t = this.l2For(vc, true)!;
    const i = (vc % this.l2Entries) * 8;
    const hi = t.view.getUint32(i);
    const lo = t.view.getUint32(i + 4);
    const host = (hi & 0x00ffffff) * TWO32 + (lo & 0xfffffe00);
    const compressed = (hi & COMPRESSED_HI) !== 0;
    const zero = !compressed && (lo & ZERO_LO) !== 0;
    if (!compressed && !zero && host !== 0 && hi & COPIED_HI) {
      // Allocated and owned by this image alone: overwrite in place.
      this.file.write(host + within, piece);
      return;
    }
    // Build the whole new cluster: old contents (backing / zeros / inflated) + the piece.
    const full = piece.length === cs;
    const buf = full ? piece : this.scratch;
    if (!full) {
      const vOff = vc * cs;
      if (compressed) {
        this.decompress(hi, lo);
        buf.set(this.compCache);
      } else if (zero) buf.fill(0);
      else if (host !== 0) this.file.read(host, buf, 0, cs); // shared cluster (COPIED clear)
      else this.readBacking(vOff, buf, 0, Math.min(cs, this._size - vOff));
      if (this._size - vOff < cs) buf.fill(0, this._size - vOff);
      buf.set(piece, within);
    }
    let target: number;
    if (zero && host !== 0 && hi & COPIED_HI) target = host; // preallocated zero cluster: reuse it
    else {
      target = this.refcounts.allocate(1);
      if (compressed) {
        const [h, len] = this.compressedExtent(hi, lo);
        this.refcounts.deferFree(h, len);
        if (h === this.compCacheOffset) this.compCacheOffset = -1;
      } else if (host !== 0) this.refcounts.deferFree(host, cs);
    }
    this.file.write(target, buf);
    t.view.setUint32(i, (COPIED_HI | Math.floor(target / TWO32)) >>> 0);
    t.view.setUint32(i + 4, target >>> 0);
    t.dirty = true;
  }

  /**
   * Make whole clusters in [offset, offset+length) read as zero without storing data
   * (the v3 zero flag); partial clusters at the edges get real zero writes. Used by
   * conversion and compaction; allocated clusters keep their space (flag set on them).
   */
  writeZeroes(offset: number, length: number): void {
    if (this.readOnly) throw new Error('image is read-only');
    const cs = this.clusterSize;
    const end = offset + length;
    while (offset < end) {
      const vc = Math.floor(offset / cs);
      const within = offset - vc * cs;
      const n = Math.min(cs - within, end - offset);
      if (n < cs) {
        this.write(offset, new Uint8Array(n));
      } else {
        const t = this.l2For(vc, true)!;
        const i = (vc % this.l2Entries) * 8;
        const hi = t.view.getUint32(i);
        const lo = t.view.getUint32(i + 4);
        if (hi & COMPRESSED_HI) {
          const [h, len] = this.compressedExtent(hi, lo);
          this.refcounts.deferFree(h, len);
          t.view.setUint32(i, 0);
          t.view.setUint32(i + 4, ZERO_LO);
        } else {
          const host = (hi & 0x00ffffff) * TWO32 + (lo & 0xfffffe00);
          if (host !== 0 && !(hi & COPIED_HI)) {
            this.refcounts.deferFree(host, cs);
            t.view.setUint32(i, 0);
            t.view.setUint32(i + 4, ZERO_LO);
          } else t.view.setUint32(i + 4, (lo | ZERO_LO) >>> 0);
        }
        t.dirty = true;
      }
      offset += n;
    }
  }

  // ---- metadata flush (see the ordering at the top of the file) --------------------

  private writeHeader(): void {
    this.file.write(0, serializeQcow2Header(this.header));
  }

  private writeL1Entries(): boolean {
    if (this.dirtyL1.size === 0) return false;
    const sectors = new Set<number>();
    for (const i of this.dirtyL1) sectors.add(Math.floor(i / 64));
    for (const s of sectors) {
      const count = Math.min(64, this.l1.length - s * 64);
      const buf = new Uint8Array(count * 8);
      const dv = new DataView(buf.buffer);
      for (let k = 0; k < count; k++) {
        const off = this.l1[s * 64 + k];
        if (!off) continue;
        dv.setUint32(k * 8, (COPIED_HI | Math.floor(off / TWO32)) >>> 0);
        dv.setUint32(k * 8 + 4, off >>> 0);
      }
      this.file.write(this.header.l1TableOffset + s * 512, buf);
    }
    this.dirtyL1.clear();
    return true;
  }

  private get metadataDirty(): boolean {
    return this.dirtyL1.size > 0 || this.l2.hasDirty() || this.refcounts.needsRelocation || this.refcounts.hasPendingFrees;
  }

  /** Write all pending metadata in crash-safe order (stages fsynced in between). */
  private flushMetadata(): void {
    const rc = this.refcounts;
    // Stage 1+2: refcounts, then the table entries pointing to new blocks.
    let moved: ReturnType<RefcountManager['relocateTable']> | null = null;
    if (rc.needsRelocation) moved = rc.relocateTable();
    if (rc.writeBlocks()) this.file.sync();
    if (moved) {
      this.file.write(moved.offset, rc.serializeTable(moved.clusters));
      this.file.sync();
      this.header.refcountTableOffset = moved.offset;
      this.header.refcountTableClusters = moved.clusters;
      this.writeHeader();
      this.file.sync();
      rc.tableMoved(moved.offset, moved.clusters);
      rc.deferFree(moved.oldOffset, moved.oldClusters * this.clusterSize);
    } else if (rc.writeTableEntries()) this.file.sync();
    // Stage 3+4: L2 tables, then L1 entries.
    if (this.l2.writeDirty()) this.file.sync();
    if (this.writeL1Entries()) this.file.sync();
    // Stage 5: decrements for clusters nothing durable references any more.
    if (rc.hasPendingFrees) {
      rc.applyPendingFrees();
      rc.writeBlocks();
    }
  }

  flush(): void {
    if (this.readOnly || this.closed) return;
    if (this.metadataDirty) this.flushMetadata();
    this.file.sync();
  }

  /**
   * Grow the virtual size (shrinking is refused). When the L1 table must grow, a new one
   * is written and made durable before the header switches to it; the old one is freed
   * afterwards (a crash in between leaks it, nothing more).
   */
  resize(newSize: number): void {
    if (this.readOnly) throw new Error('image is read-only');
    if (newSize % 512) throw new Error('the new size must be a multiple of 512 bytes');
    if (newSize < this._size) throw new Error(`shrinking is not supported (${newSize} < ${this._size})`);
    if (newSize === this._size) return;
    this.flush();
    const cs = this.clusterSize;
    const need = Math.ceil(newSize / (this.l2Entries * cs));
    const h = this.header;
    if (need > h.l1Size) {
      const oldBytes = Math.ceil((h.l1Size * 8) / cs) * cs;
      if (need * 8 <= oldBytes && h.l1Size > 0) {
        // Room in the current clusters: zero the new entries first, then switch the size.
        this.file.write(h.l1TableOffset + h.l1Size * 8, new Uint8Array(need * 8 - h.l1Size * 8));
        this.file.sync();
      } else {
        const clusters = Math.ceil((need * 8) / cs);
        const off = this.refcounts.allocate(clusters);
        const buf = new Uint8Array(clusters * cs);
        const dv = new DataView(buf.buffer);
        this.l1.forEach((e, i) => {
          if (!e) return;
          dv.setUint32(i * 8, (COPIED_HI | Math.floor(e / TWO32)) >>> 0);
          dv.setUint32(i * 8 + 4, e >>> 0);
        });
        this.file.write(off, buf);
        this.flushMetadata(); // the new L1's refcounts (and its content) durable first
        this.file.sync();
        if (h.l1Size > 0) this.refcounts.deferFree(h.l1TableOffset, oldBytes);
        h.l1TableOffset = off;
      }
      h.l1Size = need;
      while (this.l1.length < need) this.l1.push(0);
    }
    h.size = newSize;
    this.writeHeader();
    this.file.sync();
    this._size = newSize;
    this.flush(); // applies the deferred free of the old L1
  }

  /**
   * Point the header at another backing file (or none). The caller has made sure the new
   * chain reads the same as the old one (e.g. by copying the dropped layer's clusters
   * in); all data and metadata are made durable first, and the header is one sector, so
   * a crash leaves either the old or the new backing name. Reopen the image to read
   * through the new chain.
   */
  setBackingFile(name: string | null, format: string | null): void {
    if (this.readOnly) throw new Error('image is read-only');
    this.flush();
    this.header.backingFile = name;
    this.header.backingFormat = name ? format : null;
    this.header.backingFileOffset = 0;
    this.header.backingFileSize = 0;
    this.writeHeader();
    this.file.sync();
  }

  /** Flush and close the file (the backing device is closed by whoever opened it). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.file.close();
  }
}
