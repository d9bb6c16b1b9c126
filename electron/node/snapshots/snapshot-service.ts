// Snapshot operations on one VM folder: take (stopped: disks only; running: the VM
// process freezes, saves its machine state and continues on new overlays), restore,
// delete (merging a layer into its only child; running: the VM process holds still and
// closes the disks whose chains are rewritten), edit, list. Every change goes through
// snapshot-store.ts commit() — see the crash ordering at the top of that file.
// Operations on the same folder are serialized.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { mergeBackingIntoOverlay } from '../storage/disk-operations';
import { probeFile } from '../storage/open-image';
import { writeFileAtomic } from '../atomic-file';
import type { VmConfig } from '../../../protocol/vm-config';
import { SNAPSHOT_DIR, attachmentKey, currentDescendsFrom, snapshotSchema, type Snapshot, type SnapshotListResult, type SnapshotTree } from '../../../protocol/snapshots';
import {
  SnapshotError,
  backingOf,
  commit,
  createOverlay,
  journalPath,
  obsoleteFiles,
  readTree,
  reconcile,
  referencedFiles,
  resolveIn,
  type FaultHook,
} from './snapshot-store';
import { sameFile } from '../storage/same-file';

export { SnapshotError };

/** Thrown by a test's fault hook: stands for kill -9, so no cleanup runs after it. */
export class SimulatedCrash extends Error {}

/** What a snapshot of a running machine needs from its VM process (VmSession implements it). */
export interface RunningVm {
  request(
    message:
      | { type: 'snapshot-freeze'; stateFile: string | null }
      | { type: 'snapshot-release-disks'; keys: string[] }
      | { type: 'snapshot-swap-disks'; disks: { key: string; path: string }[] }
      | { type: 'snapshot-thaw' },
    timeoutMs?: number,
  ): Promise<number | undefined>;
}

/** A merge of a deleted snapshot's frozen image into the layer (absolute) that backs onto it. */
interface Merge {
  key: string;
  layer: string;
}

export interface TakeOptions {
  name?: string;
  description?: string;
}

const THUMBNAIL = 'thumbnail.png';

export class SnapshotService {
  private readonly queues = new Map<string, { tail: Promise<unknown>; count: number }>();

  constructor(private readonly fault: FaultHook = () => {}) {}

  /** Run `fn` after every earlier operation on the same folder. */
  private serialize<T>(folder: string, fn: () => Promise<T> | T): Promise<T> {
    const key = path.resolve(folder);
    const q = this.queues.get(key) ?? { tail: Promise.resolve() as Promise<unknown>, count: 0 };
    q.count++;
    this.queues.set(key, q);
    const run = async () => {
      try {
        return await fn();
      } finally {
        // Not busy any more as soon as the last queued operation settles (before its caller resumes).
        if (--q.count === 0 && this.queues.get(key) === q) this.queues.delete(key);
      }
    };
    const next = q.tail.then(run, run);
    q.tail = next.catch(() => {});
    return next;
  }

  list(folder: string): Promise<SnapshotListResult> {
    return this.serialize(folder, () => {
      const { tree, problems } = reconcile(folder);
      return { snapshots: tree.snapshots, currentParentId: tree.currentParentId, resumesSavedState: !!tree.resumeStateFile, ...(problems.length ? { problem: capitalize(problems.join('; ')) + '.' } : {}) };
    });
  }

  /** Cheap summary for the VM list (no reconcile): count and the current parent's name. */
  summary(folder: string): { count: number; current: string | null } {
    try {
      const tree = readTree(folder);
      return { count: tree.snapshots.length, current: tree.snapshots.find((s) => s.id === tree.currentParentId)?.name ?? null };
    } catch {
      return { count: 0, current: null };
    }
  }

