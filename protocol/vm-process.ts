// Messages between a VM process (one per running VM, runs the engine or a later
// QEMU/KVM backend) and the two peers that talk to it: the host (lifecycle) and a
// display (screen, input, serial). Both directions are validated on receipt — the
// VM process can crash or misbehave and a renderer is untrusted.
import { z } from 'zod';
import { vmConfigSchema } from './vm-config';

export const VM_PROCESS_PROTOCOL_VERSION = 1;

export const VM_RUN_STATES = ['starting', 'running', 'paused', 'saving', 'stopping', 'stopped', 'aborted'] as const;
export type VmRunState = (typeof VM_RUN_STATES)[number];

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (Uint8Array)');

// ---- To the VM process ----
export const toVmSchema = z.discriminatedUnion('type', [
  /** restoreStateFile: resume the machine saved in this BXWSTATE file (an online snapshot) instead of a cold boot. */
  z.object({ type: z.literal('boot'), protocol: z.literal(VM_PROCESS_PROTOCOL_VERSION), vmDir: z.string(), config: vmConfigSchema, restoreStateFile: z.string().min(1).optional() }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('reset') }),
  /** ACPI power button: the guest decides (like VirtualBox's "ACPI Shutdown"). */
  z.object({ type: z.literal('acpi-shutdown') }),
  /** Pull the plug. */
  z.object({ type: z.literal('power-off') }),
  /** PC/AT set-1 scan code bytes (with E0 prefixes) — what the i8042 would deliver. */
  z.object({ type: z.literal('key'), code: z.string().min(1).max(32), down: z.boolean() }),
  z.object({ type: z.literal('key-combo'), combo: z.enum(['ctrl-alt-del', 'ctrl-alt-backspace', 'ctrl-alt-f1', 'ctrl-alt-f2']) }),
  z.object({ type: z.literal('mouse'), dx: z.number().int().min(-4096).max(4096), dy: z.number().int().min(-4096).max(4096), dz: z.number().int().min(-16).max(16), buttons: z.number().int().min(0).max(7) }),
  z.object({ type: z.literal('serial-input'), port: z.number().int().min(0).max(3), data: bytes }),
  /** A display painted a frame (flow control: the VM process keeps at most two in flight). */
  z.object({ type: z.literal('frame-ack') }),
  /** Ask for a full frame (after attaching a display). */
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('screenshot') }),
  z.object({ type: z.literal('change-medium'), bus: z.enum(['ide', 'floppy']), port: z.number().int().min(0).max(3), path: z.string().nullable() }),
  // Snapshot of a running VM (host only; see electron/node/snapshots/snapshot-service.ts).
  // Each is answered by a 'reply' with the same requestId.
  /** Stop executing guest code, flush every disk, write the machine state to stateFile (absolute) when given. */
  z.object({ type: z.literal('snapshot-freeze'), requestId: z.number().int().nonnegative(), stateFile: z.string().min(1).nullable() }),
  /** While frozen: continue each listed writable disk ("<bus>-<port>") on a new image (absolute path, same contents), or reopen a released one. */
  z.object({ type: z.literal('snapshot-swap-disks'), requestId: z.number().int().nonnegative(), disks: z.array(z.object({ key: z.string().max(32), path: z.string().min(1) })).max(16) }),
  /**
   * While frozen: close the listed writable disks' images (deleting a snapshot: the host merges
   * layers of their chains); a snapshot-swap-disks with their paths reopens them before the thaw.
   */
  z.object({ type: z.literal('snapshot-release-disks'), requestId: z.number().int().nonnegative(), keys: z.array(z.string().max(32)).max(16) }),
  /** End the freeze: run again if the machine was running before it. */
  z.object({ type: z.literal('snapshot-thaw'), requestId: z.number().int().nonnegative() }),
]);
/** ToVm messages only the host may send (a display sending one is ignored). */
export const HOST_ONLY_TO_VM: ReadonlySet<string> = new Set(['boot', 'snapshot-freeze', 'snapshot-release-disks', 'snapshot-swap-disks', 'snapshot-thaw']);
export type ToVm = z.infer<typeof toVmSchema>;

// ---- From the VM process ----
export const fromVmSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('state'), state: z.enum(VM_RUN_STATES), reason: z.string().optional() }),
  z.object({ type: z.literal('display-mode'), mode: z.enum(['text', 'graphics']), width: z.number().int().min(1).max(4096), height: z.number().int().min(1).max(4096) }),
  /** A changed rectangle, RGBA pixels row by row. */
  z.object({ type: z.literal('frame'), x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1), rgba: bytes }),
  /** The VGA text screen (accessible text), sent when it changes. */
  z.object({ type: z.literal('text-screen'), text: z.string().max(64 * 1024) }),
  z.object({ type: z.literal('serial-output'), port: z.number().int().min(0).max(255), data: bytes }),
  z.object({ type: z.literal('stats'), mips: z.number().min(0), fps: z.number().min(0), instructions: z.number().min(0), uptimeMs: z.number().min(0) }),
  z.object({ type: z.literal('activity'), device: z.string().max(32), kind: z.enum(['read', 'write']) }),
  z.object({ type: z.literal('screenshot'), png: bytes }),
  /** A small PNG of the current screen for the VM list, sent every few seconds while it changes. */
  z.object({ type: z.literal('thumbnail'), png: bytes.refine((b) => b.length <= 256 * 1024, 'thumbnail too large') }),
  z.object({ type: z.literal('log'), level: z.enum(['debug', 'info', 'warn', 'error']), source: z.string().max(64), message: z.string().max(4096) }),
  /** A fatal error inside the VM process: the host shows the VM as Aborted with this text. */
  z.object({ type: z.literal('fatal'), message: z.string().max(16 * 1024) }),
  /** The answer to a request that carries a requestId (snapshot-*). */
  z.object({ type: z.literal('reply'), requestId: z.number().int().nonnegative(), ok: z.boolean(), error: z.string().max(4096).optional(), bytes: z.number().int().min(0).optional() }),
]);
export type FromVm = z.infer<typeof fromVmSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validate a message that crossed a process boundary; never throws. */
export function parseMessage<T>(schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `malformed message: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
}
