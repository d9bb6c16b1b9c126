// The process the snapshot kill -9 storm (snapshot-storm.ts) kills: ONE snapshot or
// clone operation on a VM folder, through the real services, exactly as the host runs it.
//   node --import tsx test/storage/snapshot-storm-child.ts OP HOME FOLDER JSON
// (the storm runs it bundled by esbuild: the same code, a quarter of tsx's start-up time)
// OP: take {name} | delete {id} | restore {id} | edit {id, name}
//     | clone {mode: 'linked'|'full', snapshotId?, name}
// Prints `READY` just before the operation starts and `DONE <ms>` once it returned
// (written synchronously, so a DONE line means the operation really completed); in
// between, `STEP <name> <ms>` at each step of the service's crash-test hook (after-merge,
// after-journal = the commit point, …) and `W <n> <ms>` after every 8th write to a qcow2
// image (the clusters a merge or a full clone copies), so the parent can aim kills at the
// copy, as kill-storm.ts does with its progress lines.
import fs from 'node:fs';
import { Qcow2Image } from '../../engine/storage/qcow2-image';
import { SnapshotService } from '../../electron/node/snapshots/snapshot-service';
import { VmLibrary } from '../../electron/node/library/vm-library';
import { CloneService, buildClone } from '../../electron/node/library/vm-clone';
import type { TaskManager } from '../../electron/node/media/task-manager';

export type StormOp = 'take' | 'delete' | 'restore' | 'edit' | 'clone';

export interface OpParams {
  name?: string;
  id?: string;
  mode?: 'linked' | 'full';
  snapshotId?: string;
  /** Source VM id (clone). */
  vmId?: string;
}

/** Perform one operation the way the host does (the clone without the task wrapper). */
async function performOp(op: StormOp, home: string, folder: string, p: OpParams, svc = new SnapshotService()): Promise<void> {
  if (op === 'take') await svc.take(folder, { name: p.name }, null);
  else if (op === 'delete') await svc.delete(folder, p.id!);
  else if (op === 'restore') await svc.restore(folder, p.id!);
  else if (op === 'edit') await svc.edit(folder, p.id!, { name: p.name });
  else if (op === 'clone') {
    const lib = new VmLibrary(home);
    const clones = new CloneService({
      library: () => lib,
      isRunning: () => false,
      snapshots: (f) => svc.list(f),
      tasks: (): TaskManager => {
        throw new Error('no task manager in the storm');
      },
      vmAdded: () => {},
    });
    const mode = p.mode!;
    const prepared = await clones.prepare({ id: p.vmId!, name: p.name!, mode, snapshotId: p.snapshotId });
    await buildClone(lib.machinesDir, prepared.staging, prepared.config, prepared.plans, mode, prepared.thumbnail);
  } else throw new Error(`unknown operation ${op}`);
}

const say = (s: string) => fs.writeSync(1, s + '\n');
let t0 = 0;
const ms = () => (performance.now() - t0).toFixed(1);

// Progress of the copies inside an operation (the service reports none): count the
// writes to qcow2 images, report every 8th once it returned.
const write = Qcow2Image.prototype.write;
let writes = 0;
Qcow2Image.prototype.write = function (this: Qcow2Image, offset: number, data: Uint8Array): void {
  write.call(this, offset, data);
  if (++writes % 8 === 1) say(`W ${writes} ${ms()}`);
};

async function main(): Promise<void> {
  const [op, home, folder, json] = process.argv.slice(2);
  const p = JSON.parse(json) as OpParams;
  // The service's crash-test hook, used only to report progress: `STEP <name> <ms>`.
  const svc = new SnapshotService((step) => say(`STEP ${step} ${ms()}`));
  say('READY');
  t0 = performance.now();
  await performOp(op as StormOp, home, folder, p, svc);
  say(`DONE ${ms()}`);
}

void main();
