// Snapshots on a stopped VM with real qcow2 files: the tree model, take / restore /
// delete / edit, branches, raw disks, reconcile after a crash (journal replay, garbage),
// and crash injection at every step of every operation (the result is before or after).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDiskImage } from '../storage/open-image';
import { VM_CONFIG_VERSION, type VmConfig } from '../../../protocol/vm-config';
import { SNAPSHOT_DIR, SNAPSHOT_JOURNAL_FILE, emptyTree, snapshotTreeSchema, type SnapshotTree } from '../../../protocol/snapshots';
import { SimulatedCrash, SnapshotService, type RunningVm } from './snapshot-service';
import { SwappableDisk } from '../vm-process/swappable-disk';
import { backingOf, readTree, reconcile, referencedFiles, resolveIn } from './snapshot-store';
import { createDisk } from '../storage/disk-operations';
import { VM_FILE } from '../library/vm-library';
import { HOST_ONLY_TO_VM, fromVmSchema, parseMessage, toVmSchema } from '../../../protocol/vm-process';
import { hostRequestSchemas } from '../../../protocol/host-api';

const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
const MiB = 1024 * 1024;
const PROBES = [0, 65536, 3 * MiB];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-snap-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function makeVm(format: 'qcow2' | 'raw' = 'qcow2', disks = 1): Promise<string> {
  const folder = fs.mkdtempSync(path.join(scratch, 'vm-'));
  const storage: VmConfig['storage'] = [];
  for (let i = 0; i < disks; i++) {
    const name = `disk${i}.${format === 'qcow2' ? 'qcow2' : 'img'}`;
    if (format === 'qcow2') await createDisk(path.join(folder, name), { size: 4 * MiB, format: 'qcow2' });
    else fs.writeFileSync(path.join(folder, name), new Uint8Array(4 * MiB));
    storage.push({ bus: i === 0 ? 'ide' : 'virtio', port: 0, kind: 'disk', path: name, format });
  }
  storage.push({ bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' });
  const config: VmConfig = {
    schemaVersion: VM_CONFIG_VERSION,
    id: randomUUID(),
    name: 'Snap',
    osType: 'other',
    memoryMiB: 16,
    cpus: 1,
    firmware: 'builtin',
    bootOrder: ['disk'],
    storage,
    display: { vramMiB: 16 },
    serial: { enabled: true },
    notes: '',
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(folder, VM_FILE), JSON.stringify(config, null, 2));
  return folder;
}

const config = (folder: string): VmConfig => JSON.parse(fs.readFileSync(path.join(folder, VM_FILE), 'utf8'));
const diskPath = (folder: string, i = 0) => resolveIn(folder, config(folder).storage[i].path!);

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

const contents = (file: string) => PROBES.map((o) => readAt(file, o)).join('|');

function qemuCheckAll(folder: string): void {
  if (!haveQemuImg) return;
  const files = [...referencedFiles(folder, readTree(folder), config(folder))].filter((f) => f.endsWith('.qcow2'));
  for (const f of files) {
    const r = spawnSync('qemu-img', ['check', f], { encoding: 'utf8' });
    expect(r.status, `qemu-img check ${f}: ${r.stdout}${r.stderr}`).toBe(0);
  }
}

/** Files in Snapshots/ that nothing refers to (must be none after any operation or reconcile). */
function garbage(folder: string): string[] {
  const dir = path.join(folder, SNAPSHOT_DIR);
  if (!fs.existsSync(dir)) return [];
  const keep = referencedFiles(folder, readTree(folder), config(folder));
  return fs.readdirSync(dir).filter((n) => !n.endsWith('.boxwood-lock') && !keep.has(path.resolve(dir, n)));
}

/** Names, parents, current position and every layer's bytes: what "the same snapshots" means. */
function fingerprint(folder: string): string {
  const tree = readTree(folder);
  const name = (id: string | null) => (id ? tree.snapshots.find((s) => s.id === id)!.name : '-');
  const snaps = tree.snapshots
    .map((s) => `${s.name}<${name(s.parentId)}>${s.description}:${Object.entries(s.disks).map(([k, d]) => `${k}=${contents(resolveIn(folder, d))}`).join(',')}`)
    .sort();
  const cur = config(folder).storage.filter((a) => a.kind !== 'cdrom').map((a) => contents(resolveIn(folder, a.path!)));
  return JSON.stringify({ snaps, current: name(tree.currentParentId), cur, resume: tree.resumeStateFile });
}

describe('snapshot protocol', () => {
  it('VM process messages validate; snapshot requests are host-only', () => {
    expect(parseMessage(toVmSchema, { type: 'snapshot-freeze', requestId: 1, stateFile: '/x/Snapshots/a.state' }).ok).toBe(true);
    expect(parseMessage(toVmSchema, { type: 'snapshot-swap-disks', requestId: 2, disks: [{ key: 'ide-0', path: '/x/y.qcow2' }] }).ok).toBe(true);
    expect(parseMessage(toVmSchema, { type: 'snapshot-thaw' }).ok).toBe(false); // no requestId
    expect(parseMessage(fromVmSchema, { type: 'reply', requestId: 1, ok: false, error: 'no' }).ok).toBe(true);
    expect(parseMessage(toVmSchema, { type: 'boot', protocol: 1, vmDir: '/x', config: {}, restoreStateFile: '' }).ok).toBe(false);
    expect(parseMessage(toVmSchema, { type: 'snapshot-release-disks', requestId: 3, keys: ['ide-0', 'virtio-0'] }).ok).toBe(true);
    expect(parseMessage(toVmSchema, { type: 'snapshot-release-disks', requestId: 3 }).ok).toBe(false); // no keys
    for (const t of ['boot', 'snapshot-freeze', 'snapshot-release-disks', 'snapshot-swap-disks', 'snapshot-thaw']) expect(HOST_ONLY_TO_VM.has(t)).toBe(true);
    expect(HOST_ONLY_TO_VM.has('key')).toBe(false);
  });

  it('host API params', () => {
    const id = randomUUID();
    expect(hostRequestSchemas['snapshot.take'].safeParse({ id }).success).toBe(true);
    expect(hostRequestSchemas['snapshot.restore'].safeParse({ id }).success).toBe(false);
    expect(hostRequestSchemas['snapshot.edit'].safeParse({ id, snapshotId: id, name: '' }).success).toBe(false);
  });
});

describe('snapshot tree model', () => {
  it('validates the tree file and defaults resumeStateFile', () => {
    const t = snapshotTreeSchema.parse({ version: 1, snapshots: [], currentParentId: null });
    expect(t).toEqual(emptyTree());
    expect(snapshotTreeSchema.safeParse({ version: 2, snapshots: [], currentParentId: null }).success).toBe(false);
    expect(snapshotTreeSchema.safeParse({ version: 1, snapshots: [{ id: 'x' }], currentParentId: null }).success).toBe(false);
  });

  it('a corrupt snapshots.json is an error, and nothing is garbage-collected', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    await svc.take(folder, { name: 'one' }, null);
    const files = fs.readdirSync(path.join(folder, SNAPSHOT_DIR)).sort();
    fs.writeFileSync(path.join(folder, 'snapshots.json'), '{"version":1,');
    await expect(svc.list(folder)).rejects.toThrow(/snapshots.json is not valid JSON/);
    expect(fs.readdirSync(path.join(folder, SNAPSHOT_DIR)).sort()).toEqual(files);
  });
});

describe('snapshots of a stopped VM', () => {
  it('take freezes the disk, continues on an overlay; restore drops what was written after', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    const base = diskPath(folder);
    writeAt(base, 0, 'A');
    const s1 = await svc.take(folder, { name: 'first', description: 'clean' }, null);
    expect(s1.online).toBe(false);
    expect(s1.disks).toEqual({ 'ide-0': 'disk0.qcow2' });
    const cur = diskPath(folder);
    expect(path.dirname(cur)).toBe(path.join(folder, SNAPSHOT_DIR));
    expect(backingOf(cur)).toBe(path.join(folder, SNAPSHOT_DIR, '../disk0.qcow2'));
    expect(config(folder).storage[0].format).toBe('qcow2');
    expect(readAt(cur, 0)).toBe('A');
    writeAt(cur, 0, 'B');
    writeAt(cur, 65536, 'C');
    expect(readAt(base, 0)).toBe('A'); // the frozen image never changes
    const list = await svc.list(folder);
    expect(list.snapshots.map((s) => s.name)).toEqual(['first']);
    expect(list.currentParentId).toBe(s1.id);

    await svc.restore(folder, s1.id);
    const restored = diskPath(folder);
    expect(restored).not.toBe(cur);
    expect(fs.existsSync(cur)).toBe(false); // the discarded state's overlay is deleted
    expect(readAt(restored, 0)).toBe('A');
    expect(readAt(restored, 65536)).toBe('');
    expect(garbage(folder)).toEqual([]);
    expect(fs.existsSync(path.join(folder, SNAPSHOT_JOURNAL_FILE))).toBe(false);
    qemuCheckAll(folder);
  });

  it('deleting a middle snapshot merges it into its child; every remaining layer reads the same', async () => {
    const folder = await makeVm('qcow2', 2);
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 0, 'A');
    const s1 = await svc.take(folder, { name: 's1' }, null);
    writeAt(diskPath(folder), 65536, 'B');
    writeAt(diskPath(folder, 1), 0, 'b');
    const s2 = await svc.take(folder, { name: 's2' }, null);
    writeAt(diskPath(folder), 0, 'C');
    const s3 = await svc.take(folder, { name: 's3' }, null);
    writeAt(diskPath(folder), 3 * MiB, 'D');
    const s1Bytes = contents(resolveIn(folder, s1.disks['ide-0']));
    const s2Files = Object.values(s2.disks).map((d) => resolveIn(folder, d));

    await svc.delete(folder, s2.id);
    const tree = readTree(folder);
    expect(tree.snapshots.map((s) => s.name)).toEqual(['s1', 's3']);
    expect(tree.snapshots.find((s) => s.id === s3.id)!.parentId).toBe(s1.id);
    for (const f of s2Files) expect(fs.existsSync(f)).toBe(false);
    // s3's layers now back onto s1's images and show the same bytes as before.
    expect(path.resolve(backingOf(resolveIn(folder, tree.snapshots[1].disks['ide-0']))!)).toBe(resolveIn(folder, s1.disks['ide-0']));
    expect(contents(resolveIn(folder, tree.snapshots[1].disks['ide-0']))).toBe('C|B|');
    expect(contents(resolveIn(folder, s1.disks['ide-0']))).toBe(s1Bytes);
    expect(s1Bytes).toBe('A||');
    expect(contents(diskPath(folder))).toBe('C|B|D');
    expect(contents(diskPath(folder, 1))).toBe('b||');
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);

    // Deleting the current state's parent merges it into the current overlay.
    await svc.delete(folder, s3.id);
    expect(readTree(folder).currentParentId).toBe(s1.id);
    expect(contents(diskPath(folder))).toBe('C|B|D');
    // And the base: its image (inside the VM folder) is merged into the current state and removed.
    await svc.delete(folder, s1.id);
    expect(readTree(folder).snapshots).toEqual([]);
    expect(readTree(folder).currentParentId).toBe(null);
    expect(fs.existsSync(path.join(folder, 'disk0.qcow2'))).toBe(false);
    expect(backingOf(diskPath(folder))).toBe(null);
    expect(contents(diskPath(folder))).toBe('C|B|D');
    expect(contents(diskPath(folder, 1))).toBe('b||');
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);
  });

  it('restoring an older snapshot and taking another builds a branch; a snapshot with two children is not deleted', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 0, 'A');
    const s1 = await svc.take(folder, { name: 's1' }, null);
    writeAt(diskPath(folder), 0, 'B');
    const s2 = await svc.take(folder, { name: 's2' }, null);
    await svc.restore(folder, s1.id);
    expect(readAt(diskPath(folder), 0)).toBe('A');
    writeAt(diskPath(folder), 0, 'X');
    const s3 = await svc.take(folder, { name: 's3' }, null);
    expect(s3.parentId).toBe(s1.id);
    await expect(svc.delete(folder, s1.id)).rejects.toThrow(/has 2 children \("s2", "s3"\)/);
    // s2 is a leaf: deleting it removes its images only.
    await svc.delete(folder, s2.id);
    await svc.restore(folder, s3.id);
    expect(readAt(diskPath(folder), 0)).toBe('X');
    await expect(svc.restore(folder, s2.id)).rejects.toThrow(/No snapshot/);
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);
  });

  it('a raw disk gets a qcow2 overlay over the raw file', async () => {
    const folder = await makeVm('raw');
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 512, 'raw');
    const s = await svc.take(folder, { name: 'r' }, null);
    expect(config(folder).storage[0].format).toBe('qcow2');
    expect(openDiskImage(diskPath(folder)).chain.map((c) => c.format)).toEqual(['qcow2', 'raw']);
    writeAt(diskPath(folder), 512, 'new');
    await svc.restore(folder, s.id);
    expect(readAt(diskPath(folder), 512)).toBe('raw');
    expect(fs.readFileSync(path.join(folder, 'disk0.img')).length).toBe(4 * MiB);
    qemuCheckAll(folder);
  });

  it('edit renames and describes; restore brings back the settings of the snapshot', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    const s = await svc.take(folder, { name: 'old' }, null);
    const e = await svc.edit(folder, s.id, { name: 'new', description: 'text' });
    expect(e.name).toBe('new');
    expect(readTree(folder).snapshots[0]).toMatchObject({ name: 'new', description: 'text' });
    const c = config(folder);
    fs.writeFileSync(path.join(folder, VM_FILE), JSON.stringify({ ...c, memoryMiB: 32, name: 'Renamed' }));
    await svc.restore(folder, s.id);
    expect(config(folder)).toMatchObject({ memoryMiB: 16, name: 'Renamed' });
    expect((await svc.list(folder)).snapshots[0].name).toBe('new');
  });
});

