// The on-disk form of a saved machine state (a snapshot's RAM, CPU and device
// state). Layout:
//   "BXWSTATE" | u32 format version | u32 header length | header JSON | blobs
// The header is the Machine state with every typed array replaced by a reference
// {"$blob": i, "type": "Uint8Array", "length": n}; blob i is stored deflate-compressed
// (guest RAM is mostly zeros and repeated pages, so it shrinks a lot). Files are written
// with temp + fsync + rename, so a crash leaves the old file or the new one.
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-file';

const MAGIC = 'BXWSTATE';
export const STATE_FILE_VERSION = 1;

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
  if (version !== STATE_FILE_VERSION) throw new StateFileError(`machine state file version ${version} is not supported (this build reads ${STATE_FILE_VERSION})`);
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
      const bytes = new Uint8Array(raw.length);
      bytes.set(raw);
      const arr = new Ctor(bytes.buffer);
      if (arr.length !== v.length) throw new StateFileError(`machine state blob #${i} has ${arr.length} elements, expected ${v.length}`);
      return arr;
    });
  } catch (e) {
    if (e instanceof StateFileError) throw e;
    throw new StateFileError(`machine state file is corrupt: ${(e as Error).message}`);
  }
}

export function writeStateFile(file: string, state: unknown): number {
  const bytes = encodeState(state);
  writeFileAtomic(file, bytes);
  return bytes.length;
}

export function readStateFile(file: string): unknown {
  return decodeState(readFileSync(file));
}
