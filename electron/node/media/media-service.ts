// The Media Manager on the host: every disk image and ISO the library knows (attached
// to a VM in its vm.json, or registered in <home>/media.json), and the operations on
// them — create, add, copy, resize, convert, compact, release, remove, delete — plus
// changing a VM's CD (live when it runs). Long operations run as tasks (task-manager.ts).
// Every path from a UI is validated here and every refusal is a message the user can
// act on; the file work itself is electron/node/storage/disk-operations.ts.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file';
import type { VmLibrary } from '../library/vm-library';
import type { ToVm } from '../../../protocol/vm-process';
import type { StorageAttachment } from '../../../protocol/vm-config';
import { mediaRequestSchemas, formatBytes, type Medium, type MediumAttachment, type MediumKind, type ReleaseResult, type TaskProgress, type TaskStarted } from '../../../protocol/media';
import { compactDisk, convertDisk, createDisk, deleteDisk, diskInfo, resizeDisk } from '../storage/disk-operations';
import { openDiskImage, probeFile } from '../storage/open-image';
import { TaskManager } from './task-manager';

export const MEDIA_REGISTRY_FILE = 'media.json';

export class MediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaError';
  }
}

export type MediaMethod = keyof typeof mediaRequestSchemas;

export function isMediaMethod(method: string): method is MediaMethod {
  return Object.hasOwn(mediaRequestSchemas, method);
}

/** What the media service needs from the host service (kept narrow for tests). */
export interface MediaHost {
  library(): VmLibrary;
  isRunning(vmId: string): boolean;
  /** Send a command to a running VM process. */
  sendToVm(vmId: string, message: ToVm): void;
  /** A VM's vm.json changed (release, CD change): tell the UIs. */
  vmChanged(vmId: string, storage: StorageAttachment[]): void;
  emitTask(p: TaskProgress): void;
}

interface RegistryEntry {
  path: string;
  kind: MediumKind;
}
interface Registry {
  version: 1;
  media: RegistryEntry[];
}

const SLOT_NAMES = ['primary master', 'primary slave', 'secondary master', 'secondary slave'];

export function slotName(s: Pick<StorageAttachment, 'bus' | 'port'>): string {
  if (s.bus === 'ide') return `IDE ${SLOT_NAMES[s.port] ?? `port ${s.port}`}`;
  return `${s.bus === 'virtio' ? 'virtio' : 'Floppy'} ${s.port}`;
}

export class MediaService {
  readonly tasks: TaskManager;

  /** `host` is only used lazily: HostService builds this before its own fields are set. */
  constructor(private readonly host: MediaHost) {
    this.tasks = new TaskManager((p) => host.emitTask(p));
  }

  get registryFile(): string {
    return path.join(this.host.library().home, MEDIA_REGISTRY_FILE);
  }

  /** Default folder for disks created without one. */
  get mediaDir(): string {
    return path.join(this.host.library().home, 'media');
  }

  /** Run one (already validated) request. */
  async call(method: MediaMethod, p: Record<string, any>): Promise<unknown> {
    switch (method) {
      case 'media.list':
        return this.list();
      case 'media.add':
        return this.add(p.path, p.kind);
      case 'media.create':
        return this.create(p as never);
      case 'media.copy':
        return this.copy(p.src, p.dst, p.format);
      case 'media.convert':
        return this.copy(p.src, p.dst, p.format, true);
      case 'media.resize':
        return this.resize(p.path, p.newSize);
      case 'media.compact':
        return this.compact(p.path);
      case 'media.release':
        return this.release(p.path);
      case 'media.remove':
        return this.remove(p.path);
      case 'media.delete':
        return this.delete(p.path);
      case 'task.list':
        return this.tasks.list();
      case 'task.cancel':
        this.tasks.cancel(p.taskId);
        return null;
      case 'vm.changeMedium':
        return this.changeMedium(p.id, p.path);
    }
  }

  // ---- listing ----------------------------------------------------------------------

  /** Every medium: VM attachments first-class, plus the registry; each probed independently. */
  list(): Medium[] {
    const known = new Map<string, { kind: MediumKind; registered: boolean; attachedTo: MediumAttachment[] }>();
    for (const e of this.readRegistry().media) known.set(e.path, { kind: e.kind, registered: true, attachedTo: [] });
    for (const vm of this.host.library().list()) {
      if (!vm.ok) continue;
      const running = this.host.isRunning(vm.id);
      for (const s of vm.config.storage) {
        if (!s.path) continue;
        const abs = path.resolve(vm.folder, s.path);
        const entry = known.get(abs) ?? { kind: s.kind === 'cdrom' ? 'iso' : 'disk', registered: false, attachedTo: [] };
        entry.attachedTo.push({ vmId: vm.id, vmName: vm.config.name, slot: slotName(s), running });
        known.set(abs, entry);
      }
    }
    return [...known.entries()].sort(([a], [b]) => path.basename(a).localeCompare(path.basename(b)) || a.localeCompare(b)).map(([p, e]) => this.describe(p, e.kind, e.registered, e.attachedTo));
  }