/** A VM process stand-in that records the requests (and refuses the one of type `fail`). */
function fakeVm(fail?: string): RunningVm & { requests: { type: string }[]; types(): string[] } {
  const requests: { type: string }[] = [];
  return {
    requests,
    types: () => requests.map((r) => r.type),
    async request(m) {
      requests.push(m);
      if (m.type === fail) throw new Error(`refused ${m.type}`);
      return undefined;
    },
  };
}

describe('deleting a snapshot while the machine runs (fake VM process)', () => {
  it('a snapshot on another branch is deleted without touching the VM process', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 0, 'A');
    const s1 = await svc.take(folder, { name: 's1' }, null);
    writeAt(diskPath(folder), 65536, 'B');
    const s2 = await svc.take(folder, { name: 's2' }, null);
    writeAt(diskPath(folder), 0, 'C');
    const s3 = await svc.take(folder, { name: 's3' }, null);
    await svc.restore(folder, s1.id); // the current state runs on s1's branch; s2 → s3 is the other one
    writeAt(diskPath(folder), 0, 'X');
    const vm = fakeVm();
    await svc.delete(folder, s2.id, vm); // merges s2 into s3's layer: neither is open
    expect(vm.requests).toEqual([]);
    expect(contents(resolveIn(folder, readTree(folder).snapshots.find((s) => s.id === s3.id)!.disks['ide-0']))).toBe('C|B|');
    await svc.delete(folder, s3.id, vm); // a leaf
    expect(vm.requests).toEqual([]);
    expect(readTree(folder).snapshots.map((s) => s.name)).toEqual(['s1']);
    expect(contents(diskPath(folder))).toBe('X||');
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);
  });

  it('an ancestor of the current state: freeze without a state file, release the disks, merge, reopen the same files, commit, thaw', async () => {
    const folder = await makeVm('qcow2', 2);
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 0, 'A');
    const s1 = await svc.take(folder, { name: 's1' }, null);
    writeAt(diskPath(folder), 65536, 'B');
    const s2 = await svc.take(folder, { name: 's2' }, null);
    writeAt(diskPath(folder), 0, 'C');
    const current = [diskPath(folder), diskPath(folder, 1)];
    const vm = fakeVm();
    await svc.delete(folder, s1.id, vm); // into s2's layer, which backs the open current state
    const reopen = { type: 'snapshot-swap-disks', disks: [{ key: 'ide-0', path: current[0] }, { key: 'virtio-0', path: current[1] }] };
    expect(vm.requests).toEqual([{ type: 'snapshot-freeze', stateFile: null }, { type: 'snapshot-release-disks', keys: ['ide-0', 'virtio-0'] }, reopen, { type: 'snapshot-thaw' }]);
    vm.requests.length = 0;
    await svc.delete(folder, s2.id, vm); // into the current overlays
    expect(vm.types()).toEqual(['snapshot-freeze', 'snapshot-release-disks', 'snapshot-swap-disks', 'snapshot-thaw']);
    expect(vm.requests[2]).toEqual(reopen);
    expect([diskPath(folder), diskPath(folder, 1)]).toEqual(current);
    expect(readTree(folder).snapshots).toEqual([]);
    expect(contents(diskPath(folder))).toBe('C|B|');
    expect(backingOf(diskPath(folder))).toBe(null);
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);
  });

  it('a failed merge reopens the disks as they were and thaws; the tree is unchanged and the delete can be repeated; a crash thaws nothing', async () => {
    /** s1 → current, data in both. */
    const scenario = async () => {
      const folder = await makeVm();
      const svc = new SnapshotService();
      writeAt(diskPath(folder), 0, 'A');
      const s1 = await svc.take(folder, { name: 's1' }, null);
      writeAt(diskPath(folder), 65536, 'B');
      return { folder, s1: s1.id, before: fingerprint(folder), current: diskPath(folder) };
    };
    const { folder, s1, before, current } = await scenario();
    // The VM process refusing to release: nothing merged, the disks reopened, thawed.
    let vm = fakeVm('snapshot-release-disks');
    await expect(new SnapshotService().delete(folder, s1, vm)).rejects.toThrow('refused snapshot-release-disks');
    expect(vm.types()).toEqual(['snapshot-freeze', 'snapshot-release-disks', 'snapshot-swap-disks', 'snapshot-thaw']);
    expect(backingOf(current)).not.toBe(null);
    expect(fingerprint(folder)).toBe(before);
    // An error after the merge.
    const failing = new SnapshotService((step) => {
      if (step === 'after-merge') throw new Error('injected failure');
    });
    vm = fakeVm();
    await expect(failing.delete(folder, s1, vm)).rejects.toThrow('injected failure');
    expect(vm.requests).toEqual([
      { type: 'snapshot-freeze', stateFile: null },
      { type: 'snapshot-release-disks', keys: ['ide-0'] },
      { type: 'snapshot-swap-disks', disks: [{ key: 'ide-0', path: current }] },
      { type: 'snapshot-thaw' },
    ]);
    expect(fingerprint(folder)).toBe(before);
    // Repeated: the layer merged already is recognized; nothing left to release.
    vm = fakeVm();
    await new SnapshotService().delete(folder, s1, vm);
    expect(vm.types()).toEqual(['snapshot-freeze', 'snapshot-thaw']);
    expect(readTree(folder).snapshots).toEqual([]);
    expect(contents(diskPath(folder))).toBe('A|B|');
    expect(garbage(folder)).toEqual([]);
    qemuCheckAll(folder);

    // A simulated kill: no thaw (the process is gone); reconcile keeps "before".
    const k = await scenario();
    vm = fakeVm();
    const crashing = new SnapshotService((step) => {
      if (step === 'after-merge') throw new SimulatedCrash(step);
    });
    await expect(crashing.delete(k.folder, k.s1, vm)).rejects.toThrow(SimulatedCrash);
    expect(vm.types()).toEqual(['snapshot-freeze', 'snapshot-release-disks']);
    await new SnapshotService().list(k.folder);
    expect(fingerprint(k.folder)).toBe(k.before);
  });
});

