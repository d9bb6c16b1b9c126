// Cloning a VM (VirtualBox's "Clone…"): a full clone copies every disk's current
// state (its whole backing chain, flattened) into a new independent VM; a linked clone
// of a snapshot gets new qcow2 overlays whose backing files are that snapshot's frozen
// images in the source VM (so that snapshot cannot be deleted while the clone exists).
// Also the snapshot thumbnail fetch for the snapshot tree. Merged into hostRequestSchemas.
import { z } from 'zod';
import { vmNameSchema } from './vm-config';

export const CLONE_MODES = ['full', 'linked'] as const;
export type CloneMode = (typeof CLONE_MODES)[number];

const vmId = z.string().uuid();

export const cloneRequestSchemas = {
  /**
   * → CloneStarted. The copy runs as a task (`task.progress` events, `task.cancel`);
   * once it is done a `vm.changed` event announces the new VM. `snapshotId`: clone the
   * machine as it was in that snapshot (required for a linked clone).
   */
  'vm.clone': z.object({ id: vmId, name: vmNameSchema, mode: z.enum(CLONE_MODES), snapshotId: z.string().uuid().optional() }),
  /** → PNG data URL of a snapshot's screen, or null when it has none. */
  'snapshot.thumbnail': z.object({ id: vmId, snapshotId: z.string().uuid() }),
} as const;

export type CloneMethod = keyof typeof cloneRequestSchemas;
export const isCloneMethod = (m: string): m is CloneMethod => Object.hasOwn(cloneRequestSchemas, m);

export interface CloneStarted {
  taskId: string;
  /** The new machine's id (it appears in the library when the task is done). */
  vmId: string;
}
