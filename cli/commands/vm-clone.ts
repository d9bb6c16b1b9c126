// `boxwood vm clone <vm> <new-name> [--linked] [--snapshot NAME]`: vm.clone
// (protocol/clone.ts) from the command line. The copy is a host task: this polls
// task.list for its progress (works against a running host and locally alike).
import { parseArgs } from 'node:util';
import type { VmSummary } from '../../protocol/host-api';
import type { SnapshotListResult } from '../../protocol/snapshots';
import type { CloneStarted } from '../../protocol/clone';
import type { TaskProgress } from '../../protocol/media';

type Call = (method: string, params?: unknown) => Promise<any>;

export const VM_CLONE_USAGE = `  clone <vm> <new-name> [--linked] [--snapshot S]
                                         a new machine: a full copy of the disks (current state, or snapshot S),
                                         or --linked: new disks on top of snapshot S's (S is then protected)`;

export async function vmCloneCommand(rest: string[], call: Call, find: (ref: string | undefined) => Promise<VmSummary>): Promise<number> {
  const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { linked: { type: 'boolean' }, snapshot: { type: 'string' } } });
  const v = await find(positionals[0]);
  const name = positionals[1];
  if (!name) throw new Error('Name the new machine: boxwood vm clone <vm> <new-name>.');
  if (o.linked && !o.snapshot) throw new Error('A linked clone is made from a snapshot: add --snapshot NAME (`boxwood snapshot list` shows them).');
  let snapshotId: string | undefined;
  if (o.snapshot) {
    const tree: SnapshotListResult = await call('snapshot.list', { id: v.id });
    const ref = o.snapshot;
    const exact = tree.snapshots.filter((s) => s.id === ref || s.name === ref);
    const matches = exact.length ? exact : tree.snapshots.filter((s) => s.name.toLowerCase() === ref.toLowerCase());
    if (!matches.length) throw new Error(`"${v.config?.name}" has no snapshot named "${ref}".`);
    if (matches.length > 1) throw new Error(`Several snapshots are named "${ref}"; use the id (${matches.map((s) => s.id).join(', ')}).`);
    snapshotId = matches[0].id;
  }
  const started: CloneStarted = await call('vm.clone', { id: v.id, name, mode: o.linked ? 'linked' : 'full', ...(snapshotId ? { snapshotId } : {}) });
  let shown = -1;
  for (;;) {
    const tasks: TaskProgress[] = await call('task.list', {});
    const t = tasks.find((x) => x.taskId === started.taskId);
    if (!t) throw new Error('The clone task disappeared; check `boxwood vm list`.');
    const pct = Math.floor(t.fraction * 100);
    if (process.stderr.isTTY && pct !== shown) process.stderr.write(`\r${t.label}: ${pct}%`);
    shown = pct;
    if (t.done) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (t.error) throw new Error(t.error);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`Created "${name}" (${started.vmId}), a ${o.linked ? 'linked' : 'full'} clone of "${v.config?.name}"${o.snapshot ? ` at snapshot "${o.snapshot}"` : ''}.`);
  return 0;
}