describe('SwappableDisk', () => {
  it('released: every access throws clearly, close is a no-op, a swap reopens it (same size checked)', async () => {
    const folder = await makeVm();
    const file = diskPath(folder);
    writeAt(file, 0, 'A');
    const disk = new SwappableDisk(openDiskImage(file, { writable: true }), 'ide-0');
    disk.release();
    expect(disk.released).toBe(true);
    expect(disk.size).toBe(4 * MiB);
    expect(() => disk.read(0, new Uint8Array(512), 0, 512)).toThrow(/disk at ide-0 is released/);
    expect(() => disk.write(0, new Uint8Array(512))).toThrow(/released/);
    expect(() => disk.flush()).toThrow(/released/);
    disk.close();
    const other = path.join(folder, 'small.img');
    fs.writeFileSync(other, new Uint8Array(MiB));
    const small = openDiskImage(other, { writable: true });
    expect(() => disk.swap(small)).toThrow(/1048576 bytes/);
    small.close();
    // Released means closed: the write lock is free for the host's merge.
    expect(disk.swap(openDiskImage(file, { writable: true }))).toBe(null);
    const buf = new Uint8Array(512);
    disk.read(0, buf, 0, 512);
    expect(String.fromCharCode(buf[0])).toBe('A');
    disk.close();
  });
});