  private describe(p: string, kind: MediumKind, registered: boolean, attachedTo: MediumAttachment[]): Medium {
    const base: Medium = { path: p, name: path.basename(p), kind, format: 'unknown', virtualSize: 0, actualSize: 0, attachedTo, chain: [], registered };
    if (!fs.existsSync(p)) return { ...base, problem: 'The file is missing. Put it back, or Remove/Release this entry.' };
    try {
      const info = diskInfo(p);
      return { ...base, format: info.format, virtualSize: info.virtualSize, actualSize: info.actualSize, chain: info.chain.slice(1) };
    } catch (e) {
      let actualSize = 0;
      try {
        actualSize = fs.statSync(p).blocks * 512;
      } catch {
        /* the probe error says enough */
      }
      return { ...base, actualSize, problem: (e as Error).message };
    }
  }

  private find(p: string): Medium | undefined {
    return this.list().find((m) => m.path === p);
  }

  // ---- registry ---------------------------------------------------------------------

  readRegistry(): Registry {
    let text: string;
    try {
      text = fs.readFileSync(this.registryFile, 'utf8');
    } catch {
      return { version: 1, media: [] };
    }
    try {
      const data = JSON.parse(text);
      if (data?.version === 1 && Array.isArray(data.media)) {
        const media = data.media.filter((m: any) => typeof m?.path === 'string' && path.isAbsolute(m.path) && (m.kind === 'disk' || m.kind === 'iso'));
        return { version: 1, media: media.map((m: RegistryEntry) => ({ path: m.path, kind: m.kind })) };
      }
    } catch {
      /* handled below */
    }
    // A damaged registry is kept aside (never silently overwritten) and the list starts afresh.
    try {
      fs.renameSync(this.registryFile, `${this.registryFile}.damaged-${Date.now()}`);
    } catch {
      /* best effort */
    }
    return { version: 1, media: [] };
  }

  private writeRegistry(r: Registry): void {
    writeFileAtomic(this.registryFile, JSON.stringify(r, null, 2) + '\n');
  }

  private register(p: string, kind: MediumKind): void {
    const r = this.readRegistry();
    if (r.media.some((m) => m.path === p)) return;
    r.media.push({ path: p, kind });
    this.writeRegistry(r);
  }

  private unregister(p: string): boolean {
    const r = this.readRegistry();
    const next = r.media.filter((m) => m.path !== p);
    if (next.length === r.media.length) return false;
    this.writeRegistry({ version: 1, media: next });
    return true;
  }

  // ---- operations ---------------------------------------------------------------------

  add(p: string, kind?: MediumKind): Medium {
    const file = existingFile(p, 'The image');
    let format: string;
    try {
      format = probeFile(file);
      // Open it (and its backing chain) once: a corrupt or truncated image fails here.
      openDiskImage(file, format === 'iso' || kind === 'iso' ? { cdrom: true } : {}).close();
    } catch (e) {
      throw new MediaError(`${file} cannot be used as a disk image: ${(e as Error).message}. Check that the file is a complete raw, qcow2, VDI, VMDK or ISO image.`);
    }
    const k: MediumKind = kind ?? (format === 'iso' ? 'iso' : 'disk');
    if (this.readRegistry().media.some((m) => m.path === file)) throw new MediaError(`${path.basename(file)} is already in the media list.`);
    this.register(file, k);
    return this.find(file)!;
  }

  async create(p: { path?: string; name?: string; folder?: string; size: number; format: 'raw' | 'qcow2' }): Promise<Medium> {
    let dst: string;
    if (p.path) dst = absolute(p.path, 'The new disk');
    else {
      if (!p.name) throw new MediaError('Enter a name (or a full path) for the new disk.');
      if (/[\\/\u0000]/.test(p.name) || p.name === '.' || p.name === '..') throw new MediaError('The name cannot contain / or \\; choose the folder separately.');
      const folder = p.folder ? absolute(p.folder, 'The folder') : this.mediaDir;
      if (!p.folder) fs.mkdirSync(folder, { recursive: true });
      const name = path.extname(p.name) ? p.name : `${p.name}.${p.format === 'qcow2' ? 'qcow2' : 'img'}`;
      dst = path.join(folder, name);
    }
    newFile(dst);
    try {
      // Creation writes metadata only (qcow2 headers and tables, or a sparse raw file), so it is quick at any size.
      await createDisk(dst, { size: p.size, format: p.format });
    } catch (e) {
      throw new MediaError(`Could not create ${dst}: ${(e as Error).message}`);
    }
    this.register(dst, 'disk');
    return this.find(dst)!;
  }

