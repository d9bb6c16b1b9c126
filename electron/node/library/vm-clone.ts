// Cloning VMs (protocol/clone.ts): `vm.clone` and the guard that keeps linked clones
// working, plus `snapshot.thumbnail` for the snapshot tree.
//
// - Full clone: every disk's current state (or a snapshot's frozen state) is flattened —
//   its whole backing chain — into a new standalone image in the new folder
//   (disk-operations.ts convertDisk). CDs are referenced as they are (absolute paths).
// - Linked clone (of a snapshot): each disk of the snapshot gets a new qcow2 overlay in
//   the new folder whose backing file is the snapshot's frozen image in the source VM
//   (stored relative to the clone, e.g. ../Source/Snapshots/x.qcow2: the staging folder and
//   the final one are siblings, so it resolves the same after the rename, and both VMs can
//   move together). Frozen images are never written again; deleting a
//   snapshot whose frozen images are in a clone's backing chain (the snapshot itself or
//   one of its ancestors, whose layers a delete would merge and remove) is refused, as
//   is deleting or unregistering (which moves the folder) the source VM
//   (assertSnapshotDeletable / assertFolderDeletable).
// - Staged in <machines>/.creating-<newid> (never listed) and renamed into place at the
//   end; a failure or cancel removes the staging folder, and folders left by a killed
//   process are removed by the next clone (the pid file in them names a dead process).
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeFileAtomic, syncDirectory } from '../atomic-file';
import { cloneDisk, convertDisk } from '../storage/disk-operations';
import { probeFile } from '../storage/open-image';
import { backingOf, readTree, resolveIn } from '../snapshots/snapshot-store';
import type { TaskManager } from '../media/task-manager';
import { VM_FILE, LibraryError, type VmLibrary } from './vm-library';
import { vmConfigSchema, type VmConfig, type StorageAttachment } from '../../../protocol/vm-config';
import { attachmentKey, type Snapshot, type SnapshotListResult } from '../../../protocol/snapshots';
import type { CloneMethod, CloneMode, CloneStarted } from '../../../protocol/clone';

export interface CloneHostDeps {
  library: () => VmLibrary;
  isRunning: (id: string) => boolean;
  /** The snapshot tree of a VM folder (serialized with the snapshot operations). */
  snapshots: (folder: string) => Promise<SnapshotListResult>;
  tasks: () => TaskManager;
  /** A new VM is in the library. */
  vmAdded: (id: string) => void;
}

export interface CloneRequest {
  id: string;
  name: string;
  mode: CloneMode;
  snapshotId?: string;
}

const STAGING_PREFIX = '.creating-';
const PID_FILE = '.clone-pid';

/** One disk of the clone: where its data comes from and the new file. */
interface DiskPlan {
  key: string;
  /** Absolute: the top of the chain to flatten (full), or the frozen image to back onto (linked). */
  source: string;
  /** File name inside the new VM folder. */
  file: string;
  format: 'qcow2' | 'raw';
}

export class CloneService {
  /** Source files (absolute) that clones being built right now read or back onto. */
  private readonly inProgress = new Map<string, Set<string>>();
  /** VMs whose current state is being copied (a full clone without a snapshot): they must not start. */
  private readonly copyingCurrent = new Map<string, number>();

  constructor(private readonly deps: CloneHostDeps) {}

