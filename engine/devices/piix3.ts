// PIIX3 PCI-to-ISA bridge, PCI 00:01.0, 8086:7000 (function 0 of the PIIX3; IDE is 01.1,
// and QEMU puts the PIIX4 PM function at 01.3). What matters to guests:
//  - PIRQ route control 0x60-0x63 (PIIX3 datasheet 2.2.10): PIRQA-D → ISA IRQ, bit 7 =
//    routing disabled, IRQ 0-2, 8 and 13 reserved. The PciBus asks us where each PIRQ goes.
//    (Level/edge per ISA IRQ is the ELCR at 0x4D0/0x4D1, which belongs to the 8259A model.)
//  - the reset control register at port 0xCF9: writing with RST (bit 2) set resets the system.
// Other registers (0x4C IORT, 0x4E XBCS, 0x69 TOM, 0x6A MSTAT, 0x70 MBIRQ, 0x80 APICBASE,
// 0xA0-0xB0 SMI control...) are plain storage with their power-on values.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { DeviceContext } from './device-context';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';

export const PIRQRC = 0x60;

const VALID_IRQS = 0b1101_1110_1111_1000; // 3-7, 9-12, 14, 15

export class Piix3 implements PciFunction, Snapshottable {
  readonly stateId = 'piix3';
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;
  /** Reset control register (0xCF9): only SYS_RST (bit 1) is remembered. */
  private rcr = 0;

  constructor(
    private readonly ctx: DeviceContext,
    private readonly bus: PciBus,
  ) {
    this.pci = new PciConfigSpace('piix3', {
      vendorId: 0x8086,
      deviceId: 0x7000,
      classCode: 0x060100, // ISA bridge
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
    });
    for (let i = 0x40; i < 0x100; i++) this.pci.setWritable(i, 1, 0xff);
    this.pci.set8(0x4c, 0x4d); // IORT
    this.pci.set8(0x4e, 0x03); // XBCS: RTC and keyboard decode
    for (let p = 0; p < 4; p++) this.pci.set8(PIRQRC + p, 0x80); // routing disabled at reset
    this.pci.set8(0x69, 0x02); // TOM
    this.pci.set8(0x70, 0x80); // MBIRQ0 disabled
    this.pci.set8(0x76, 0x0c);
    this.pci.set8(0x77, 0x0c);
    this.pci.set8(0x78, 0x02);
    this.pci.set8(0x79, 0x00);
    this.pci.set8(0xa0, 0x08);
    this.pci.set8(0xa8, 0x0f);
    this.pci.onWrite = (offset, size) => {
      if (offset < PIRQRC + 4 && offset + size > PIRQRC) this.bus.updateIntx();
    };
    bus.attach(1, 0, this);
    bus.pirqRouter = (p) => this.pirqRoute(p);
    ctx.io.register(0xcf9, 1, {
      read8: () => this.rcr,
      write8: (_p, v) => {
        this.rcr = v & 0x02;
        if (v & 0x04) this.ctx.events.emit('reset-request', { reason: `port 0xCF9 written with 0x${v.toString(16)}` });
      },
    });
  }

  /** The ISA IRQ PIRQ `pirq` (0=A..3=D) is routed to, or -1 when disabled or reserved. */
  pirqRoute(pirq: number): number {
    const v = this.pci.get8(PIRQRC + (pirq & 3));
    if (v & 0x80) return -1;
    const irq = v & 0x0f;
    return VALID_IRQS & (1 << irq) ? irq : -1;
  }

  reset(): void {
    this.rcr = 0;
    this.pci.reset();
  }

  saveState(): ComponentState {
    return { pci: this.pci.saveState(), rcr: this.rcr };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.pci.loadState(s.pci as ComponentState);
    this.rcr = s.rcr as number;
  }
}