  copy(srcPath: string, dstPath: string, format: 'raw' | 'qcow2' | undefined, isConvert = false): TaskStarted {
    const src = existingFile(srcPath, 'The source');
    const dst = absolute(dstPath, 'The destination');
    if (src === dst) throw new MediaError('The source and the destination are the same file; choose another destination.');
    newFile(dst);
    let srcFormat: string;
    try {
      srcFormat = probeFile(src);
    } catch (e) {
      throw new MediaError((e as Error).message);
    }
    const target = format ?? (srcFormat === 'raw' || srcFormat === 'iso' ? 'raw' : 'qcow2');
    const medium = this.find(src);
    const running = medium?.attachedTo.find((a) => a.running && medium.kind === 'disk');
    if (running) throw new MediaError(`${path.basename(src)} is in use by ${running.vmName}, which is running. Power it off first.`);
    const kind: MediumKind = medium?.kind ?? (srcFormat === 'iso' ? 'iso' : 'disk');
    const label = `${isConvert ? 'Converting' : 'Copying'} ${path.basename(src)} to ${path.basename(dst)} (${target})`;
    const taskId = this.tasks.start(
      label,
      ({ signal, progress }) => convertDisk(src, dst, { format: target, signal, onProgress: progress }),
      () => this.register(dst, kind),
    );
    return { taskId };
  }

  resize(p: string, newSize: number): Medium {
    const file = existingFile(p, 'The disk');
    const m = this.find(file);
    if (m?.kind === 'iso') throw new MediaError('ISO images cannot be resized.');
    this.refuseLayer(file, 'resize');
    const running = m?.attachedTo.find((a) => a.running);
    if (running) throw new MediaError(`${path.basename(file)} is attached to ${running.vmName}, which is running. Power it off before resizing.`);
    if (m && !m.problem && newSize < m.virtualSize) {
      throw new MediaError(`Shrinking is not supported: the new size must be at least the current ${formatBytes(m.virtualSize)}.`);
    }
    try {
      resizeDisk(file, newSize);
    } catch (e) {
      throw new MediaError(`Could not resize ${path.basename(file)}: ${(e as Error).message}`);
    }
    return this.find(file) ?? this.describe(file, 'disk', false, []);
  }

  compact(p: string): TaskStarted {
    const file = existingFile(p, 'The disk');
    const m = this.find(file);
    if (m?.kind === 'iso') throw new MediaError('ISO images cannot be compacted.');
    this.refuseLayer(file, 'compact');
    const running = m?.attachedTo.find((a) => a.running);
    if (running) throw new MediaError(`${path.basename(file)} is attached to ${running.vmName}, which is running. Power it off before compacting.`);
    const taskId = this.tasks.start(`Compacting ${path.basename(file)}`, async ({ signal, progress }) => {
      await compactDisk(file, { signal, onProgress: progress });
    });
    return { taskId };
  }

  /** Detach the medium from every stopped VM (CD drives become empty, disk slots are removed). */
  release(p: string): ReleaseResult {
    const file = absolute(p, 'The medium');
    const result: ReleaseResult = { released: [], stillAttached: [] };
    for (const vm of this.host.library().list()) {
      if (!vm.ok) continue;
      const uses = (s: StorageAttachment) => !!s.path && path.resolve(vm.folder, s.path) === file;
      if (!vm.config.storage.some(uses)) continue;
      if (this.host.isRunning(vm.id)) {
        result.stillAttached.push(vm.config.name);
        continue;
      }
      const storage = vm.config.storage.filter((s) => !(uses(s) && s.kind !== 'cdrom')).map((s) => (uses(s) ? { ...s, path: null } : s));
      this.host.library().modify(vm.id, { storage }, false);
      this.host.vmChanged(vm.id, storage);
      result.released.push(vm.config.name);
    }
    if (!result.released.length && !result.stillAttached.length) throw new MediaError(`${path.basename(file)} is not attached to any virtual machine.`);
    return result;
  }