describe('reconcile after a crash', () => {
  it('replays a committed journal and deletes unreferenced files', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService((step) => {
      if (step === 'after-journal') throw new SimulatedCrash(step);
    });
    await expect(svc.take(folder, { name: 'j' }, null)).rejects.toThrow(SimulatedCrash);
    expect(fs.existsSync(path.join(folder, SNAPSHOT_JOURNAL_FILE))).toBe(true);
    expect(readTree(folder).snapshots).toEqual([]); // not applied yet
    fs.writeFileSync(path.join(folder, SNAPSHOT_DIR, `${randomUUID()}.qcow2`), 'stray');
    fs.writeFileSync(path.join(folder, SNAPSHOT_DIR, `.x.state.abc.tmp`), 'temp');
    const r = reconcile(folder);
    expect(r.tree.snapshots.map((s) => s.name)).toEqual(['j']);
    expect(path.dirname(diskPath(folder))).toBe(path.join(folder, SNAPSHOT_DIR));
    expect(fs.existsSync(path.join(folder, SNAPSHOT_JOURNAL_FILE))).toBe(false);
    expect(garbage(folder)).toEqual([]);
    expect(fs.readdirSync(path.join(folder, SNAPSHOT_DIR)).length).toBe(1);
  });

  it('before a start: an interrupted change is finished first, and a start during an operation is refused', async () => {
    const folder = await makeVm();
    const crashing = new SnapshotService((step) => {
      if (step === 'after-journal') throw new SimulatedCrash(step);
    });
    await expect(crashing.take(folder, { name: 'j' }, null)).rejects.toThrow(SimulatedCrash);
    expect(config(folder).storage[0].path).toBe('disk0.qcow2'); // vm.json not yet rewritten
    const svc = new SnapshotService();
    expect(svc.beforeStart(folder)).toBe(undefined);
    expect(path.dirname(diskPath(folder))).toBe(path.join(folder, SNAPSHOT_DIR)); // the VM will start on the overlay
    expect(fs.existsSync(path.join(folder, SNAPSHOT_JOURNAL_FILE))).toBe(false);
    const pending = svc.delete(folder, readTree(folder).snapshots[0].id);
    expect(() => svc.beforeStart(folder)).toThrow(/snapshot operation on this machine is in progress/);
    await pending;
    expect(svc.beforeStart(folder)).toBe(undefined);
  });

  it('a journal naming a missing file is dropped (the change never happened)', async () => {
    const folder = await makeVm();
    const tree: SnapshotTree = { ...emptyTree(), snapshots: [{ id: randomUUID(), name: 'x', description: '', createdAt: '', parentId: null, online: false, disks: { 'ide-0': 'Snapshots/nope.qcow2' } }] };
    fs.writeFileSync(path.join(folder, SNAPSHOT_JOURNAL_FILE), JSON.stringify({ version: 1, operation: 'take', tree, config: null, remove: [] }));
    const r = reconcile(folder);
    expect(r.tree.snapshots).toEqual([]);
    expect(fs.existsSync(path.join(folder, SNAPSHOT_JOURNAL_FILE))).toBe(false);
  });

  it('a missing overlay is reported clearly and operations refuse', async () => {
    const folder = await makeVm();
    const svc = new SnapshotService();
    await svc.take(folder, { name: 'a' }, null);
    const cur = config(folder).storage[0].path!;
    fs.rmSync(resolveIn(folder, cur));
    const list = await svc.list(folder);
    expect(list.problem).toMatch(new RegExp(`current state's disk image ${cur} \\(ide 0\\) is missing`));
    await expect(svc.take(folder, {}, null)).rejects.toThrow(/cannot be changed: .*is missing/);
  });
});

