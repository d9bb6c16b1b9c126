// The files behind a VM's snapshots and how a change to them stays crash-safe.
//
//   <vmdir>/snapshots.json           the tree (protocol/snapshots.ts)
//   <vmdir>/snapshots.pending.json   the intent journal of a change in progress
//   <vmdir>/Snapshots/<uuid>.qcow2   overlays: the current state's disks, frozen snapshot layers
//   <vmdir>/Snapshots/<id>.state     machine state of an online snapshot (BXWSTATE)
//   <vmdir>/Snapshots/<id>.png       screen at the time of a snapshot
//
// CRASH ORDERING (every operation, see commit()): a kill -9 at any point leaves the
// snapshots as before the operation or as after it.
//   1. New files first: overlays and state files are written to a temp name, fsynced,
//      renamed into place, the directory fsynced. Until step 2 nothing refers to them.
//      (Delete only: merging a layer into its child happens here too — it rewrites the
//      child in place without changing what the child reads, so the old tree stays valid.)
//   2. Commit point: the journal (new tree, new vm.json, files to remove) is written
//      atomically (temp + fsync + rename + dir fsync).
//   3. vm.json is replaced atomically, then 4. snapshots.json, then 5. obsolete files are
//      deleted, then 6. the journal is removed.
// On load (reconcile()): a journal whose every referenced file exists is replayed from
// step 3 (steps 3-6 are idempotent): the result is "after". A journal that names a missing
// file, or none at all, means "before": the journal is dropped, and files in Snapshots/
// that nothing refers to (directly or as a backing file) are deleted, as are temp files
// (there and, of vm.json / the tree / the journal, in the VM folder) and stale image locks
// of files nothing refers to.
// A file the tree refers to that is missing is reported as a problem (operations refuse).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, syncDirectory } from '../atomic-file';
import { NodeFile } from '../storage/node-file';
import { createQcow2 } from '../../../engine/storage/qcow2-create';
import { parseQcow2Header } from '../../../engine/storage/qcow2-header';
import { probeFile, resolveBacking } from '../storage/open-image';
import { lockHolder, tempPathFor } from '../storage/image-lock';
import { VM_FILE, loadVmFolder, describeZodError } from '../library/vm-library';
import { vmConfigSchema, type VmConfig } from '../../../protocol/vm-config';
import {
  SNAPSHOT_DIR,
  SNAPSHOT_JOURNAL_FILE,
  SNAPSHOT_TREE_FILE,
  emptyTree,
  snapshotJournalSchema,
  snapshotTreeSchema,
  type SnapshotJournal,
  type SnapshotTree,
} from '../../../protocol/snapshots';

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** Steps of commit() where tests inject a crash (a thrown error stands for kill -9). */
export type FaultHook = (step: string) => void;

export const treePath = (folder: string) => path.join(folder, SNAPSHOT_TREE_FILE);
export const journalPath = (folder: string) => path.join(folder, SNAPSHOT_JOURNAL_FILE);
export const snapshotDir = (folder: string) => path.join(folder, SNAPSHOT_DIR);
/** A path as stored in vm.json / the tree: relative to the VM folder, or absolute. */
export const resolveIn = (folder: string, p: string) => (path.isAbsolute(p) ? p : path.join(folder, p));