  /**
   * A backing file (a snapshot layer, or the base of a linked clone) must never change or
   * disappear under the images built on it, and a VM's Snapshots/ folder belongs to its
   * snapshot tree: both are changed through snapshots, not here.
   */
  private refuseLayer(file: string, action: string): void {
    const users = this.list().filter((m) => m.chain.some((c) => path.resolve(c.path) === file));
    if (users.length) {
      throw new MediaError(`Cannot ${action} ${path.basename(file)}: it is a backing layer of ${users.map((u) => u.name).join(', ')} (a snapshot or a linked clone). Delete the snapshot or the clone instead.`);
    }
    for (const vm of this.host.library().list()) {
      if (file.startsWith(path.join(vm.folder, 'Snapshots') + path.sep)) {
        throw new MediaError(`Cannot ${action} ${path.basename(file)}: it belongs to the snapshots of ${vm.ok ? vm.config.name : vm.folder}. Use the Snapshots pane instead.`);
      }
    }
  }

  /** Forget a registered medium; the file stays. */
  remove(p: string): null {
    const file = absolute(p, 'The medium');
    const m = this.find(file);
    if (m?.attachedTo.length) throw new MediaError(`${path.basename(file)} is attached to ${names(m.attachedTo)}. Release it first.`);
    if (!this.unregister(file)) throw new MediaError(`${path.basename(file)} is not in the media list.`);
    return null;
  }

  /** Delete a known medium's file (never its backing files) and forget it. */
  delete(p: string): null {
    const file = absolute(p, 'The medium');
    const m = this.find(file);
    if (!m) throw new MediaError(`${file} is not in the media list; only listed media can be deleted here.`);
    if (m.attachedTo.length) throw new MediaError(`${path.basename(file)} is attached to ${names(m.attachedTo)}. Release it first.`);
    this.refuseLayer(file, 'delete');
    if (fs.existsSync(file)) {
      if (!fs.statSync(file).isFile()) throw new MediaError(`${file} is not a regular file.`);
      try {
        deleteDisk(file);
      } catch (e) {
        throw new MediaError(`Could not delete ${path.basename(file)}: ${(e as Error).message}`);
      }
    }
    this.unregister(file);
    return null;
  }

  /** Insert (path) or eject (null) a VM's CD; live when the VM runs, always recorded in vm.json. */
  changeMedium(vmId: string, p: string | null): Medium | null {
    const vm = this.host.library().get(vmId);
    if (!vm.ok) throw new MediaError(`This virtual machine is inaccessible: ${vm.problem}`);
    let file: string | null = null;
    if (p !== null) {
      file = existingFile(p, 'The ISO image');
      try {
        openDiskImage(file, { cdrom: true }).close();
      } catch (e) {
        throw new MediaError(`${path.basename(file)} cannot be inserted as a CD: ${(e as Error).message}`);
      }
    }
    const running = this.host.isRunning(vmId);
    const storage = [...vm.config.storage];
    let i = storage.findIndex((s) => s.kind === 'cdrom' && s.bus === 'ide');
    if (i < 0) {
      // The engine's PC always has its CD drive as the IDE secondary master.
      if (storage.some((s) => s.bus === 'ide' && s.port === 2)) throw new MediaError('The IDE secondary master is taken by a disk, so this machine has no optical drive.');
      storage.push({ bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' });
      i = storage.length - 1;
    }
    storage[i] = { ...storage[i], path: file, format: file ? 'iso' : storage[i].format };
    if (running) this.host.sendToVm(vmId, { type: 'change-medium', bus: 'ide', port: storage[i].port, path: file });
    // Applied live above, so recorded as if stopped (vm.modify refuses storage changes while running).
    this.host.library().modify(vmId, { storage }, false);
    this.host.vmChanged(vmId, storage);
    if (file) {
      this.register(file, 'iso');
      return this.find(file) ?? null;
    }
    return null;
  }
}

function names(a: MediumAttachment[]): string {
  return [...new Set(a.map((x) => x.vmName))].join(', ');
}

/** An absolute, normalized path, or a message saying what is wrong. */
function absolute(p: string, what: string): string {
  if (p.includes('\u0000')) throw new MediaError(`${what} path contains a NUL character.`);
  if (!path.isAbsolute(p)) throw new MediaError(`${what} must be given as a full path (starting with ${path.sep}), not "${p}".`);
  return path.resolve(p);
}

function existingFile(p: string, what: string): string {
  const file = absolute(p, what);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new MediaError(`${what} ${file} does not exist.`);
  }
  if (st.isDirectory()) throw new MediaError(`${file} is a folder; choose an image file inside it.`);
  if (!st.isFile()) throw new MediaError(`${file} is not a regular file.`);
  return file;
}

/** A destination that can be created: its folder exists, nothing is there yet. */
function newFile(file: string): void {
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new MediaError(`The folder ${dir} does not exist.`);
  }
  if (!st.isDirectory()) throw new MediaError(`${dir} is not a folder.`);
  if (fs.existsSync(file)) throw new MediaError(`A file already exists at ${file}; choose another name.`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new MediaError(`You cannot write to the folder ${dir}.`);
  }
}
