// Node-side storage tests: the raw-deflate inflater against node:zlib, compressed
// clusters made by qemu-img (skipped when qemu-img is missing), image probing and
// chain opening, and disk operations (cancellation leaves nothing, errors are clear).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { inflateRaw } from '../../../engine/storage/qcow2-inflate';
import { openDiskImage, probeFile } from './open-image';
import { lockHolder } from './image-lock';
import { CancelledError, cleanStaleTemps, convertDisk, createDisk, deleteDisk, diskInfo, parseSize, resizeDisk } from './disk-operations';

const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-storage-test-'));

function pseudo(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
}

describe('raw inflate', () => {
  const inputs: [string, Uint8Array][] = [
    ['text', new TextEncoder().encode('hello qcow2 '.repeat(6000))],
    ['random', pseudo(65536, 1)],
    ['zeros', new Uint8Array(65536)],
    ['mixed', Uint8Array.from({ length: 65536 }, (_, i) => (i % 1000 < 500 ? i & 7 : (i * 31) & 255))],
  ];
  for (const [name, data] of inputs) {
    for (const level of [0, 1, 6, 9]) {
      it(`${name} at level ${level} (windowBits -12 as QEMU)`, () => {
        const comp = zlib.deflateRawSync(data, { level, windowBits: 12 });
        const out = new Uint8Array(data.length);
        // Trailing garbage after the stream (up to the sector end) must be ignored.
        const padded = new Uint8Array(comp.length + 300).fill(0xa5);
        padded.set(comp);
        expect(inflateRaw(padded, out)).toBe(data.length);
        expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
      });
    }
  }
  it('truncated input gives a clear error', () => {
    const comp = zlib.deflateRawSync(pseudo(65536, 2), { level: 6 });
    expect(() => inflateRaw(comp.subarray(0, comp.length / 2), new Uint8Array(65536))).toThrow(/truncated/);
  });
});

describe.skipIf(!haveQemuImg)('images made by qemu-img', () => {
  it('compressed clusters read back as qemu-img convert -O raw gives them', () => {
    const d = tmp();
    const raw = path.join(d, 'src.raw');
    const data = new Uint8Array(4 * 1024 * 1024);
    data.set(new TextEncoder().encode('boxwood '.repeat(100000)));
    data.set(pseudo(300000, 3), 2 * 1024 * 1024);
    fs.writeFileSync(raw, data);
    const q = path.join(d, 'c.qcow2');
    expect(spawnSync('qemu-img', ['convert', '-c', '-O', 'qcow2', raw, q]).status).toBe(0);
    const img = openDiskImage(q);
    const out = new Uint8Array(img.size);
    img.read(0, out, 0, img.size);
    img.close();
    expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
    fs.rmSync(d, { recursive: true });
  });

  it('probes qcow2, vdi, vmdk, raw by content', () => {
    const d = tmp();
    const raw = path.join(d, 'x.img');
    fs.writeFileSync(raw, new Uint8Array(1024 * 1024));
    for (const f of ['qcow2', 'vdi', 'vmdk'] as const) {
      const out = path.join(d, `x.${f}.bin`); // the name says nothing: content decides
      expect(spawnSync('qemu-img', ['convert', '-O', f, raw, out]).status).toBe(0);
      expect(probeFile(out)).toBe(f);
    }
    expect(probeFile(raw)).toBe('raw');
    fs.rmSync(d, { recursive: true });
  });
});

