// Requests from a UI (Electron renderer over IPC, or a browser over WebSocket) to
// the host services, their replies, and the events the host pushes. One schema,
// validated identically on both transports.
import { z } from 'zod';
import { vmCreateRequestSchema, vmModifyRequestSchema, vmConfigSchema } from './vm-config';
import { VM_RUN_STATES } from './vm-process';
import { mediaRequestSchemas, type TaskProgress } from './media';
import { snapshotRequestSchemas } from './snapshots';
import { cloneRequestSchemas } from './clone';

export const HOST_API_VERSION = 1;

const vmId = z.string().uuid();

/** Every call a UI can make: method name → params schema. */
export const hostRequestSchemas = {
  'host.info': z.object({}),
  'vm.list': z.object({}),
  'vm.get': z.object({ id: vmId }),
  'vm.create': vmCreateRequestSchema,
  'vm.modify': z.object({ id: vmId, changes: vmModifyRequestSchema }),
  'vm.delete': z.object({ id: vmId, deleteFiles: z.boolean() }),
  'vm.add': z.object({ folder: z.string().min(1) }),
  'vm.start': z.object({ id: vmId }),
  'vm.pause': z.object({ id: vmId }),
  'vm.resume': z.object({ id: vmId }),
  'vm.reset': z.object({ id: vmId }),
  'vm.acpiShutdown': z.object({ id: vmId }),
  'vm.powerOff': z.object({ id: vmId }),
  /** Hand the caller a display channel to the VM process (MessagePort in Electron, a WebSocket path in browser mode). */
  'vm.attachDisplay': z.object({ id: vmId }),
  'vm.log': z.object({ id: vmId }),
  'fs.checkPath': z.object({ path: z.string().min(1).max(4096) }),
  /** Media Manager (protocol/media.ts): media.*, task.list, task.cancel, vm.changeMedium. */
  ...mediaRequestSchemas,
  /** Snapshots (protocol/snapshots.ts): snapshot.list|take|restore|delete|edit. */
  ...snapshotRequestSchemas,
  /** Clones (protocol/clone.ts): vm.clone, snapshot.thumbnail. */
  ...cloneRequestSchemas,
} as const;

export type HostMethod = keyof typeof hostRequestSchemas;
export type HostParams<M extends HostMethod> = z.infer<(typeof hostRequestSchemas)[M]>;

export const hostRequestEnvelope = z.object({
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown(),
});

export const vmRunStateSchema = z.enum([...VM_RUN_STATES, 'inaccessible'] as const);

/** How the library presents one VM to the UI. */
export const vmSummarySchema = z.object({
  id: z.string(),
  folder: z.string(),
  state: vmRunStateSchema,
  /** Set when state is inaccessible (corrupt or newer vm.json) or aborted. */
  problem: z.string().optional(),
  config: vmConfigSchema.optional(),
  /** PNG data URL of the last screen, when one was captured. */
  thumbnail: z.string().optional(),
  /** Number of snapshots, and the name of the one the current state descends from. */
  snapshotCount: z.number().int().min(0).optional(),
  currentSnapshot: z.string().optional(),
});
export type VmSummary = z.infer<typeof vmSummarySchema>;

export const hostInfoSchema = z.object({
  cpuModel: z.string(),
  cpuCount: z.number(),
  memoryMiB: z.number(),
  /** Hardware virtualization flags from /proc/cpuinfo. */
  vmx: z.boolean(),
  svm: z.boolean(),
  /** Can this user open /dev/kvm read-write? */
  kvmAccess: z.boolean(),
  kvmProblem: z.string().optional(),
  qemuPath: z.string().nullable(),
  electron: z.boolean(),
  homeDir: z.string(),
});
export type HostInfo = z.infer<typeof hostInfoSchema>;

export type HostReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Events pushed to every UI. */
export type HostEvent =
  | { event: 'vm.changed'; vm: VmSummary }
  | { event: 'vm.removed'; id: string }
  | ({ event: 'task.progress' } & TaskProgress);
