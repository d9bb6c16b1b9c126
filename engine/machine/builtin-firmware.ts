// Adapter between the Machine and the built-in BIOS (engine/firmware/bios.ts): builds its
// configuration from the machine's devices and config, installs its ROM, and collects the
// text it draws in graphics modes so the VGA's getTextScreen() sees it.
import type { Snapshottable } from '../common/snapshot';
import type { BlockDevice } from '../storage/block-device';
import { BuiltinBios, type BootDevice as BiosBootDevice } from '../firmware/bios';
import { IOAPIC_BASE, IOAPIC_PINS } from '../devices/ioapic';
import { HPET_BASE } from '../devices/hpet';
import { PM_DEFAULT_BASE } from '../devices/acpi-pm';
import { COM_PORTS } from '../devices/uart';
import { defaultBootOrder } from './machine-config';
import type { Machine } from './machine';

export interface BuiltinFirmware extends Snapshottable {
  hypercall(n: number): void;
  reset(): void;
}

export function installBuiltinFirmware(machine: Machine): BuiltinFirmware {
  const config = machine.config;
  const disks = config.disks ?? {};
  const map = { floppy: 'floppy', hd: 'hd', cdrom: 'cd' } as const;
  const bootOrder: BiosBootDevice[] = (config.bootOrder ?? defaultBootOrder(config)).map((b) => map[b]);
  // Text drawn by INT 10h in graphics modes goes to the VGA's shadow text (and scrolls
  // with it), so getTextScreen() reads it like a text mode; the VGA saves it with its
  // state and clears it on mode changes.
  const onGraphicsText = (col: number, row: number, ch: number) => machine.vga.shadowPutChar(col, row, ch);
  const onGraphicsScroll = (lines: number, top: number, bottom: number) => machine.vga.shadowScroll(lines, top, bottom);
  const bios = new BuiltinBios({
    mem: machine.mem,
    io: machine.io,
    clock: machine.clock,
    memoryBytes: machine.mem.ramSize,
    floppies: disks.fda ? [disks.fda] : [],
    disks: [disks.hda, disks.hdb].filter((d): d is BlockDevice => !!d),
    cdrom: disks.cdrom ?? null,
    bootOrder,
    kernel: config.kernel ?? null,
    initrd: config.initrd ?? null,
    cmdline: config.cmdline ?? '',
    serialPorts: machine.uarts.map((u) => COM_PORTS[u.index].base),
    vga: {
      vramBytes: machine.vga.vramSize,
      lfbAddress: machine.pci ? undefined : machine.vga.linearFramebufferBase ?? undefined,
      onGraphicsText,
      onGraphicsScroll,
    },
    // INT 13h disk activity lights the UI's disk LEDs under the IDE's drive names.
    events: machine.events,
    storageNames: { disks: [disks.hda && 'ide0-0', disks.hdb && 'ide0-1'].filter((n): n is string => !!n) },
    pci: !!machine.pci,
    lapic: !!machine.lapic,
    ioapic: machine.ioapic ? { address: IOAPIC_BASE, id: 0, pins: IOAPIC_PINS } : null,
    hpet: machine.hpet ? { address: HPET_BASE } : null,
    acpi: !!machine.acpiPm,
    pmBase: PM_DEFAULT_BASE,
    s5SlpTyp: 0,
  });
  bios.install(machine.cpu);
  return {
    stateId: bios.stateId,
    stateVersion: bios.stateVersion,
    saveState: () => bios.saveState(),
    loadState: (s, v) => bios.loadState(s, v),
    hypercall: (n) => bios.hypercall(n),
    reset: () => bios.reset(),
  };
}
