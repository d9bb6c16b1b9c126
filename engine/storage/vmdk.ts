// VMware VMDK images, read-only (imported by conversion):
//  - hosted sparse extents ("KDMV" header: monolithicSparse, twoGbMaxExtentSparse
//    pieces, and streamOptimized with deflate-compressed grains),
//  - text descriptor files listing FLAT / SPARSE / ZERO extents (monolithicFlat,
//    split variants), whose extent files the host opens through a callback.
// Sparse header (little-endian): 0 "KDMV" | 4 version | 8 flags | 12 capacity (sectors)
// | 20 grain size (sectors) | 28 descriptor offset | 36 descriptor size | 44 GTEs per GT
// | 48 redundant GD offset | 56 GD offset | 64 overhead | 77 compress algorithm u16.
// The grain directory holds sector offsets of grain tables; grain table entries hold the
// sector of each grain (0 = unallocated: zeros or parent, 1 = zero grain).
import type { BlockDevice } from './block-device';
import type { FileHandle } from './file-handle';
import { inflateRaw } from './qcow2-inflate';

export const VMDK_MAGIC = 0x564d444b; // "KDMV" read little-endian
const GD_AT_END = 0xffffffffffffffffn;
const FLAG_COMPRESSED = 1 << 16;

/** Opens an extent file named in a descriptor (relative to the descriptor's directory). */
export type ExtentOpener = (name: string) => FileHandle;

interface Extent {
  sectors: number;
  read(sector: number, into: Uint8Array, intoOffset: number, length: number): void;
  /** Whether the grain holding byte `offset` (relative to the extent) has data. */
  allocated(offset: number): boolean;
  close(): void;
}

function err(msg: string): Error {
  return new Error(`not a usable VMDK image: ${msg}`);
}

class SparseExtent implements Extent {
  readonly sectors: number;
  private readonly grainBytes: number;
  private readonly perGt: number;
  private readonly gd: Float64Array;
  private readonly compressed: boolean;
  private gtCache = new Map<number, Uint32Array>();
  private grainBuf: Uint8Array;
  private grainBufSector = -1;

  constructor(private readonly file: FileHandle) {
    const fileSize = file.size();
    let h = new Uint8Array(512);
    if (fileSize < 512) throw err('file is too short for a sparse extent header');
    file.read(0, h, 0, 512);
    let dv = new DataView(h.buffer);
    if (dv.getUint32(0, true) !== VMDK_MAGIC) throw err('bad sparse extent magic');
    const version = dv.getUint32(4, true);
    if (version < 1 || version > 3) throw err(`unsupported sparse extent version ${version}`);
    if (dv.getBigUint64(56, true) === GD_AT_END) {
      // streamOptimized written in one pass: the real header is the footer near the end.
      if (fileSize < 1536) throw err('stream-optimized footer missing');
      h = new Uint8Array(512);
      file.read(fileSize - 1024, h, 0, 512);
      dv = new DataView(h.buffer);
      if (dv.getUint32(0, true) !== VMDK_MAGIC) throw err('stream-optimized footer is damaged');
    }
    const flags = dv.getUint32(8, true);
    this.compressed = (flags & FLAG_COMPRESSED) !== 0;
    if (this.compressed && dv.getUint16(77, true) !== 1) throw err(`unsupported compression algorithm ${dv.getUint16(77, true)}`);
    this.sectors = Number(dv.getBigUint64(12, true));
    const grain = Number(dv.getBigUint64(20, true));
    if (grain < 1 || grain > 2048 || (grain & (grain - 1)) !== 0) throw err(`grain size ${grain} sectors is invalid`);
    this.grainBytes = grain * 512;
    this.perGt = dv.getUint32(44, true);
    if (this.perGt < 1 || this.perGt > 65536) throw err(`grain table size ${this.perGt} is invalid`);
    // Primary grain directory (bit 1 of flags: a redundant one exists as well; either will do).
    const gdSector = Number(dv.getBigUint64(56, true));
    const gts = Math.ceil(this.sectors / grain / this.perGt);
    if (gdSector * 512 + gts * 4 > fileSize) throw err('the grain directory lies outside the file');
    const raw = new Uint8Array(gts * 4);
    file.read(gdSector * 512, raw, 0, raw.length);
    const gv = new DataView(raw.buffer);
    this.gd = new Float64Array(gts);
    for (let i = 0; i < gts; i++) {
      const s = gv.getUint32(i * 4, true);
      if (s * 512 + this.perGt * 4 > fileSize && s !== 0) throw err(`grain table ${i} lies outside the file`);
      this.gd[i] = s;
    }
    this.grainBuf = new Uint8Array(this.grainBytes);
  }

