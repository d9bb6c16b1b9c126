// The snapshot.* host API methods (protocol/snapshots.ts snapshotRequestSchemas),
// on top of SnapshotService, with what they need from the HostService passed in as
// closures: the library, the running sessions, and the vm.changed event.
import type { VmLibrary } from '../library/vm-library';
import type { VmSession } from '../vm-process/vm-session';
import type { VmConfig } from '../../../protocol/vm-config';
import type { SnapshotMethod } from '../../../protocol/snapshots';
import { SnapshotService, SnapshotError } from './snapshot-service';

export interface SnapshotHostDeps {
  library: () => VmLibrary;
  /** The live session of a VM, if its process is running. */
  session: (id: string) => VmSession | undefined;
  /** vm.json changed (or the snapshot tree did): tell the UIs; `config` updates a running session's copy. */
  vmChanged: (id: string, config?: VmConfig) => void;
}

export class SnapshotHost {
  constructor(
    private readonly deps: SnapshotHostDeps,
    readonly service = new SnapshotService(),
  ) {}

  private folderOf(id: string): string {
    const vm = this.deps.library().get(id);
    if (!vm.ok) throw new SnapshotError(`This virtual machine is inaccessible: ${vm.problem}`);
    return vm.folder;
  }

  async call(method: SnapshotMethod, p: Record<string, unknown>): Promise<unknown> {
    const id = p.id as string;
    const folder = this.folderOf(id);
    const session = this.deps.session(id);
    switch (method) {
      case 'snapshot.list':
        return this.service.list(folder);
      case 'snapshot.take': {
        if (session && session.state !== 'running' && session.state !== 'paused') throw new SnapshotError(`The machine is ${session.state}; wait until it runs (or power it off) to take a snapshot.`);
        const snap = await this.service.take(folder, { name: p.name as string | undefined, description: p.description as string | undefined }, session ?? null);
        this.changed(id);
        return snap;
      }
      case 'snapshot.restore': {
        if (session) throw new SnapshotError('Power the machine off before restoring a snapshot (its current state would be lost).');
        const snap = await this.service.restore(folder, p.snapshotId as string);
        this.changed(id);
        return snap;
      }
      case 'snapshot.delete':
        // Running: the guest pauses while layers it has open are merged (snapshot-service.ts mergeLive).
        if (session && session.state !== 'running' && session.state !== 'paused') throw new SnapshotError(`The machine is ${session.state}; wait until it runs (or power it off) to delete a snapshot.`);
        await this.service.delete(folder, p.snapshotId as string, session ?? null);
        this.changed(id);
        return null;
      case 'snapshot.edit': {
        const snap = await this.service.edit(folder, p.snapshotId as string, { name: p.name as string | undefined, description: p.description as string | undefined });
        this.changed(id);
        return snap;
      }
    }
  }

  /**
   * First thing vm.start does (before reading vm.json): refuses during a snapshot operation,
   * completes one interrupted by a crash, returns the saved machine to resume, if any.
   */
  beforeStart(id: string): string | undefined {
    const vm = this.deps.library().get(id);
    return vm.ok ? this.service.beforeStart(vm.folder) : undefined;
  }

  /** For the VM list. */
  summary(folder: string): { snapshotCount: number; currentSnapshot?: string } {
    const s = this.service.summary(folder);
    return { snapshotCount: s.count, ...(s.current ? { currentSnapshot: s.current } : {}) };
  }

  /**
   * Wrap a session's state callback: once a VM started from a saved state runs, the next
   * start boots cold again (the resume marker is cleared).
   */
  watchResume(folder: string, stateFile: string | undefined, onState: (s: VmSession) => void): (s: VmSession) => void {
    let done = !stateFile;
    return (s) => {
      if (!done && s.state === 'running') {
        done = true;
        this.service.resumed(folder, stateFile!).catch((e) => s.log.push(`host: could not clear the snapshot resume marker: ${(e as Error).message}`));
      }
      onState(s);
    };
  }

  private changed(id: string): void {
    const vm = this.deps.library().get(id);
    this.deps.vmChanged(id, vm.ok ? vm.config : undefined);
  }
}
