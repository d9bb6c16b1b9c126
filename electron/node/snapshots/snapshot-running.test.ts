// Snapshot of a running VM through the host API and a real VM process: the guest
// (ticker-guest.ts) counts on COM1 and writes its count to disk. Taking the snapshot
// freezes the disk at the snapshot's count while the guest keeps counting on a new
// overlay; restoring it and starting resumes the machine exactly there (the count
// continues; a cold boot would restart at 1). Deleting snapshots while it runs merges
// layers the VM process has open: the guest pauses, the count goes on, the disk is intact.
// A VM process SIGKILLed in the middle of a live take or delete leaves the tree before or
// after, clean images, an Aborted machine that starts again.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostService } from '../host-service';
import { VmLibrary } from '../library/vm-library';
import { nodeLauncher } from '../vm-process/node-launcher';
import { openDiskImage } from '../storage/open-image';
import type { VmSummary } from '../../../protocol/host-api';
import type { Snapshot, SnapshotListResult } from '../../../protocol/snapshots';
import { tickerBootSector } from './ticker-guest';
import { backingOf, readTree, resolveIn } from './snapshot-store';
import { lockHolder } from '../storage/image-lock';
import { spawnSync } from 'node:child_process';
import { SnapshotService } from './snapshot-service';
import { SNAPSHOT_DIR } from '../../../protocol/snapshots';

const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;

