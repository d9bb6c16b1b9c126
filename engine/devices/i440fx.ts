// Intel 440FX host bridge (PMC), PCI 00:00.0, 8086:1237 — the part of QEMU's `pc` that
// firmware talks to for shadow RAM. PAM registers 0x59-0x5F (82441FX datasheet 3.2.18)
// split 0xC0000-0xFFFFF into 13 segments, each with RE (bit 0/4) and WE (bit 1/5).
// Our BIOS area is RAM-backed (the ROM image lives in RAM pages marked read-only), so a
// segment is writable exactly when WE is set: RE|WE lets SeaBIOS-style firmware copy
// ("shadow") and patch itself, RE alone write-protects it again. RE=0 WE=0 (PCI/ROM
// forwarding on real silicon) keeps the current contents read-only.
// The memory map is only changed when the guest writes a PAM register (or on loadState),
// so a machine whose built-in BIOS never touches PAM keeps the layout it set up.
// SMRAM (0x72) is stored but benign: there is no SMM.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { DeviceContext } from './device-context';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';

export const PAM0 = 0x59;
export const SMRAM = 0x72;

export class I440fx implements PciFunction, Snapshottable {
  readonly stateId = 'i440fx';
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;

  constructor(
    private readonly ctx: DeviceContext,
    bus: PciBus,
  ) {
    this.pci = new PciConfigSpace('i440fx', {
      vendorId: 0x8086,
      deviceId: 0x1237,
      revision: 0x02,
      classCode: 0x060000, // host bridge
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
    });
    // Chipset registers 0x50-0x7F (PMCCFG, DRB, FDHC, PAM, SMRAM...) are plain read/write storage.
    for (let i = 0x50; i < 0x80; i++) this.pci.setWritable(i, 1, 0xff);
    this.pci.set8(SMRAM, 0x02); // C_BASE_SEG = 010b: SMRAM at 0xA0000 (power-on default)
    this.pci.setWritable(SMRAM, 1, 0x78); // D_OPEN, D_CLS, D_LCK, G_SMRAME; the segment bits are fixed
    this.pci.onWrite = (offset, size) => {
      if (offset < PAM0 + 7 && offset + size > PAM0) this.applyPam();
    };
    bus.attach(0, 0, this);
  }

  /** Base and size of the two segments a PAM register controls (PAM0: only the high nibble). */
  private static segments(reg: number): [number, number, number, number] {
    if (reg === 0) return [-1, 0, 0xf0000, 0x10000];
    const base = 0xc0000 + (reg - 1) * 0x8000;
    return [base, 0x4000, base + 0x4000, 0x4000];
  }

  /** Push every PAM segment's write-enable state into the memory map. */
  applyPam(): void {
    for (let reg = 0; reg < 7; reg++) {
      const v = this.pci.get8(PAM0 + reg);
      const [lo, loSize, hi, hiSize] = I440fx.segments(reg);
      if (lo >= 0) this.ctx.mem.setReadOnly(lo, loSize, (v & 0x02) === 0);
      this.ctx.mem.setReadOnly(hi, hiSize, (v & 0x20) === 0);
    }
  }

  reset(): void {
    this.pci.reset();
  }

  saveState(): ComponentState {
    return { pci: this.pci.saveState() };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.pci.loadState(s.pci as ComponentState);
    // The memory snapshot restores page kinds itself; re-applying keeps them consistent with PAM.
    if ([0, 1, 2, 3, 4, 5, 6].some((r) => this.pci.get8(PAM0 + r) !== 0)) this.applyPam();
  }
}