  /** Take a snapshot. `running`: the VM process of this machine, when it runs (online snapshot). */
  take(folder: string, opts: TakeOptions, running: RunningVm | null): Promise<Snapshot> {
    return this.serialize(folder, async () => {
      const { tree, config } = usable(folder);
      const id = randomUUID();
      const plan = config.storage
        .filter((a) => a.path && a.kind !== 'cdrom')
        .map((a) => ({ key: attachmentKey(a), frozen: a.path!, overlay: `${SNAPSHOT_DIR}/${randomUUID()}.qcow2` }));
      for (const p of plan) {
        const abs = resolveIn(folder, p.frozen);
        const fmt = probeFile(abs);
        if (fmt !== 'qcow2' && fmt !== 'raw') throw new SnapshotError(`The disk ${p.frozen} (${p.key}) is a ${fmt} image; convert the disk to qcow2 to take snapshots.`);
      }
      if (new Set(plan.map((p) => p.key)).size !== plan.length) throw new SnapshotError('Two disks are attached at the same port; fix the storage settings first.');
      const stateRel = running ? `${SNAPSHOT_DIR}/${id}.state` : null;
      const created: string[] = [];
      let frozen = false;
      let swapped = false;
      let crashed = false;
      try {
        fs.mkdirSync(path.join(folder, SNAPSHOT_DIR), { recursive: true });
        if (running) {
          created.push(stateRel!);
          await running.request({ type: 'snapshot-freeze', stateFile: resolveIn(folder, stateRel!) }, 120_000);
          frozen = true;
        }
        this.fault('after-freeze');
        for (const p of plan) {
          created.push(p.overlay);
          createOverlay(folder, resolveIn(folder, p.overlay), resolveIn(folder, p.frozen));
          this.fault('after-overlay');
        }
        let thumbnail: string | undefined;
        if (fs.existsSync(path.join(folder, THUMBNAIL))) {
          thumbnail = `${SNAPSHOT_DIR}/${id}.png`;
          created.push(thumbnail);
          writeFileAtomic(resolveIn(folder, thumbnail), fs.readFileSync(path.join(folder, THUMBNAIL)));
        }
        if (running && plan.length) {
          await running.request({ type: 'snapshot-swap-disks', disks: plan.map((p) => ({ key: p.key, path: resolveIn(folder, p.overlay) })) });
          swapped = true;
        }
        this.fault('after-swap');
        // Stopped after restoring an online snapshot: the current state is that saved machine.
        const stateFile = stateRel ?? tree.resumeStateFile ?? undefined;
        const snapshot: Snapshot = snapshotSchema.parse({
          id,
          name: opts.name?.trim() || `Snapshot ${tree.snapshots.length + 1}`,
          description: opts.description ?? '',
          createdAt: new Date().toISOString(),
          parentId: tree.currentParentId,
          online: !!stateFile,
          stateFile,
          thumbnail,
          disks: Object.fromEntries(plan.map((p) => [p.key, p.frozen])),
          config,
        });
        const overlays = new Map(plan.map((p) => [p.key, p.overlay]));
        const newConfig: VmConfig = { ...config, storage: config.storage.map((a) => (overlays.has(attachmentKey(a)) && a.kind !== 'cdrom' ? { ...a, path: overlays.get(attachmentKey(a))!, format: 'qcow2' as const } : a)) };
        const newTree: SnapshotTree = { ...tree, snapshots: [...tree.snapshots, snapshot], currentParentId: id };
        commit(folder, { version: 1, operation: 'take', tree: newTree, config: newConfig, remove: [] }, this.fault);
        return snapshot;
      } catch (e) {
        crashed = e instanceof SimulatedCrash;
        if (crashed || fs.existsSync(journalPath(folder))) throw e; // committed (or "killed"): reconcile finishes it
        // Not committed: back to the state before, as if nothing happened.
        if (swapped && running) {
          await running.request({ type: 'snapshot-swap-disks', disks: plan.map((p) => ({ key: p.key, path: resolveIn(folder, p.frozen) })) }).catch(() => {});
        }
        for (const f of created) fs.rmSync(resolveIn(folder, f), { force: true });
        throw e;
      } finally {
        if (frozen && running && !crashed) await running.request({ type: 'snapshot-thaw' }).catch(() => {});
      }
    });
  }