function qemuCheck(file: string): void {
  if (!haveQemuImg) return;
  const r = spawnSync('qemu-img', ['check', file], { encoding: 'utf8' });
  expect(r.status, `qemu-img check ${file}: ${r.stdout}${r.stderr}`).toBe(0);
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-snap-run-'));
const host = new HostService(new VmLibrary(home), nodeLauncher());
afterAll(async () => {
  host.shutdownAll();
  await new Promise((r) => setTimeout(r, 200));
  fs.rmSync(home, { recursive: true, force: true });
});

/** Counter written by the guest to sector LBA 1 ("CNT" + u16), read from an image file. */
function diskCount(file: string): number {
  const img = openDiskImage(file);
  try {
    const b = new Uint8Array(512);
    img.read(512, b, 0, 512);
    expect(new TextDecoder().decode(b.subarray(0, 3))).toBe('CNT');
    return b[3] | (b[4] << 8);
  } finally {
    img.close();
  }
}

class Serial {
  text = '';
  /** Run states the VM reported while attached. */
  states: string[] = [];
  private waiters: (() => void)[] = [];
  add(s: string) {
    this.text += s;
    for (const w of this.waiters.splice(0)) w();
  }
  counts(): number[] {
    return [...this.text.matchAll(/T([0-9A-F]{4})\n/g)].map((m) => parseInt(m[1], 16));
  }
  async until(pred: (counts: number[]) => boolean, what: string, ms = 15_000): Promise<number[]> {
    const end = Date.now() + ms;
    while (!pred(this.counts())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; serial: ${JSON.stringify(this.text.slice(-200))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return this.counts();
  }
}

function attachSerial(id: string): Serial {
  const serial = new Serial();
  host.runningSession(id).attachDisplay((m) => {
    if (m.type === 'serial-output' && m.port === 0) serial.add(Buffer.from(m.data).toString('latin1'));
    if (m.type === 'state') serial.states.push(m.state);
  });
  return serial;
}

async function waitState(id: string, state: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (((await host.call('vm.get', { id })) as VmSummary).state !== state) {
    if (Date.now() > end) throw new Error(`VM did not reach ${state}; log: ${host.sessions.get(id)?.log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // 'stopped' arrives just before the VM process exits; a new start needs it gone.
  while (state === 'stopped' && host.isRunning(id)) {
    if (Date.now() > end) throw new Error('the VM process did not exit');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A new VM whose qcow2 disk holds the counting boot sector, started. */
async function startTicker(name: string): Promise<{ vm: VmSummary; id: string; base: string }> {
  const vm = (await host.call('vm.create', { name, osType: 'other', memoryMiB: 16, bootOrder: ['disk'], newDisk: { sizeMiB: 1, format: 'qcow2' } })) as VmSummary;
  const base = resolveIn(vm.folder, vm.config!.storage[0].path!);
  const img = openDiskImage(base, { writable: true });
  img.write(0, tickerBootSector());
  img.close();
  await host.call('vm.start', { id: vm.id });
  return { vm, id: vm.id, base };
}

describe('snapshot of a running VM (real VM process)', () => {
  it('take while running, keep running, restore, resume where the snapshot was taken', async () => {
    const { vm, id, base } = await startTicker('Ticker');
    let serial = attachSerial(id);
    await serial.until((c) => c.length >= 2, 'the guest counting');

    // A failure after the VM process switched disks (before the commit) rolls everything back:
    // the guest goes on on its original disk, no file is left behind.
    const failing = new SnapshotService((step) => {
      if (step === 'after-swap') throw new Error('injected failure');
    });
    await expect(failing.take(vm.folder, { name: 'failed' }, host.runningSession(id))).rejects.toThrow('injected failure');
    expect(((await host.call('vm.get', { id })) as VmSummary).config!.storage[0].path).toBe(vm.config!.storage[0].path);
    expect(fs.readdirSync(path.join(vm.folder, SNAPSHOT_DIR)).filter((n) => !n.endsWith('.boxwood-lock'))).toEqual([]);
    const beforeRollback = serial.counts().length;
    await serial.until((c) => c.length >= beforeRollback + 2, 'counting after the rolled-back snapshot');
    expect(diskCount(base)).toBeGreaterThanOrEqual(serial.counts().at(-1)!);
    expect(((await host.call('vm.get', { id })) as VmSummary).state).toBe('running');

    const snap = (await host.call('snapshot.take', { id, name: 'live', description: 'running' })) as Snapshot;
    const seenAtTake = serial.counts();
    expect(snap.online).toBe(true);
    expect(snap.stateFile && fs.statSync(resolveIn(vm.folder, snap.stateFile)).size).toBeGreaterThan(1000);
    // The frozen image holds the count at the snapshot; the guest goes on on the new overlay.
    const frozen = resolveIn(vm.folder, snap.disks['ide-0']);
    expect(frozen).toBe(base);
    const k = diskCount(frozen);
    expect(k).toBeGreaterThanOrEqual(seenAtTake.at(-1)!);
    const after = await serial.until((c) => c.length >= seenAtTake.length + 3, 'counting after the snapshot');
    expect(after.at(-1)).toBeGreaterThan(k + 1);
    const summary = (await host.call('vm.get', { id })) as VmSummary;
    expect(summary.state).toBe('running');
    expect(summary.snapshotCount).toBe(1);
    expect(summary.currentSnapshot).toBe('live');
    const overlay = resolveIn(vm.folder, summary.config!.storage[0].path!);
    expect(overlay).not.toBe(base);
    await expect(host.call('snapshot.restore', { id, snapshotId: snap.id })).rejects.toThrow(/Power the machine off/);

    await host.call('vm.powerOff', { id });
    await waitState(id, 'stopped');
    expect(diskCount(overlay)).toBeGreaterThan(k + 1);
    expect(diskCount(frozen)).toBe(k);

    await host.call('snapshot.restore', { id, snapshotId: snap.id });
    const list = (await host.call('snapshot.list', { id })) as SnapshotListResult;
    expect(list.resumesSavedState).toBe(true);
    expect(list.currentParentId).toBe(snap.id);
    expect(fs.existsSync(overlay)).toBe(false);

    await host.call('vm.start', { id });
    serial = attachSerial(id);
    const resumed = await serial.until((c) => c.length >= 2, 'the restored guest counting');
    // The count continues from the snapshot (k, or k+1 if the snapshot fell between the disk write and the print).
    expect(resumed[0]).toBeGreaterThanOrEqual(k);
    expect(resumed[0]).toBeLessThanOrEqual(k + 1);
    expect(resumed[1]).toBe(resumed[0] + 1);
    await waitState(id, 'running');
    // Once running, the next start boots cold again.
    await new Promise((r) => setTimeout(r, 300));
    expect(((await host.call('snapshot.list', { id })) as SnapshotListResult).resumesSavedState).toBe(false);
    await host.call('vm.powerOff', { id });
    await waitState(id, 'stopped');
  }, 40_000);

  it('delete while running: the guest pauses for each merge into a layer it has open and counts on; a failed merge rolls back', async () => {
    const { vm, id, base } = await startTicker('Ticker live delete');
    const serial = attachSerial(id);
    const session = host.runningSession(id);
    const more = async (what: string) => {
      const n = serial.counts().length;
      return serial.until((c) => c.length >= n + 2, `counting after ${what}`);
    };
    const currentDisk = async () => resolveIn(vm.folder, ((await host.call('vm.get', { id })) as VmSummary).config!.storage[0].path!);
    await serial.until((c) => c.length >= 2, 'the guest counting');

    // base ← s1 layer … : each take freezes the current disk, the guest goes on on a new overlay.
    const s1 = (await host.call('snapshot.take', { id, name: 's1' })) as Snapshot;
    await more('s1');
    const s2 = (await host.call('snapshot.take', { id, name: 's2' })) as Snapshot;
    await more('s2');
    const s3 = (await host.call('snapshot.take', { id, name: 's3' })) as Snapshot;
    await more('s3');
    const current = await currentDisk();
    const layer = (s: Snapshot) => resolveIn(vm.folder, s.disks['ide-0']);
    const k3 = diskCount(layer(s3)); // the count frozen by s3
    expect(lockHolder(current)).toBe(session.pid);

    // A failure after merging s1 into s2's layer (open read-only in the VM's chain): the VM
    // reopens its original images and runs on; the tree is as before.
    const failing = new SnapshotService((step) => {
      if (step === 'after-merge') throw new Error('injected failure');
    });
    const treeBefore = readTree(vm.folder);
    await expect(failing.delete(vm.folder, s1.id, session)).rejects.toThrow('injected failure');
    expect(readTree(vm.folder)).toEqual(treeBefore);
    expect(await currentDisk()).toBe(current);
    expect(lockHolder(current)).toBe(session.pid); // reopened by the VM process, on the same file
    await more('the failed delete');
    expect(((await host.call('vm.get', { id })) as VmSummary).state).toBe('running');
    expect(diskCount(current)).toBeGreaterThan(k3);

    // s2: an ancestor of the current state; merged into s3's layer, which the VM has open read-only.
    serial.states.length = 0;
    await host.call('snapshot.delete', { id, snapshotId: s2.id });
    expect(serial.states).toContain('saving'); // the guest was held still for the merge
    expect(serial.states.at(-1)).toBe('running');
    expect(fs.existsSync(layer(s2))).toBe(false);
    expect(diskCount(layer(s3))).toBe(k3); // s3's layer reads as before
    qemuCheck(layer(s3)); // frozen: nobody writes it
    await more('deleting s2');

    // s3: the parent of the current state; merged into the overlay the guest is writing.
    serial.states.length = 0;
    await host.call('snapshot.delete', { id, snapshotId: s3.id });
    expect(serial.states).toContain('saving');
    expect(serial.states.at(-1)).toBe('running');
    expect(fs.existsSync(layer(s3))).toBe(false);
    expect(lockHolder(current)).toBe(session.pid);
    await more('deleting s3');

    // s1, merged into s2's layer by the failed attempt: recognized, its image removed.
    await host.call('snapshot.delete', { id, snapshotId: s1.id });
    const seen = await more('deleting s1');
    const list = (await host.call('snapshot.list', { id })) as SnapshotListResult;
    expect(list.snapshots).toEqual([]);
    expect(list.currentParentId).toBe(null);
    expect(fs.existsSync(base)).toBe(false);
    // One run of the guest throughout: every count follows the previous one (a reboot restarts at 1).
    expect(seen.every((c, i) => i === 0 || c === seen[i - 1] + 1)).toBe(true);
    expect(seen[0]).toBe(1);

    await host.call('vm.powerOff', { id });
    await waitState(id, 'stopped');
    const last = serial.counts().at(-1)!;
    expect(await currentDisk()).toBe(current);
    expect(backingOf(current)).toBe(null); // standalone now
    expect(diskCount(current)).toBeGreaterThanOrEqual(last);
    expect(diskCount(current)).toBeLessThanOrEqual(last + 1);
    // The boot sector, written to the base image before any snapshot, came through the merges.
    const boot = openDiskImage(current);
    const sector = new Uint8Array(512);
    boot.read(0, sector, 0, 512);
    boot.close();
    expect(Buffer.from(sector).equals(Buffer.from(tickerBootSector()))).toBe(true);
    qemuCheck(current);
  }, 60_000);
  it('the VM process killed in the middle of a live take or delete: Aborted, the tree before or after, the images clean, the machine starts again', async () => {
    const { vm, id, base } = await startTicker('Ticker killed');
    let serial = attachSerial(id);
    await serial.until((c) => c.length >= 2, 'the guest counting');
    const folder = vm.folder;
    const currentDisk = async () => resolveIn(folder, ((await host.call('vm.get', { id })) as VmSummary).config!.storage[0].path!);
    const snapshotFiles = () => (fs.existsSync(path.join(folder, SNAPSHOT_DIR)) ? fs.readdirSync(path.join(folder, SNAPSHOT_DIR)).sort() : []);
    /** A service whose crash-test hook SIGKILLs the VM process at `step` (the operation then goes on). */
    const killingAt = (at: string) =>
      new SnapshotService((step) => {
        if (step === at) process.kill(host.runningSession(id).pid!, 'SIGKILL');
      });
    const restart = async (what: string) => {
      await waitState(id, 'aborted');
      expect(((await host.call('vm.get', { id })) as VmSummary).problem).toMatch(/killed \(SIGKILL\)/);
      await host.call('vm.start', { id });
      serial = attachSerial(id);
      return serial.until((c) => c.length >= 2, `counting after ${what}`);
    };

    // Killed once the machine state is saved, before the disks switch: the take fails, nothing is left.
    const filesBefore = snapshotFiles();
    await expect(killingAt('after-freeze').take(folder, { name: 'never' }, host.runningSession(id))).rejects.toThrow(/VM process exited|not running/);
    expect(readTree(folder).snapshots).toEqual([]);
    expect(snapshotFiles()).toEqual(filesBefore);
    expect(await currentDisk()).toBe(base);
    qemuCheck(base);
    let counts = await restart('the failed take');
    expect(counts[0]).toBe(1); // a cold boot from the disk: nothing saved to resume

    // Killed after the disks switched, before the commit: the snapshot is taken (state, frozen
    // layer); the current state is the new overlay, as after a crash of a running machine.
    const snap = await killingAt('after-swap').take(folder, { name: 'kept' }, host.runningSession(id));
    expect(readTree(folder).snapshots.map((s) => s.name)).toEqual(['kept']);
    const overlay = await currentDisk();
    expect(fs.realpathSync(backingOf(overlay)!)).toBe(fs.realpathSync(base));
    await waitState(id, 'aborted');
    qemuCheck(overlay);
    qemuCheck(base);
    const kSnap = diskCount(base); // frozen by the snapshot
    // The snapshot holds the running machine: restored, it resumes at its count (no cold boot).
    await host.call('snapshot.restore', { id, snapshotId: snap.id });
    await host.call('vm.start', { id });
    serial = attachSerial(id);
    counts = await serial.until((c) => c.length >= 2, 'counting after the restore');
    expect(counts[0]).toBeGreaterThanOrEqual(kSnap);

    // A live delete killed after the merge: reported, the tree as before; deleting again finishes it.
    const merged = await currentDisk();
    await expect(killingAt('after-merge').delete(folder, snap.id, host.runningSession(id))).rejects.toThrow(/VM process exited|not running/);
    expect(readTree(folder).snapshots.map((s) => s.name)).toEqual(['kept']);
    await waitState(id, 'aborted');
    qemuCheck(merged);
    await host.call('snapshot.delete', { id, snapshotId: snap.id });
    expect(readTree(folder).snapshots).toEqual([]);
    expect(fs.existsSync(base)).toBe(false);
    expect(backingOf(merged)).toBe(null);
    qemuCheck(merged);
    counts = await restart('the deletes');
    expect(diskCount(merged)).toBeGreaterThanOrEqual(1);
    await host.call('vm.powerOff', { id });
    await waitState(id, 'stopped');
  }, 60_000);
});
