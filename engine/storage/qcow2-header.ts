// qcow2 header: parse + validate (before anything is written) and serialize.
// Layout follows QEMU's docs/interop/qcow2.txt (all fields big-endian):
//   0 magic "QFI\xfb" | 4 version | 8 backing_file_offset u64 | 16 backing_file_size
//   20 cluster_bits | 24 size u64 | 32 crypt_method | 36 l1_size | 40 l1_table_offset u64
//   48 refcount_table_offset u64 | 56 refcount_table_clusters | 60 nb_snapshots
//   64 snapshots_offset u64 | v3: 72 incompatible u64 | 80 compatible u64
//   88 autoclear u64 | 96 refcount_order | 100 header_length | 104 compression_type (opt.)
// Header extensions follow at header_length: {type u32, length u32, data padded to 8}
// until type 0. The backing file name lives in the first cluster as well.

export const QCOW2_MAGIC = 0x514649fb;
export const EXT_END = 0;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;

// Incompatible feature bits.
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;

/** Entry masks: host offsets live in bits 9..55 of L1/L2/refcount-table entries. */
export const OFFSET_MASK_HI = 0x00ffffff; // bits 32..55 of the entry's high word
export const OFFSET_MASK_LO = 0xfffffe00; // bits 9..31 of the low word

export class Qcow2FormatError extends Error {
  constructor(message: string) {
    super(`not a usable qcow2 image: ${message}`);
  }
}

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatible: bigint;
  compatible: bigint;
  autoclear: bigint;
  refcountOrder: number;
  headerLength: number;
  backingFile: string | null;
  backingFormat: string | null;
  /** Unknown header extensions, kept verbatim so a header rewrite preserves them. */
  otherExtensions: { type: number; data: Uint8Array }[];
}