  private gte(grain: number): number {
    const gi = Math.floor(grain / this.perGt);
    const gtSector = this.gd[gi];
    if (!gtSector) return 0;
    let gt = this.gtCache.get(gi);
    if (!gt) {
      const raw = new Uint8Array(this.perGt * 4);
      this.file.read(gtSector * 512, raw, 0, raw.length);
      gt = new Uint32Array(this.perGt);
      const v = new DataView(raw.buffer);
      for (let i = 0; i < this.perGt; i++) gt[i] = v.getUint32(i * 4, true);
      if (this.gtCache.size > 256) this.gtCache.clear();
      this.gtCache.set(gi, gt);
    }
    return gt[grain % this.perGt];
  }

  allocated(offset: number): boolean {
    return this.gte(Math.floor(offset / this.grainBytes)) > 1;
  }

  /** Inflate a compressed grain (marker: u64 lba, u32 size, zlib data) into grainBuf. */
  private loadCompressed(sector: number): void {
    if (sector === this.grainBufSector) return;
    const hdr = new Uint8Array(12);
    this.file.read(sector * 512, hdr, 0, 12);
    const size = new DataView(hdr.buffer).getUint32(8, true);
    const data = new Uint8Array(size);
    this.file.read(sector * 512 + 12, data, 0, size);
    this.grainBuf.fill(0);
    this.grainBufSector = -1;
    // RFC 1950 zlib stream: skip the 2-byte header (and a preset dictionary is not used).
    try {
      inflateRaw(data.subarray(2), this.grainBuf);
    } catch (e) {
      throw new Error(`VMDK: compressed grain at sector ${sector} is damaged: ${(e as Error).message}`);
    }
    this.grainBufSector = sector;
  }

  read(sector: number, into: Uint8Array, intoOffset: number, length: number): void {
    let offset = sector * 512;
    while (length > 0) {
      const g = Math.floor(offset / this.grainBytes);
      const within = offset - g * this.grainBytes;
      const n = Math.min(this.grainBytes - within, length);
      const e = this.gte(g);
      if (e <= 1) into.fill(0, intoOffset, intoOffset + n);
      else if (this.compressed) {
        this.loadCompressed(e);
        into.set(this.grainBuf.subarray(within, within + n), intoOffset);
      } else this.file.read(e * 512 + within, into, intoOffset, n);
      offset += n;
      intoOffset += n;
      length -= n;
    }
  }

  close(): void {
    this.file.close();
  }
}

class FlatExtent implements Extent {
  constructor(
    private readonly file: FileHandle,
    readonly sectors: number,
    private readonly start: number,
  ) {}
  read(sector: number, into: Uint8Array, intoOffset: number, length: number): void {
    this.file.read((this.start + sector) * 512, into, intoOffset, length);
  }
  allocated(): boolean {
    return true;
  }
  close(): void {
    this.file.close();
  }
}

class ZeroExtent implements Extent {
  constructor(readonly sectors: number) {}
  read(_s: number, into: Uint8Array, intoOffset: number, length: number): void {
    into.fill(0, intoOffset, intoOffset + length);
  }
  allocated(): boolean {
    return false;
  }
  close(): void {}
}

