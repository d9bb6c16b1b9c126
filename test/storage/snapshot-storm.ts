// The snapshot kill -9 storm: a VM made by the real library (one 32 MiB qcow2 disk, 64 KiB
// clusters, with known data) goes through snapshot operations, each performed by a child
// process (snapshot-storm-child.ts, the real SnapshotService / CloneService code) that is
// killed with SIGKILL at a random moment. Operations, in a cycle: take (offline); delete of
// a snapshot with one child snapshot (its layer is merged into the child's frozen layer);
// delete of the current state's parent (merged into the current overlay); restore; edit;
// linked clone of a snapshot; full clone (of a snapshot or of the current state). Before
// each one the parent writes ~3 MiB of scattered random data to the current disk (and takes
// snapshots in-process where the operation needs them), so the layers a delete merges hold
// MiBs of clusters. After a delete killed between its merge and its commit, the next delete
// prefers that snapshot or its parent (what a user would do next).
// When: a calibration run performs every operation once to completion and measures its
// time and phases from the child's progress lines; then each kill comes 0 – 1.2× the
// typical time after READY, or (60%, where the operation has them) 0 – 1.2× a phase's
// typical length into that phase: the copy of a merge or full clone, the gap between a
// merge and the commit point, the apply after the commit point.
// After each kill (or completion), as the restarted host, the parent calls
// `SnapshotService.list()` (reconciles an interrupted change) and checks:
//  - no problem reported; the journal is gone;
//  - the tree (ids, names, parents, disks, currentParentId) and vm.json's disk path are
//    exactly as before the operation or exactly as after it (never a mix); "after" when the
//    operation completed (DONE) or passed its commit point (the journal written);
//  - every qcow2 the tree and vm.json reference passes `qemu-img check` (exit 0; exit 3 =
//    leaked clusters only, accepted after a kill and counted);
//  - the disk as the guest sees it (through the current chain) reads the content from before
//    (a restore: before, or the restored snapshot's content), and every snapshot still reads
//    exactly what it held when it was taken (merges must not change any layer's view);
//  - Snapshots/ holds nothing the tree does not refer to (reconcile deletes unreferenced
//    images, temp files and stale locks of such images); a stale image lock is allowed only
//    beside an image still in use (its next writer takes it over); no temp files are left in
//    the VM folder;
//  - a clone exists completely (qemu-img check clean, content = its source) or not at all:
//    a killed clone's staging folder is removed by the next clone (removeAbandonedStaging).
// Then the storm continues on the same folder (a failed check's leftovers are removed).
// Usage: node --import tsx test/storage/snapshot-storm.ts [--trials N]   (default 24, ~1.5 min)
// STORM_SEED=n repeats a run's choices (kill timing is wall-clock); STORM_VERBOSE=1 adds
// per-trial timings. Ends with `N passed, N failed`.
import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tally, hasTool, qemuCheck, randomBytes, rng, tempDir } from './qemu-tools';
import { argTrials, readAll, runAndKill } from './kill-child';
import type { OpParams, StormOp } from './snapshot-storm-child';
import { openDiskImage } from '../../electron/node/storage/open-image';
import { SnapshotService } from '../../electron/node/snapshots/snapshot-service';
import { backingOf, readTree, referencedFiles, resolveIn } from '../../electron/node/snapshots/snapshot-store';
import { VmLibrary, loadVmFolder } from '../../electron/node/library/vm-library';
import { removeAbandonedStaging } from '../../electron/node/library/vm-clone';
import { SNAPSHOT_DIR, SNAPSHOT_JOURNAL_FILE, attachmentKey, type Snapshot, type SnapshotTree } from '../../protocol/snapshots';
import type { VmConfig } from '../../protocol/vm-config';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const MiB = 1024 * 1024;
const DISK_MIB = 32;
const SIZE = DISK_MIB * MiB;

type Aim = 'ready' | 'copy' | 'commit' | 'apply';
/** The child's line that starts each aimed phase. */
const ARM = { copy: /^W /m, commit: /^STEP after-merge /m, apply: /^STEP after-journal /m };
type OpKind = 'take' | 'delete-child' | 'delete-current' | 'restore' | 'edit' | 'clone-linked' | 'clone-full';
const CYCLE: OpKind[] = ['take', 'delete-child', 'delete-current', 'restore', 'clone-linked', 'delete-child', 'edit', 'delete-current', 'clone-full'];
const KINDS: OpKind[] = ['take', 'delete-child', 'delete-current', 'restore', 'edit', 'clone-linked', 'clone-full'];
/** Scattered writes (4–128 KiB, ~3 MiB) before an operation; with 64 KiB clusters each allocates whole clusters. */
const WRITES_PER_ROUND = 48;

