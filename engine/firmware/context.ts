// What the BIOS service modules share: the machine's buses, the configuration the machine
// passes in, and the BIOS's own run-time state. bios.ts implements it; the INT modules only
// see this interface, so each can be read and tested on its own.
import type { PhysicalMemory } from '../machine/physical-memory';
import type { IoBus } from '../machine/io-bus';
import type { Clock } from '../machine/clock';
import type { BlockDevice } from '../storage/block-device';
import type { Guest } from './guest';
import type { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';

export type BootDevice = 'cd' | 'hd' | 'floppy';

export interface BiosConfig {
  mem: PhysicalMemory;
  io: IoBus;
  clock: Clock;
  /** Guest RAM in bytes (default mem.ramSize). */
  memoryBytes?: number;
  /** Floppy images: drive 0x00, 0x01. A 512-byte image is a 1.44 MB floppy with one sector. */
  floppies?: BlockDevice[];
  /** Hard disks: drive 0x80, 0x81, ... */
  disks?: BlockDevice[];
  /** CD-ROM image (2048-byte sectors); booted through El Torito. */
  cdrom?: BlockDevice | null;
  /** Default ['cd', 'hd', 'floppy']. */
  bootOrder?: BootDevice[];
  /** Boot-menu window in virtual milliseconds (F12 or Esc); 0 disables it. Default 500. */
  bootMenuMs?: number;
  /** Linux direct kernel boot (bzImage, boot protocol >= 2.02): skips the boot devices. */
  kernel?: Uint8Array | null;
  initrd?: Uint8Array | null;
  cmdline?: string;
  /** I/O bases of the UARTs present (BDA 0x400). Default [0x3F8]. */
  serialPorts?: number[];
  /** Bochs VBE: video memory size; LFB address when there is no PCI VGA to take it from. */
  vga?: {
    vramBytes: number;
    lfbAddress?: number;
    /** Text the BIOS drew in a graphics mode, so screen readers (tests) can see it. */
    onGraphicsText?: (col: number, row: number, ch: number, attr: number) => void;
    /** The BIOS scrolled text rows top..bottom of a graphics screen (lines > 0 up, < 0 down, 0 clear): Vga.shadowScroll. */
    onGraphicsScroll?: (lines: number, top: number, bottom: number) => void;
    /**
     * The whole text grid the BIOS drew in the current graphics mode (CP437 mapped to
     * Unicode), after every change including scrolling; null after a mode set. Wire it to
     * Vga.setShadowText.
     */
    graphicsText?: (rows: string[] | null) => void;
  } | null;
  /** A PCI host bridge answers at 0xCF8/0xCFC: the BIOS enumerates and assigns BARs, IRQs. */
  pci?: boolean;
  /** Local APIC present (MADT, MP processor entry). */
  lapic?: boolean;
  /** I/O APIC present: MP table and MADT entries. IRQ0 is wired to pin 2 (QEMU layout). */
  ioapic?: { address: number; id: number; pins: number } | null;
  /** HPET present (ACPI HPET table). */
  hpet?: { address: number } | null;
  /** Build ACPI tables (RSDP, RSDT, FADT, FACS, MADT, DSDT). Default true. */
  acpi?: boolean;
  /** PM I/O base the firmware programs into the PIIX4 PM function (default 0x600). */
  pmBase?: number;
  /** SLP_TYP value that means S5 on the PM device (PIIX4: 0). */
  s5SlpTyp?: number;
  /** The machine's events: INT 13h transfers emit 'storage-activity' so the UI's disk LED blinks. */
  events?: Emitter<MachineEvents> | null;
  /**
   * Device names for those events, the ones the disk controllers use for the same drives
   * (defaults: floppies fd0/fd1; disks ide0-0, ide0-1, the IDE primary channel; CD ide1-0).
   */
  storageNames?: { floppies?: string[]; disks?: string[]; cdrom?: string };
}

/** The BIOS's run-time state and services, as the INT modules use them. */
export interface BiosCtx {
  readonly cfg: BiosConfig;
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  readonly clock: Clock;
  /** RAM size in bytes. */
  readonly ramBytes: number;
  /** F000 offset of vector v's wait loop (for handlers that idle until an interrupt). */
  waitOffset(v: number): number;
  /** F000 offset of a ROM label (rom-image.ts), e.g. 'menu_wait', 'boot_fail', 'halt_loop'. */
  romOffset(label: string): number;
  /** Set the caller's EIP (same CS) — used with waitOffset. */
  setEip(g: Guest, off: number): void;
  /** Print a BIOS message on the screen (teletype) and the debug log. */
  print(text: string): void;
  log(message: string): void;
}
