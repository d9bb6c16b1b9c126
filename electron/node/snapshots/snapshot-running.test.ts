// Snapshot of a running VM through the host API and a real VM process: the guest
// (ticker-guest.ts) counts on COM1 and writes its count to disk. Taking the snapshot
// freezes the disk at the snapshot's count while the guest keeps counting on a new
// overlay; restoring it and starting resumes the machine exactly there (the count
// continues; a cold boot would restart at 1).
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
import { resolveIn } from './snapshot-store';
import { SnapshotService } from './snapshot-service';
import { SNAPSHOT_DIR } from '../../../protocol/snapshots';

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

describe('snapshot of a running VM (real VM process)', () => {
  it('take while running, keep running, restore, resume where the snapshot was taken', async () => {
    const vm = (await host.call('vm.create', { name: 'Ticker', osType: 'other', memoryMiB: 16, bootOrder: ['disk'], newDisk: { sizeMiB: 1, format: 'qcow2' } })) as VmSummary;
    const id = vm.id;
    const base = resolveIn(vm.folder, vm.config!.storage[0].path!);
    const img = openDiskImage(base, { writable: true });
    img.write(0, tickerBootSector());
    img.close();

    await host.call('vm.start', { id });
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
    await expect(host.call('snapshot.delete', { id, snapshotId: snap.id })).rejects.toThrow(/Power the machine off/);

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
});
