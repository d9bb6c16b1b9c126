// vm.json: the versioned, on-disk description of one virtual machine. Validated
// whenever it is read (a corrupt or newer file makes that VM "Inaccessible", never
// crashes the library) and whenever a client asks to create or modify a VM.
import { z } from 'zod';

export const VM_CONFIG_VERSION = 1;

export const OS_TYPES = ['linux', 'linux-other', 'dos', 'windows-9x', 'windows-xp', 'bsd', 'memtest', 'other'] as const;
export const FIRMWARES = ['builtin', 'seabios'] as const;
export const BOOT_DEVICES = ['cdrom', 'disk', 'floppy'] as const;

export const MEMORY_MIB_MIN = 4;
export const MEMORY_MIB_MAX = 3584; // i686 without PAE: 4 GiB space minus the PCI hole
export const NAME_MAX = 64;

/** A VM name must work as a folder name on every host OS. */
export const vmNameSchema = z
  .string()
  .trim()
  .min(1, 'Enter a name for the virtual machine.')
  .max(NAME_MAX, `Names can be at most ${NAME_MAX} characters.`)
  .refine((s) => !/[\\/:*?"<>|\u0000-\u001f]/.test(s), 'Names cannot contain \\ / : * ? " < > | or control characters.')
  .refine((s) => s !== '.' && s !== '..' && !s.endsWith('.'), 'Names cannot be "." or "..", or end with a dot.');

export const storageAttachmentSchema = z.object({
  /** Where the medium is plugged in: IDE channel/device, virtio slot, floppy drive. */
  bus: z.enum(['ide', 'virtio', 'floppy']),
  /** IDE: 0..3 (primary master, primary slave, secondary master, secondary slave); virtio: 0..7; floppy: 0..1. */
  port: z.number().int().min(0).max(7),
  kind: z.enum(['disk', 'cdrom', 'floppy']),
  /** Image path: relative to the VM folder for its own disks, absolute for shared media. Empty CD drive: null. */
  path: z.string().min(1).nullable(),
  format: z.enum(['raw', 'qcow2', 'iso']).optional(),
});

export const vmConfigSchema = z.object({
  schemaVersion: z.literal(VM_CONFIG_VERSION),
  id: z.string().uuid(),
  name: vmNameSchema,
  osType: z.enum(OS_TYPES),
  memoryMiB: z.number().int().min(MEMORY_MIB_MIN).max(MEMORY_MIB_MAX),
  cpus: z.number().int().min(1).max(1), // the built-in engine emulates one CPU
  firmware: z.enum(FIRMWARES),
  bootOrder: z.array(z.enum(BOOT_DEVICES)).min(1).max(3),
  storage: z.array(storageAttachmentSchema).max(12),
  /** Direct kernel boot (like QEMU -kernel): paths and command line. */
  kernel: z
    .object({ path: z.string().min(1), initrd: z.string().min(1).optional(), cmdline: z.string().max(4096).default('') })
    .optional(),
  display: z.object({ vramMiB: z.number().int().min(1).max(64) }),
  serial: z.object({ enabled: z.boolean() }),
  notes: z.string().max(10_000).default(''),
  createdAt: z.string(),
});

export type VmConfig = z.infer<typeof vmConfigSchema>;
export type StorageAttachment = z.infer<typeof storageAttachmentSchema>;
export type OsType = (typeof OS_TYPES)[number];

/** What a client sends to create a VM; the library fills id, createdAt and defaults. */
export const vmCreateRequestSchema = vmConfigSchema
  .omit({ schemaVersion: true, id: true, createdAt: true })
  .partial({ firmware: true, bootOrder: true, storage: true, display: true, serial: true, notes: true, cpus: true })
  .extend({
    /** Create a new disk image in the VM folder. */
    newDisk: z.object({ sizeMiB: z.number().int().min(1).max(2 * 1024 * 1024), format: z.enum(['raw', 'qcow2']) }).optional(),
  });
export type VmCreateRequest = z.infer<typeof vmCreateRequestSchema>;

/** Fields a client may change after creation (subject to the VM's state). */
export const vmModifyRequestSchema = vmConfigSchema
  .pick({ name: true, osType: true, memoryMiB: true, firmware: true, bootOrder: true, storage: true, kernel: true, display: true, serial: true, notes: true })
  .partial();
export type VmModifyRequest = z.infer<typeof vmModifyRequestSchema>;

/** Settings that cannot change while the VM runs, with the reason shown to the user. */
export const LOCKED_WHILE_RUNNING: Partial<Record<keyof VmModifyRequest, string>> = {
  memoryMiB: 'Memory size is fixed while the machine is running. Power it off first.',
  firmware: 'Firmware is chosen at power-on. Power the machine off first.',
  bootOrder: 'Boot order applies at power-on. Power the machine off first.',
  kernel: 'Direct kernel boot applies at power-on. Power the machine off first.',
  display: 'Video memory is fixed while the machine is running. Power it off first.',
};

/** Per-OS defaults the New-VM wizard offers. */
export const OS_PRESETS: Record<OsType, { label: string; memoryMiB: number; diskMiB: number }> = {
  linux: { label: 'Linux (32-bit)', memoryMiB: 256, diskMiB: 8192 },
  'linux-other': { label: 'Linux, other / small distributions', memoryMiB: 128, diskMiB: 2048 },
  dos: { label: 'DOS / FreeDOS', memoryMiB: 32, diskMiB: 512 },
  'windows-9x': { label: 'Windows 95/98/ME', memoryMiB: 64, diskMiB: 2048 },
  'windows-xp': { label: 'Windows 2000/XP', memoryMiB: 512, diskMiB: 10240 },
  bsd: { label: 'BSD (32-bit)', memoryMiB: 256, diskMiB: 8192 },
  memtest: { label: 'Memtest86+', memoryMiB: 64, diskMiB: 0 },
  other: { label: 'Other / unknown', memoryMiB: 64, diskMiB: 1024 },
};