  async call(method: CloneMethod, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'vm.clone':
        return this.clone(p as unknown as CloneRequest);
      case 'snapshot.thumbnail':
        return this.thumbnail(p.id as string, p.snapshotId as string);
    }
  }

  /** Validate, then copy in the background as a task. Errors in the request are thrown at once. */
  async clone(req: CloneRequest): Promise<CloneStarted> {
    const prepared = await this.prepare(req);
    const { config, plans, staging, thumbnail } = prepared;
    const lib = this.deps.library();
    const watched = new Set(plans.map((p) => realpath(p.source)));
    this.inProgress.set(config.id, watched);
    const label = `${req.mode === 'linked' ? 'Linked clone' : 'Cloning'} ${prepared.sourceName} → ${config.name}`;
    const current = !req.snapshotId;
    if (current) this.copyingCurrent.set(req.id, (this.copyingCurrent.get(req.id) ?? 0) + 1);
    const taskId = this.deps.tasks().start(
      label,
      async ({ signal, progress }) => {
        try {
          await buildClone(lib.machinesDir, staging, config, plans, req.mode, thumbnail, { signal, onProgress: progress });
        } finally {
          this.inProgress.delete(config.id);
          if (current) {
            const n = (this.copyingCurrent.get(req.id) ?? 1) - 1;
            if (n > 0) this.copyingCurrent.set(req.id, n);
            else this.copyingCurrent.delete(req.id);
          }
        }
      },
      () => this.deps.vmAdded(config.id),
    );
    return { taskId, vmId: config.id };
  }

  /** Everything that can be refused is checked here, before any file is written. */
  async prepare(req: CloneRequest): Promise<{ config: VmConfig; plans: DiskPlan[]; staging: string; thumbnail: string | null; sourceName: string }> {
    const lib = this.deps.library();
    const src = lib.get(req.id);
    if (!src.ok) throw new LibraryError(`This virtual machine is inaccessible: ${src.problem}`);
    const name = req.name.trim();
    const clash = lib.list().find((v) => v.ok && v.config.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new LibraryError(`A virtual machine named "${name}" already exists.`);
    const folder = path.join(lib.machinesDir, name);
    if (fs.existsSync(folder)) throw new LibraryError(`A folder named "${name}" already exists in ${lib.machinesDir}.`);

    let snap: Snapshot | undefined;
    if (req.snapshotId) {
      const tree = await this.deps.snapshots(src.folder);
      if (tree.problem) throw new LibraryError(`The snapshots of ${src.config.name} cannot be used: ${tree.problem}`);
      snap = tree.snapshots.find((s) => s.id === req.snapshotId);
      if (!snap) throw new LibraryError(`${src.config.name} has no snapshot with id ${req.snapshotId}.`);
    }
    if (req.mode === 'linked' && !snap) throw new LibraryError('A linked clone is made from a snapshot: choose one (take a snapshot first if there is none).');
    if (!snap && this.deps.isRunning(req.id)) {
      throw new LibraryError(`${src.config.name} is running: power it off to clone its current state, or clone one of its snapshots.`);
    }

    const base = snap?.config ?? src.config;
    const id = randomUUID();
    const plans: DiskPlan[] = [];
    const storage: StorageAttachment[] = [];
    let diskNo = 0;
    for (const a of base.storage) {
      if (a.kind === 'cdrom' || !a.path) {
        // CDs (and empty drives) are shared media: referenced as they are.
        storage.push(a.path ? { ...a, path: resolveIn(src.folder, a.path) } : a);
        continue;
      }
      const key = attachmentKey(a);
      const from = snap ? snap.disks[key] : a.path;
      if (!from) continue; // not part of the snapshot (attached without a disk state): not cloned
      const source = path.resolve(resolveIn(src.folder, from));
      if (!fs.existsSync(source)) throw new LibraryError(`The disk ${from} (${key}) of ${src.config.name} is missing.`);
      const fmt = probeFile(source);
      if (req.mode === 'linked' && fmt !== 'qcow2' && fmt !== 'raw') throw new LibraryError(`The disk ${from} (${key}) is a ${fmt} image; a linked clone needs qcow2 or raw.`);
      const format: 'qcow2' | 'raw' = req.mode === 'linked' ? 'qcow2' : a.kind === 'floppy' || fmt === 'raw' ? 'raw' : 'qcow2';
      const ext = format === 'qcow2' ? 'qcow2' : 'img';
      const file = diskNo++ === 0 ? `${name}.${ext}` : `${name}-${key}.${ext}`;
      plans.push({ key, source, file, format });
      storage.push({ ...a, path: file, format });
    }
    const config: VmConfig = vmConfigSchema.parse({
      ...base,
      id,
      name,
      storage,
      kernel: base.kernel
        ? { ...base.kernel, path: resolveIn(src.folder, base.kernel.path), ...(base.kernel.initrd ? { initrd: resolveIn(src.folder, base.kernel.initrd) } : {}) }
        : undefined,
      createdAt: new Date().toISOString(),
    });
    const thumbRel = snap ? snap.thumbnail : 'thumbnail.png';
    const thumbnail = thumbRel && fs.existsSync(resolveIn(src.folder, thumbRel)) ? resolveIn(src.folder, thumbRel) : null;
    return { config, plans, staging: path.join(lib.machinesDir, `${STAGING_PREFIX}${id}`), thumbnail, sourceName: src.config.name };
  }

  /** vm.start: refused while the machine's current disks are being copied into a clone. */
  assertNotBeingCloned(vmId: string): void {
    if (this.copyingCurrent.has(vmId)) throw new LibraryError('This machine is being cloned; start it when the copy has finished (or cancel it).');
  }

  /**
   * Refuse to delete a snapshot whose frozen images back a linked clone (directly, or
   * as an ancestor of the clone's snapshot: a delete merges and removes those layers).
   */
  assertSnapshotDeletable(vmId: string, snapshotId: string): void {
    const lib = this.deps.library();
    const src = lib.get(vmId);
    if (!src.ok) return; // the snapshot service reports it
    let snap: Snapshot | undefined;
    try {
      snap = readTree(src.folder).snapshots.find((s) => s.id === snapshotId);
    } catch {
      return;
    }
    if (!snap) return;
    const frozen = new Set(Object.values(snap.disks).map((d) => realpath(resolveIn(src.folder, d))));
    const users = this.cloneUsers(vmId, (f) => frozen.has(f));
    if (users.length) {
      throw new LibraryError(`"${snap.name}" cannot be deleted: its disk images are the base of the linked clone${users.length > 1 ? 's' : ''} ${users.map((u) => `"${u}"`).join(', ')}. Delete the clone${users.length > 1 ? 's' : ''} first.`);
    }
  }

  /**
   * Refuse to delete a VM's files, or to unregister it when that moves its folder out of
   * <home>/machines, while a linked clone backs onto them.
   */
  assertFolderDeletable(vmId: string, deleteFiles: boolean): void {
    const lib = this.deps.library();
    const src = lib.get(vmId);
    const moves = path.dirname(path.resolve(src.folder)) === path.resolve(lib.machinesDir);
    if (!deleteFiles && !moves) return; // an external folder stays where it is
    const root = realpath(src.folder) + path.sep;
    const users = this.cloneUsers(vmId, (f) => f.startsWith(root));
    if (users.length) {
      const s = users.length > 1 ? 's' : '';
      throw new LibraryError(`This machine cannot be ${deleteFiles ? 'deleted' : 'removed (its folder would move)'}: its disk images are the base of the linked clone${s} ${users.map((u) => `"${u}"`).join(', ')}. Delete the clone${s} first.`);
    }
  }

  /** Names of the other VMs (and clones being built) whose disk chains contain a file `uses` matches. */
  private cloneUsers(exceptId: string, uses: (file: string) => boolean): string[] {
    const users: string[] = [];
    for (const vm of this.deps.library().list()) {
      if (!vm.ok || vm.id === exceptId) continue;
      const tops: string[] = vm.config.storage.filter((a) => a.path && a.kind !== 'cdrom').map((a) => a.path!);
      try {
        for (const s of readTree(vm.folder).snapshots) tops.push(...Object.values(s.disks));
      } catch {
        // a damaged tree: the current state's chains are still checked
      }
      if (tops.some((t) => chainOf(resolveIn(vm.folder, t)).some(uses))) users.push(vm.config.name);
    }
    for (const [id, files] of this.inProgress) if (id !== exceptId && [...files].some((f) => chainOf(f).some(uses))) users.push('(being created)');
    return users;
  }

  thumbnail(vmId: string, snapshotId: string): string | null {
    const vm = this.deps.library().get(vmId);
    if (!vm.ok) throw new LibraryError(`This virtual machine is inaccessible: ${vm.problem}`);
    const snap = readTree(vm.folder).snapshots.find((s) => s.id === snapshotId);
    if (!snap) throw new LibraryError(`No snapshot with id ${snapshotId}.`);
    if (!snap.thumbnail) return null;
    const file = resolveIn(vm.folder, snap.thumbnail);
    // Only files inside the VM folder (the tree is data on disk; never serve arbitrary paths).
    if (!realpath(file).startsWith(realpath(vm.folder) + path.sep)) return null;
    try {
      return 'data:image/png;base64,' + fs.readFileSync(file).toString('base64');
    } catch {
      return null;
    }
  }
}