  /** Put the current state back to a snapshot (the machine must be powered off). */
  restore(folder: string, snapshotId: string): Promise<Snapshot> {
    return this.serialize(folder, () => {
      const { tree, config } = usable(folder);
      const snap = find(tree, snapshotId);
      const plan = Object.entries(snap.disks).map(([key, frozen]) => ({ key, frozen, overlay: `${SNAPSHOT_DIR}/${randomUUID()}.qcow2` }));
      const created: string[] = [];
      try {
        for (const p of plan) {
          created.push(p.overlay);
          createOverlay(folder, resolveIn(folder, p.overlay), resolveIn(folder, p.frozen));
          this.fault('after-overlay');
        }
        const overlays = new Map(plan.map((p) => [p.key, p.overlay]));
        // The settings come back with the disks (VirtualBox does the same); the name and id stay.
        const base = snap.config ?? config;
        const newConfig: VmConfig = {
          ...base,
          id: config.id,
          name: config.name,
          storage: base.storage.map((a) => (overlays.has(attachmentKey(a)) && a.kind !== 'cdrom' ? { ...a, path: overlays.get(attachmentKey(a))!, format: 'qcow2' as const } : a)),
        };
        const newTree: SnapshotTree = { ...tree, currentParentId: snap.id, resumeStateFile: snap.online && snap.stateFile ? snap.stateFile : null };
        const remove = obsoleteFiles(folder, referencedFiles(folder, tree, config), referencedFiles(folder, newTree, newConfig));
        commit(folder, { version: 1, operation: 'restore', tree: newTree, config: newConfig, remove }, this.fault);
        return snap;
      } catch (e) {
        if (e instanceof SimulatedCrash || fs.existsSync(journalPath(folder))) throw e;
        for (const f of created) fs.rmSync(resolveIn(folder, f), { force: true });
        throw e;
      }
    });
  }

  /**
   * Delete a snapshot: its disk layers are merged into the layer that backs onto them (its
   * only child snapshot's, or the current state's), its children move up to its parent, its
   * files are deleted. `running`: the VM process, when the machine runs — if the current
   * state descends from the snapshot, the layers merged into are open in it (see mergeLive).
   */
  delete(folder: string, snapshotId: string, running: RunningVm | null = null): Promise<void> {
    return this.serialize(folder, async () => {
      const { tree, config } = usable(folder);
      const snap = find(tree, snapshotId);
      const children = tree.snapshots.filter((s) => s.parentId === snap.id);
      const currentIsChild = tree.currentParentId === snap.id;
      const n = children.length + (currentIsChild ? 1 : 0);
      if (n > 1) {
        const names = children.map((c) => `"${c.name}"`);
        if (currentIsChild) names.push('the current state');
        throw new SnapshotError(`"${snap.name}" has ${n} children (${names.join(', ')}); only a snapshot with at most one child can be deleted. Delete the other branches first.`);
      }
      // The layer that backs onto each of this snapshot's frozen images absorbs it.
      const layerOf = (key: string) => (children[0] ? children[0].disks[key] : currentIsChild ? config.storage.find((a) => attachmentKey(a) === key && a.kind !== 'cdrom')?.path : undefined);
      const plan = () => planMerges(folder, snap, layerOf);
      const newTree: SnapshotTree = {
        ...tree,
        snapshots: tree.snapshots.filter((s) => s.id !== snap.id).map((s) => (s.parentId === snap.id ? { ...s, parentId: snap.parentId } : s)),
        currentParentId: currentIsChild ? snap.parentId : tree.currentParentId,
      };
      // After the merges: the chains they rewrote decide which files nothing needs any more.
      const finish = () => {
        const remove = obsoleteFiles(folder, referencedFiles(folder, tree, config), referencedFiles(folder, newTree, config));
        commit(folder, { version: 1, operation: 'delete', tree: newTree, config: null, remove }, this.fault);
      };
      // Another branch's layers are not in any chain the VM process has open: it runs on.
      if (running && currentDescendsFrom(tree, snap.id)) await this.mergeLive(folder, config, running, plan, finish);
      else {
        await this.merge(plan());
        finish();
      }
    });
  }

  private async merge(merges: Merge[]): Promise<void> {
    for (const m of merges) {
      await mergeBackingIntoOverlay(m.layer);
      this.fault('after-merge');
    }
  }

  /**
   * Merge layers of chains the running VM has open: the guest is held still with its disks
   * flushed, those disks' images are closed (no stale metadata cached in the VM process, no
   * write lock), the host merges, the disks reopen on the same files, commit, the guest runs
   * on. A merge that fails is harmless to the open chains (it only adds what they already
   * read): the disks reopen as they were and the error is reported.
   */
  private async mergeLive(folder: string, config: VmConfig, vm: RunningVm, plan: () => Merge[], finish: () => void): Promise<void> {
    await vm.request({ type: 'snapshot-freeze', stateFile: null }, 120_000);
    let crashed = false;
    try {
      // Planned once frozen: the headers read are then flushed and stay still.
      const merges = plan();
      const open = currentDisks(folder, config).filter((d) => merges.some((m) => m.key === d.key));
      const reopen = () => vm.request({ type: 'snapshot-swap-disks', disks: open });
      try {
        if (open.length) await vm.request({ type: 'snapshot-release-disks', keys: open.map((d) => d.key) });
        await this.merge(merges);
      } catch (e) {
        if (!(e instanceof SimulatedCrash) && open.length) await reopen().catch(() => {});
        throw e;
      }
      if (open.length) await reopen();
      finish();
    } catch (e) {
      crashed = e instanceof SimulatedCrash; // "killed": no cleanup runs
      throw e;
    } finally {
      if (!crashed) await vm.request({ type: 'snapshot-thaw' }).catch(() => {});
    }
  }

