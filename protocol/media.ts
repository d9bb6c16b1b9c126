// The Media Manager's view of disk images and ISOs (VirtualBox's Virtual Media
// Manager): every medium the library knows — attached to a VM (vm.json) or registered
// in <home>/media.json — the requests that act on them, and the progress events of
// long operations (tasks). Pure schemas and helpers: no side effects, browser-safe.
import { z } from 'zod';

export const MEDIUM_KINDS = ['disk', 'iso'] as const;
export type MediumKind = (typeof MEDIUM_KINDS)[number];

/** Largest disk the Media Manager creates or grows to (2 TiB, qcow2 with 64 KiB clusters is fine). */
export const MEDIUM_SIZE_MAX = 2 * 2 ** 40;

export const mediumAttachmentSchema = z.object({
  vmId: z.string(),
  vmName: z.string(),
  /** Human slot name, e.g. "IDE primary master". */
  slot: z.string(),
  /** Whether that VM is running now (its disks cannot be resized, released or deleted). */
  running: z.boolean(),
});
export type MediumAttachment = z.infer<typeof mediumAttachmentSchema>;

export const mediumSchema = z.object({
  /** Absolute path: the medium's identity. */
  path: z.string(),
  /** File name, for display. */
  name: z.string(),
  kind: z.enum(MEDIUM_KINDS),
  /** raw, qcow2, iso, vdi, vmdk — or "unknown" when the file cannot be read. */
  format: z.string(),
  virtualSize: z.number(),
  /** Bytes allocated on the host file system. */
  actualSize: z.number(),
  attachedTo: z.array(mediumAttachmentSchema),
  /** Backing files (for snapshot layers), top image excluded. */
  chain: z.array(z.object({ path: z.string(), format: z.string() })),
  /** Listed in <home>/media.json (as opposed to only known through a VM's attachments). */
  registered: z.boolean(),
  /** Why the medium cannot be used (missing, unreadable, corrupt). */
  problem: z.string().optional(),
});
export type Medium = z.infer<typeof mediumSchema>;

const filePath = z.string().min(1, 'Enter a path.').max(4096);
const size = z.number().int().positive().max(MEDIUM_SIZE_MAX, 'At most 2 TiB.');
const targetFormat = z.enum(['raw', 'qcow2']);
const vmId = z.string().uuid();

/** Request params of the media methods (merged into hostRequestSchemas). */
export const mediaRequestSchemas = {
  'media.list': z.object({}),
  'media.add': z.object({ path: filePath, kind: z.enum(MEDIUM_KINDS).optional() }),
  /** A new disk at `path`, or `name` inside `folder` (default <home>/media); size in bytes. */
  'media.create': z.object({ path: filePath.optional(), name: z.string().min(1).max(255).optional(), folder: filePath.optional(), size, format: targetFormat }),
  'media.copy': z.object({ src: filePath, dst: filePath, format: targetFormat.optional() }),
  'media.resize': z.object({ path: filePath, newSize: size }),
  'media.convert': z.object({ src: filePath, dst: filePath, format: targetFormat }),
  'media.compact': z.object({ path: filePath }),
  'media.release': z.object({ path: filePath }),
  'media.remove': z.object({ path: filePath }),
  'media.delete': z.object({ path: filePath }),
  'task.list': z.object({}),
  'task.cancel': z.object({ taskId: z.string().min(1).max(64) }),
  /** Insert (path) or eject (null) the CD of a VM; applied live when it runs, recorded in vm.json. */
  'vm.changeMedium': z.object({ id: vmId, path: filePath.nullable() }),
} as const;

/** What a long operation reports (HostEvent `task.progress`, and `task.list`). */
export interface TaskProgress {
  taskId: string;
  label: string;
  /** 0..1 */
  fraction: number;
  done?: boolean;
  error?: string;
  cancelled?: boolean;
}

/** The reply of a method that started a task. */
export interface TaskStarted {
  taskId: string;
}

/** The reply of media.release. */
export interface ReleaseResult {
  released: string[];
  /** VMs that still use the medium because they are running. */
  stillAttached: string[];
}

/** "8G", "512M", "100K", "1.5T", "1048576" → bytes rounded up to 512 (binary units, as qemu-img); null if not a size. */
export function parseSizeText(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(s.trim());
  if (!m) return null;
  const mult = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return null;
  return Math.ceil(bytes / 512) * 512;
}

/** Bytes as the Media Manager shows them: "8.00 GiB", "512 MiB", "0 B". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(2)} ${units[u]}`;
}
