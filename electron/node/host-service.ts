// The host services every UI talks to (Electron IPC, the browser-mode WebSocket,
// the CLI): the VM library plus the running VM processes. Requests arrive as
// untrusted data and are validated against protocol/host-api.ts before use.
import { existsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { Emitter } from '../../engine/common/events';
import { hostRequestSchemas, type HostMethod, type HostEvent, type VmSummary, type HostInfo } from '../../protocol/host-api';
import type { ToVm } from '../../protocol/vm-process';
import { VmLibrary, LibraryError, describeZodError, type LoadedVm } from './library/vm-library';
import { VmSession, THUMBNAIL_FILE } from './vm-process/vm-session';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { VmProcessLauncher } from './vm-process/channel';
import { hostInfo } from './host-info';
import { MediaService, isMediaMethod } from './media/media-service';
import { SnapshotHost } from './snapshots/snapshot-host';
import { isSnapshotMethod } from '../../protocol/snapshots';
import { CloneService } from './library/vm-clone';
import { isCloneMethod } from '../../protocol/clone';

export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

type HostEvents = { event: HostEvent };

export class HostService {
  readonly events = new Emitter<HostEvents>();
  readonly sessions = new Map<string, VmSession>();
  /** The Media Manager's services (electron/node/media); closures, so they see the constructed host. */
  readonly media: MediaService = new MediaService({
    library: () => this.library,
    isRunning: (id) => this.isRunning(id),
    sendToVm: (id, message) => this.runningSession(id).send(message),
    vmChanged: (id, storage) => {
      const s = this.sessions.get(id);
      if (s) s.config.storage = storage;
      this.emit({ event: 'vm.changed', vm: this.summary(this.library.get(id)) });
    },
    emitTask: (p) => this.emit({ event: 'task.progress', ...p }),
  });
  /** Snapshots (electron/node/snapshots/snapshot-host.ts). */
  readonly snapshots: SnapshotHost = new SnapshotHost({
    library: () => this.library,
    // A session that reported 'stopped' has closed its disks, even if its process is still exiting.
    session: (id) => {
      const s = this.sessions.get(id);
      return s?.alive && s.state !== 'stopped' && s.state !== 'aborted' ? s : undefined;
    },
    vmChanged: (id, config) => {
      const s = this.sessions.get(id);
      if (s && config) Object.assign(s.config, config);
      this.emit({ event: 'vm.changed', vm: s?.alive ? this.summaryOf(s) : this.summary(this.library.get(id)) });
    },
  });
  /** Clones and the snapshot thumbnails (electron/node/library/vm-clone.ts). */
  readonly clones: CloneService = new CloneService({
    library: () => this.library,
    isRunning: (id) => this.isRunning(id),
    snapshots: (folder) => this.snapshots.service.list(folder),
    tasks: () => this.media.tasks,
    vmAdded: (id) => this.emit({ event: 'vm.changed', vm: this.summary(this.library.get(id)) }),
  });

  constructor(
    readonly library: VmLibrary,
    private readonly launch: VmProcessLauncher,
    private readonly electron = false,
  ) {}

  /** Validate and run one request. Throws HostError/LibraryError with a user-facing message. */
  async call(method: string, params: unknown): Promise<unknown> {
    if (!Object.hasOwn(hostRequestSchemas, method)) throw new HostError(`Unknown request "${method}".`);
    const schema = hostRequestSchemas[method as HostMethod];
    const parsed = schema.safeParse(params ?? {});
    if (!parsed.success) throw new HostError(`Invalid ${method} request: ${describeZodError(parsed.error)}`);
    const p = parsed.data as Record<string, unknown>;
    if (isMediaMethod(method)) return this.media.call(method, p);
    if (isCloneMethod(method)) return this.clones.call(method, p);
    if (method === 'snapshot.delete') this.clones.assertSnapshotDeletable(p.id as string, p.snapshotId as string);
    if (isSnapshotMethod(method)) return this.snapshots.call(method, p);
    switch (method as HostMethod) {
      case 'host.info':
        return this.info();
      case 'vm.list':
        return this.list();
      case 'vm.get':
        return this.summary(this.library.get(p.id as string));
      case 'vm.create': {
        const cfg = await this.library.create(p as never);
        const vm = this.summary(this.library.get(cfg.id));
        this.emit({ event: 'vm.changed', vm });
        return vm;
      }
      case 'vm.modify': {
        const id = p.id as string;
        this.library.modify(id, p.changes as never, this.isRunning(id));
        const vm = this.summary(this.library.get(id));
        this.emit({ event: 'vm.changed', vm });
        return vm;
      }
      case 'vm.delete': {
        const id = p.id as string;
        if (this.isRunning(id)) throw new HostError('Power the machine off before deleting it.');
        this.clones.assertFolderDeletable(id, p.deleteFiles as boolean);
        this.library.delete(id, p.deleteFiles as boolean);
        this.sessions.delete(id);
        this.emit({ event: 'vm.removed', id });
        return null;
      }
      case 'vm.add': {
        const vm = this.summary(this.library.add(p.folder as string));
        this.emit({ event: 'vm.changed', vm });
        return vm;
      }
      case 'vm.start':
        return this.start(p.id as string);
      case 'vm.pause':
        return this.send(p.id as string, { type: 'pause' });
      case 'vm.resume':
        return this.send(p.id as string, { type: 'resume' });
      case 'vm.reset':
        return this.send(p.id as string, { type: 'reset' });
      case 'vm.acpiShutdown':
        return this.send(p.id as string, { type: 'acpi-shutdown' });
      case 'vm.powerOff':
        return this.powerOff(p.id as string);
      case 'vm.attachDisplay':
        // The transport (IPC or WebSocket) does the attaching; this checks it is possible.
        this.runningSession(p.id as string);
        return null;
      case 'vm.log':
        return this.sessions.get(p.id as string)?.log ?? [];
      case 'fs.checkPath':
        return checkPath(p.path as string);
    }
  }

  info(): HostInfo {
    return hostInfo(this.library.home, this.electron);
  }

  list(): VmSummary[] {
    return this.library.list().map((vm) => this.summary(vm));
  }

  summary(vm: LoadedVm): VmSummary {
    if (!vm.ok) return { id: vm.id, folder: vm.folder, state: 'inaccessible', problem: vm.problem };
    const s = this.sessions.get(vm.id);
    return { id: vm.id, folder: vm.folder, state: s?.state ?? 'stopped', problem: s?.problem, config: vm.config, thumbnail: thumbnailOf(vm.folder), ...this.snapshots.summary(vm.folder) };
  }

  isRunning(id: string): boolean {
    const s = this.sessions.get(id);
    return !!s && s.alive;
  }

  start(id: string): VmSummary {
    this.clones.assertNotBeingCloned(id);
    // Snapshots first: a crash-interrupted change may rewrite vm.json; an online snapshot's saved machine resumes.
    const resume = this.isRunning(id) ? undefined : this.snapshots.beforeStart(id);
    const vm = this.library.get(id);
    if (!vm.ok) throw new HostError(`This virtual machine is inaccessible: ${vm.problem}`);
    if (this.isRunning(id)) throw new HostError(`${vm.config.name} is already running.`);
    for (const s of vm.config.storage) {
      if (s.path && s.path.startsWith('/') && !existsSync(s.path)) throw new HostError(`The medium ${s.path} attached to ${s.bus} port ${s.port} is missing. Remove it in Settings → Storage or put the file back.`);
    }
    const session = new VmSession(vm.config, vm.folder, this.snapshots.watchResume(vm.folder, resume, (sess) => this.emit({ event: 'vm.changed', vm: this.summaryOf(sess) })));
    this.sessions.set(id, session);
    session.start(this.launch, resume);
    return this.summaryOf(session);
  }

  runningSession(id: string): VmSession {
    const s = this.sessions.get(id);
    if (!s || !s.alive) throw new HostError('The machine is not running.');
    return s;
  }

  private send(id: string, message: ToVm): null {
    this.runningSession(id).send(message);
    return null;
  }

  private powerOff(id: string): null {
    const s = this.runningSession(id);
    s.send({ type: 'power-off' });
    // A VM process that does not stop within 3 s is killed: power off always works.
    const timer = setTimeout(() => s.alive && s.kill(), 3000);
    timer.unref?.();
    return null;
  }

  private summaryOf(session: VmSession): VmSummary {
    return { id: session.config.id, folder: session.folder, state: session.state, problem: session.problem, config: session.config, thumbnail: thumbnailOf(session.folder), ...this.snapshots.summary(session.folder) };
  }

  private emit(e: HostEvent): void {
    this.events.emit('event', e);
  }

  /** Stop every VM process (app quit). */
  shutdownAll(): void {
    this.media.tasks.cancelAll();
    for (const s of this.sessions.values()) if (s.alive) s.kill();
  }
}

export { LibraryError };

/** What the New-VM wizard needs to know about a path the user typed. */
export function checkPath(p: string): { exists: boolean; kind: 'iso' | 'disk' | 'file' | 'directory' | null; size: number } {
  if (!existsSync(p)) return { exists: false, kind: null, size: 0 };
  const st = statSync(p);
  if (st.isDirectory()) return { exists: true, kind: 'directory', size: 0 };
  let kind: 'iso' | 'disk' | 'file' = 'file';
  try {
    const fd = openSync(p, 'r');
    const buf = Buffer.alloc(6);
    readSync(fd, buf, 0, 5, 0x8001);
    if (buf.toString('latin1', 0, 5) === 'CD001') kind = 'iso';
    else {
      readSync(fd, buf, 0, 4, 0);
      if (buf.toString('latin1', 0, 4) === 'QFI\xfb' || st.size % 512 === 0) kind = 'disk';
    }
    closeSync(fd);
  } catch {
    // Unreadable: report as a plain file; opening it later gives the real error.
  }
  return { exists: true, kind, size: st.size };
}

/** The last screen of a VM as a data URL, if one was saved. */
function thumbnailOf(folder: string): string | undefined {
  try {
    return 'data:image/png;base64,' + readFileSync(path.join(folder, THUMBNAIL_FILE)).toString('base64');
  } catch {
    return undefined;
  }
}
