// What a Machine is built from. The host side (CLI, VM process) reads files and
// passes bytes and BlockDevices: the engine never touches the file system.
import type { BlockDevice } from '../storage/block-device';

export type FirmwareKind = 'builtin' | 'seabios';
export type BootDevice = 'floppy' | 'hd' | 'cdrom';

export interface FirmwareImages {
  /** The system BIOS (SeaBIOS bios.bin / bios-256k.bin): mapped below 4 GiB, its last 128 KiB at 0xE0000. */
  bios: Uint8Array;
  /** VGA option ROM (vgabios-stdvga.bin); offered to SeaBIOS as fw_cfg "vgaroms/vgabios-stdvga.bin". */
  vgaBios?: Uint8Array;
  /**
   * QEMU's linuxboot_dma.bin option ROM (package qemu-system-data, /usr/share/qemu):
   * SeaBIOS runs it to boot kernel/initrd/cmdline from fw_cfg (direct kernel boot).
   */
  linuxBoot?: Uint8Array;
}

export interface MachineConfig {
  memoryMiB: number;
  firmware: FirmwareKind;
  /** Required for firmware 'seabios'. */
  firmwareImages?: FirmwareImages;
  disks?: { fda?: BlockDevice; hda?: BlockDevice; hdb?: BlockDevice; cdrom?: BlockDevice };
  /** Boot device order; default: cdrom if present, then hd, then floppy. */
  bootOrder?: BootDevice[];
  /** Direct Linux boot (bzImage bytes, initrd bytes, command line). */
  kernel?: Uint8Array;
  initrd?: Uint8Array;
  cmdline?: string;
  /** Instruction-count time (reproducible runs) instead of wall-clock time. */
  deterministic?: boolean;
  /** Deterministic mode: virtual nanoseconds per instruction (default 10, a 100 MIPS guest). */
  nsPerInstruction?: number;
  /** Realtime mode: host clock in ms (default performance.now). */
  now?: () => number;
  /** RTC date at power-on, ms since the epoch (default: 2024-01-01T00:00:00Z when deterministic, else Date.now()). */
  startDateMs?: number;
  /** Chipset: 'pc' (i440FX + PIIX3 PCI, I/O APIC, local APIC: QEMU's pc) or 'isapc' (no PCI, no APICs). */
  chipset?: 'pc' | 'isapc';
  /** Number of 16550A UARTs (COM1.., default 2). */
  serialPorts?: number;
  /** Triple fault policy: reset the machine (default, as a PC does) or stop it. */
  onTripleFault?: 'reset' | 'stop';
  /** virtio-pci devices ('pc' chipset only): disks (vda, vdb, ...) and a console (serial-output port 100). */
  virtio?: { blk?: BlockDevice[]; console?: boolean };
}

export const DEFAULT_NS_PER_INSTRUCTION = 10;
export const DETERMINISTIC_START_DATE_MS = Date.UTC(2024, 0, 1);

/** The boot order the firmware sees when the config gives none. */
export function defaultBootOrder(config: MachineConfig): BootDevice[] {
  const d = config.disks ?? {};
  const order: BootDevice[] = [];
  if (d.cdrom) order.push('cdrom');
  if (d.hda) order.push('hd');
  if (d.fda) order.push('floppy');
  for (const b of ['hd', 'floppy', 'cdrom'] as BootDevice[]) if (!order.includes(b)) order.push(b);
  return order;
}

/** Floppy drive type (CMOS 0x10 nibble) for an image size. */
export function floppyType(size: number): number {
  if (size <= 368640) return 1; // 360K 5.25"
  if (size <= 737280) return 3; // 720K 3.5"
  if (size <= 1228800) return 2; // 1.2M 5.25"
  if (size <= 1474560) return 4; // 1.44M 3.5"
  return 5; // 2.88M
}

/** Classic BIOS CHS geometry for a disk size (16 heads, 63 sectors, capped at 16383 cylinders). */
export function diskGeometry(size: number): { cylinders: number; heads: number; sectors: number } {
  const total = Math.floor(size / 512);
  if (total < 63 * 16) {
    // Tiny images (a boot sector): one cylinder of one head.
    return { cylinders: 1, heads: 1, sectors: Math.max(1, Math.min(63, total)) };
  }
  const heads = 16;
  const sectors = 63;
  return { cylinders: Math.min(16383, Math.max(1, Math.floor(total / (heads * sectors)))), heads, sectors };
}

/**
 * Fill the CMOS bytes a PC BIOS reads (layout of QEMU's pc_cmos_init): base/extended
 * memory, equipment, floppy and disk types, boot order (0x3D/0x38), CPU count.
 */
export function fillCmos(cmos: Uint8Array, config: MachineConfig, ramBytes: number): void {
  const kib = (n: number) => Math.floor(n / 1024);
  cmos[0x15] = 640 & 0xff;
  cmos[0x16] = 640 >> 8;
  const ext = Math.min(0xffff, kib(Math.max(0, Math.min(ramBytes, 0xffffffff) - 0x100000)));
  cmos[0x17] = cmos[0x30] = ext & 0xff;
  cmos[0x18] = cmos[0x31] = ext >> 8;
  const above16 = ramBytes > 16 * 1024 * 1024 ? Math.min(0xffff, Math.floor((ramBytes - 16 * 1024 * 1024) / 65536)) : 0;
  cmos[0x34] = above16 & 0xff;
  cmos[0x35] = above16 >> 8;
  cmos[0x5b] = cmos[0x5c] = cmos[0x5d] = 0; // nothing above 4 GiB
  cmos[0x5f] = 0; // CPUs - 1

  const disks = config.disks ?? {};
  // Floppy: drive A type in the high nibble.
  cmos[0x10] = disks.fda ? floppyType(disks.fda.size) << 4 : 0;
  // Equipment: floppy present, FPU (bit 1), PS/2 mouse (bit 2), VGA (bits 5-4 = 0).
  cmos[0x14] = (disks.fda ? 0x01 : 0) | 0x02 | 0x04;
  // Hard disks 0 and 1: type 47 (user-defined) with geometry in 0x1B-0x23 / 0x24-0x2C.
  cmos[0x12] = (disks.hda ? 0xf0 : 0) | (disks.hdb ? 0x0f : 0);
  const hd = [disks.hda, disks.hdb];
  for (let i = 0; i < 2; i++) {
    const d = hd[i];
    if (!d) continue;
    cmos[0x19 + i] = 47;
    const g = diskGeometry(d.size);
    const b = 0x1b + i * 9;
    cmos[b] = g.cylinders & 0xff;
    cmos[b + 1] = g.cylinders >> 8;
    cmos[b + 2] = g.heads;
    cmos[b + 3] = 0xff;
    cmos[b + 4] = 0xff;
    cmos[b + 5] = 0xc0 | (g.heads > 8 ? 8 : 0);
    cmos[b + 6] = g.cylinders & 0xff;
    cmos[b + 7] = g.cylinders >> 8;
    cmos[b + 8] = g.sectors;
  }
  // Boot order as SeaBIOS reads it on QEMU: 0x3D low/high nibble = 1st/2nd, 0x38 bits 7-4 = 3rd
  // (1 floppy, 2 hard disk, 3 CD-ROM); 0x38 bit 0 clear = check the floppy boot signature.
  const code = { floppy: 1, hd: 2, cdrom: 3 } as const;
  const order = (config.bootOrder ?? defaultBootOrder(config)).map((b) => code[b]);
  cmos[0x3d] = (order[0] ?? 0) | ((order[1] ?? 0) << 4);
  cmos[0x38] = (order[2] ?? 0) << 4;
}
