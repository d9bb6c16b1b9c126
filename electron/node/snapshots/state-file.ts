// The on-disk form of a saved machine state (a snapshot's RAM, CPU and device
// state). Layout:
//   "BXWSTATE" | u32 format version | u32 header length | header JSON | blobs
// The header is the Machine state with every typed array replaced by a reference
// {"$blob": i, "type": "Uint8Array", "length": n}; blob i is stored deflate-compressed
// (guest RAM is mostly zeros and repeated pages, so it shrinks a lot). Files are written
// with temp + fsync + rename, so a crash leaves the old file or the new one.
// Version 2: a large byte array (guest RAM) whose reference says "zeroPages": P is stored
// as a bitmap of its non-zero P-byte pages followed by those pages only (then deflated):
// all-zero pages cost nothing to write, and reading leaves them untouched (never-written
// memory), which halves the time to save and restore a mostly idle guest. Version 1 files
// (no zeroPages) are still read.
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-file';

const MAGIC = 'BXWSTATE';
export const STATE_FILE_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
/** Page size of the zero-page elision, and the smallest byte array it is used for. */
const ZERO_PAGE = 4096;
const SPARSE_MIN = 1 << 20;

const TYPED = { Uint8Array, Uint16Array, Uint32Array, Int32Array, Float64Array } as const;
type TypedName = keyof typeof TYPED;
type Typed = InstanceType<(typeof TYPED)[TypedName]>;

export class StateFileError extends Error {}

function typedName(v: unknown): TypedName | null {
  for (const name of Object.keys(TYPED) as TypedName[]) if (v instanceof TYPED[name]) return name;
  return null;
}

/** Encode a state object (plain data + typed arrays) into the file format. */
export function encodeState(state: unknown, level = 1): Uint8Array {
  const blobs: Uint8Array[] = [];
  const header = JSON.stringify(state, function (this: unknown, _k, v) {
    const name = typedName(v);
    if (!name) {
      if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
      return v;
    }
    const t = v as Typed;
    if (name === 'Uint8Array' && t.length >= SPARSE_MIN && t.length % ZERO_PAGE === 0 && t.byteOffset % 4 === 0) {
      blobs.push(deflateRawSync(packNonZeroPages(t as Uint8Array), { level, strategy: zc.Z_DEFAULT_STRATEGY }));
      return { $blob: blobs.length - 1, type: name, length: t.length, zeroPages: ZERO_PAGE };
    }
    blobs.push(deflateRawSync(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), { level, strategy: zc.Z_DEFAULT_STRATEGY }));
    return { $blob: blobs.length - 1, type: name, length: t.length };
  });
  const head = Buffer.from(header, 'utf8');
  const sizes = blobs.map((b) => b.length);
  const index = Buffer.from(JSON.stringify(sizes), 'utf8');
  const out = Buffer.alloc(8 + 4 + 4 + head.length + 4 + index.length + sizes.reduce((a, b) => a + b, 0));
  let o = out.write(MAGIC, 0, 'latin1');
  o = out.writeUInt32LE(STATE_FILE_VERSION, o);
  o = out.writeUInt32LE(head.length, o);
  o += head.copy(out, o);
  o = out.writeUInt32LE(index.length, o);
  o += index.copy(out, o);
  for (const b of blobs) o += Buffer.from(b.buffer, b.byteOffset, b.byteLength).copy(out, o);
  return out;
}

