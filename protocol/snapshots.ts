// VM snapshots (VirtualBox-like, in a tree): the on-disk tree file
// `<vmdir>/snapshots.json`, the intent journal that makes every change crash-safe,
// and what the host API returns. Disk state is kept in qcow2 layers: taking a
// snapshot freezes each writable disk's current image file (never written again)
// and the VM continues on a new overlay whose backing file is the frozen one.
import { z } from 'zod';
import { vmConfigSchema } from './vm-config';

export const SNAPSHOT_TREE_VERSION = 1;
export const SNAPSHOT_TREE_FILE = 'snapshots.json';
/** Written before a change is applied to vm.json and snapshots.json; replayed on load. */
export const SNAPSHOT_JOURNAL_FILE = 'snapshots.pending.json';
/** Overlays and machine-state files live here (paths in the tree are relative to the VM folder). */
export const SNAPSHOT_DIR = 'Snapshots';

/** An attachment's identity across snapshots: "<bus>-<port>", e.g. "ide-0", "virtio-1". */
export const attachmentKey = (a: { bus: string; port: number }) => `${a.bus}-${a.port}`;

export const snapshotSchema = z.object({
  id: z.string().uuid(),
  name: z.string().trim().min(1, 'Enter a name for the snapshot.').max(128),
  description: z.string().max(10_000).default(''),
  createdAt: z.string(),
  parentId: z.string().uuid().nullable(),
  /** Taken while the machine ran: restoring it resumes the guest from `stateFile`. */
  online: z.boolean(),
  /** Machine state file (BXWSTATE), relative to the VM folder; set when online. */
  stateFile: z.string().min(1).optional(),
  /** Screen at the time of the snapshot (PNG, relative to the VM folder). */
  thumbnail: z.string().min(1).optional(),
  /** Attachment key → the frozen image file (relative to the VM folder, or absolute outside it). */
  disks: z.record(z.string(), z.string().min(1)),
  /** The machine's settings when the snapshot was taken; restoring brings them back. */
  config: vmConfigSchema.optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const snapshotTreeSchema = z.object({
  version: z.literal(SNAPSHOT_TREE_VERSION),
  snapshots: z.array(snapshotSchema),
  /** The snapshot the current state descends from (null: no snapshot, or all deleted). */
  currentParentId: z.string().uuid().nullable(),
  /**
   * Set by restoring an online snapshot: the next start resumes the machine saved in this
   * state file (relative to the VM folder) instead of a cold boot; cleared once it runs.
   */
  resumeStateFile: z.string().min(1).nullable().default(null),
});
export type SnapshotTree = z.infer<typeof snapshotTreeSchema>;

export const emptyTree = (): SnapshotTree => ({ version: SNAPSHOT_TREE_VERSION, snapshots: [], currentParentId: null, resumeStateFile: null });

/**
 * Whether the current state descends from snapshot `id`. Deleting such a snapshot merges
 * layers of the chains a running machine has open (the host pauses the guest meanwhile);
 * another branch's snapshot is deleted without touching it. Used by the host and the UI.
 */
export function currentDescendsFrom(tree: Pick<SnapshotTree, 'snapshots' | 'currentParentId'>, id: string): boolean {
  const parent = new Map(tree.snapshots.map((s) => [s.id, s.parentId]));
  for (let at = tree.currentParentId, hops = 0; at && hops <= tree.snapshots.length; at = parent.get(at) ?? null, hops++) if (at === id) return true;
  return false;
}

/** The intent of one change: replayed (roll forward) if found on load and every file it names exists. */
export const snapshotJournalSchema = z.object({
  version: z.literal(SNAPSHOT_TREE_VERSION),
  operation: z.enum(['take', 'restore', 'delete', 'edit', 'start']),
  tree: snapshotTreeSchema,
  /** The new vm.json (null: vm.json does not change). */
  config: vmConfigSchema.nullable(),
  /** Files (relative to the VM folder) to delete once both files are written. */
  remove: z.array(z.string()),
});
export type SnapshotJournal = z.infer<typeof snapshotJournalSchema>;

/** What `snapshot.list` returns: the tree plus the current state's place in it. */
export interface SnapshotListResult {
  snapshots: Snapshot[];
  currentParentId: string | null;
  /** The next start resumes a saved machine (an online snapshot was restored) instead of a cold boot. */
  resumesSavedState: boolean;
  /** Why the tree cannot be used as is (a missing image or state file), if so. */
  problem?: string;
}

const vmId = z.string().uuid();
const snapshotId = z.string().uuid();

/** Host API methods (spread into protocol/host-api.ts hostRequestSchemas). */
export const snapshotRequestSchemas = {
  /** → SnapshotListResult */
  'snapshot.list': z.object({ id: vmId }),
  /** → Snapshot. Online (with machine state) when the VM runs; disks only when it is off. */
  'snapshot.take': z.object({ id: vmId, name: z.string().trim().max(128).optional(), description: z.string().max(10_000).optional() }),
  /** → Snapshot. Refused while the VM runs: power it off first. */
  'snapshot.restore': z.object({ id: vmId, snapshotId }),
  /** → null. Refused while the VM runs, and for a snapshot with more than one child (the current state counts). */
  'snapshot.delete': z.object({ id: vmId, snapshotId }),
  /** → Snapshot */
  'snapshot.edit': z.object({ id: vmId, snapshotId, name: z.string().trim().min(1).max(128).optional(), description: z.string().max(10_000).optional() }),
} as const;
export type SnapshotMethod = keyof typeof snapshotRequestSchemas;
export const isSnapshotMethod = (m: string): m is SnapshotMethod => Object.hasOwn(snapshotRequestSchemas, m);
