// qemu-img interop, both ways:
//  - images Boxwood writes (random writes incl. cluster-straddling, backing chains,
//    resize, zero clusters, compaction, conversion) pass `qemu-img check` (exit 0) and
//    `qemu-img compare` equal to the expected raw content;
//  - images qemu-img/qemu-io make (cluster sizes 512 B–2 MiB, backing files, compressed,
//    zero clusters, compat=0.10) read in Boxwood equal `qemu-img convert -O raw`, and
//    Boxwood can keep writing to them cleanly;
//  - VDI (dynamic, fixed) and VMDK (monolithicSparse, streamOptimized, monolithicFlat)
//    made by qemu-img convert to the same bytes through Boxwood.
// Usage: node --import tsx test/storage/interop.ts   (ends with `N passed, N failed`)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Tally, hasTool, must, qemuCheck, randomBytes, rng, run, sameBytes, tempDir } from './qemu-tools';
import { openDiskImage } from '../../electron/node/storage/open-image';
import { compactDisk, convertDisk, createDisk, resizeDisk, cloneDisk, mergeBackingIntoOverlay } from '../../electron/node/storage/disk-operations';
import { Qcow2Image } from '../../engine/storage/qcow2-image';
import { NodeFile } from '../../electron/node/storage/node-file';
import { checkQcow2 } from '../../engine/storage/qcow2-check';
import { GUEST_RAW, makeGuestQcow2 } from './guest-image';

const t = new Tally();
const dir = tempDir('interop');
const p = (n: string) => path.join(dir, n);
const MiB = 1024 * 1024;

function readAllImage(file: string): Uint8Array {
  const img = openDiskImage(file);
  try {
    const out = new Uint8Array(img.size);
    for (let o = 0; o < img.size; o += 4 * MiB) img.read(o, out, o, Math.min(4 * MiB, img.size - o));
    return out;
  } finally {
    img.close();
  }
}

function expectCheckClean(file: string): void {
  const r = qemuCheck(file);
  if (r.status !== 0) throw new Error(`qemu-img check ${path.basename(file)} exited ${r.status}: ${r.stdout}${r.stderr}`);
  // Our own checker agrees.
  const f = NodeFile.open(file);
  try {
    const c = checkQcow2(f);
    if (c.errors.length || c.leaks) throw new Error(`checkQcow2: ${c.errors.slice(0, 3).join('; ')} leaks=${c.leaks}`);
  } finally {
    f.close();
  }
}

function expectCompare(img: string, raw: string, fmt = 'qcow2'): void {
  const r = run('qemu-img', ['compare', '-f', fmt, '-F', 'raw', img, raw]);
  if (r.status !== 0) throw new Error(`qemu-img compare ${path.basename(img)} ${path.basename(raw)}: ${r.stdout}${r.stderr}`);
}

function expectReadsAs(file: string, expected: Uint8Array): void {
  const d = sameBytes(readAllImage(file), expected);
  if (d >= 0) throw new Error(`${path.basename(file)} differs from the expected content at byte ${d}`);
}

/** Random guest-like writes (many straddle cluster boundaries) through Boxwood. */
function boxwoodWrites(file: string, ref: Uint8Array, count: number, maxLen: number, seed: number): void {
  const img = openDiskImage(file, { writable: true });
  const r = rng(seed);
  try {
    for (let k = 0; k < count; k++) {
      const len = 1 + Math.floor(r() * maxLen);
      const off = Math.floor(r() * (ref.length - len));
      const d = r() < 0.1 ? new Uint8Array(len) : randomBytes(len, r);
      img.write(off, d);
      ref.set(d, off);
      if (k % 37 === 0) img.flush();
    }
  } finally {
    img.close();
  }
}