/** Decode a state file; every inconsistency is a StateFileError naming what is wrong. */
export function decodeState(data: Uint8Array): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC) throw new StateFileError('not a Boxwood machine state file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (!READABLE_VERSIONS.includes(version)) throw new StateFileError(`machine state file version ${version} is not supported (this build reads ${READABLE_VERSIONS.join(' and ')})`);
  const headLen = buf.readUInt32LE(12);
  if (16 + headLen + 4 > buf.length) throw new StateFileError('machine state file is truncated (header)');
  const headerText = buf.toString('utf8', 16, 16 + headLen);
  const indexLen = buf.readUInt32LE(16 + headLen);
  const indexStart = 20 + headLen;
  if (indexStart + indexLen > buf.length) throw new StateFileError('machine state file is truncated (blob index)');
  let sizes: number[];
  try {
    sizes = JSON.parse(buf.toString('utf8', indexStart, indexStart + indexLen));
  } catch {
    throw new StateFileError('machine state file has a corrupt blob index');
  }
  if (!Array.isArray(sizes) || sizes.some((n) => !Number.isInteger(n) || n < 0)) throw new StateFileError('machine state file has a corrupt blob index');
  const offsets: number[] = [];
  let o = indexStart + indexLen;
  for (const n of sizes) {
    offsets.push(o);
    o += n;
  }
  if (o !== buf.length) throw new StateFileError(`machine state file is ${o > buf.length ? 'truncated' : 'longer than its index says'} (blobs)`);
  try {
    return JSON.parse(headerText, (_k, v) => {
      if (v && typeof v === 'object' && typeof v.$num === 'string') return Number(v.$num);
      if (!v || typeof v !== 'object' || typeof v.$blob !== 'number') return v;
      const i = v.$blob as number;
      const Ctor = TYPED[v.type as TypedName];
      if (!Ctor || i < 0 || i >= sizes.length) throw new StateFileError(`machine state file references an unknown blob (${v.type} #${i})`);
      const raw = inflateRawSync(buf.subarray(offsets[i], offsets[i] + sizes[i]));
      if (v.zeroPages !== undefined) {
        if (version < 2 || v.type !== 'Uint8Array' || v.zeroPages !== ZERO_PAGE || !Number.isInteger(v.length) || v.length % ZERO_PAGE) throw new StateFileError(`machine state blob #${i} has an invalid page layout`);
        return unpackNonZeroPages(raw, v.length, i);
      }
      // Use the inflated buffer itself when it owns its memory (large blobs: guest RAM);
      // copying 256 MiB costs as much as inflating it.
      let bytes: Uint8Array = raw;
      if (raw.byteOffset !== 0 || raw.buffer.byteLength !== raw.length) {
        bytes = new Uint8Array(raw.length);
        bytes.set(raw);
      }
      if (bytes.length % Ctor.BYTES_PER_ELEMENT) throw new StateFileError(`machine state blob #${i} has a partial ${v.type} element`);
      const arr = new Ctor(bytes.buffer as ArrayBuffer, 0, bytes.length / Ctor.BYTES_PER_ELEMENT);
      if (arr.length !== v.length) throw new StateFileError(`machine state blob #${i} has ${arr.length} elements, expected ${v.length}`);
      return arr;
    });
  } catch (e) {
    if (e instanceof StateFileError) throw e;
    throw new StateFileError(`machine state file is corrupt: ${(e as Error).message}`);
  }
}

/** Bitmap of the non-zero pages (bit p of byte p>>3), then those pages in order. */
function packNonZeroPages(ram: Uint8Array): Uint8Array {
  const pages = ram.length / ZERO_PAGE;
  const words = new Uint32Array(ram.buffer, ram.byteOffset, ram.length >>> 2);
  const bitmapLen = Math.ceil(pages / 8);
  const nonZero: number[] = [];
  const perPage = ZERO_PAGE >>> 2;
  for (let p = 0; p < pages; p++) {
    const end = (p + 1) * perPage;
    for (let w = p * perPage; w < end; w++) {
      if (words[w] !== 0) {
        nonZero.push(p);
        break;
      }
    }
  }
  const out = new Uint8Array(bitmapLen + nonZero.length * ZERO_PAGE);
  nonZero.forEach((p, k) => {
    out[p >>> 3] |= 1 << (p & 7);
    out.set(ram.subarray(p * ZERO_PAGE, (p + 1) * ZERO_PAGE), bitmapLen + k * ZERO_PAGE);
  });
  return out;
}

function unpackNonZeroPages(packed: Uint8Array, length: number, blob: number): Uint8Array {
  const pages = length / ZERO_PAGE;
  const bitmapLen = Math.ceil(pages / 8);
  // A fresh array is zero without touching its memory: only the stored pages are written.
  const ram = new Uint8Array(length);
  let k = 0;
  for (let p = 0; p < pages; p++) {
    if (!(packed[p >>> 3] & (1 << (p & 7)))) continue;
    const at = bitmapLen + k * ZERO_PAGE;
    if (at + ZERO_PAGE > packed.length) throw new StateFileError(`machine state blob #${blob} is shorter than its page bitmap says`);
    ram.set(packed.subarray(at, at + ZERO_PAGE), p * ZERO_PAGE);
    k++;
  }
  if (bitmapLen + k * ZERO_PAGE !== packed.length) throw new StateFileError(`machine state blob #${blob} does not match its page bitmap`);
  return ram;
}

export function writeStateFile(file: string, state: unknown): number {
  const bytes = encodeState(state);
  writeFileAtomic(file, bytes);
  return bytes.length;
}

export function readStateFile(file: string): unknown {
  return decodeState(readFileSync(file));
}