/** The files of the new VM in the staging folder, then one rename into place. */
export async function buildClone(
  machinesDir: string,
  staging: string,
  config: VmConfig,
  plans: DiskPlan[],
  mode: CloneMode,
  thumbnail: string | null,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  removeAbandonedStaging(machinesDir);
  const folder = path.join(machinesDir, config.name);
  fs.mkdirSync(staging);
  try {
    fs.writeFileSync(path.join(staging, PID_FILE), String(process.pid));
    const total = plans.length || 1;
    for (const [i, p] of plans.entries()) {
      if (opts.signal?.aborted) throw new Error('Cancelled.');
      const dst = path.join(staging, p.file);
      if (mode === 'linked') await cloneDisk(p.source, dst, { linked: true });
      else await convertDisk(p.source, dst, { format: p.format, signal: opts.signal, onProgress: (d, t) => opts.onProgress?.(i + (t ? d / t : 0), total) });
      opts.onProgress?.(i + 1, total);
    }
    if (thumbnail) fs.copyFileSync(thumbnail, path.join(staging, 'thumbnail.png'));
    writeFileAtomic(path.join(staging, VM_FILE), JSON.stringify(config, null, 2) + '\n');
    syncDirectory(staging);
    if (fs.existsSync(folder)) throw new LibraryError(`A folder named "${config.name}" appeared in ${machinesDir} meanwhile.`);
    fs.renameSync(staging, folder);
    syncDirectory(machinesDir);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(path.join(folder, PID_FILE), { force: true });
}

/** Staging folders of clones whose process was killed (their pid file names a dead process). */
export function removeAbandonedStaging(machinesDir: string): string[] {
  const removed: string[] = [];
  for (const n of fs.readdirSync(machinesDir)) {
    if (!n.startsWith(STAGING_PREFIX)) continue;
    const dir = path.join(machinesDir, n);
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(dir, PID_FILE), 'utf8'));
    } catch {
      continue; // not a clone's (vm.create stages the same way and cleans up itself)
    }
    if (pid === process.pid || alive(pid)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** An image and its backing files (absolute, real paths). */
function chainOf(file: string): string[] {
  const out: string[] = [];
  let f: string | null = file;
  for (let depth = 0; f && depth < 32 && fs.existsSync(f); depth++) {
    const r = realpath(f);
    if (out.includes(r)) break;
    out.push(r);
    f = backingOf(r);
  }
  return out;
}
