// The VM library: one folder per VM (vm.json beside its disks) under
// <home>/machines, plus folders registered from elsewhere ("Add existing VM")
// listed in <home>/library.json. Every write is atomic; a VM whose vm.json is
// unreadable, corrupt or from a newer Boxwood is listed as Inaccessible with the
// reason, and never stops the others from loading.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeFileAtomic, syncDirectory } from '../atomic-file';
import { createDisk } from '../storage/disk-operations';
import {
  VM_CONFIG_VERSION,
  vmConfigSchema,
  vmCreateRequestSchema,
  vmModifyRequestSchema,
  LOCKED_WHILE_RUNNING,
  type VmConfig,
  type VmCreateRequest,
  type VmModifyRequest,
  type StorageAttachment,
} from '../../../protocol/vm-config';

export const VM_FILE = 'vm.json';

export class LibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LibraryError';
  }
}

export type LoadedVm =
  | { id: string; folder: string; ok: true; config: VmConfig }
  | { id: string; folder: string; ok: false; problem: string };

interface LibraryIndex {
  version: 1;
  /** Absolute paths of VM folders outside <home>/machines that the user added. */
  external: string[];
}

export class VmLibrary {
  readonly machinesDir: string;
  private readonly indexFile: string;

  constructor(readonly home: string) {
    this.machinesDir = path.join(home, 'machines');
    this.indexFile = path.join(home, 'library.json');
    mkdirSync(this.machinesDir, { recursive: true });
  }

  /** Every VM folder the library knows, each loaded independently. */
  list(): LoadedVm[] {
    const folders = new Set<string>();
    for (const entry of readdirSync(this.machinesDir, { withFileTypes: true })) {
      // Dot-folders are half-created VMs from an interrupted create; never listed.
      if (entry.isDirectory() && !entry.name.startsWith('.')) folders.add(path.join(this.machinesDir, entry.name));
    }
    for (const f of this.readIndex().external) folders.add(f);
    return [...folders].sort().map((f) => loadVmFolder(f));
  }

  get(id: string): LoadedVm {
    const vm = this.list().find((v) => v.id === id);
    if (!vm) throw new LibraryError(`No virtual machine with id ${id}.`);
    return vm;
  }