  edit(folder: string, snapshotId: string, changes: { name?: string; description?: string }): Promise<Snapshot> {
    return this.serialize(folder, () => {
      const { tree } = reconcile(folder);
      const snap = find(tree, snapshotId);
      const next = snapshotSchema.parse({ ...snap, ...(changes.name !== undefined ? { name: changes.name } : {}), ...(changes.description !== undefined ? { description: changes.description } : {}) });
      const newTree: SnapshotTree = { ...tree, snapshots: tree.snapshots.map((s) => (s.id === snap.id ? next : s)) };
      commit(folder, { version: 1, operation: 'edit', tree: newTree, config: null, remove: [] }, this.fault);
      return next;
    });
  }

  /** Whether an operation on this folder is in progress (or queued). */
  busy(folder: string): boolean {
    return this.queues.has(path.resolve(folder));
  }

  /**
   * Before a VM starts: refuse while a snapshot operation runs, finish a change interrupted
   * by a crash (it may rewrite vm.json, so call this before reading the config), and return
   * the saved machine the start resumes (absolute path), if an online snapshot was restored.
   */
  beforeStart(folder: string): string | undefined {
    if (this.busy(folder)) throw new SnapshotError('A snapshot operation on this machine is in progress; start it when that has finished.');
    if (fs.existsSync(journalPath(folder))) reconcile(folder);
    let f: string | null;
    try {
      f = readTree(folder).resumeStateFile;
    } catch {
      return undefined; // a damaged tree must not stop the machine from booting (cold)
    }
    return f && fs.existsSync(resolveIn(folder, f)) ? resolveIn(folder, f) : undefined;
  }

  /** The machine resumed from `stateFile` runs: later starts boot cold again. */
  resumed(folder: string, stateFile: string): Promise<void> {
    return this.serialize(folder, () => {
      const { tree, config } = reconcile(folder);
      if (!tree.resumeStateFile || !sameFile(resolveIn(folder, tree.resumeStateFile), stateFile)) return;
      const newTree: SnapshotTree = { ...tree, resumeStateFile: null };
      const remove = obsoleteFiles(folder, referencedFiles(folder, tree, config), referencedFiles(folder, newTree, config));
      commit(folder, { version: 1, operation: 'start', tree: newTree, config: null, remove }, this.fault);
    });
  }
}

function usable(folder: string) {
  const r = reconcile(folder);
  if (r.problems.length) throw new SnapshotError(`The snapshots of this machine cannot be changed: ${r.problems.join('; ')}.`);
  return r;
}

function find(tree: SnapshotTree, id: string): Snapshot {
  const s = tree.snapshots.find((x) => x.id === id);
  if (!s) throw new SnapshotError(`No snapshot with id ${id}.`);
  return s;
}

/** The merges a delete needs (a layer already merged by an interrupted earlier delete needs none). */
function planMerges(folder: string, snap: Snapshot, layerOf: (key: string) => string | null | undefined): Merge[] {
  const merges: Merge[] = [];
  for (const [key, frozen] of Object.entries(snap.disks)) {
    const layer = layerOf(key);
    if (!layer) continue;
    // Walk down from the layer: the file that backs directly onto the frozen image takes
    // the merge. An interrupted earlier delete may have left a merged layer between them
    // still in the chain; none found means this snapshot's data is already merged.
    const frozenAbs = resolveIn(folder, frozen);
    for (let f: string | null = resolveIn(folder, layer), n = 0; f && n < 32; n++) {
      const b = backingOf(f);
      if (b && sameFile(b, frozenAbs)) {
        merges.push({ key, layer: f });
        break;
      }
      f = b;
    }
  }
  return merges;
}

/** The current state's writable disks (what the VM process has open), paths absolute. */
function currentDisks(folder: string, config: VmConfig): { key: string; path: string }[] {
  return config.storage.filter((a) => a.path && a.kind !== 'cdrom').map((a) => ({ key: attachmentKey(a), path: resolveIn(folder, a.path!) }));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
