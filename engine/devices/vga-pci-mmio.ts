// BAR2 of the PCI VGA: QEMU's 4 KiB "MMIO" window (hw/display/vga-pci.c), which Linux's
// bochs-drm prefers to I/O ports when the device revision is >= 2:
//   0x400-0x41F  the VGA ports 0x3C0-0x3DF (byte access)
//   0x500-0x515  the DISPI registers, 16-bit, index = (offset - 0x500) / 2
//   0x600-0x607  the "qext" block: 0x600 its size (8), 0x604 the framebuffer byte order
// Offsets 0x000-0x0FF would hold an EDID blob in QEMU; it reads as 0xFF here (no EDID:
// bochs-drm then offers its built-in mode list).
import { logGuestError } from '../common/log';
import type { MmioHandler } from '../machine/physical-memory';
import type { BochsDispi } from './vga-bochs-dispi';

export interface VgaMmioAccess {
  portRead(port: number): number;
  portWrite(port: number, value: number): void;
  dispi: BochsDispi;
}

/** QEMU's byte-order magic: little-endian framebuffer (0xbebebebe would ask for big-endian). */
const QEXT_LITTLE_ENDIAN = 0x1e1e1e1e;

export function makeQemuMmio(vga: VgaMmioAccess): MmioHandler {
  // DISPI accesses through MMIO carry their own index; keep the port interface's index intact.
  const dispiRead = (index: number): number => {
    const saved = vga.dispi.index;
    vga.dispi.index = index;
    const v = vga.dispi.readData();
    vga.dispi.index = saved;
    return v;
  };
  const dispiWrite = (index: number, value: number): void => {
    const saved = vga.dispi.index;
    vga.dispi.index = index;
    vga.dispi.writeData(value);
    vga.dispi.index = saved;
  };
  const qext = (o: number): number => (o === 0x600 ? 8 : o === 0x604 ? QEXT_LITTLE_ENDIAN : 0);
  const isVgaPort = (o: number) => o >= 0x400 && o < 0x420;
  const isDispi = (o: number) => o >= 0x500 && o < 0x516;

  const read8 = (o: number): number => {
    if (isVgaPort(o)) return vga.portRead(0x3c0 + (o - 0x400));
    if (isDispi(o)) {
      const word = dispiRead((o - 0x500) >> 1);
      return o & 1 ? word >> 8 : word & 0xff;
    }
    if (o >= 0x600 && o < 0x608) return (qext(o & ~3) >>> (8 * (o & 3))) & 0xff;
    return 0xff;
  };
  return {
    read8,
    write8: (o, v) => {
      if (isVgaPort(o)) vga.portWrite(0x3c0 + (o - 0x400), v);
      else logGuestError('vga', 'mmio-write8', `byte write to VGA MMIO offset 0x${o.toString(16)}`);
    },
    read16: (o) => {
      if (isDispi(o) && !(o & 1)) return dispiRead((o - 0x500) >> 1);
      return read8(o) | (read8(o + 1) << 8);
    },
    write16: (o, v) => {
      if (isDispi(o) && !(o & 1)) dispiWrite((o - 0x500) >> 1, v);
      else if (isVgaPort(o)) {
        vga.portWrite(0x3c0 + (o - 0x400), v & 0xff);
        vga.portWrite(0x3c0 + (o - 0x400) + 1, v >> 8);
      } else logGuestError('vga', 'mmio-write16', `word write to VGA MMIO offset 0x${o.toString(16)}`);
    },
    read32: (o) => {
      if (o === 0x600 || o === 0x604) return qext(o) | 0;
      return (read8(o) | (read8(o + 1) << 8) | (read8(o + 2) << 16) | (read8(o + 3) << 24)) | 0;
    },
    write32: (o, v) => {
      if (o === 0x604) {
        if (v >>> 0 !== QEXT_LITTLE_ENDIAN) logGuestError('vga', 'byteorder', 'guest asked for a big-endian framebuffer; staying little-endian');
      } else logGuestError('vga', 'mmio-write32', `dword write to VGA MMIO offset 0x${o.toString(16)}`);
    },
  };
}