function u64(dv: DataView, off: number, what: string): number {
  const v = dv.getBigUint64(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Qcow2FormatError(`${what} ${v} is out of range`);
  return Number(v);
}

/**
 * Parse and validate the header from the image's first bytes (at least the whole first
 * cluster when available) and the file size. Throws Qcow2FormatError naming the problem.
 */
export function parseQcow2Header(buf: Uint8Array, fileSize: number): Qcow2Header {
  if (buf.length < 72) throw new Qcow2FormatError(`file is too short for a qcow2 header (${fileSize} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0) !== QCOW2_MAGIC) throw new Qcow2FormatError('bad magic (expected "QFI\\xfb")');
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) throw new Qcow2FormatError(`unsupported version ${version} (2 and 3 are supported)`);
  const clusterBits = dv.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) throw new Qcow2FormatError(`cluster size 2^${clusterBits} is out of range (512 B to 2 MiB)`);
  const clusterSize = 2 ** clusterBits;
  const h: Qcow2Header = {
    version,
    backingFileOffset: u64(dv, 8, 'backing file offset'),
    backingFileSize: dv.getUint32(16),
    clusterBits,
    size: u64(dv, 24, 'virtual size'),
    cryptMethod: dv.getUint32(32),
    l1Size: dv.getUint32(36),
    l1TableOffset: u64(dv, 40, 'L1 table offset'),
    refcountTableOffset: u64(dv, 48, 'refcount table offset'),
    refcountTableClusters: dv.getUint32(56),
    nbSnapshots: dv.getUint32(60),
    snapshotsOffset: u64(dv, 64, 'snapshot table offset'),
    incompatible: 0n,
    compatible: 0n,
    autoclear: 0n,
    refcountOrder: 4,
    headerLength: 72,
    backingFile: null,
    backingFormat: null,
    otherExtensions: [],
  };
  if (version === 3) {
    if (buf.length < 104) throw new Qcow2FormatError('file is too short for a version 3 header');
    h.incompatible = dv.getBigUint64(72);
    h.compatible = dv.getBigUint64(80);
    h.autoclear = dv.getBigUint64(88);
    h.refcountOrder = dv.getUint32(96);
    h.headerLength = dv.getUint32(100);
    if (h.headerLength < 104 || h.headerLength > clusterSize || h.headerLength % 8 !== 0)
      throw new Qcow2FormatError(`header length ${h.headerLength} is invalid`);
    if (h.headerLength > 104 && buf.length > 104 && buf[104] !== 0) throw new Qcow2FormatError(`compression type ${buf[104]} is not supported (only zlib)`);
  }
  const known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT;
  if (h.incompatible & INCOMPAT_DATA_FILE) throw new Qcow2FormatError('external data files are not supported');
  if (h.incompatible & INCOMPAT_COMPRESSION) throw new Qcow2FormatError('non-zlib compression (zstd) is not supported');
  if (h.incompatible & INCOMPAT_EXTL2) throw new Qcow2FormatError('extended L2 entries (subclusters) are not supported');
  if (h.incompatible & ~known) throw new Qcow2FormatError(`unknown incompatible features 0x${h.incompatible.toString(16)}`);
  if (h.cryptMethod !== 0) throw new Qcow2FormatError('encrypted images are not supported');
  if (h.refcountOrder > 6) throw new Qcow2FormatError(`refcount order ${h.refcountOrder} is out of range (0-6)`);
  if (h.size % 512 !== 0 && h.size > 0) {
    // QEMU rounds odd sizes up to a sector; keep the sector-exact size for BlockDevice.
    h.size = Math.ceil(h.size / 512) * 512;
  }
  const checkRange = (off: number, len: number, what: string) => {
    if (off % clusterSize !== 0) throw new Qcow2FormatError(`${what} offset ${off} is not cluster-aligned`);
    if (off + len > fileSize) throw new Qcow2FormatError(`${what} (${len} bytes at ${off}) lies outside the file (${fileSize} bytes)`);
    if (off === 0 && len > 0) throw new Qcow2FormatError(`${what} overlaps the header`);
  };
  // Each L2 table covers clusterSize/8 clusters; the L1 must cover the virtual size.
  const l2Covers = (clusterSize / 8) * clusterSize;
  const needL1 = Math.ceil(h.size / l2Covers);
  if (h.l1Size < needL1) throw new Qcow2FormatError(`L1 table has ${h.l1Size} entries, ${needL1} are needed for the virtual size`);
  if (h.l1Size > 32 * 1024 * 1024) throw new Qcow2FormatError(`L1 table size ${h.l1Size} is too large`);
  if (h.l1Size > 0) checkRange(h.l1TableOffset, h.l1Size * 8, 'L1 table');
  if (h.refcountTableClusters === 0) throw new Qcow2FormatError('refcount table is empty');
  if (h.refcountTableClusters > 2 ** 24) throw new Qcow2FormatError('refcount table is too large');
  checkRange(h.refcountTableOffset, h.refcountTableClusters * clusterSize, 'refcount table');
  if (h.l1Size > 0) {
    const l1End = h.l1TableOffset + h.l1Size * 8;
    const rtEnd = h.refcountTableOffset + h.refcountTableClusters * clusterSize;
    if (h.l1TableOffset < rtEnd && h.refcountTableOffset < l1End) throw new Qcow2FormatError('refcount table overlaps the L1 table');
  }
  if (h.nbSnapshots > 0) checkRange(h.snapshotsOffset, 0, 'snapshot table');

  // Header extensions (v3; v2 images may have them too, starting after the 72-byte header).
  let off = h.headerLength;
  const limit = Math.min(clusterSize, buf.length);
  for (;;) {
    if (off + 8 > limit) throw new Qcow2FormatError('header extensions run past the first cluster');
    const type = dv.getUint32(off);
    const len = dv.getUint32(off + 4);
    off += 8;
    if (type === EXT_END) break;
    if (off + len > limit) throw new Qcow2FormatError(`header extension 0x${type.toString(16)} runs past the first cluster`);
    const data = buf.slice(off, off + len);
    if (type === EXT_BACKING_FORMAT) h.backingFormat = new TextDecoder().decode(data);
    else if (type !== EXT_FEATURE_TABLE) h.otherExtensions.push({ type, data });
    off += Math.ceil(len / 8) * 8;
  }
  if (h.backingFileOffset) {
    if (h.backingFileSize === 0 || h.backingFileSize > 1023) throw new Qcow2FormatError(`backing file name length ${h.backingFileSize} is invalid`);
    if (h.backingFileOffset + h.backingFileSize > Math.min(clusterSize, buf.length))
      throw new Qcow2FormatError('backing file name lies outside the first cluster');
    h.backingFile = new TextDecoder().decode(buf.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize));
  }
  return h;
}

function putExt(out: DataView, off: number, type: number, data: Uint8Array): number {
  out.setUint32(off, type);
  out.setUint32(off + 4, data.length);
  new Uint8Array(out.buffer, out.byteOffset + off + 8, data.length).set(data);
  return off + 8 + Math.ceil(data.length / 8) * 8;
}

/** The feature name table qemu-img writes: names for the bits we may set or report. */
function featureTable(): Uint8Array {
  const entries: [number, number, string][] = [
    [0, 0, 'dirty bit'],
    [0, 1, 'corrupt bit'],
    [0, 2, 'external data file'],
    [0, 3, 'compression type'],
    [0, 4, 'extended L2 entries'],
    [1, 0, 'lazy refcounts'],
    [2, 0, 'bitmaps'],
    [2, 1, 'raw external data'],
  ];
  const out = new Uint8Array(entries.length * 48);
  entries.forEach(([type, bit, name], i) => {
    out[i * 48] = type;
    out[i * 48 + 1] = bit;
    out.set(new TextEncoder().encode(name), i * 48 + 2);
  });
  return out;
}

/**
 * Serialize a version 3 header with its extensions and backing file name into a buffer
 * of `clusterSize` bytes (what goes at offset 0). Throws when it does not fit.
 */
export function serializeQcow2Header(h: Qcow2Header): Uint8Array {
  const clusterSize = 2 ** h.clusterBits;
  const buf = new Uint8Array(clusterSize);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, QCOW2_MAGIC);
  dv.setUint32(4, 3);
  dv.setUint32(20, h.clusterBits);
  dv.setBigUint64(24, BigInt(h.size));
  dv.setUint32(32, 0);
  dv.setUint32(36, h.l1Size);
  dv.setBigUint64(40, BigInt(h.l1TableOffset));
  dv.setBigUint64(48, BigInt(h.refcountTableOffset));
  dv.setUint32(56, h.refcountTableClusters);
  dv.setUint32(60, h.nbSnapshots);
  dv.setBigUint64(64, BigInt(h.snapshotsOffset));
  dv.setBigUint64(72, h.incompatible);
  dv.setBigUint64(80, h.compatible);
  dv.setBigUint64(88, h.autoclear);
  dv.setUint32(96, h.refcountOrder);
  dv.setUint32(100, 112); // 104 + compression_type byte (0 = zlib) + padding, as QEMU writes
  let off = 112;
  if (h.backingFormat) off = putExt(dv, off, EXT_BACKING_FORMAT, new TextEncoder().encode(h.backingFormat));
  for (const e of h.otherExtensions) off = putExt(dv, off, e.type, e.data);
  // The feature name table is informational; leave it out when the cluster is too small
  // (512-byte clusters with a backing file name).
  const ft = featureTable();
  const nameLen = h.backingFile ? new TextEncoder().encode(h.backingFile).length : 0;
  if (off + 8 + ft.length + 8 + nameLen <= clusterSize) off = putExt(dv, off, EXT_FEATURE_TABLE, ft);
  off += 8; // end-of-extensions marker (zeros)
  if (h.backingFile) {
    const name = new TextEncoder().encode(h.backingFile);
    if (off + name.length > clusterSize) throw new Error('backing file name does not fit in the header cluster');
    buf.set(name, off);
    dv.setBigUint64(8, BigInt(off));
    dv.setUint32(16, name.length);
    off += name.length;
  }
  if (off > clusterSize) throw new Error('qcow2 header does not fit in one cluster');
  return buf.subarray(0, Math.ceil(off / 512) * 512);
}