export function readTree(folder: string): SnapshotTree {
  let text: string;
  try {
    text = fs.readFileSync(treePath(folder), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyTree();
    throw new SnapshotError(`Cannot read ${SNAPSHOT_TREE_FILE}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError(`${SNAPSHOT_TREE_FILE} is not valid JSON (${(e as Error).message}).`);
  }
  const r = snapshotTreeSchema.safeParse(data);
  if (!r.success) throw new SnapshotError(`${SNAPSHOT_TREE_FILE} is invalid: ${describeZodError(r.error)}`);
  return r.data;
}

export function readConfig(folder: string): VmConfig {
  const vm = loadVmFolder(folder);
  if (!vm.ok) throw new SnapshotError(`This virtual machine is inaccessible: ${vm.problem}`);
  return vm.config;
}

function writeConfig(folder: string, config: VmConfig): void {
  // The same format as the library writes (electron/node/library/vm-library.ts).
  writeFileAtomic(path.join(folder, VM_FILE), JSON.stringify(vmConfigSchema.parse(config), null, 2) + '\n');
}

/** Make a change durable: the journal first (commit point), then apply it. */
export function commit(folder: string, journal: SnapshotJournal, fault: FaultHook = () => {}): void {
  writeFileAtomic(journalPath(folder), JSON.stringify(snapshotJournalSchema.parse(journal), null, 2) + '\n');
  fault('after-journal');
  apply(folder, journal, fault);
}

function apply(folder: string, j: SnapshotJournal, fault: FaultHook): void {
  if (j.config) writeConfig(folder, j.config);
  fault('after-vm-json');
  writeFileAtomic(treePath(folder), JSON.stringify(j.tree, null, 2) + '\n');
  fault('after-tree');
  for (const rel of j.remove) {
    // Only files inside the VM folder are ever deleted (shared media attached by absolute path stay).
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) continue;
    fs.rmSync(path.join(folder, rel), { force: true });
  }
  if (j.remove.length) syncDirectory(snapshotDir(folder));
  fault('after-remove');
  fs.rmSync(journalPath(folder), { force: true });
  syncDirectory(folder);
}

/** The backing file of a qcow2 image (absolute), or null (raw, none, unreadable). */
export function backingOf(file: string): string | null {
  let f: NodeFile | null = null;
  try {
    f = NodeFile.open(file);
    const size = f.size();
    const head = new Uint8Array(Math.min(size, 2 * 1024 * 1024));
    f.read(0, head, 0, head.length);
    if (head[0] !== 0x51 || head[1] !== 0x46 || head[2] !== 0x49 || head[3] !== 0xfb) return null;
    const h = parseQcow2Header(head, size);
    return h.backingFile ? resolveBacking(file, h.backingFile) : null;
  } catch {
    return null;
  } finally {
    f?.close();
  }
}

/** Every file the tree and vm.json need, absolute, with the backing chains of the disks. */
export function referencedFiles(folder: string, tree: SnapshotTree, config: VmConfig | null): Set<string> {
  const out = new Set<string>();
  const addChain = (p: string) => {
    let file: string | null = path.resolve(resolveIn(folder, p));
    for (let depth = 0; file && depth < 32 && !out.has(file); depth++) {
      out.add(file);
      file = fs.existsSync(file) ? backingOf(file) : null;
      if (file) file = path.resolve(file);
    }
  };
  for (const s of tree.snapshots) {
    for (const d of Object.values(s.disks)) addChain(d);
    if (s.stateFile) out.add(path.resolve(resolveIn(folder, s.stateFile)));
    if (s.thumbnail) out.add(path.resolve(resolveIn(folder, s.thumbnail)));
  }
  if (tree.resumeStateFile) out.add(path.resolve(resolveIn(folder, tree.resumeStateFile)));
  for (const a of config?.storage ?? []) if (a.path && a.kind !== 'cdrom') addChain(a.path);
  return out;
}

/** Files the tree refers to that do not exist (each a user-facing sentence). */
export function missingFiles(folder: string, tree: SnapshotTree, config: VmConfig | null): string[] {
  const problems: string[] = [];
  for (const s of tree.snapshots) {
    for (const [key, d] of Object.entries(s.disks)) if (!fs.existsSync(resolveIn(folder, d))) problems.push(`the disk image ${d} of snapshot "${s.name}" (${key}) is missing`);
    if (s.stateFile && !fs.existsSync(resolveIn(folder, s.stateFile))) problems.push(`the machine state file ${s.stateFile} of snapshot "${s.name}" is missing`);
  }
  for (const a of config?.storage ?? []) {
    if (!a.path || a.kind === 'cdrom' || !a.path.startsWith(SNAPSHOT_DIR + '/')) continue;
    if (!fs.existsSync(resolveIn(folder, a.path))) problems.push(`the current state's disk image ${a.path} (${a.bus} ${a.port}) is missing`);
  }
  return problems;
}

/** Relative paths (inside the folder) referenced before and no longer after a change. */
export function obsoleteFiles(folder: string, before: Set<string>, after: Set<string>): string[] {
  const root = path.resolve(folder) + path.sep;
  return [...before].filter((f) => !after.has(f) && f.startsWith(root)).map((f) => path.relative(folder, f));
}

/**
 * Bring the folder to a consistent state after a crash (see the ordering at the top) and
 * return the tree, the config and any problem. Call with the VM's operations serialized.
 */
export function reconcile(folder: string): { tree: SnapshotTree; config: VmConfig; problems: string[] } {
  const jp = journalPath(folder);
  if (fs.existsSync(jp)) {
    let j: SnapshotJournal | null = null;
    try {
      j = snapshotJournalSchema.parse(JSON.parse(fs.readFileSync(jp, 'utf8')));
    } catch {
      j = null; // a journal that is not complete was never committed
    }
    if (j && missingFiles(folder, j.tree, j.config ?? safeConfig(folder)).length === 0) apply(folder, j, () => {});
    else {
      fs.rmSync(jp, { force: true });
      syncDirectory(folder);
    }
  }
  removeStaleTemps(folder);
  const config = readConfig(folder);
  const tree = readTree(folder);
  collectGarbage(folder, tree, config);
  return { tree, config, problems: missingFiles(folder, tree, config) };
}

function safeConfig(folder: string): VmConfig | null {
  try {
    return readConfig(folder);
  } catch {
    return null;
  }
}

/**
 * Temp files that a kill left in the VM folder while vm.json, the tree or the journal was
 * being replaced (writeFileAtomic names them `.NAME.<12 hex>.tmp`): the target holds the
 * old or the new content in full, the temp file is garbage.
 */
function removeStaleTemps(folder: string): void {
  const ours = new Set([VM_FILE, SNAPSHOT_TREE_FILE, SNAPSHOT_JOURNAL_FILE]);
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return; // readConfig reports an unreadable folder
  }
  let removed = false;
  for (const n of names) {
    const m = /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(n);
    if (m && ours.has(m[1])) {
      fs.rmSync(path.join(folder, n), { force: true });
      removed = true;
    }
  }
  if (removed) syncDirectory(folder);
}

/** Delete files in Snapshots/ that nothing refers to, and temp files of interrupted writes. */
export function collectGarbage(folder: string, tree: SnapshotTree, config: VmConfig): string[] {
  const dir = snapshotDir(folder);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const keep = referencedFiles(folder, tree, config);
  const removed: string[] = [];
  for (const n of names) {
    const abs = path.resolve(dir, n);
    if (n.endsWith('.boxwood-lock')) {
      // Image locks (image-lock.ts): held by a running VM, or stale (taken over by the image's
      // next writer). A stale lock of an image nothing refers to any more would stay forever.
      const image = path.resolve(dir, n.slice(1, -'.boxwood-lock'.length));
      if (!keep.has(image) && lockHolder(image) === null) {
        fs.rmSync(abs, { force: true });
        removed.push(n);
      }
      continue;
    }
    const temp = n.startsWith('.') && (n.endsWith('.tmp') || n.endsWith('.boxwood-partial'));
    const ours = /\.(qcow2|state|png)$/.test(n);
    if (temp || (ours && !keep.has(abs))) {
      fs.rmSync(abs, { force: true });
      removed.push(n);
    }
  }
  if (removed.length) syncDirectory(dir);
  return removed;
}

/**
 * Create a qcow2 overlay at `dst` over `backingAbs` (qcow2 or raw), storing the backing
 * name relative to the overlay when both are inside the VM folder. The backing image may be
 * open (flushed) in a VM process: its header is only read. Temp + fsync + rename.
 */
export function createOverlay(folder: string, dst: string, backingAbs: string): void {
  const format = probeFile(backingAbs);
  if (format !== 'qcow2' && format !== 'raw') throw new SnapshotError(`${backingAbs} is a ${format} image; snapshots need qcow2 or raw disks (convert the disk to qcow2 to take snapshots)`);
  let size: number;
  const f = NodeFile.open(backingAbs);
  try {
    if (format === 'raw') size = f.size();
    else {
      const head = new Uint8Array(Math.min(f.size(), 2 * 1024 * 1024));
      f.read(0, head, 0, head.length);
      size = parseQcow2Header(head, f.size()).size;
    }
  } finally {
    f.close();
  }
  if (size % 512) throw new SnapshotError(`${backingAbs} is ${size} bytes, not a whole number of sectors`);
  const root = path.resolve(folder) + path.sep;
  const name = path.resolve(backingAbs).startsWith(root) ? path.relative(path.dirname(dst), backingAbs) : path.resolve(backingAbs);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const temp = tempPathFor(dst);
  const out = NodeFile.create(temp);
  try {
    createQcow2(out, { size, backingFile: name, backingFormat: format });
    out.sync();
  } catch (e) {
    out.close();
    fs.rmSync(temp, { force: true });
    throw e;
  }
  out.close();
  fs.renameSync(temp, dst);
  syncDirectory(path.dirname(dst));
}
