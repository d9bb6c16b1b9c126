// PCI set-up at POST, as SeaBIOS does it on QEMU's `pc`: every BAR gets an address (I/O from
// 0xC000, memory from 0xE0000000 below the APIC/BIOS holes, largest first so alignment
// holds), decoding and bus mastering are enabled, the PIIX3 PIRQA-D lines are routed to
// ISA IRQs 10/10/11/11 (level-triggered in the ELCR) and each function's Interrupt Line is
// set to match; the PIIX4 PM function gets its I/O base; the PIIX IDE ports are decoded.
import type { PciBios } from './int1a-time-pci';

const IO_START = 0xc000;
const IO_END = 0x10000;
const MEM_START = 0xe0000000;
const MEM_END = 0xfec00000;
/** Last byte of the PCI memory window (the DSDT's _CRS): just below the I/O APIC. */
export const PCI_MEM_LIMIT = MEM_END - 1;
/** ISA IRQ for PIRQA..D. */
export const PIRQ_IRQS = [10, 10, 11, 11];

export interface PciInitResult {
  /** BAR0 of the first display controller (the Bochs VGA LFB), if any. */
  vgaLfb: number | null;
  devices: { bdf: number; vendor: number; device: number; cls: number }[];
}

export function pciInit(pci: PciBios, io: { in8(p: number): number; out8(p: number, v: number): void }, pmBase: number): PciInitResult {
  const fns = pci.functions();
  const devices = fns.map((bdf) => {
    const id = pci.read(bdf, 0, 4);
    return { bdf, vendor: id & 0xffff, device: id >>> 16, cls: pci.read(bdf, 8, 4) >>> 8 };
  });
  type Bar = { bdf: number; reg: number; size: number; io: boolean; is64: boolean };
  const bars: Bar[] = [];
  for (const d of devices) {
    const hdr = pci.read(d.bdf, 0x0e, 1) & 0x7f;
    if (hdr !== 0) continue; // bridges: none on the machines we build
    // Leave the command register off while sizing.
    pci.write(d.bdf, 0x04, 2, pci.read(d.bdf, 0x04, 2) & ~0x07);
    for (let i = 0; i < 6; i++) {
      const reg = 0x10 + 4 * i;
      const orig = pci.read(d.bdf, reg, 4);
      pci.write(d.bdf, reg, 4, 0xffffffff);
      const mask = pci.read(d.bdf, reg, 4);
      pci.write(d.bdf, reg, 4, orig);
      if (mask === 0 || mask === 0xffffffff) continue;
      const isIo = (mask & 1) === 1;
      const size = isIo ? (~(mask & 0xfffc) + 1) & 0xffff : (~(mask & 0xfffffff0) + 1) >>> 0;
      if (!size) continue;
      const is64 = !isIo && (mask & 0x6) === 0x4;
      bars.push({ bdf: d.bdf, reg, size, io: isIo, is64 });
      if (is64) i++;
    }
    // Expansion ROM BAR (sized, left disabled).
    pci.write(d.bdf, 0x30, 4, 0xfffff800);
    const rmask = pci.read(d.bdf, 0x30, 4);
    pci.write(d.bdf, 0x30, 4, 0);
    if (rmask & 0xfffff800) bars.push({ bdf: d.bdf, reg: 0x30, size: (~(rmask & 0xfffff800) + 1) >>> 0, io: false, is64: false });
  }
  bars.sort((a, b) => b.size - a.size);
  let ioNext = IO_START;
  let memNext = MEM_START;
  for (const bar of bars) {
    if (bar.io) {
      const base = align(ioNext, Math.max(bar.size, 4));
      if (base + bar.size > IO_END) continue;
      pci.write(bar.bdf, bar.reg, 4, base);
      ioNext = base + bar.size;
    } else {
      const base = align(memNext, Math.max(bar.size, 0x1000));
      if (base + bar.size > MEM_END) continue;
      pci.write(bar.bdf, bar.reg, 4, bar.reg === 0x30 ? base & ~1 : base);
      if (bar.is64) pci.write(bar.bdf, bar.reg + 4, 4, 0);
      memNext = base + bar.size;
    }
  }

  let elcr = 0;
  let vgaLfb: number | null = null;
  for (const d of devices) {
    const dev = d.bdf >> 3;
    if (d.vendor === 0x8086 && d.device === 0x7000) {
      // PIIX3 ISA bridge: PIRQ route control.
      for (let p = 0; p < 4; p++) pci.write(d.bdf, 0x60 + p, 1, PIRQ_IRQS[p]);
    }
    if (d.vendor === 0x8086 && d.device === 0x7010) {
      // PIIX3 IDE: enable decode of both legacy channels.
      pci.write(d.bdf, 0x40, 2, 0x8000);
      pci.write(d.bdf, 0x42, 2, 0x8000);
    }
    if (d.vendor === 0x8086 && d.device === 0x7113) {
      // PIIX4 PM: PMBA and PMIOSE.
      pci.write(d.bdf, 0x40, 4, pmBase | 1);
      pci.write(d.bdf, 0x80, 1, pci.read(d.bdf, 0x80, 1) | 1);
    }
    const pin = pci.read(d.bdf, 0x3d, 1);
    if (pin >= 1 && pin <= 4) {
      const irq = PIRQ_IRQS[(dev + pin - 2) & 3];
      pci.write(d.bdf, 0x3c, 1, irq);
      elcr |= 1 << irq;
    }
    // Enable decoding (and bus mastering) for whatever got resources.
    let cmd = pci.read(d.bdf, 0x04, 2);
    if (bars.some((b) => b.bdf === d.bdf && b.io)) cmd |= 1;
    if (bars.some((b) => b.bdf === d.bdf && !b.io && b.reg !== 0x30)) cmd |= 2;
    if ((d.cls >> 8) === 0x0101) cmd |= 1; // IDE legacy ports even without BARs
    if ((d.cls >> 16) === 0x03) cmd |= 3; // VGA legacy ranges
    cmd |= 4;
    pci.write(d.bdf, 0x04, 2, cmd);
    if (vgaLfb === null && d.cls >> 8 === 0x0300) {
      const bar0 = pci.read(d.bdf, 0x10, 4);
      if (!(bar0 & 1) && bar0 & ~0xf) vgaLfb = (bar0 & ~0xf) >>> 0;
    }
  }
  if (elcr) {
    io.out8(0x4d0, (io.in8(0x4d0) | elcr) & 0xff);
    io.out8(0x4d1, (io.in8(0x4d1) | (elcr >> 8)) & 0xff);
  }
  return { vgaLfb, devices };
}

function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