async function boxwoodToQemu(): Promise<void> {
  for (const cs of [512, 4096, 65536, 2 * MiB]) {
    await t.test(`Boxwood qcow2 (${cs}-byte clusters) passes qemu-img check and compare`, async () => {
      const f = p(`bw-${cs}.qcow2`);
      const size = 24 * MiB;
      await createDisk(f, { size, clusterSize: cs });
      const ref = new Uint8Array(size);
      boxwoodWrites(f, ref, 300, Math.min(3 * cs + 1000, 400_000), cs);
      fs.writeFileSync(p(`bw-${cs}.raw`), ref);
      expectCheckClean(f);
      expectCompare(f, p(`bw-${cs}.raw`));
    });
  }

  await t.test('Boxwood backing chain raw <- qcow2 <- qcow2 (linked clones)', async () => {
    const size = 16 * MiB;
    const base = randomBytes(size, rng(1));
    fs.writeFileSync(p('chain-base.raw'), base);
    await cloneDisk(p('chain-base.raw'), p('chain-1.qcow2'), { linked: true });
    const ref = base.slice();
    boxwoodWrites(p('chain-1.qcow2'), ref, 100, 100000, 2);
    await cloneDisk(p('chain-1.qcow2'), p('chain-2.qcow2'), { linked: true });
    boxwoodWrites(p('chain-2.qcow2'), ref, 100, 100000, 3);
    fs.writeFileSync(p('chain.raw'), ref);
    expectCheckClean(p('chain-1.qcow2'));
    expectCheckClean(p('chain-2.qcow2'));
    expectCompare(p('chain-2.qcow2'), p('chain.raw'));
    const info = must('qemu-img', ['info', '--backing-chain', p('chain-2.qcow2')]);
    if (!info.includes('chain-1.qcow2') || !info.includes('chain-base.raw')) throw new Error('qemu-img does not see the backing chain');
  });

  await t.test('Boxwood drops the middle of a chain (snapshot delete): raw <- s1 <- s2 becomes raw <- s2', async () => {
    const size = 16 * MiB;
    const base = randomBytes(size, rng(21));
    fs.writeFileSync(p('m-base.raw'), base);
    await createDisk(p('m-s1.qcow2'), { backing: 'm-base.raw', clusterSize: 4096 });
    const ref = base.slice();
    boxwoodWrites(p('m-s1.qcow2'), ref, 100, 50000, 22);
    const z = openDiskImage(p('m-s1.qcow2'), { writable: true });
    (z.image as Qcow2Image).writeZeroes(2 * MiB, MiB); // zero clusters must survive the merge
    z.close();
    ref.fill(0, 2 * MiB, 3 * MiB);
    await createDisk(p('m-s2.qcow2'), { backing: 'm-s1.qcow2' });
    boxwoodWrites(p('m-s2.qcow2'), ref, 100, 50000, 23);
    const r = await mergeBackingIntoOverlay(p('m-s2.qcow2'));
    if (r.newBacking !== 'm-base.raw') throw new Error(`new backing ${r.newBacking}`);
    fs.rmSync(p('m-s1.qcow2'));
    fs.writeFileSync(p('m.raw'), ref);
    expectCheckClean(p('m-s2.qcow2'));
    expectCompare(p('m-s2.qcow2'), p('m.raw'));
    const info = must('qemu-img', ['info', p('m-s2.qcow2')]);
    if (!/backing file: m-base\.raw/.test(info)) throw new Error('qemu-img sees another backing file');
  });

  await t.test('Boxwood resize (L1 relocation) then writes past the old end', async () => {
    const f = p('resize.qcow2');
    await createDisk(f, { size: 2 * MiB, clusterSize: 512 });
    const ref = new Uint8Array(2 * MiB);
    boxwoodWrites(f, ref, 50, 5000, 4);
    resizeDisk(f, 40 * MiB);
    const big = new Uint8Array(40 * MiB);
    big.set(ref);
    boxwoodWrites(f, big, 200, 5000, 5);
    fs.writeFileSync(p('resize.raw'), big);
    expectCheckClean(f);
    expectCompare(f, p('resize.raw'));
  });

  await t.test('Boxwood zero clusters over a backing file', async () => {
    const base = randomBytes(8 * MiB, rng(6));
    fs.writeFileSync(p('zb.raw'), base);
    await createDisk(p('z.qcow2'), { backing: 'zb.raw' });
    const img = openDiskImage(p('z.qcow2'), { writable: true });
    (img.image as Qcow2Image).writeZeroes(MiB, 3 * MiB + 1234);
    img.close();
    const ref = base.slice();
    ref.fill(0, MiB, 4 * MiB + 1234);
    fs.writeFileSync(p('z.raw'), ref);
    expectCheckClean(p('z.qcow2'));
    expectCompare(p('z.qcow2'), p('z.raw'));
  });

  await t.test('Boxwood convert raw -> qcow2 -> raw and compact', async () => {
    const r = rng(8);
    const src = new Uint8Array(20 * MiB);
    for (let k = 0; k < 40; k++) src.set(randomBytes(100000, r), Math.floor(r() * 19 * MiB));
    fs.writeFileSync(p('conv.raw'), src);
    await convertDisk(p('conv.raw'), p('conv.qcow2'), { format: 'qcow2' });
    expectCheckClean(p('conv.qcow2'));
    expectCompare(p('conv.qcow2'), p('conv.raw'));
    await convertDisk(p('conv.qcow2'), p('conv2.raw'), { format: 'raw' });
    if (sameBytes(new Uint8Array(fs.readFileSync(p('conv2.raw'))), src) >= 0) throw new Error('raw round trip differs');
    // Overwrite everything with zeros in part of the image, then compact.
    const img = openDiskImage(p('conv.qcow2'), { writable: true });
    img.write(0, new Uint8Array(10 * MiB));
    img.close();
    src.fill(0, 0, 10 * MiB);
    fs.writeFileSync(p('conv.raw'), src);
    const { before, after } = await compactDisk(p('conv.qcow2'));
    if (!(after < before)) throw new Error(`compact did not shrink (${before} -> ${after})`);
    expectCheckClean(p('conv.qcow2'));
    expectCompare(p('conv.qcow2'), p('conv.raw'));
  });
}

