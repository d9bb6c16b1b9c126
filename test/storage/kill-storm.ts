// The kill -9 storm: a child process writes guest-like random data to a qcow2 image
// (flushing now and then and reporting each completed flush), or converts an image,
// and is killed with SIGKILL at a random moment. After each kill:
//  - `qemu-img check` must report no corruption (exit 0; exit 3 = leaked clusters only,
//    accepted after a kill and counted; exit 2 or anything else fails the trial);
//  - every write covered by an acknowledged flush reads back intact (bytes that a
//    later, unacknowledged write may have touched are the only ones allowed to differ);
//  - the image reopens writable for the next trial (the storm continues on it);
//  - a killed conversion leaves no destination file; the next conversion removes the
//    stale temp file and succeeds;
//  - a killed compaction leaves the old or the new image (same content, check clean);
//  - a killed snapshot-layer merge (mergeBackingIntoOverlay) leaves a chain that reads
//    the same, and re-running it completes.
// Usage: node --import tsx test/storage/kill-storm.ts [--trials N]   (default 20, ~1 min)
// Ends with `N passed, N failed`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tally, hasTool, qemuCheck, randomBytes, rng, run, tempDir } from './qemu-tools';
import { stormWrites } from './kill-storm-writes';
import { argTrials, readAll, runAndKill } from './kill-child';
import { openDiskImage } from '../../electron/node/storage/open-image';
import { convertDisk, createDisk, mergeBackingIntoOverlay } from '../../electron/node/storage/disk-operations';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const MiB = 1024 * 1024;

interface ChildRun {
  lines: string[];
  killed: boolean;
}

/** Run the child with `args`; see runAndKill for `delayMs` and `armed`. */
async function runChild(args: string[], delayMs: number, armed?: (out: string) => boolean): Promise<ChildRun> {
  const { out, killed } = await runAndKill(['--import', 'tsx', path.join(here, 'kill-storm-child.ts'), ...args], root, delayMs, armed);
  return { lines: out.split('\n').filter(Boolean), killed };
}

interface Disk {
  file: string;
  expected: Uint8Array;
}

