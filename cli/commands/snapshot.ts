// `boxwood snapshot …`: VM snapshots from the command line, on the same host services
// as the UI (snapshot.* in protocol/snapshots.ts). Like `boxwood vm`, requests go to the
// running host for this home when there is one (needed for a running VM's snapshot);
// otherwise they run locally on the library (machines that are powered off).
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { UsageError } from '../command';
import { boxwoodHome } from '../../electron/node/boxwood-home';
import { withHostCall, type Call } from '../host-call';
import type { VmSummary } from '../../protocol/host-api';
import type { Snapshot, SnapshotListResult } from '../../protocol/snapshots';

export const SNAPSHOT_USAGE = `usage: boxwood snapshot <command> <vm> [options]
  list <vm>                                      the snapshot tree; "*" marks the current state
  take <vm> [name] [--description S]             snapshot the disks (and the running machine, if it runs)
  restore <vm> <snapshot>                        go back to a snapshot (the machine must be powered off)
  delete <vm> <snapshot>                         delete a snapshot, merging its disk changes into its child
  edit <vm> <snapshot> [--name N] [--description S]
<vm> is a machine's name or id; <snapshot> a snapshot's name or id.`;

export async function snapshotCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === 'help') {
    console.log(SNAPSHOT_USAGE);
    return sub ? 0 : 2;
  }
  const home = boxwoodHome();
  return withHostCall(home, 'No Boxwood host is running for this home.', (call) => dispatch(sub, rest, call));
}

async function findVm(call: Call, ref: string | undefined): Promise<VmSummary> {
  if (!ref) throw new UsageError('Name the machine (its name or id).');
  const list: VmSummary[] = await call('vm.list');
  const vm = list.find((v) => v.id === ref || v.config?.name === ref) ?? list.find((v) => v.config?.name.toLowerCase() === ref.toLowerCase());
  if (!vm) throw new Error(`No machine named "${ref}". \`boxwood vm list\` shows them.`);
  return vm;
}

async function findSnapshot(call: Call, vm: VmSummary, ref: string | undefined): Promise<Snapshot> {
  if (!ref) throw new UsageError('Name the snapshot (its name or id).');
  const tree: SnapshotListResult = await call('snapshot.list', { id: vm.id });
  const exact = tree.snapshots.filter((s) => s.id === ref || s.name === ref);
  const matches = exact.length ? exact : tree.snapshots.filter((s) => s.name.toLowerCase() === ref.toLowerCase());
  if (!matches.length) throw new Error(`"${vm.config?.name}" has no snapshot named "${ref}". \`boxwood snapshot list ${vm.config?.name}\` shows them.`);
  if (matches.length > 1) throw new Error(`Several snapshots are named "${ref}"; use the id (${matches.map((s) => s.id).join(', ')}).`);
  return matches[0];
}

/** The tree as indented lines, children in creation order; the current state under its parent. */
export function formatTree(tree: SnapshotListResult): string[] {
  const lines: string[] = [];
  const current = `* Current State${tree.resumesSavedState ? ' (resumes the saved machine at next start)' : ''}`;
  const walk = (parent: string | null, depth: number) => {
    for (const s of tree.snapshots.filter((x) => x.parentId === parent)) {
      const when = s.createdAt.replace('T', ' ').slice(0, 19);
      lines.push(`${'  '.repeat(depth)}${s.name}  (${when}${s.online ? ', with machine state' : ''})  ${s.id}${s.description ? `\n${'  '.repeat(depth + 2)}${s.description}` : ''}`);
      walk(s.id, depth + 1);
    }
    if (parent === tree.currentParentId) lines.push(`${'  '.repeat(depth)}${current}`);
  };
  walk(null, 0);
  return lines;
}

async function dispatch(sub: string, rest: string[], call: Call): Promise<number> {
  const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { description: { type: 'string' }, name: { type: 'string' } } });
  switch (sub) {
    case 'list': {
      const vm = await findVm(call, positionals[0]);
      const tree: SnapshotListResult = await call('snapshot.list', { id: vm.id });
      if (tree.problem) console.error(`warning: ${tree.problem}`);
      if (!tree.snapshots.length) console.log(`"${vm.config?.name}" has no snapshots.`);
      for (const l of formatTree(tree)) console.log(l);
      return 0;
    }
    case 'take': {
      const vm = await findVm(call, positionals[0]);
      const t0 = Date.now();
      const s: Snapshot = await call('snapshot.take', { id: vm.id, name: positionals[1] ?? o.name, description: o.description });
      console.log(`Took snapshot "${s.name}" of "${vm.config?.name}"${s.online ? ' with the machine state' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${s.id}).`);
      return 0;
    }
    case 'restore': {
      const vm = await findVm(call, positionals[0]);
      const s = await findSnapshot(call, vm, positionals[1]);
      await call('snapshot.restore', { id: vm.id, snapshotId: s.id });
      console.log(`Restored "${vm.config?.name}" to "${s.name}"${s.online ? '; the next start resumes the saved machine' : ''}.`);
      return 0;
    }
    case 'delete': {
      const vm = await findVm(call, positionals[0]);
      const s = await findSnapshot(call, vm, positionals[1]);
      await call('snapshot.delete', { id: vm.id, snapshotId: s.id });
      console.log(`Deleted snapshot "${s.name}" of "${vm.config?.name}".`);
      return 0;
    }
    case 'edit': {
      const vm = await findVm(call, positionals[0]);
      const s = await findSnapshot(call, vm, positionals[1]);
      if (o.name === undefined && o.description === undefined) throw new UsageError('Give --name and/or --description.');
      await call('snapshot.edit', { id: vm.id, snapshotId: s.id, name: o.name, description: o.description });
      console.log(`Updated snapshot "${o.name ?? s.name}".`);
      return 0;
    }
    default:
      console.error(`Unknown snapshot command "${sub}".\n${SNAPSHOT_USAGE}`);
      return 2;
  }
}

export const command: CliCommand = { name: 'snapshot', summary: 'VM snapshots (list, take, restore, delete, edit)', run: snapshotCommand };