describe('open-image and disk operations', () => {
  it('resolves backing files relative to the overlay and reports the chain', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'sub'));
    fs.writeFileSync(path.join(d, 'base.raw'), pseudo(1024 * 1024, 4));
    await createDisk(path.join(d, 'sub', 'o.qcow2'), { backing: '../base.raw' });
    const info = diskInfo(path.join(d, 'sub', 'o.qcow2'));
    expect(info.virtualSize).toBe(1024 * 1024);
    expect(info.chain.map((c) => c.format)).toEqual(['qcow2', 'raw']);
    const img = openDiskImage(path.join(d, 'sub', 'o.qcow2'));
    const b = new Uint8Array(16);
    img.read(0, b, 0, 16);
    img.close();
    expect(Array.from(b)).toEqual(Array.from(pseudo(16, 4)));
    fs.rmSync(d, { recursive: true });
  });

  it('a missing backing file and a corrupt image give clear errors', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'base.raw'), new Uint8Array(65536));
    await createDisk(path.join(d, 'o.qcow2'), { backing: 'base.raw' });
    fs.rmSync(path.join(d, 'base.raw'));
    expect(() => openDiskImage(path.join(d, 'o.qcow2'))).toThrow(/backing file of .*o\.qcow2.*no such file/);
    const bad = path.join(d, 'bad.qcow2');
    await createDisk(bad, { size: 1024 * 1024 });
    const bytes = fs.readFileSync(bad);
    fs.truncateSync(bad, 70000);
    const before = fs.readFileSync(bad);
    expect(() => openDiskImage(bad, { writable: true })).toThrow(/bad\.qcow2.*outside the file/);
    expect(Buffer.compare(fs.readFileSync(bad), before)).toBe(0);
    expect(bytes.length).toBeGreaterThan(70000);
    fs.rmSync(d, { recursive: true });
  });

  it('a cancelled conversion leaves no destination and no temp file', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 's.raw'), pseudo(8 * 1024 * 1024, 5));
    const ac = new AbortController();
    const p = convertDisk(path.join(d, 's.raw'), path.join(d, 'd.qcow2'), {
      format: 'qcow2',
      signal: ac.signal,
      onProgress: (done) => {
        if (done >= 2 * 1024 * 1024) ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(fs.readdirSync(d)).toEqual(['s.raw']);
    fs.rmSync(d, { recursive: true });
  });

  it('one writer per image: a second writable open is refused, a stale lock is taken over', async () => {
    const d = tmp();
    const f = path.join(d, 'l.qcow2');
    await createDisk(f, { size: 1024 * 1024 });
    const a = openDiskImage(f, { writable: true });
    expect(lockHolder(f)).toBe(process.pid);
    expect(() => openDiskImage(f, { writable: true })).toThrow(/in use by process/);
    await expect(convertDisk(f, path.join(d, 'c.qcow2'), { format: 'qcow2' })).rejects.toThrow(/in use/);
    openDiskImage(f).close(); // readers are not blocked
    a.close();
    expect(lockHolder(f)).toBe(null);
    fs.writeFileSync(path.join(d, '.l.qcow2.boxwood-lock'), '999999999\n'); // a killed VM's lock
    openDiskImage(f, { writable: true }).close();
    expect(fs.existsSync(path.join(d, '.l.qcow2.boxwood-lock'))).toBe(false);
    fs.rmSync(d, { recursive: true });
  });

  it('stale temp files of dead processes are removed, live ones kept', () => {
    const d = tmp();
    const dst = path.join(d, 'x.qcow2');
    fs.writeFileSync(path.join(d, '.x.qcow2.999999999.boxwood-partial'), 'old');
    fs.writeFileSync(path.join(d, `.x.qcow2.${process.ppid}.boxwood-partial`), 'live');
    expect(cleanStaleTemps(dst)).toEqual(['.x.qcow2.999999999.boxwood-partial']);
    fs.rmSync(d, { recursive: true });
  });

  it('create refuses to overwrite; resize grows raw and qcow2, refuses shrinking; delete removes', async () => {
    const d = tmp();
    const q = path.join(d, 'a.qcow2');
    const r = path.join(d, 'a.raw');
    await createDisk(q, { size: parseSize('1M') });
    await createDisk(r, { size: parseSize('1M'), format: 'raw' });
    await expect(createDisk(q, { size: 1024 })).rejects.toThrow(/already exists/);
    resizeDisk(q, parseSize('3G'));
    resizeDisk(r, parseSize('2M'));
    expect(diskInfo(q).virtualSize).toBe(3 * 2 ** 30);
    expect(diskInfo(r).virtualSize).toBe(2 * 2 ** 20);
    expect(() => resizeDisk(q, 1024 * 1024)).toThrow(/shrinking/);
    deleteDisk(q);
    expect(fs.existsSync(q)).toBe(false);
    expect(() => parseSize('12X')).toThrow(/invalid size/);
    fs.rmSync(d, { recursive: true });
  });
});