interface ChildRun {
  killed: boolean;
  /** ms the child reported for the whole operation (it completed), or null. */
  doneMs: number | null;
  /** Steps of the operation the child reported (the service's crash-test hook), with their time. */
  steps: { step: string; ms: number }[];
  /** Progress of the copies: qcow2 writes done (every 8th reported) and when. */
  writes: { n: number; ms: number }[];
}

/**
 * The child, bundled once by esbuild (plain node starts it in a fraction of tsx's time;
 * the storm spawns dozens). Falls back to tsx when bundling fails.
 */
function childCommand(dir: string): string[] {
  const src = path.join(here, 'snapshot-storm-child.ts');
  const out = path.join(dir, 'snapshot-storm-child.mjs');
  try {
    buildSync({ entryPoints: [src], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error' });
    return [out];
  } catch {
    return ['--import', 'tsx', src];
  }
}
let child: string[] = [];

/** Run one operation in the child; see runAndKill for `delayMs` and `armed`. */
async function runChild(args: string[], delayMs: number, armed?: (out: string) => boolean): Promise<ChildRun> {
  const { out, killed } = await runAndKill([...child, ...args], root, delayMs, armed).catch((e: Error) => {
    throw new Error(`the operation failed (${e.message})`);
  });
  const m = /DONE ([\d.]+)/.exec(out);
  const steps = [...out.matchAll(/^STEP (\S+) ([\d.]+)$/gm)].map((x) => ({ step: x[1], ms: Number(x[2]) }));
  const writes = [...out.matchAll(/^W (\d+) ([\d.]+)$/gm)].map((x) => ({ n: Number(x[1]), ms: Number(x[2]) }));
  return { killed: killed && !m, doneMs: m ? Number(m[1]) : null, steps, writes };
}

const sha = (b: Uint8Array) => createHash('sha1').update(b).digest('hex').slice(0, 16);

const statOf = (st: fs.Stats) => ({ size: st.size, mtimeMs: st.mtimeMs });

const real = (p: string) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** Identity, size and mtime of every file of an image's backing chain (content may have changed if this did). */
function chainSignature(file: string): string {
  const parts: string[] = [];
  for (let f: string | null = file, n = 0; f && n < 32; f = backingOf(f), n++) {
    const st = fs.statSync(f);
    parts.push(`${real(f)}:${st.ino}:${st.size}:${st.mtimeMs}`);
  }
  return parts.join('|');
}

/** What "the same snapshots" means: ids, names, parents, disks, current position. */
function norm(tree: SnapshotTree): string {
  const snaps = [...tree.snapshots]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((s) => ({ id: s.id, name: s.name, parentId: s.parentId, disks: s.disks, online: s.online, stateFile: s.stateFile ?? null }));
  return JSON.stringify({ snaps, cur: tree.currentParentId, resume: tree.resumeStateFile });
}

interface Before {
  tree: SnapshotTree;
  norm: string;
  diskPath: string;
  content: string;
  /** Delete: the merge target's size, mtime and backing file before. */
  layer?: { size: number; mtimeMs: number; backing: string | null };
}

interface Planned {
  kind: OpKind;
  op: StormOp;
  params: OpParams;
  /** The snapshot deleted / restored / edited / cloned. */
  target?: Snapshot;
  /** Clone: the expected content and (linked) the frozen image it must back onto. */
  cloneContent?: string;
  cloneBacking?: string;
  /** Delete: the layer the snapshot's layer is merged into (absolute). */
  layer?: string;
  what: string;
}

interface Outcome {
  state: 'before' | 'after';
  leaks: number;
  checked: number;
  notes: string[];
}

class World {
  readonly home = tempDir('snapstorm');
  readonly lib = new VmLibrary(this.home);
  readonly svc = new SnapshotService();
  folder = '';
  vmId = '';
  /** The current disk content as the guest sees it (kept in memory, verified by reading). */
  current: Uint8Array = new Uint8Array(SIZE);
  /** Snapshot id → hash of what it held when taken. */
  readonly hashes = new Map<string, string>();
  /** Snapshot id → chainSignature() when its content was last verified. */
  readonly verified = new Map<string, string>();
  /** qcow2 files that qemu-img check ever reported leaks for (absolute). */
  readonly leaky = new Set<string>();
  /** Stale image locks seen beside images still in use (the next writer takes them over). */
  readonly staleLocks = new Set<string>();
  cloneNo = 0;

  constructor(readonly r: () => number) {}

  async setup(): Promise<void> {
    const config = await this.lib.create({ name: 'Storm', osType: 'other', memoryMiB: 16, newDisk: { sizeMiB: DISK_MIB, format: 'qcow2' } });
    this.vmId = config.id;
    this.folder = path.join(this.lib.machinesDir, 'Storm');
    // Known data: 16 MiB of random blocks over the fresh disk.
    const img = openDiskImage(this.diskAbs(), { writable: true });
    try {
      for (let k = 0; k < 64; k++) {
        const data = randomBytes(256 * 1024, this.r);
        const off = Math.floor((this.r() * SIZE) / 65536) * 65536;
        const len = Math.min(data.length, SIZE - off);
        img.write(off, data.subarray(0, len));
        this.current.set(data.subarray(0, len), off);
      }
      img.flush();
    } finally {
      img.close();
    }
  }

  config(): VmConfig {
    const vm = loadVmFolder(this.folder);
    if (!vm.ok) throw new Error(`vm.json: ${vm.problem}`);
    return vm.config;
  }
  diskRel(config = this.config()): string {
    const a = config.storage.find((s) => s.kind === 'disk' && s.path);
    if (!a) throw new Error('the VM has no disk');
    return a.path!;
  }
  diskAbs(): string {
    return resolveIn(this.folder, this.diskRel());
  }
  key(): string {
    return attachmentKey(this.config().storage.find((s) => s.kind === 'disk')!);
  }
  tree(): SnapshotTree {
    return readTree(this.folder);
  }

  /** A few MiB of scattered random writes to the current disk (4 KiB – 128 KiB each). */
  write(rounds = 1): void {
    const img = openDiskImage(this.diskAbs(), { writable: true });
    try {
      for (let k = 0; k < WRITES_PER_ROUND * rounds; k++) {
        const len = 4096 * (1 + Math.floor(this.r() * 32));
        const off = Math.floor((this.r() * (SIZE - len)) / 4096) * 4096;
        const data = randomBytes(len, this.r);
        img.write(off, data);
        this.current.set(data, off);
      }
      img.flush();
    } finally {
      img.close();
    }
  }

  async take(name: string): Promise<Snapshot> {
    const s = await this.svc.take(this.folder, { name }, null);
    this.hashes.set(s.id, sha(this.current));
    return s;
  }

  async delete(id: string): Promise<void> {
    await this.svc.delete(this.folder, id);
    this.hashes.delete(id);
  }

  /** Snapshots whose layer was merged by a delete killed before its commit (the layer above no longer backs onto it). */
  halfDeleted(tree: SnapshotTree): Snapshot[] {
    return tree.snapshots.filter((s) => {
      const kids = tree.snapshots.filter((c) => c.parentId === s.id).map((c) => c.disks[this.key()]);
      if (tree.currentParentId === s.id) kids.push(this.diskRel());
      if (kids.length !== 1) return false;
      const b = backingOf(resolveIn(this.folder, kids[0]));
      return !b || real(b) !== real(resolveIn(this.folder, s.disks[this.key()]));
    });
  }

  /** Snapshots a delete accepts: at most one child, the current state counting as one. */
  deletable(tree: SnapshotTree): Snapshot[] {
    return tree.snapshots.filter((s) => tree.snapshots.filter((c) => c.parentId === s.id).length + (tree.currentParentId === s.id ? 1 : 0) <= 1);
  }

  pick<T>(xs: T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }

  /** Bring the folder to what the operation needs (in-process, not killed), then plan it. */
  async prepare(kind: OpKind, i: number): Promise<Planned> {
    // Keep the tree small: at most 5 snapshots before an operation.
    for (let tree = this.tree(); tree.snapshots.length > 5; tree = this.tree()) {
      const leaves = this.deletable(tree).filter((s) => s.id !== tree.currentParentId);
      await this.delete(this.pick(leaves.length ? leaves : this.deletable(tree)).id);
    }
    const ensureSnapshot = async () => {
      if (this.tree().snapshots.length === 0) {
        this.write();
        await this.take(`Prep ${i}`);
      }
    };
    const name = (s: Snapshot) => `"${s.name}"`;
    switch (kind) {
      case 'take': {
        this.write();
        return { kind, op: 'take', params: { name: `Storm ${i}` }, what: `take "Storm ${i}"` };
      }
      case 'delete-child': {
        const withOneChild = (t: SnapshotTree) => t.snapshots.filter((s) => s.id !== t.currentParentId && t.snapshots.filter((c) => c.parentId === s.id).length === 1);
        let candidates = withOneChild(this.tree());
        if (!candidates.length) {
          this.write();
          await this.take(`Prep ${i}a`);
          this.write();
          await this.take(`Prep ${i}b`);
          candidates = withOneChild(this.tree());
        }
        this.write();
        // After a delete killed between its merge and its commit, what a user may do next:
        // delete that snapshot's parent, or try the same delete again.
        const t = this.tree();
        const resumable = candidates.filter((c) => this.halfDeleted(t).some((x) => x.id === c.id || x.parentId === c.id));
        const s = this.pick(resumable.length ? resumable : candidates);
        const child = t.snapshots.find((c) => c.parentId === s.id)!;
        const layer = resolveIn(this.folder, child.disks[this.key()]);
        return { kind, op: 'delete', params: { id: s.id }, target: s, layer, what: `delete ${name(s)} (merge into the frozen layer of ${name(child)})` };
      }
      case 'delete-current': {
        const t = this.tree();
        let s = t.snapshots.find((x) => x.id === t.currentParentId);
        if (!s || t.snapshots.some((c) => c.parentId === s!.id)) {
          this.write();
          s = await this.take(`Prep ${i}`);
        }
        this.write();
        return { kind, op: 'delete', params: { id: s.id }, target: s, layer: this.diskAbs(), what: `delete ${name(s)} (merge into the current overlay)` };
      }
      case 'restore': {
        await ensureSnapshot();
        this.write();
        const t = this.tree();
        const others = t.snapshots.filter((s) => s.id !== t.currentParentId);
        const s = this.pick(others.length ? others : t.snapshots);
        return { kind, op: 'restore', params: { id: s.id }, target: s, what: `restore ${name(s)}` };
      }
      case 'edit': {
        await ensureSnapshot();
        const s = this.pick(this.tree().snapshots);
        return { kind, op: 'edit', params: { id: s.id, name: `Renamed ${i}` }, target: s, what: `rename ${name(s)} to "Renamed ${i}"` };
      }
      case 'clone-linked':
      case 'clone-full': {
        await ensureSnapshot();
        this.write();
        const cloneName = `Clone ${++this.cloneNo}`;
        const fromCurrent = kind === 'clone-full' && this.cloneNo % 2 === 0;
        if (fromCurrent) {
          return { kind, op: 'clone', params: { mode: 'full', name: cloneName, vmId: this.vmId }, cloneContent: sha(this.current), what: `full clone of the current state` };
        }
        const s = this.pick(this.tree().snapshots);
        const mode = kind === 'clone-linked' ? 'linked' : 'full';
        return {
          kind,
          op: 'clone',
          params: { mode, name: cloneName, vmId: this.vmId, snapshotId: s.id },
          target: s,
          cloneContent: this.hashes.get(s.id),
          cloneBacking: mode === 'linked' ? resolveIn(this.folder, s.disks[this.key()]) : undefined,
          what: `${mode} clone of ${name(s)}`,
        };
      }
    }
  }

  before(p: Planned): Before {
    const tree = this.tree();
    const layer = p.layer ? { ...statOf(fs.statSync(p.layer)), backing: backingOf(p.layer) } : undefined;
    return { tree, norm: norm(tree), diskPath: this.diskRel(), content: sha(this.current), layer };
  }

  /** Where a kill that left a delete "before" landed, seen from the merge target. */
  mergePhase(p: Planned, b: Before): 'before the merge' | 'inside the merge' | 'after the merge, before the commit' | null {
    if (!p.layer || !b.layer || !fs.existsSync(p.layer)) return null;
    const bk = backingOf(p.layer);
    if ((bk && real(bk)) !== (b.layer.backing && real(b.layer.backing))) return 'after the merge, before the commit';
    const st = fs.statSync(p.layer);
    return st.size !== b.layer.size || st.mtimeMs !== b.layer.mtimeMs ? 'inside the merge' : 'before the merge';
  }

  /** The checks after a kill or a completed operation (see the top of the file). */
  async verify(p: Planned, b: Before, mustBeAfter: boolean): Promise<Outcome> {
    const notes: string[] = [];
    const listed = await this.svc.list(this.folder); // the restarted host: reconcile
    if (listed.problem) throw new Error(`list() reports a problem: ${listed.problem}`);
    if (fs.existsSync(path.join(this.folder, SNAPSHOT_JOURNAL_FILE))) throw new Error('the journal is still there after list()');
    const tree = this.tree();
    const config = this.config();
    const disk = this.diskRel(config);
    const isBefore = norm(tree) === b.norm && disk === b.diskPath;
    const after = this.isAfter(p, b, tree, disk);
    if (typeof after === 'string' && !isBefore) throw new Error(`the snapshots are neither as before nor as after the operation: ${after}`);
    const state: 'before' | 'after' = isBefore && !(p.op === 'clone' && this.cloneExists(p)) ? 'before' : 'after';
    if (mustBeAfter && state === 'before') throw new Error(`the operation completed (or passed its commit point) but the result is as before (${after === true ? 'no clone' : after})`);
    // A completed take has a new snapshot: it holds the content from before.
    if (p.op === 'take' && state === 'after') {
      const s = tree.snapshots.find((x) => !b.tree.snapshots.some((y) => y.id === x.id))!;
      this.hashes.set(s.id, b.content);
    }
    if (p.op === 'delete' && state === 'after') this.hashes.delete(p.params.id!);

    // What the guest sees through the current chain.
    const now = readAll(resolveIn(this.folder, disk));
    const want = p.op === 'restore' && state === 'after' ? this.hashes.get(p.params.id!)! : b.content;
    if (sha(now) !== want) throw new Error(`the current disk reads ${sha(now)}, expected ${want} (${state === 'after' && p.op === 'restore' ? "the restored snapshot's content" : 'the content from before'})`);
    this.current = now;
    // Every snapshot still reads what it held when taken (re-read when a file of its chain changed).
    for (const s of tree.snapshots) {
      const frozen = resolveIn(this.folder, s.disks[this.key()]);
      const sig = chainSignature(frozen);
      if (this.verified.get(s.id) === sig) continue;
      const h = sha(readAll(frozen));
      if (h !== this.hashes.get(s.id)) throw new Error(`snapshot "${s.name}" reads ${h}, not ${this.hashes.get(s.id)} as when it was taken`);
      this.verified.set(s.id, sig);
    }

    // qemu-img check of every image the tree and vm.json refer to.
    const refs = referencedFiles(this.folder, tree, config);
    let leaks = 0;
    let checked = 0;
    for (const f of refs) {
      if (!f.endsWith('.qcow2')) continue;
      if (!fs.existsSync(f)) throw new Error(`${path.relative(this.folder, f)} is referenced but missing`);
      const c = qemuCheck(f);
      checked++;
      if (c.status === 3) {
        leaks++;
        this.leaky.add(f);
      } else if (c.status !== 0) throw new Error(`qemu-img check ${path.relative(this.folder, f)} exited ${c.status}: ${(c.stdout + c.stderr).split('\n').slice(0, 6).join(' | ')}`);
    }

    // Leftovers: nothing in Snapshots/ that the tree does not refer to; no temp files.
    // (Reported, then removed so that the storm goes on from a clean folder.)
    const snapDir = path.join(this.folder, SNAPSHOT_DIR);
    const left: string[] = [];
    for (const n of fs.existsSync(snapDir) ? fs.readdirSync(snapDir) : []) {
      const abs = path.resolve(snapDir, n);
      if (refs.has(abs)) continue;
      const lock = /^\.(.+)\.boxwood-lock$/.exec(n);
      if (lock && refs.has(path.resolve(snapDir, lock[1]))) {
        if (!this.staleLocks.has(n)) notes.push(`a stale lock on ${lock[1].slice(0, 8)}… (its next writer takes it over)`);
        this.staleLocks.add(n);
        continue;
      }
      left.push(path.join(SNAPSHOT_DIR, n));
    }
    left.push(...fs.readdirSync(this.folder).filter((n) => n.startsWith('.') && (n.endsWith('.tmp') || n.endsWith('.boxwood-partial'))));
    if (left.length) {
      for (const n of left) fs.rmSync(path.join(this.folder, n), { force: true });
      throw new Error(`left in the VM folder after reconcile: ${left.join(', ')}`);
    }

    if (p.op === 'clone') notes.push(...this.verifyClone(p, mustBeAfter));
    return { state, leaks, checked, notes };
  }

  /** true when (tree, disk) is exactly the expected state after the operation, else why not. */
  private isAfter(p: Planned, b: Before, tree: SnapshotTree, disk: string): true | string {
    const key = this.key();
    const freshOverlay = (backing: string) => {
      if (disk === b.diskPath || !disk.startsWith(SNAPSHOT_DIR + '/') || !disk.endsWith('.qcow2')) return `vm.json's disk is ${disk}`;
      const bk = backingOf(resolveIn(this.folder, disk));
      if (!bk || real(bk) !== real(resolveIn(this.folder, backing))) return `the new overlay ${disk} backs onto ${bk}, not ${backing}`;
      return true as const;
    };
    const expect = (t: SnapshotTree) => (norm(tree) === norm(t) ? true : 'the tree differs from the expected one');
    const bt = b.tree;
    switch (p.op) {
      case 'take': {
        const added = tree.snapshots.filter((x) => !bt.snapshots.some((y) => y.id === x.id));
        if (added.length !== 1) return `${added.length} new snapshots`;
        const s = added[0];
        const want: Snapshot = { ...s, name: p.params.name!, parentId: bt.currentParentId, disks: { [key]: b.diskPath }, online: false, stateFile: undefined };
        const ok = expect({ ...bt, snapshots: [...bt.snapshots, want], currentParentId: s.id });
        return ok === true ? freshOverlay(b.diskPath) : ok;
      }
      case 'delete': {
        const s = p.target!;
        const ok = expect({
          ...bt,
          snapshots: bt.snapshots.filter((x) => x.id !== s.id).map((x) => (x.parentId === s.id ? { ...x, parentId: s.parentId } : x)),
          currentParentId: bt.currentParentId === s.id ? s.parentId : bt.currentParentId,
        });
        return ok === true && disk !== b.diskPath ? `vm.json's disk changed to ${disk}` : ok;
      }
      case 'restore': {
        const ok = expect({ ...bt, currentParentId: p.target!.id, resumeStateFile: null });
        return ok === true ? freshOverlay(p.target!.disks[key]) : ok;
      }
      case 'edit': {
        const ok = expect({ ...bt, snapshots: bt.snapshots.map((x) => (x.id === p.target!.id ? { ...x, name: p.params.name! } : x)) });
        return ok === true && disk !== b.diskPath ? `vm.json's disk changed to ${disk}` : ok;
      }
      case 'clone':
        return norm(tree) === b.norm && disk === b.diskPath ? true : 'a clone changed the source';
    }
  }

  private cloneFolder(p: Planned): string {
    return path.join(this.lib.machinesDir, p.params.name!);
  }
  private cloneExists(p: Planned): boolean {
    return fs.existsSync(this.cloneFolder(p));
  }

  /** A clone is complete and correct, or absent (its staging folder removed by the next clone). */
  private verifyClone(p: Planned, completed: boolean): string[] {
    const notes: string[] = [];
    const folder = this.cloneFolder(p);
    const staged = fs.readdirSync(this.lib.machinesDir).filter((n) => n.startsWith('.creating-'));
    if (fs.existsSync(folder)) {
      const vm = loadVmFolder(folder);
      if (!vm.ok) throw new Error(`the clone exists but is inaccessible: ${vm.problem}`);
      const a = vm.config.storage.find((s) => s.kind === 'disk' && s.path);
      if (!a) throw new Error('the clone has no disk');
      const file = resolveIn(folder, a.path!);
      const c = qemuCheck(file);
      if (c.status !== 0) throw new Error(`qemu-img check of the clone's disk exited ${c.status}`);
      const h = sha(readAll(file));
      if (h !== p.cloneContent) throw new Error(`the clone reads ${h}, expected ${p.cloneContent}`);
      if (p.cloneBacking) {
        const bk = backingOf(file);
        if (!bk || real(bk) !== real(p.cloneBacking)) throw new Error(`the linked clone backs onto ${bk}, not the snapshot's frozen image`);
      }
      if (fs.existsSync(path.join(folder, '.clone-pid'))) notes.push('the clone folder kept its .clone-pid (killed after the rename)');
      if (!this.lib.list().some((v) => v.ok && v.id === vm.config.id)) throw new Error('the clone is not listed by the library');
      this.lib.delete(vm.config.id, true);
      notes.push('clone complete (deleted again)');
    } else {
      if (completed) throw new Error('the clone completed but its folder is missing');
      if (this.lib.list().some((v) => v.ok && v.config.name === p.params.name)) throw new Error('a half clone is listed');
      notes.push(staged.length ? 'no clone; staging folder left for the next clone' : 'no clone, nothing staged');
    }
    // The next clone removes the staging folder of a killed one (its pid file names a dead process).
    removeAbandonedStaging(this.lib.machinesDir);
    const left = fs.readdirSync(this.lib.machinesDir).filter((n) => n.startsWith('.creating-'));
    if (left.length) throw new Error(`staging folders the next clone does not remove: ${left.join(', ')}`);
    const others = fs.readdirSync(this.lib.machinesDir).filter((n) => n !== 'Storm');
    if (others.length) throw new Error(`unexpected folders in machines/: ${others.join(', ')}`);
    return notes;
  }
}

async function main(): Promise<void> {
  const t = new Tally();
  if (!hasTool('qemu-img')) {
    t.skip('snapshot kill storm', 'qemu-img is not installed (Debian package qemu-utils)');
    t.finish();
  }
  const trials = argTrials(24);
  const seed = Number(process.env.STORM_SEED ?? Date.now() % 100000);
  process.stdout.write(`seed ${seed} (STORM_SEED=${seed} repeats this run)\n`);
  const r = rng(seed);
  const w = new World(r);
  const t0 = Date.now();
  const typical = new Map<OpKind, number>();
  /** Typical length of the phases kills are aimed at, per operation (measured in the calibration). */
  const phases = { copy: new Map<OpKind, number>(), commit: new Map<OpKind, number>(), apply: new Map<OpKind, number>() };
  const merges = new Map<string, number>();
  const stats = new Map<OpKind, { trials: number; killed: number; before: number; after: number; forward: number }>(
    KINDS.map((k) => [k, { trials: 0, killed: 0, before: 0, after: 0, forward: 0 }]),
  );

  try {
    await t.test('setup: a VM from the library with a 32 MiB qcow2 disk holding 16 MiB of known data', async () => {
      await w.setup();
      const h = sha(readAll(w.diskAbs()));
      if (h !== sha(w.current)) throw new Error('the disk does not read the data written');
    });
    if (t.failed) t.finish();

    child = childCommand(w.home);
    // Calibration: every operation once in a child that is not killed (verified as "after"):
    // its time (READY → DONE) is the operation's typical time for the kill delays, and the
    // child's write progress shows when a delete's merge (or a full clone's copy) copies.
    await t.test('calibration: every operation once, to completion (timed, verified)', async () => {
      for (const kind of KINDS) {
        const p = await w.prepare(kind, 0);
        const b = w.before(p);
        const res = await runChild([p.op, w.home, w.folder, JSON.stringify(p.params)], Infinity);
        typical.set(kind, res.doneMs!);
        const end = res.steps.find((x) => x.step === 'after-merge')?.ms ?? res.doneMs!;
        if (res.writes.length > 1) phases.copy.set(kind, Math.max(1, end - res.writes[0].ms));
        const merged = res.steps.find((x) => x.step === 'after-merge');
        const journal = res.steps.find((x) => x.step === 'after-journal');
        if (merged && journal) phases.commit.set(kind, Math.max(1, journal.ms - merged.ms));
        if (journal) phases.apply.set(kind, Math.max(1, res.doneMs! - journal.ms));
        const o = await w.verify(p, b, true);
        if (o.state !== 'after') throw new Error(`${kind}: not "after" once completed`);
      }
      const c = (k: OpKind) => {
        const ph = (['copy', 'commit', 'apply'] as const).filter((a) => phases[a].has(k)).map((a) => `${a} ${phases[a].get(k)!.toFixed(0)}`);
        return ph.length ? ` (${ph.join(', ')})` : '';
      };
      process.stdout.write(`     typical times (ms): ${KINDS.map((k) => `${k} ${typical.get(k)!.toFixed(0)}${c(k)}`).join(', ')}\n`);
    });
    if (t.failed) t.finish();

    for (let i = 1; i <= trials; i++) {
      const kind = CYCLE[(i - 1) % CYCLE.length];
      const st = stats.get(kind)!;
      st.trials++;
      await t.test(`trial ${i}: kill -9 during ${kind}`, async () => {
        const tp = performance.now();
        const p = await w.prepare(kind, i);
        const tc = performance.now();
        const b = w.before(p);
        const op = typical.get(kind)!;
        // Anywhere from READY to 1.2× the typical time (40%), or aimed at a phase, from its
        // start to 1.2× its typical length: the copy of a delete's merge or a full clone (from
        // the first write progress line), a delete between the end of its merge and the
        // commit point, the apply after the commit point (roll forward on reconcile).
        const special = (['copy', 'commit', 'apply'] as const).filter((a) => phases[a].has(kind));
        const aim: Aim = special.length && r() >= 0.4 ? special[Math.floor(r() * special.length)] : 'ready';
        const span = aim === 'ready' ? op : phases[aim].get(kind)!;
        const delay = Math.floor(r() * 1.2 * span);
        const armed = aim === 'ready' ? undefined : (out: string) => ARM[aim].test(out);
        const res = await runChild([p.op, w.home, w.folder, JSON.stringify(p.params)], delay, armed).catch((e: Error) => {
          throw new Error(`${p.what}: ${e.message}`);
        });
        if (res.killed) st.killed++;
        const phase = res.killed ? w.mergePhase(p, b) : null;
        // Past the commit point (the journal is written) the result must be "after".
        const committed = res.steps.some((x) => x.step === 'after-journal');
        const tv = performance.now();
        const o = await w.verify(p, b, !res.killed || committed);
        if (process.env.STORM_VERBOSE) o.notes.push(`prep ${(tc - tp).toFixed(0)} ms, child ${(tv - tc).toFixed(0)} ms, checks ${(performance.now() - tv).toFixed(0)} ms`);
        st[o.state]++;
        if (res.killed && o.state === 'after') st.forward++;
        if (phase && o.state === 'before') {
          merges.set(phase, (merges.get(phase) ?? 0) + 1);
          o.notes.unshift(`killed ${phase}`);
        }
        const progress = [
          res.writes.length ? `≥${res.writes[res.writes.length - 1].n} cluster writes` : '',
          res.steps.length ? `last step ${res.steps[res.steps.length - 1].step}` : '',
        ].filter(Boolean);
        const when = `${delay} ms after ${{ ready: 'READY', copy: 'the copy began', commit: 'the merge ended', apply: 'the commit point' }[aim]}`;
        const how = res.killed
          ? `killed ${when} (typical ${span.toFixed(0)} ms${progress.length ? `; ${progress.join(', ')}` : ''})`
          : `finished in ${res.doneMs!.toFixed(0)} ms, before the kill (${when})`;
        const q = `qemu-img check: ${o.checked - o.leaks} clean${o.leaks ? `, ${o.leaks} leaked clusters only` : ''}`;
        process.stdout.write(`     ${p.what}: ${how} → ${o.state}; ${q}${o.notes.length ? `; ${o.notes.join('; ')}` : ''}\n`);
      });
    }
  } finally {
    fs.rmSync(w.home, { recursive: true, force: true });
  }
  const per = KINDS.map((k) => {
    const s = stats.get(k)!;
    return `${k} ${s.trials} (${s.killed} killed: ${s.before} before, ${s.forward} after by reconcile)`;
  }).join(', ');
  const killed = [...stats.values()].reduce((n, s) => n + s.killed, 0);
  process.stdout.write(
    `trials: ${trials}, ${killed} killed mid-operation, ${trials - killed} finished first — ${per}; ` +
      `deletes left "before": ${[...merges].map(([k, n]) => `${n} killed ${k}`).join(', ') || 'none'}; ` +
      `${w.leaky.size} images ever had leaked clusters (accepted), ${w.staleLocks.size} stale image locks seen beside images in use; ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  t.finish();
}

void main();
