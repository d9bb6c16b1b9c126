// vm.clone with real files through the HostService: full clones flatten the chain and
// are independent, linked clones back onto a snapshot's frozen images (qemu-img check
// passes) and protect that snapshot, names are validated, a cancel leaves nothing behind.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostService } from '../host-service';
import { VmLibrary } from './vm-library';
import { CloneService, buildClone, removeAbandonedStaging } from './vm-clone';
import { lockImage } from '../storage/image-lock';
import { openDiskImage } from '../storage/open-image';
import { backingOf, resolveIn } from '../snapshots/snapshot-store';
import type { VmSummary } from '../../../protocol/host-api';
import type { Snapshot } from '../../../protocol/snapshots';
import type { CloneStarted } from '../../../protocol/clone';

const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-clone-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function newHost(): HostService {
  const home = fs.mkdtempSync(path.join(scratch, 'home-'));
  return new HostService(new VmLibrary(home), () => {
    throw new Error('no VM processes in this test');
  });
}

async function makeVm(host: HostService, name: string, sizeMiB = 4): Promise<VmSummary> {
  return (await host.call('vm.create', { name, osType: 'other', memoryMiB: 16, newDisk: { sizeMiB, format: 'qcow2' }, storage: [{ bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' }] })) as VmSummary;
}

const diskOf = (host: HostService, id: string): string => {
  const vm = host.library.get(id);
  if (!vm.ok) throw new Error(vm.problem);
  return resolveIn(vm.folder, vm.config.storage.find((a) => a.kind === 'disk')!.path!);
};

function writeAt(file: string, offset: number, text: string): void {
  const img = openDiskImage(file, { writable: true });
  try {
    const buf = new Uint8Array(512);
    buf.set(new TextEncoder().encode(text));
    img.write(offset, buf);
    img.flush();
  } finally {
    img.close();
  }
}

function readAt(file: string, offset: number): string {
  const img = openDiskImage(file);
  try {
    const buf = new Uint8Array(512);
    img.read(offset, buf, 0, 512);
    const end = buf.indexOf(0);
    return new TextDecoder().decode(buf.subarray(0, end < 0 ? 512 : end));
  } finally {
    img.close();
  }
}

async function cloneAndWait(host: HostService, params: Record<string, unknown>): Promise<VmSummary> {
  const started = (await host.call('vm.clone', params)) as CloneStarted;
  const end = await host.media.tasks.wait(started.taskId);
  if (end.error) throw new Error(end.error);
  return host.summary(host.library.get(started.vmId));
}

function qemuCheck(file: string): void {
  if (!haveQemuImg) return;
  const r = spawnSync('qemu-img', ['check', file], { encoding: 'utf8' });
  expect(r.status, `qemu-img check ${file}: ${r.stdout}${r.stderr}`).toBe(0);
}

describe('vm.clone', () => {
  it('full clone: flattens the snapshot chain into an independent image with the same bytes', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Source');
    writeAt(diskOf(host, src.id), 0, 'base');
    await host.call('snapshot.take', { id: src.id, name: 'one' });
    writeAt(diskOf(host, src.id), 1024 * 1024, 'after-snapshot');
    expect(backingOf(diskOf(host, src.id))).not.toBeNull();

    const events: string[] = [];
    host.events.on('event', (e) => e.event === 'vm.changed' && events.push(e.vm.config?.name ?? ''));
    const clone = await cloneAndWait(host, { id: src.id, name: 'Copy', mode: 'full' });
    expect(clone.config?.name).toBe('Copy');
    expect(clone.id).not.toBe(src.id);
    expect(clone.snapshotCount).toBe(0);
    expect(events).toContain('Copy');
    const cdisk = diskOf(host, clone.id);
    expect(path.dirname(cdisk)).toBe(clone.folder);
    expect(backingOf(cdisk)).toBeNull();
    expect(readAt(cdisk, 0)).toBe('base');
    expect(readAt(cdisk, 1024 * 1024)).toBe('after-snapshot');
    // CD drive kept; writes to the clone do not reach the source.
    expect(clone.config?.storage.some((a) => a.kind === 'cdrom')).toBe(true);
    writeAt(cdisk, 0, 'changed-in-clone');
    expect(readAt(diskOf(host, src.id), 0)).toBe('base');
    expect(readAt(cdisk, 0)).toBe('changed-in-clone');
    qemuCheck(cdisk);
    // Nothing staged is left.
    expect(fs.readdirSync(host.library.machinesDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('full clone of a snapshot takes the disk as it was then', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Source');
    writeAt(diskOf(host, src.id), 0, 'then');
    const snap = (await host.call('snapshot.take', { id: src.id, name: 'one' })) as Snapshot;
    writeAt(diskOf(host, src.id), 0, 'now');
    const clone = await cloneAndWait(host, { id: src.id, name: 'Past', mode: 'full', snapshotId: snap.id });
    expect(readAt(diskOf(host, clone.id), 0)).toBe('then');
  });

  it('linked clone: an overlay on the snapshot frozen image; qemu-img check passes; the snapshot is protected', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Source');
    writeAt(diskOf(host, src.id), 0, 'frozen');
    const snap = (await host.call('snapshot.take', { id: src.id, name: 'base' })) as Snapshot;
    writeAt(diskOf(host, src.id), 0, 'source-later');
    const clone = await cloneAndWait(host, { id: src.id, name: 'Linked', mode: 'linked', snapshotId: snap.id });
    const cdisk = diskOf(host, clone.id);
    const frozen = resolveIn(src.folder, snap.disks['ide-0']);
    expect(backingOf(cdisk)).toBe(frozen);
    expect(fs.statSync(cdisk).size).toBeLessThan(1024 * 1024);
    expect(readAt(cdisk, 0)).toBe('frozen');
    writeAt(cdisk, 0, 'clone-write');
    expect(readAt(cdisk, 0)).toBe('clone-write');
    expect(readAt(frozen, 0)).toBe('frozen');
    expect(readAt(diskOf(host, src.id), 0)).toBe('source-later');
    qemuCheck(cdisk);

    // Deleting the snapshot (or an ancestor) or the source's files is refused while the clone exists.
    await expect(host.call('snapshot.delete', { id: src.id, snapshotId: snap.id })).rejects.toThrow(/linked clone "Linked"/);
    await expect(host.call('vm.delete', { id: src.id, deleteFiles: true })).rejects.toThrow(/linked clone "Linked"/);
    await expect(host.call('vm.delete', { id: src.id, deleteFiles: false })).rejects.toThrow(/folder would move/);
    // The backing name is relative (../Source/...), so both machines can move together.
    expect(spawnSync('qemu-img', ['info', '--output=json', cdisk], { encoding: 'utf8' }).stdout).toContain('"backing-filename": "../Source/');
    const child = (await host.call('snapshot.take', { id: src.id, name: 'child' })) as Snapshot;
    await expect(host.call('snapshot.delete', { id: src.id, snapshotId: child.id })).resolves.toBeNull(); // not in the clone's chain
    // Once the clone is gone, the snapshot can be deleted.
    await host.call('vm.delete', { id: clone.id, deleteFiles: true });
    await expect(host.call('snapshot.delete', { id: src.id, snapshotId: snap.id })).resolves.toBeNull();
  });

  it('while the source runs: a snapshot can be cloned (linked or full), its current state cannot', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Running');
    writeAt(diskOf(host, src.id), 0, 'at-snapshot');
    const snap = (await host.call('snapshot.take', { id: src.id, name: 's' })) as Snapshot;
    // The "running" VM holds its current disk's write lock, as a VM process does.
    const unlock = lockImage(diskOf(host, src.id));
    try {
      const clones = new CloneService({
        library: () => host.library,
        isRunning: () => true,
        snapshots: (folder) => host.snapshots.service.list(folder),
        tasks: () => host.media.tasks,
        vmAdded: () => {},
      });
      await expect(clones.clone({ id: src.id, name: 'Now', mode: 'full' })).rejects.toThrow(/is running: power it off/);
      for (const [name, mode] of [['L', 'linked'], ['F', 'full']] as const) {
        const started = await clones.clone({ id: src.id, name, mode, snapshotId: snap.id });
        const end = await host.media.tasks.wait(started.taskId);
        expect(end.error).toBeUndefined();
        expect(readAt(diskOf(host, started.vmId), 0)).toBe('at-snapshot');
      }
    } finally {
      unlock();
    }
  });

  it('refuses bad requests before writing anything', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Source');
    await expect(host.call('vm.clone', { id: src.id, name: '', mode: 'full' })).rejects.toThrow(/Enter a name/);
    await expect(host.call('vm.clone', { id: src.id, name: 'a/b', mode: 'full' })).rejects.toThrow(/cannot contain/);
    await expect(host.call('vm.clone', { id: src.id, name: 'source', mode: 'full' })).rejects.toThrow(/already exists/);
    await expect(host.call('vm.clone', { id: src.id, name: 'L', mode: 'linked' })).rejects.toThrow(/from a snapshot/);
    await expect(host.call('vm.clone', { id: src.id, name: 'L', mode: 'linked', snapshotId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/no snapshot/);
    expect(fs.readdirSync(host.library.machinesDir)).toEqual(['Source']);
  });

  it('a cancelled clone leaves nothing behind; abandoned staging folders are removed', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Big', 64);
    for (let i = 0; i < 64; i += 4) writeAt(diskOf(host, src.id), i * 1024 * 1024, `chunk ${i}`);
    const started = (await host.call('vm.clone', { id: src.id, name: 'Cancelled', mode: 'full' })) as CloneStarted;
    await expect(host.call('vm.start', { id: src.id })).rejects.toThrow(/being cloned/);
    await host.call('task.cancel', { taskId: started.taskId });
    const end = await host.media.tasks.wait(started.taskId);
    expect(end.cancelled).toBe(true);
    expect(fs.readdirSync(host.library.machinesDir)).toEqual(['Big']);
    expect(host.list().map((v) => v.config?.name)).toEqual(['Big']);

    // Cancelled in the middle of the copy: the staging folder (and its partial disk) is removed.
    const prepared = await host.clones.prepare({ id: src.id, name: 'Midway', mode: 'full' });
    const ctl = new AbortController();
    let calls = 0;
    await expect(
      buildClone(host.library.machinesDir, prepared.staging, prepared.config, prepared.plans, 'full', null, {
        signal: ctl.signal,
        onProgress: () => {
          if (++calls === 2) ctl.abort();
        },
      }),
    ).rejects.toThrow(/cancel/i);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(fs.readdirSync(host.library.machinesDir)).toEqual(['Big']);

    const dead = path.join(host.library.machinesDir, '.creating-dead');
    fs.mkdirSync(dead);
    fs.writeFileSync(path.join(dead, '.clone-pid'), '999999999');
    expect(removeAbandonedStaging(host.library.machinesDir)).toEqual(['.creating-dead']);
  });

  it('snapshot.thumbnail returns the PNG as a data URL, or null', async () => {
    const host = newHost();
    const src = await makeVm(host, 'Pic');
    const none = (await host.call('snapshot.take', { id: src.id, name: 'no screen' })) as Snapshot;
    expect(await host.call('snapshot.thumbnail', { id: src.id, snapshotId: none.id })).toBeNull();
    fs.writeFileSync(path.join(src.folder, 'thumbnail.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const pic = (await host.call('snapshot.take', { id: src.id, name: 'screen' })) as Snapshot;
    expect(await host.call('snapshot.thumbnail', { id: src.id, snapshotId: pic.id })).toBe('data:image/png;base64,iVBORw==');
  });
});
