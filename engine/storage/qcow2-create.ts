// Create an empty qcow2 v3 image in a (new, empty) file, laid out as qemu-img does:
// cluster 0 header (+ extensions + backing name), cluster 1 refcount table, cluster 2
// the first refcount block, then the L1 table. The L1 is allocated through the image's
// own resize path, so every size and cluster size goes through the same allocator
// (refcount blocks and table growth included). Callers write to a temp file and rename
// on success (electron/node/storage/disk-operations.ts), so a half-made image is never seen.
import type { FileHandle } from './file-handle';
import { serializeQcow2Header, type Qcow2Header } from './qcow2-header';
import { Qcow2Image } from './qcow2-image';

export interface Qcow2CreateOptions {
  /** Virtual size in bytes (rounded up to 512). */
  size: number;
  /** Default 64 KiB; a power of two from 512 B to 2 MiB. */
  clusterSize?: number;
  /** Backing file name as stored in the header (relative to the image's directory or absolute). */
  backingFile?: string;
  /** Backing format stored in the header extension ('qcow2' or 'raw'). */
  backingFormat?: string;
}

export function createQcow2(file: FileHandle, opts: Qcow2CreateOptions): void {
  const cs = opts.clusterSize ?? 65536;
  const bits = Math.log2(cs);
  if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new Error(`cluster size ${cs} must be a power of two from 512 to 2097152`);
  if (!(opts.size >= 0) || !Number.isSafeInteger(opts.size)) throw new Error(`invalid size ${opts.size}`);
  const size = Math.ceil(opts.size / 512) * 512;
  const h: Qcow2Header = {
    version: 3,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits: bits,
    size: 0,
    cryptMethod: 0,
    l1Size: 0,
    l1TableOffset: 0,
    refcountTableOffset: cs,
    refcountTableClusters: 1,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatible: 0n,
    compatible: 0n,
    autoclear: 0n,
    refcountOrder: 4,
    headerLength: 112,
    backingFile: null,
    backingFormat: null,
    otherExtensions: [],
  };
  // Check early that the final header (with the backing name) fits in one cluster.
  serializeQcow2Header({ ...h, backingFile: opts.backingFile ?? null, backingFormat: opts.backingFormat ?? null });
  file.truncate(0);
  file.write(0, serializeQcow2Header(h));
  const table = new Uint8Array(cs);
  new DataView(table.buffer).setUint32(4, 2 * cs); // block 0 at cluster 2
  file.write(cs, table);
  const block = new Uint8Array(cs);
  const bv = new DataView(block.buffer);
  for (let c = 0; c < 3; c++) bv.setUint16(c * 2, 1); // header, table, this block
  file.write(2 * cs, block);
  file.sync();

  const img = new Qcow2Image(file, { readOnly: false });
  img.resize(size);
  img.flush();
  if (opts.backingFile) {
    // The header is rewritten last: the image gets its backing once the rest is durable.
    img.header.backingFile = opts.backingFile;
    img.header.backingFormat = opts.backingFormat ?? null;
    file.write(0, serializeQcow2Header(img.header));
    file.sync();
  }
}