  /** Create a VM. Nothing is left behind if any step fails. */
  async create(raw: VmCreateRequest): Promise<VmConfig> {
    const parsed = vmCreateRequestSchema.safeParse(raw);
    if (!parsed.success) throw new LibraryError(describeZodError(parsed.error));
    const req = parsed.data;
    this.assertNameFree(req.name);
    const folder = path.join(this.machinesDir, req.name);
    if (existsSync(folder)) throw new LibraryError(`A folder named "${req.name}" already exists in ${this.machinesDir}.`);

    const storage: StorageAttachment[] = [...(req.storage ?? [])];
    for (const s of storage) {
      if (s.path && path.isAbsolute(s.path) && !existsSync(s.path)) throw new LibraryError(`The file ${s.path} does not exist.`);
    }
    const config: VmConfig = vmConfigSchema.parse({
      schemaVersion: VM_CONFIG_VERSION,
      id: randomUUID(),
      name: req.name,
      osType: req.osType,
      memoryMiB: req.memoryMiB,
      cpus: req.cpus ?? 1,
      firmware: req.firmware ?? 'builtin',
      bootOrder: req.bootOrder ?? ['cdrom', 'disk', 'floppy'],
      storage,
      kernel: req.kernel,
      display: req.display ?? { vramMiB: 16 },
      serial: req.serial ?? { enabled: true },
      notes: req.notes ?? '',
      createdAt: new Date().toISOString(),
    });

    // Build in a hidden staging folder, then rename it into place in one step.
    const staging = path.join(this.machinesDir, `.creating-${config.id}`);
    mkdirSync(staging);
    try {
      if (req.newDisk) {
        const format = req.newDisk.format;
        const diskName = `${req.name}.${format === 'qcow2' ? 'qcow2' : 'img'}`;
        const bytes = req.newDisk.sizeMiB * 1024 * 1024;
        if (format === 'qcow2') await createDisk(path.join(staging, diskName), { size: bytes, format: 'qcow2' });
        else createSparseRawDisk(path.join(staging, diskName), bytes);
        config.storage.unshift({ bus: 'ide', port: 0, kind: 'disk', path: diskName, format });
      }
      writeFileAtomic(path.join(staging, VM_FILE), JSON.stringify(config, null, 2) + '\n');
      renameSync(staging, folder);
      syncDirectory(this.machinesDir);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    return config;
  }

  /** Change settings; `running` locks the settings that need a powered-off machine. */
  modify(id: string, raw: VmModifyRequest, running: boolean): VmConfig {
    const vm = this.get(id);
    if (!vm.ok) throw new LibraryError(`This virtual machine is inaccessible: ${vm.problem}`);
    const parsed = vmModifyRequestSchema.safeParse(raw);
    if (!parsed.success) throw new LibraryError(describeZodError(parsed.error));
    const changes = parsed.data;
    if (running) {
      for (const key of Object.keys(changes) as (keyof VmModifyRequest)[]) {
        const reason = LOCKED_WHILE_RUNNING[key];
        if (reason && JSON.stringify(changes[key]) !== JSON.stringify(vm.config[key])) throw new LibraryError(reason);
      }
      // The running VM process holds its disks open: vm.json must keep saying what it uses.
      // (The CD changes live through the host's vm.changeMedium, which records it itself.)
      if (changes.storage && JSON.stringify(changes.storage) !== JSON.stringify(vm.config.storage)) {
        throw new LibraryError('Storage cannot be attached or detached while the machine is running; power it off first. To change the CD, use Insert / Eject.');
      }
    }
    if (changes.name && changes.name !== vm.config.name) this.assertNameFree(changes.name, id);
    const next = vmConfigSchema.parse({ ...vm.config, ...changes });
    writeFileAtomic(path.join(vm.folder, VM_FILE), JSON.stringify(next, null, 2) + '\n');
    return next;
  }

  /** Remove a VM from the library; with deleteFiles, also its folder and everything in it. */
  delete(id: string, deleteFiles: boolean): void {
    const vm = this.get(id);
    const index = this.readIndex();
    if (index.external.includes(vm.folder)) {
      index.external = index.external.filter((f) => f !== vm.folder);
      this.writeIndex(index);
    }
    if (deleteFiles) {
      rmSync(vm.folder, { recursive: true, force: true });
    } else if (path.dirname(vm.folder) === this.machinesDir) {
      // Unregistering a VM that lives in machines/ means moving it out of the scanned folder.
      const kept = path.join(this.home, 'unregistered', `${path.basename(vm.folder)}-${vm.id.slice(0, 8)}`);
      mkdirSync(path.dirname(kept), { recursive: true });
      renameSync(vm.folder, kept);
    }
  }

  /** Register an existing VM folder (one containing a vm.json) from anywhere. */
  add(folder: string): LoadedVm {
    const abs = path.resolve(folder);
    if (!existsSync(path.join(abs, VM_FILE))) throw new LibraryError(`${abs} does not contain a ${VM_FILE}.`);
    const vm = loadVmFolder(abs);
    if (vm.ok && this.list().some((v) => v.id === vm.id)) throw new LibraryError(`A machine with the same id (${vm.config.name}) is already in the library.`);
    if (vm.ok) this.assertNameFree(vm.config.name);
    if (path.dirname(abs) !== this.machinesDir) {
      const index = this.readIndex();
      index.external.push(abs);
      this.writeIndex(index);
    }
    return vm;
  }

  private assertNameFree(name: string, exceptId?: string): void {
    const clash = this.list().find((v) => v.ok && v.id !== exceptId && v.config.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new LibraryError(`A virtual machine named "${name}" already exists.`);
  }

  private readIndex(): LibraryIndex {
    if (!existsSync(this.indexFile)) return { version: 1, external: [] };
    try {
      const data = JSON.parse(readFileSync(this.indexFile, 'utf8'));
      if (data?.version === 1 && Array.isArray(data.external)) return { version: 1, external: data.external.filter((x: unknown) => typeof x === 'string') };
    } catch {
      // A damaged index loses only the list of externally added folders; machines/ is still scanned.
    }
    return { version: 1, external: [] };
  }

  private writeIndex(index: LibraryIndex): void {
    writeFileAtomic(this.indexFile, JSON.stringify(index, null, 2) + '\n');
  }
}

/** Load one VM folder; any problem becomes an Inaccessible entry with the reason. */
export function loadVmFolder(folder: string): LoadedVm {
  const file = path.join(folder, VM_FILE);
  const fallbackId = `inaccessible:${folder}`;
  let text: string;
  try {
    if (!statSync(file).isFile()) return { id: fallbackId, folder, ok: false, problem: `${VM_FILE} is not a file.` };
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { id: fallbackId, folder, ok: false, problem: `Cannot read ${VM_FILE}: ${(e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { id: fallbackId, folder, ok: false, problem: `${VM_FILE} is not valid JSON (${(e as Error).message}).` };
  }
  const d = data as { schemaVersion?: unknown; id?: unknown };
  const id = typeof d?.id === 'string' ? d.id : fallbackId;
  if (typeof d?.schemaVersion === 'number' && d.schemaVersion > VM_CONFIG_VERSION) {
    return { id, folder, ok: false, problem: `${VM_FILE} was written by a newer Boxwood (format version ${d.schemaVersion}; this version reads ${VM_CONFIG_VERSION}).` };
  }
  const parsed = vmConfigSchema.safeParse(data);
  if (!parsed.success) return { id, folder, ok: false, problem: `${VM_FILE} is invalid: ${describeZodError(parsed.error)}` };
  return { id: parsed.data.id, folder, ok: true, config: parsed.data };
}

function createSparseRawDisk(file: string, bytes: number): void {
  const fd = openSync(file, 'wx');
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

export function describeZodError(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