/** qemu-io writes of random patterns at 512-aligned offsets; mirrors them into ref. */
function qemuWrites(file: string, ref: Uint8Array, count: number, seed: number, fmt = 'qcow2', zeroes = false): void {
  const r = rng(seed);
  const args = ['-f', fmt];
  for (let k = 0; k < count; k++) {
    const len = 512 * (1 + Math.floor(r() * 400));
    const off = 512 * Math.floor(r() * ((ref.length - len) / 512));
    if (zeroes && k % 3 === 0) {
      args.push('-c', `write -z ${off} ${len}`);
      ref.fill(0, off, off + len);
    } else {
      const pat = 1 + Math.floor(r() * 254);
      args.push('-c', `write -P ${pat} ${off} ${len}`);
      ref.fill(pat, off, off + len);
    }
  }
  must('qemu-io', [...args, file]);
}

async function qemuToBoxwood(): Promise<void> {
  const haveIo = hasTool('qemu-io');
  for (const cs of [512, 4096, 65536, 2 * MiB]) {
    await t.test(`qemu-img qcow2 (${cs}-byte clusters) reads in Boxwood; Boxwood writes keep it clean`, () => {
      const f = p(`q-${cs}.qcow2`);
      const size = 16 * MiB;
      must('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}`, f, String(size)]);
      const ref = new Uint8Array(size);
      if (haveIo) qemuWrites(f, ref, 60, cs);
      must('qemu-img', ['convert', '-O', 'raw', f, p(`q-${cs}.raw`)]);
      expectReadsAs(f, new Uint8Array(fs.readFileSync(p(`q-${cs}.raw`))));
      expectReadsAs(f, ref);
      boxwoodWrites(f, ref, 100, 3 * cs, cs + 1);
      fs.writeFileSync(p(`q-${cs}.raw`), ref);
      expectCheckClean(f);
      expectCompare(f, p(`q-${cs}.raw`));
    });
  }

  for (const bits of [1, 8, 32, 64]) {
    await t.test(`qemu-img qcow2 with refcount_bits=${bits}: Boxwood writes keep it clean`, () => {
      const f = p(`rb-${bits}.qcow2`);
      must('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `refcount_bits=${bits},cluster_size=4096`, f, String(8 * MiB)]);
      const ref = new Uint8Array(8 * MiB);
      boxwoodWrites(f, ref, 150, 20000, bits);
      fs.writeFileSync(p(`rb-${bits}.raw`), ref);
      expectCheckClean(f);
      expectCompare(f, p(`rb-${bits}.raw`));
    });
  }

  await t.test('qemu-img overlay with a raw backing file and zero clusters (qemu-io write -z)', () => {
    if (!haveIo) throw new Error('qemu-io is needed');
    const base = randomBytes(8 * MiB, rng(9));
    fs.writeFileSync(p('qb.raw'), base);
    must('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'qb.raw', '-F', 'raw', p('qo.qcow2')]);
    const ref = base.slice();
    qemuWrites(p('qo.qcow2'), ref, 60, 10, 'qcow2', true);
    expectReadsAs(p('qo.qcow2'), ref);
    boxwoodWrites(p('qo.qcow2'), ref, 80, 70000, 11);
    fs.writeFileSync(p('qo.raw'), ref);
    expectCheckClean(p('qo.qcow2'));
    expectCompare(p('qo.qcow2'), p('qo.raw'));
  });

  for (const cs of [4096, 65536]) {
    await t.test(`qemu-img compressed qcow2 (${cs}-byte clusters) reads in Boxwood; rewriting compressed clusters stays clean`, () => {
      const r = rng(12);
      const src = new Uint8Array(12 * MiB);
      // Compressible content (text-like runs) and some incompressible blocks.
      for (let i = 0; i < src.length; i++) src[i] = 97 + ((i >> 7) % 26) * ((i >> 17) & 1);
      for (let k = 0; k < 10; k++) src.set(randomBytes(50000, r), Math.floor(r() * 11 * MiB));
      fs.writeFileSync(p(`c-${cs}.raw`), src);
      must('qemu-img', ['convert', '-c', '-O', 'qcow2', '-o', `cluster_size=${cs}`, p(`c-${cs}.raw`), p(`c-${cs}.qcow2`)]);
      const info = must('qemu-img', ['check', p(`c-${cs}.qcow2`)]);
      if (!/[1-9][\d.]*% compressed/.test(info)) throw new Error(`qemu-img made no compressed clusters: ${info}`);
      expectReadsAs(p(`c-${cs}.qcow2`), src);
      const ref = src.slice();
      boxwoodWrites(p(`c-${cs}.qcow2`), ref, 150, 20000, 13);
      fs.writeFileSync(p(`c-${cs}.raw`), ref);
      expectCheckClean(p(`c-${cs}.qcow2`));
      expectCompare(p(`c-${cs}.qcow2`), p(`c-${cs}.raw`));
    });
  }

  await t.test('qemu-img compat=0.10 (version 2) image reads in Boxwood, refuses writing', () => {
    const src = randomBytes(4 * MiB, rng(14));
    fs.writeFileSync(p('v2.raw'), src);
    must('qemu-img', ['convert', '-O', 'qcow2', '-o', 'compat=0.10', p('v2.raw'), p('v2.qcow2')]);
    expectReadsAs(p('v2.qcow2'), src);
    let threw = false;
    try {
      openDiskImage(p('v2.qcow2'), { writable: true }).close();
    } catch (e) {
      threw = /version 2/.test((e as Error).message);
    }
    if (!threw) throw new Error('a v2 image opened writable');
  });
}

async function importFormats(): Promise<void> {
  const r = rng(15);
  const src = new Uint8Array(20 * MiB);
  for (let k = 0; k < 30; k++) src.set(randomBytes(200000, r), Math.floor(r() * 19 * MiB));
  fs.writeFileSync(p('imp.raw'), src);
  const variants: [string, string, string[]][] = [
    ['VDI dynamic', 'imp-dyn.vdi', ['-O', 'vdi']],
    ['VDI fixed', 'imp-fix.vdi', ['-O', 'vdi', '-o', 'static=on']],
    ['VMDK monolithicSparse', 'imp-sparse.vmdk', ['-O', 'vmdk']],
    ['VMDK streamOptimized', 'imp-stream.vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']],
    ['VMDK monolithicFlat', 'imp-flat.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicFlat']],
    ['VMDK twoGbMaxExtentSparse', 'imp-split.vmdk', ['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse']],
  ];
  for (const [name, file, args] of variants) {
    await t.test(`${name} converts to qcow2 and raw equal to qemu-img's conversion`, async () => {
      must('qemu-img', ['convert', ...args, p('imp.raw'), p(file)]);
      must('qemu-img', ['convert', '-O', 'raw', p(file), p(`${file}.qemu.raw`)]);
      const expected = new Uint8Array(fs.readFileSync(p(`${file}.qemu.raw`)));
      await convertDisk(p(file), p(`${file}.qcow2`), { format: 'qcow2' });
      await convertDisk(p(file), p(`${file}.raw`), { format: 'raw' });
      expectCheckClean(p(`${file}.qcow2`));
      expectCompare(p(`${file}.qcow2`), p(`${file}.qemu.raw`));
      if (sameBytes(new Uint8Array(fs.readFileSync(p(`${file}.raw`))), expected) >= 0) throw new Error('raw conversion differs');
    });
  }
}

/** Boot a disk image in QEMU (TCG) until `marker` shows on the serial port. */
function qemuBoots(disk: string, marker: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-i386', ['-accel', 'tcg', '-machine', 'pc', '-cpu', 'pentium2', '-m', '128', '-nic', 'none', '-display', 'none',
      '-serial', 'stdio', '-monitor', 'none', '-drive', `file=${disk},format=qcow2,if=ide`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      q.kill('SIGKILL');
      q.once('exit', () => (e ? reject(e) : resolve()));
    };
    const timer = setTimeout(() => finish(new Error(`no ${marker} within ${timeoutMs / 1000} s; serial tail: ${out.slice(-200)}`)), timeoutMs);
    q.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) finish();
    });
    q.on('error', (e) => finish(e));
  });
}

async function bootTest(): Promise<void> {
  if (!hasTool('qemu-system-i386') || !fs.existsSync(GUEST_RAW)) {
    t.skip('QEMU boots a Boxwood-converted qcow2', 'qemu-system-i386 or the shared guest image is missing');
    return;
  }
  await t.test('QEMU boots the Linux guest from a Boxwood-converted qcow2 (then the image is still clean)', async () => {
    const disk = await makeGuestQcow2(GUEST_RAW, p('guest.qcow2'));
    expectCheckClean(disk);
    await qemuBoots(disk, 'GUEST-READY', 120_000);
    const c = qemuCheck(disk);
    if (c.status !== 0 && c.status !== 3) throw new Error(`after QEMU was killed qemu-img check exited ${c.status}`);
    // Boxwood still opens what QEMU wrote.
    openDiskImage(disk).close();
  });
}

async function main(): Promise<void> {
  if (!hasTool('qemu-img')) {
    t.skip('interop', 'qemu-img is not installed (Debian package qemu-utils)');
    t.finish();
  }
  await boxwoodToQemu();
  await qemuToBoxwood();
  await importFormats();
  if (!process.env.INTEROP_NO_BOOT) await bootTest();
  if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`kept ${dir}\n`);
  t.finish();
}

void main();