async function main(): Promise<void> {
  const t = new Tally();
  if (!hasTool('qemu-img')) {
    t.skip('kill storm', 'qemu-img is not installed (Debian package qemu-utils)');
    t.finish();
  }
  const trials = argTrials(20);
  const dir = tempDir('storm');
  const r = rng(Number(process.env.STORM_SEED ?? Date.now() % 100000));

  // Disk A: 4 KiB clusters over a raw backing file (copy-on-write, lots of metadata);
  // disk B: 64 KiB clusters, standalone. Both are made afresh every 5 trials so kills
  // keep landing while clusters, L2 tables and refcount blocks are being allocated
  // (a fully allocated disk only sees in-place overwrites).
  const size = 64 * MiB;
  const base = randomBytes(size, rng(1));
  fs.writeFileSync(path.join(dir, 'base.raw'), base);
  const disks: Disk[] = [
    { file: path.join(dir, 'a.qcow2'), expected: base },
    { file: path.join(dir, 'b.qcow2'), expected: new Uint8Array(0) },
  ];
  const freshDisks = async () => {
    for (const d of disks) fs.rmSync(d.file, { force: true });
    await createDisk(disks[0].file, { backing: 'base.raw', clusterSize: 4096 });
    await createDisk(disks[1].file, { size, clusterSize: 65536 });
    disks[0].expected = base.slice();
    disks[1].expected = new Uint8Array(size);
  };
  // Conversion source: 48 MiB, partly random, partly zero.
  const src = new Uint8Array(48 * MiB);
  for (let k = 0; k < 60; k++) src.set(randomBytes(400_000, r), Math.floor(r() * 47 * MiB));
  const srcFile = path.join(dir, 'src.raw');
  fs.writeFileSync(srcFile, src);
  const dst = path.join(dir, 'converted.qcow2');

  let leakTrials = 0;
  let acked = 0;
  let writeTrials = 0;
  let convTrials = 0;
  let convKilled = 0;
  let compactTrials = 0;
  let mergeTrials = 0;
  const t0 = Date.now();
  for (let i = 0; i < trials; i++) {
    if (i % 5 === 0) await freshDisks();
    if (i % 5 === 4) {
      compactTrials++;
      const disk = disks[(i / 5) % 2 | 0];
      await t.test(`trial ${i + 1}: kill -9 during a compaction of ${path.basename(disk.file)}`, async () => {
        const at = Math.floor(r() * 1.15 * size);
        const passed = (out: string) => {
          const m = /P (\d+)\n(?![\s\S]*P \d)/.exec(out);
          return out.includes('DONE') || (!!m && Number(m[1]) >= at);
        };
        const res = await runChild(['compact', disk.file], Math.floor(r() * 20), passed);
        // Old or new image, never a mix: clean (leaks only from earlier kills), same content.
        const c = qemuCheck(disk.file);
        if (c.status !== 0 && c.status !== 3) throw new Error(`qemu-img check exited ${c.status} after a killed compaction`);
        const actual = readAll(disk.file);
        if (Buffer.compare(Buffer.from(actual), Buffer.from(disk.expected)) !== 0) throw new Error('content changed by a killed compaction');
        // The next writer of the image (here: a writable open) removes the killed run's temp file.
        openDiskImage(disk.file, { writable: true }).close();
        const left = fs.readdirSync(dir).filter((n) => n.startsWith(`.${path.basename(disk.file)}.`) && n.endsWith('.boxwood-partial'));
        if (left.length) throw new Error(`temp files left: ${left.join(', ')}`);
        const finished = res.lines.includes('DONE');
        process.stdout.write(`     compaction ${finished ? 'finished before the kill' : `killed at ${at} of ${size} bytes`}, qemu-img check exit ${c.status}\n`);
      });
      continue;
    }
    if (i % 10 === 7) {
      mergeTrials++;
      await t.test(`trial ${i + 1}: kill -9 while dropping a snapshot layer (raw <- s1 <- s2)`, async () => {
        const s1 = path.join(dir, 's1.qcow2');
        const s2 = path.join(dir, 's2.qcow2');
        for (const f of [s1, s2]) fs.rmSync(f, { force: true });
        await createDisk(s1, { backing: 'base.raw', clusterSize: 4096 });
        const seed = 1 + Math.floor(r() * 1e9);
        for (const [f, sd] of [[s1, seed], [s2, seed + 1]] as const) {
          if (f === s2) await createDisk(s2, { backing: 's1.qcow2' });
          const img = openDiskImage(f, { writable: true });
          const gen = stormWrites(sd, size);
          for (let k = 0; k < 400; k++) {
            const w = gen.next();
            img.write(w.offset, w.data);
          }
          img.close();
        }
        const before = readAll(s2);
        const at = Math.floor(r() * 1.15 * size);
        const passed = (out: string) => {
          const m = /P (\d+)\n(?![\s\S]*P \d)/.exec(out);
          return out.includes('DONE') || (!!m && Number(m[1]) >= at);
        };
        const res = await runChild(['merge', s2], Math.floor(r() * 20), passed);
        const c = qemuCheck(s2);
        if (c.status !== 0 && c.status !== 3) throw new Error(`qemu-img check exited ${c.status} after a killed merge`);
        if (Buffer.compare(Buffer.from(readAll(s2)), Buffer.from(before)) !== 0) throw new Error('the chain reads differently after a killed merge');
        // Finishing the merge afterwards works and keeps the content.
        if (!res.lines.includes('DONE')) await mergeBackingIntoOverlay(s2);
        if (Buffer.compare(Buffer.from(readAll(s2)), Buffer.from(before)) !== 0) throw new Error('the chain reads differently after the merge');
        const info = run('qemu-img', ['info', s2]).stdout;
        if (!/backing file: base\.raw/.test(info)) throw new Error('s2 does not point to base.raw after the merge');
        process.stdout.write(`     merge ${res.lines.includes('DONE') ? 'finished before the kill' : `killed at ${at} of ${size} bytes`}, qemu-img check exit ${c.status}\n`);
      });
      continue;
    }
    if (i % 5 === 2) {
      convTrials++;
      await t.test(`trial ${i + 1}: kill -9 during a conversion`, async () => {
        // Kill once the copy passed a random point (beyond 100%: during or after the rename).
        const at = Math.floor(r() * 1.15 * src.length);
        const delay = Math.floor(r() * 20);
        const passed = (out: string) => {
          const m = /P (\d+)\n(?![\s\S]*P \d)/.exec(out);
          return out.includes('DONE') || (!!m && Number(m[1]) >= at);
        };
        const res = await runChild(['convert', srcFile, dst], delay, passed);
        const finished = res.lines.includes('DONE');
        if (!finished) convKilled++;
        if (fs.existsSync(dst)) {
          // Only a complete, renamed image may exist.
          const c = qemuCheck(dst);
          if (c.status !== 0) throw new Error(`destination exists after the kill and fails qemu-img check (${c.status})`);
          const cmp = run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', dst, srcFile]);
          if (cmp.status !== 0) throw new Error('destination exists after the kill but differs from the source');
          fs.rmSync(dst);
        }
        await convertDisk(srcFile, dst, { format: 'qcow2' });
        const left = fs.readdirSync(dir).filter((n) => n.startsWith('.converted.qcow2.') && n.endsWith('.boxwood-partial'));
        if (left.length) throw new Error(`temp files left after the next conversion: ${left.join(', ')}`);
        const cmp = run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', dst, srcFile]);
        if (cmp.status !== 0) throw new Error('re-run conversion differs from the source');
        fs.rmSync(dst);
        process.stdout.write(`     conversion ${finished ? 'finished before the kill' : `killed after copying ${at} of ${src.length} bytes`}\n`);
      });
      continue;
    }
    writeTrials++;
    const disk = disks[i % 2];
    await t.test(`trial ${i + 1}: kill -9 during guest writes to ${path.basename(disk.file)}`, async () => {
      const seed = 1 + Math.floor(r() * 1e9);
      const flushEvery = 1 + Math.floor(r() * 12);
      const delay = 50 + Math.floor(r() * 600);
      const res = await runChild(['write', disk.file, String(seed), String(flushEvery)], delay);
      if (!res.killed) throw new Error('the child was not killed');
      let lastAck = 0;
      for (const l of res.lines) if (l.startsWith('F ')) lastAck = Math.max(lastAck, Number(l.slice(2)));
      acked += lastAck;

      const c = qemuCheck(disk.file);
      if (c.status === 3) leakTrials++;
      else if (c.status !== 0) throw new Error(`qemu-img check exited ${c.status}: ${c.stdout.split('\n').slice(0, 6).join(' | ')}`);

      // Expected: all writes up to the last acknowledged flush; the next flushEvery writes
      // may or may not have reached the image (any of their bytes may differ).
      const expected = disk.expected.slice();
      const maybe = new Uint8Array(size);
      const gen = stormWrites(seed, size);
      for (let s = 1; s <= lastAck + flushEvery; s++) {
        const w = gen.next();
        if (s <= lastAck) expected.set(w.data, w.offset);
        else maybe.fill(1, w.offset, w.offset + w.data.length);
      }
      const actual = readAll(disk.file);
      for (let k = 0; k < size; k++)
        if (!maybe[k] && actual[k] !== expected[k]) throw new Error(`byte ${k} lost: ${actual[k]} instead of ${expected[k]} (acked through write ${lastAck})`);
      // The next trial continues from what is really on disk.
      disk.expected = actual;
      // And the image still opens writable after the crash.
      openDiskImage(disk.file, { writable: true }).close();
      process.stdout.write(`     killed after ${delay} ms, ${lastAck} writes acknowledged, qemu-img check exit ${c.status}\n`);
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    `trials: ${trials} (${writeTrials} during writes, ${convTrials} during conversions (${convKilled} killed mid-way), ${compactTrials} during compactions, ${mergeTrials} during snapshot-layer merges), ` +
      `${acked} acknowledged writes verified, ${leakTrials} kills left leaked clusters (accepted), ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  t.finish();
}

void main();
