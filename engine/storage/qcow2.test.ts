// Unit tests of the qcow2 layer over in-memory files: round trips, backing files and
// copy-on-write, zero clusters, resize, simulated crashes at every write, and corrupt or
// truncated images (specific error, file untouched).
import { describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from './block-device';
import { MemoryFile } from './memory-file';
import { createQcow2 } from './qcow2-create';
import { Qcow2Image } from './qcow2-image';
import { checkQcow2 } from './qcow2-check';
import type { FileHandle } from './file-handle';

function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function fresh(size: number, clusterSize = 65536, backingFile?: string): MemoryFile {
  const f = new MemoryFile();
  createQcow2(f, { size, clusterSize, backingFile, backingFormat: backingFile ? 'raw' : undefined });
  return f;
}

function randomWrites(img: Qcow2Image, ref: Uint8Array, count: number, maxLen: number, seed: number): void {
  const r = rng(seed);
  for (let k = 0; k < count; k++) {
    const len = 1 + Math.floor(r() * maxLen);
    const off = Math.floor(r() * (ref.length - len));
    const d = new Uint8Array(len);
    for (let i = 0; i < len; i++) d[i] = (r() * 256) | 0;
    img.write(off, d);
    ref.set(d, off);
  }
}

function readAll(img: { size: number; read(o: number, b: Uint8Array, i: number, n: number): void }): Uint8Array {
  const out = new Uint8Array(img.size);
  img.read(0, out, 0, out.length);
  return out;
}

/** Byte equality without vitest's element-by-element deep diff (slow on megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectClean(f: FileHandle): void {
  const c = checkQcow2(f);
  expect(c.errors).toEqual([]);
  expect(c.leaks).toBe(0);
}

describe('qcow2 create/write/read', () => {
  for (const cs of [512, 4096, 65536]) {
    it(`random round trips with ${cs}-byte clusters survive reopen`, () => {
      const size = 8 * 1024 * 1024;
      const f = fresh(size, cs);
      const img = new Qcow2Image(f);
      const ref = new Uint8Array(size);
      randomWrites(img, ref, 200, 3 * cs + 100, cs);
      // Unaligned, cluster-straddling reads.
      const r = rng(7);
      for (let k = 0; k < 100; k++) {
        const len = 1 + Math.floor(r() * 3 * cs);
        const off = Math.floor(r() * (size - len));
        const got = new Uint8Array(len + 3);
        img.read(off, got, 3, len);
        expect(same(got.subarray(3), ref.subarray(off, off + len))).toBe(true);
      }
      img.flush();
      expectClean(f);
      const again = new Qcow2Image(new MemoryFile(f.bytes()));
      expect(same(readAll(again), ref)).toBe(true);
    });
  }

  it('reads and writes at the very end of the disk, refuses past it', () => {
    const f = fresh(1024 * 1024 + 512);
    const img = new Qcow2Image(f);
    img.write(img.size - 512, new Uint8Array(512).fill(9));
    const b = new Uint8Array(512);
    img.read(img.size - 512, b, 0, 512);
    expect(b[511]).toBe(9);
    expect(() => img.write(img.size - 511, new Uint8Array(512))).toThrow(RangeError);
    expect(() => img.read(img.size, b, 0, 1)).toThrow(RangeError);
  });

  it('flush writes metadata in order: refcounts, then L2, then L1, each fsynced', () => {
    const f = fresh(16 * 1024 * 1024);
    const img = new Qcow2Image(f);
    const before = f.syncs;
    img.write(5 * 65536 + 100, new Uint8Array(10).fill(1));
    expect(f.syncs).toBe(before); // nothing synced until the guest flushes
    img.flush();
    expect(f.syncs - before).toBe(4); // refblock, L2, L1, final data sync
    img.write(5 * 65536 + 200, new Uint8Array(10).fill(2)); // in place: data only
    const s2 = f.syncs;
    img.flush();
    expect(f.syncs - s2).toBe(1);
  });

  it('a read-only image refuses writes', () => {
    const f = fresh(1024 * 1024);
    const img = new Qcow2Image(new MemoryFile(f.bytes(), true));
    expect(img.readOnly).toBe(true);
    expect(() => img.write(0, new Uint8Array(512))).toThrow(/read-only/);
  });
});

describe('qcow2 backing files and copy-on-write', () => {
  const size = 4 * 1024 * 1024;
  const base = new Uint8Array(size);
  const r = rng(3);
  for (let i = 0; i < size; i++) base[i] = (r() * 256) | 0;

  it('unallocated clusters read from the backing file; partial writes copy the rest', () => {
    const f = fresh(size, 65536, 'base.img');
    const backing = new MemoryBlockDevice(base.slice(), true);
    const img = new Qcow2Image(f, { backing });
    expect(same(readAll(img), base)).toBe(true);
    const ref = base.slice();
    randomWrites(img, ref, 100, 70000, 11);
    expect(same(readAll(img), ref)).toBe(true);
    img.flush();
    expectClean(f);
    const again = new Qcow2Image(new MemoryFile(f.bytes()), { backing });
    expect(again.header.backingFile).toBe('base.img');
    expect(same(readAll(again), ref)).toBe(true);
  });

  it('a backing file smaller than the image reads zeros past its end', () => {
    const f = fresh(size, 65536, 'small.img');
    const img = new Qcow2Image(f, { backing: new MemoryBlockDevice(base.slice(0, 100000), true) });
    const ref = new Uint8Array(size);
    ref.set(base.subarray(0, 100000));
    expect(same(readAll(img), ref)).toBe(true);
    img.write(99990, new Uint8Array(20).fill(0xee));
    ref.fill(0xee, 99990, 100010);
    expect(same(readAll(img), ref)).toBe(true);
  });

  it('refuses to open an image whose backing file was not provided', () => {
    const f = fresh(size, 65536, 'base.img');
    expect(() => new Qcow2Image(f)).toThrow(/backing file base.img/);
  });
});

describe('qcow2 zero clusters', () => {
  it('zero clusters hide the backing file and read as zero, also after reopen', () => {
    const size = 1024 * 1024;
    const base = new Uint8Array(size).fill(0x55);
    const backing = new MemoryBlockDevice(base, true);
    const f = fresh(size, 4096, 'b');
    const img = new Qcow2Image(f, { backing });
    img.write(8192, new Uint8Array(4096).fill(7)); // allocated, then zeroed (keeps its cluster)
    img.writeZeroes(4096, 3 * 4096 + 100); // whole clusters 1-3 + a partial one
    expect(img.clusterKind(4096)).toBe('zero');
    expect(img.clusterKind(8192)).toBe('zero');
    expect(img.clusterKind(16384)).toBe('data');
    const ref = base.slice();
    ref.fill(0, 4096, 4 * 4096 + 100);
    expect(same(readAll(img), ref)).toBe(true);
    // Writing into a zero cluster makes it data again, zero-filled around the write.
    img.write(4096 + 10, new Uint8Array([1, 2, 3]));
    ref.set([1, 2, 3], 4096 + 10);
    expect(same(readAll(img), ref)).toBe(true);
    img.flush();
    expectClean(f);
    expect(same(readAll(new Qcow2Image(new MemoryFile(f.bytes()), { backing })), ref)).toBe(true);
  });
});

describe('qcow2 resize', () => {
  it('grows in place and with a relocated L1 table, keeping data', () => {
    const f = fresh(1024 * 1024, 512); // 512-byte clusters: each L2 covers 32 KiB, the L1 outgrows its clusters fast
    const img = new Qcow2Image(f);
    const ref = new Uint8Array(1024 * 1024);
    randomWrites(img, ref, 50, 2000, 5);
    img.resize(64 * 1024 * 1024);
    expect(img.size).toBe(64 * 1024 * 1024);
    const big = new Uint8Array(img.size);
    big.set(ref);
    randomWrites(img, big, 200, 3000, 6);
    img.flush();
    expectClean(f);
    const again = new Qcow2Image(new MemoryFile(f.bytes()));
    expect(again.size).toBe(64 * 1024 * 1024);
    expect(same(readAll(again), big)).toBe(true);
    expect(() => again.resize(1024)).toThrow(/read-only|shrink/);
    const w = new Qcow2Image(new MemoryFile(f.bytes()));
    expect(() => w.resize(1024 * 1024)).toThrow(/shrinking/);
  });
});

/** Records every write so a crash after any prefix of them can be replayed. */
class RecordingFile extends MemoryFile {
  log: { pos: number; data: Uint8Array; epoch: number }[] = [];
  epoch = 0;
  override write(position: number, data: Uint8Array): void {
    this.log.push({ pos: position, data: data.slice(), epoch: this.epoch });
    super.write(position, data);
  }
  override sync(): void {
    this.epoch++;
    super.sync();
  }
}

describe('qcow2 crash safety (simulated)', () => {
  for (const [cs, size, resizeTo] of [
    [4096, 2 * 1024 * 1024, 0],
    // 512-byte clusters: new refcount blocks, L2 tables, a refcount table relocation and an L1 relocation (resize) on the way.
    [512, 1024 * 1024, 12 * 1024 * 1024],
  ] as const)
  it(`a crash after any write leaves a consistent image that keeps every flushed write (${cs}-byte clusters${resizeTo ? ', resize' : ''})`, () => {
    const f0 = fresh(size, cs);
    const start = f0.bytes();
    const f = new RecordingFile(start);
    const img = new Qcow2Image(f);
    const finalSize = resizeTo || size;
    const ref = new Uint8Array(finalSize);
    const flushedAt: { logLen: number; k: number; content: Uint8Array }[] = [];
    const guest: { off: number; len: number }[] = [];
    const r = rng(42);
    for (let k = 0; k < 40; k++) {
      if (resizeTo && k === 10) {
        img.resize(resizeTo);
        flushedAt.push({ logLen: f.log.length, k: k - 1, content: ref.slice() });
      }
      const len = 1 + Math.floor(r() * 9000);
      const off = Math.floor(r() * (img.size - len));
      const d = new Uint8Array(len).fill(k + 1);
      img.write(off, d);
      ref.set(d, off);
      guest.push({ off, len });
      if (k % 5 === 4) {
        img.flush();
        flushedAt.push({ logLen: f.log.length, k, content: ref.slice() });
      }
    }
    // Process crash (kill -9): every completed write is in the file, in order.
    for (let n = 0; n <= f.log.length; n++) {
      const m = new MemoryFile(start);
      for (let i = 0; i < n; i++) m.write(f.log[i].pos, f.log[i].data);
      const c = checkQcow2(m);
      expect(c.errors, `after ${n} writes`).toEqual([]);
      // Flushed data is intact: outside ranges the guest wrote after the last completed
      // flush, the image reads exactly what it held at that flush.
      const last = [...flushedAt].reverse().find((x) => x.logLen <= n);
      if (last) {
        const got = readAll(new Qcow2Image(new MemoryFile(m.bytes(), true)));
        const later = new Uint8Array(finalSize);
        for (const g of guest.slice(last.k + 1)) later.fill(1, g.off, g.off + g.len);
        let bad = -1;
        for (let i = 0; i < got.length && bad < 0; i++) if (!later[i] && got[i] !== last.content[i]) bad = i;
        expect(bad, `flushed byte lost after ${n} writes`).toBe(-1);
      }
    }
    // Host crash: writes since the last fsync may reach the disk in any order, so any
    // subset of them may be lost. Try random subsets of the current epoch at every point.
    const rs = rng(99);
    for (let n = 1; n <= f.log.length; n++) {
      const epoch = f.log[n - 1].epoch;
      for (let trial = 0; trial < 4; trial++) {
        const m = new MemoryFile(start);
        for (let i = 0; i < n; i++) if (f.log[i].epoch !== epoch || rs() < 0.5) m.write(f.log[i].pos, f.log[i].data);
        expect(checkQcow2(m).errors, `host crash at write ${n}`).toEqual([]);
      }
    }
  });
});

describe('qcow2 crash safety across a refcount table relocation (simulated)', () => {
  it('512-byte clusters grown past 8 MiB of host file: consistent at every sync boundary and at sampled points', () => {
    const f0 = fresh(1024 * 1024, 512);
    const start = f0.bytes();
    const f = new RecordingFile(start);
    const img = new Qcow2Image(f);
    const tableAt = () => Number(new DataView(f.bytes().buffer).getBigUint64(48));
    const table0 = tableAt();
    img.resize(32 * 1024 * 1024);
    const r = rng(5);
    for (let k = 0; k < 80; k++) {
      const len = 1 + Math.floor(r() * 400_000);
      img.write(Math.floor(r() * (img.size - len)), new Uint8Array(len).fill(k + 1));
      if (k % 6 === 5) img.flush();
    }
    img.flush();
    expect(f.size()).toBeGreaterThan(9 * 1024 * 1024);
    expect(tableAt()).not.toBe(table0); // the table did move
    expectClean(f);
    // Replay the writes in order (a kill -9 after each prefix); check at the writes
    // around every fsync (where the metadata stages are) and at random points.
    const log = f.log;
    const points = new Set<number>();
    for (let i = 1; i < log.length; i++) if (log[i].epoch !== log[i - 1].epoch) for (let d = -3; d <= 3; d++) points.add(i + d);
    const rs = rng(77);
    for (let k = 0; k < 150; k++) points.add(Math.floor(rs() * log.length));
    const m = new MemoryFile(start);
    let applied = 0;
    for (const n of [...points].filter((x) => x >= 0 && x <= log.length).sort((a, b) => a - b)) {
      while (applied < n) {
        m.write(log[applied].pos, log[applied].data);
        applied++;
      }
      expect(checkQcow2(m).errors, `after ${n} of ${log.length} writes`).toEqual([]);
    }
  });
});

describe('qcow2 corrupt and truncated images', () => {
  const good = fresh(8 * 1024 * 1024).bytes();
  const set32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint32(off, v);
  const set64 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setBigUint64(off, BigInt(v));
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['bad magic', (b) => (set32(b, 0, 0x12345678), b), /bad magic/],
    ['unsupported version', (b) => (set32(b, 4, 4), b), /unsupported version 4/],
    ['cluster size too big', (b) => (set32(b, 20, 22), b), /cluster size .* out of range/],
    ['cluster size too small', (b) => (set32(b, 20, 8), b), /cluster size .* out of range/],
    ['L1 outside the file', (b) => (set64(b, 40, 1 << 30), b), /L1 table .* outside the file/],
    ['L1 too small', (b) => (set32(b, 36, 0), b), /L1 table has 0 entries/],
    ['refcount table overlaps L1', (b) => (set64(b, 48, 3 * 65536), b), /refcount table overlaps the L1 table/],
    ['refcount table over the header', (b) => (set64(b, 48, 0), b), /refcount table overlaps the header/],
    ['truncated to 50 bytes', (b) => b.slice(0, 50), /too short/],
    ['truncated after the header', (b) => b.slice(0, 65536), /outside the file/],
    ['unknown incompatible feature', (b) => (set64(b, 72, 1 << 20), b), /unknown incompatible features/],
    ['encrypted', (b) => (set32(b, 32, 1), b), /encrypted/],
    ['empty file', () => new Uint8Array(0), /too short/],
  ];
  for (const [name, mutate, re] of cases) {
    it(`${name}: clear error, nothing written`, () => {
      const bytes = mutate(good.slice());
      const f = new MemoryFile(bytes);
      expect(() => new Qcow2Image(f)).toThrow(re);
      expect(f.writes).toBe(0);
      expect(same(f.bytes(), bytes)).toBe(true);
    });
  }

  it('dirty-flagged images open read-only but not writable', () => {
    const b = good.slice();
    set64(b, 72, 1);
    const f = new MemoryFile(b);
    expect(() => new Qcow2Image(f)).toThrow(/dirty flag/);
    expect(new Qcow2Image(f, { readOnly: true }).size).toBe(8 * 1024 * 1024);
    expect(f.writes).toBe(0);
  });

  it('an L1 entry pointing past the end of the file is named', () => {
    const b = good.slice();
    const l1 = Number(new DataView(b.buffer).getBigUint64(40));
    set64(b, l1, 0x8000000000000000 + 100 * 65536);
    const f = new MemoryFile(b);
    expect(() => new Qcow2Image(f)).toThrow(/L1 entry 0 points outside the file/);
    expect(f.writes).toBe(0);
  });
});