/** Parse the extent lines of a text descriptor: `RW 2048 FLAT "name" 0`. */
export function parseVmdkDescriptor(text: string): { access: string; sectors: number; type: string; file?: string; offset: number }[] {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?/.exec(line);
    if (m) out.push({ access: m[1], sectors: Number(m[2]), type: m[3].toUpperCase(), file: m[4], offset: Number(m[5] ?? 0) });
  }
  return out;
}

export class VmdkImage implements BlockDevice {
  readonly readOnly = true;
  readonly size: number;
  private readonly extents: Extent[];
  private readonly starts: number[] = [];
  readonly kind: 'sparse' | 'descriptor';

  /**
   * @param file the .vmdk (sparse extent with embedded descriptor, or a text descriptor)
   * @param openExtent opens extent files a text descriptor names; needed only for those.
   */
  constructor(file: FileHandle, openExtent?: ExtentOpener) {
    const head = new Uint8Array(Math.min(file.size(), 4));
    file.read(0, head, 0, head.length);
    if (head.length === 4 && new DataView(head.buffer).getUint32(0, true) === VMDK_MAGIC) {
      this.extents = [new SparseExtent(file)];
      this.kind = 'sparse';
    } else {
      const size = file.size();
      if (size > 64 * 1024) throw err('neither a sparse extent nor a text descriptor');
      const buf = new Uint8Array(size);
      file.read(0, buf, 0, size);
      const text = new TextDecoder().decode(buf);
      if (!/^#\s*Disk DescriptorFile/m.test(text)) throw err('neither a sparse extent nor a text descriptor');
      const lines = parseVmdkDescriptor(text);
      if (!lines.length) throw err('the descriptor lists no extents');
      if (!openExtent) throw err('the descriptor names extent files, but no way to open them was given');
      this.extents = lines.map((l) => {
        if (l.type === 'ZERO') return new ZeroExtent(l.sectors);
        if (!l.file) throw err(`${l.type} extent without a file name`);
        if (l.type === 'FLAT') return new FlatExtent(openExtent(l.file), l.sectors, l.offset);
        if (l.type === 'SPARSE') return new SparseExtent(openExtent(l.file));
        throw err(`unsupported extent type ${l.type}`);
      });
      file.close();
      this.kind = 'descriptor';
    }
    let s = 0;
    for (const e of this.extents) {
      this.starts.push(s);
      s += e.sectors;
    }
    this.size = s * 512;
  }

  private locate(offset: number): number {
    const sector = Math.floor(offset / 512);
    let i = this.extents.length - 1;
    while (i > 0 && this.starts[i] > sector) i--;
    return i;
  }

  isAllocated(offset: number): boolean {
    const i = this.locate(offset);
    return this.extents[i].allocated(offset - this.starts[i] * 512);
  }

  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || offset + length > this.size) throw new RangeError(`read of ${length} bytes at ${offset} is past the end of the image (${this.size})`);
    if (offset % 512) {
      // Extents are sector-addressed: bounce unaligned reads through a sector buffer.
      const first = Math.floor(offset / 512) * 512;
      const tmp = new Uint8Array(Math.ceil((offset + length) / 512) * 512 - first);
      this.read(first, tmp, 0, tmp.length);
      into.set(tmp.subarray(offset - first, offset - first + length), intoOffset);
      return;
    }
    while (length > 0) {
      const i = this.locate(offset);
      const extStart = this.starts[i] * 512;
      const n = Math.min(extStart + this.extents[i].sectors * 512 - offset, length);
      this.extents[i].read((offset - extStart) / 512, into, intoOffset, n);
      offset += n;
      intoOffset += n;
      length -= n;
    }
  }

  write(): void {
    throw new Error('VMDK images are read-only in Boxwood (convert them to qcow2)');
  }

  flush(): void {}

  close(): void {
    for (const e of this.extents) e.close();
  }
}