describe('crash injection: every step of every operation leaves before or after', () => {
  type Op = 'take' | 'restore' | 'delete-middle' | 'delete-current-parent' | 'edit';
  const STEPS = ['after-overlay', 'after-merge', 'after-journal', 'after-vm-json', 'after-tree', 'after-remove'];

  /** s1 → s2 → current (with data in every layer), plus a branch-free tree to delete in. */
  async function scenario(): Promise<{ folder: string; ids: Record<string, string> }> {
    const folder = await makeVm('qcow2', 2);
    const svc = new SnapshotService();
    writeAt(diskPath(folder), 0, 'A');
    const s1 = await svc.take(folder, { name: 's1' }, null);
    writeAt(diskPath(folder), 65536, 'B');
    writeAt(diskPath(folder, 1), 0, 'b');
    const s2 = await svc.take(folder, { name: 's2' }, null);
    writeAt(diskPath(folder), 0, 'C');
    return { folder, ids: { s1: s1.id, s2: s2.id } };
  }

  function run(svc: SnapshotService, op: Op, folder: string, ids: Record<string, string>): Promise<unknown> {
    switch (op) {
      case 'take':
        return svc.take(folder, { name: 'new' }, null);
      case 'restore':
        return svc.restore(folder, ids.s1);
      case 'delete-middle':
        return svc.delete(folder, ids.s1);
      case 'delete-current-parent':
        return svc.delete(folder, ids.s2);
      case 'edit':
        return svc.edit(folder, ids.s1, { description: 'edited' });
    }
  }

  for (const op of ['take', 'restore', 'delete-middle', 'delete-current-parent', 'edit'] as Op[]) {
    it(op, async () => {
      const { folder, ids } = await scenario();
      const before = fingerprint(folder);
      const copy = (to: string) => fs.cpSync(folder, to, { recursive: true });
      const ref = folder + '-after';
      copy(ref);
      await run(new SnapshotService(), op, ref, ids);
      const after = fingerprint(ref);
      expect(after).not.toBe(before);
      let crashes = 0;
      for (const step of STEPS) {
        const trial = `${folder}-${step}`;
        copy(trial);
        let hit = false;
        const svc = new SnapshotService((s) => {
          if (s === step && !hit) {
            hit = true;
            throw new SimulatedCrash(s);
          }
        });
        const r = await run(svc, op, trial, ids).then(
          () => null,
          (e) => e,
        );
        if (!hit) {
          expect(r).toBe(null);
          continue;
        }
        crashes++;
        expect(r).toBeInstanceOf(SimulatedCrash);
        // "Restart": a fresh service reconciles the folder.
        await new SnapshotService().list(trial);
        const got = fingerprint(trial);
        expect([before, after], `${op} killed ${step}`).toContain(got);
        expect(garbage(trial), `${op} killed ${step}`).toEqual([]);
        expect(fs.existsSync(path.join(trial, SNAPSHOT_JOURNAL_FILE))).toBe(false);
        qemuCheckAll(trial);
        // The folder stays usable: the same operation (or its sequel) works afterwards.
        if (got === before) {
          await run(new SnapshotService(), op, trial, ids);
          expect(fingerprint(trial)).toBe(after);
        }
      }
      expect(crashes).toBeGreaterThanOrEqual(op === 'edit' ? 4 : 5);
    });
  }
});
