// PIIX4 power management function (PCI 00:01.3, 8086:7113 rev 3), as QEMU's `pc` has it:
// the ACPI fixed-hardware registers at the PM I/O base (PMBA, config 0x40, enabled by
// PMREGMISC bit 0 at config 0x80; firmware puts it at 0x600):
//   +0x00 PM1a_STS (W1C)  +0x02 PM1a_EN  +0x04 PM1a_CNT  +0x08 PM_TMR (24-bit, 3.579545 MHz)
// and the System Control Interrupt on ISA IRQ 9 (hard-wired, not a PCI INTx).
// Sleep: writing SLP_EN with SLP_TYP = 0 is soft-off (S5) on QEMU's PIIX4 (its DSDT's _S5
// is {0, 0}); the firmware's DSDT must declare the same. SLP_TYP 2 (QEMU's S4 value) also
// powers off, SLP_TYP 1 (S3) is not supported and is ignored with a log line.
// APM control port 0xB2 (the FADT's SMI_CMD on QEMU): writing ACPI_ENABLE (0xF1) sets SCI_EN,
// ACPI_DISABLE (0xF0) clears it — what an OS does to take over from "legacy" mode; 0xB3 is
// the APM status scratch register. There is no SMM, so other values do nothing.
// SMBus (config 0x90, 0xD2) is not implemented: the registers are plain storage.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { TimedDevice } from '../machine/clock';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';

export const PM_TIMER_HZ = 3_579_545;
export const PM_DEFAULT_BASE = 0x600;
export const SCI_IRQ = 9;
const PM_IO_SIZE = 64;

// PM1 status/enable bits (ACPI 6.x, 4.8.3.1).
const TMR = 1 << 0;
const GBL = 1 << 5;
const PWRBTN = 1 << 8;
const RTC = 1 << 10;
const WAK = 1 << 15;
const SCI_EN = 1 << 0;
const SLP_EN = 1 << 13;
export const APM_CNT_PORT = 0xb2;
export const ACPI_ENABLE = 0xf1;
export const ACPI_DISABLE = 0xf0;

/** Bit 23 of the PM timer toggles every 2^23 ticks: that sets TMR_STS. */
const TMR_PERIOD_TICKS = 1 << 23;

export class AcpiPm implements PciFunction, TimedDevice, Snapshottable {
  readonly stateId = 'acpi-pm';
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;

  private sts = 0;
  private en = 0;
  /**
   * PM1a_CNT. SCI_EN starts set: our FADT has SMI_CMD = 0, which tells the OS the machine is
   * always in ACPI mode (ACPI 6.x 4.8.2.5). An OS following a SeaBIOS FADT (SMI_CMD 0xB2) then
   * sees "already enabled", which is equally valid.
   */
  private cnt = SCI_EN;
  /** GPIO / misc registers at +0x0C..+0x3F: stored so probing reads back what it wrote. */
  private readonly misc = new Uint8Array(PM_IO_SIZE);
  private mappedBase = -1;
  /** Index of the last 2^23-tick period for which TMR_STS has been set. */
  private lastTmrPeriod = 0;
  private sciLevel = false;
  private apmStatus = 0;

  constructor(
    private readonly ctx: DeviceContext,
    bus: PciBus,
    opts: { dev?: number; fn?: number; base?: number } = {},
  ) {
    this.pci = new PciConfigSpace('piix4-pm', {
      vendorId: 0x8086,
      deviceId: 0x7113,
      revision: 0x03,
      classCode: 0x068000, // bridge, other
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      interruptPin: 1,
    });
    for (let i = 0x40; i < 0x100; i++) this.pci.setWritable(i, 1, 0xff);
    this.pci.setWritable(0x40, 4, 0x0000ffc0); // PMBA: 64-byte aligned I/O base, bit 0 reads 1
    this.pci.set32(0x40, 0x01);
    this.pci.setWritable(0x90, 4, 0x0000fff0); // SMBBA
    this.pci.set32(0x90, 0x01);
    // What SeaBIOS leaves behind (and what the FADT must describe): PMBA at 0x600, I/O enabled, SCI = IRQ 9.
    const base = opts.base ?? PM_DEFAULT_BASE;
    this.pci.set32(0x40, base | 1);
    this.pci.set8(0x80, 0x01);
    this.pci.set8(0x3c, SCI_IRQ);
    // DEVACTB (0x58) bit 25 APMC_EN: "SMI on APM port writes already set up". There is no SMM, and
    // with this bit set SeaBIOS skips raising an SMI through 0xB2 and waiting for a handler on 0xB3.
    this.pci.set32(0x58, 1 << 25);
    this.pci.onWrite = (offset, size) => {
      if ((offset < 0x44 && offset + size > 0x40) || (offset <= 0x80 && offset + size > 0x80)) this.updateMapping();
    };
    bus.attach(opts.dev ?? 1, opts.fn ?? 3, this);
    ctx.io.register(APM_CNT_PORT, 2, {
      read8: (p) => (p === APM_CNT_PORT ? 0 : this.apmStatus),
      write8: (p, v) => {
        if (p !== APM_CNT_PORT) {
          this.apmStatus = v;
          return;
        }
        if (v === ACPI_ENABLE) this.cnt |= SCI_EN;
        else if (v === ACPI_DISABLE) this.cnt &= ~SCI_EN;
      },
    });
    this.updateMapping();
    this.lastTmrPeriod = Math.floor(this.ticks(ctx.clock.nowNs()) / TMR_PERIOD_TICKS);
  }

  /** PM timer ticks since power-on, from the virtual clock (never the host's). */
  private ticks(ns: number): number {
    return Math.floor(ns * (PM_TIMER_HZ / 1e9));
  }

  /** Current PM timer register value (24 bits). */
  timerValue(): number {
    return this.ticks(this.ctx.clock.nowNs()) & 0xffffff;
  }

  private updateMapping(): void {
    const enabled = (this.pci.get8(0x80) & 1) !== 0;
    const base = enabled ? this.pci.get32(0x40) & 0xffc0 : -1;
    if (base === this.mappedBase) return;
    if (this.mappedBase >= 0) this.ctx.io.unregister(this.mappedBase, PM_IO_SIZE);
    this.mappedBase = base;
    if (base <= 0) {
      this.mappedBase = -1;
      return;
    }
    this.ctx.io.register(base, PM_IO_SIZE, {
      read8: (p) => this.read(p - base, 1),
      read16: (p) => this.read(p - base, 2),
      read32: (p) => this.read(p - base, 4),
      write8: (p, v) => this.write(p - base, 1, v),
      write16: (p, v) => this.write(p - base, 2, v),
      write32: (p, v) => this.write(p - base, 4, v),
    });
  }

  private reg16(off: number): number {
    if (off < 2) return this.sts;
    if (off < 4) return this.en;
    if (off < 6) return this.cnt & ~SLP_EN; // SLP_EN is write-only
    return 0;
  }

  private read(off: number, size: number): number {
    if (off >= 8 && off < 12) {
      // PM_TMR: a 32-bit register whose top byte reads 0 (TMR_VAL_EXT clear in the FADT: 24-bit timer).
      return (this.timerValue() >>> (8 * (off - 8))) & (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1);
    }
    if (off < 6) {
      let v = 0;
      for (let i = 0; i < size; i++) {
        const o = off + i;
        v |= ((o < 6 ? this.reg16(o & ~1) >>> (8 * (o & 1)) : 0) & 0xff) << (8 * i);
      }
      return v >>> 0;
    }
    let v = 0;
    for (let i = 0; i < size && off + i < PM_IO_SIZE; i++) v |= this.misc[off + i] << (8 * i);
    return v >>> 0;
  }

  private write(off: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const b = (value >>> (8 * i)) & 0xff;
      const shift = 8 * (o & 1);
      if (o < 2) this.sts &= ~(b << shift); // write-one-to-clear
      else if (o < 4) this.en = (this.en & ~(0xff << shift)) | ((b << shift) & (TMR | GBL | PWRBTN | RTC));
      else if (o < 6) this.cnt = (this.cnt & ~(0xff << shift)) | (b << shift);
      else if (o >= 8 && o < 12) continue; // PM_TMR is read-only
      else if (o < PM_IO_SIZE) this.misc[o] = b;
    }
    if (off < 6 && off + size > 4 && this.cnt & SLP_EN) this.sleep();
    this.updateSci();
  }

  private sleep(): void {
    const typ = (this.cnt >>> 10) & 7;
    this.cnt &= ~SLP_EN;
    if (typ === 0 || typ === 2) {
      this.ctx.events.emit('power-off', { reason: `ACPI S${typ === 0 ? 5 : 4} (PM1a_CNT SLP_TYP=${typ})` });
      this.ctx.requestYield();
      return;
    }
    logGuestError('acpi-pm', `slp${typ}`, `ACPI sleep type ${typ} requested: only soft-off (S5, SLP_TYP 0) is supported`);
  }

  /** The host's "ACPI shutdown" button: PWRBTN_STS, SCI when the OS enabled it. */
  pressPowerButton(): void {
    this.sts |= PWRBTN;
    this.updateSci();
  }

  private updateSci(): void {
    const level = (this.sts & this.en & (TMR | GBL | PWRBTN | RTC)) !== 0;
    if (level === this.sciLevel) return;
    this.sciLevel = level;
    const line = this.ctx.isaIrq(SCI_IRQ);
    if (level) line.raise();
    else line.lower();
  }

  advance(nowNs: number): number {
    const t = this.ticks(nowNs);
    const period = Math.floor(t / TMR_PERIOD_TICKS);
    if (period > this.lastTmrPeriod) {
      this.lastTmrPeriod = period;
      this.sts |= TMR;
      this.updateSci();
    }
    // Only wake the machine for the bit-23 carry when the OS asked for the interrupt.
    if (!(this.en & TMR)) return Infinity;
    return Math.ceil(((period + 1) * TMR_PERIOD_TICKS) / (PM_TIMER_HZ / 1e9));
  }

  reset(): void {
    this.sts = 0;
    this.en = 0;
    this.cnt = SCI_EN;
    this.misc.fill(0);
    this.apmStatus = 0;
    this.updateSci();
    this.pci.reset();
    this.updateMapping();
  }

  saveState(): ComponentState {
    return {
      pci: this.pci.saveState(), sts: this.sts, en: this.en, cnt: this.cnt, misc: this.misc.slice(),
      lastTmrPeriod: this.lastTmrPeriod, sci: this.sciLevel, apmStatus: this.apmStatus,
    };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.pci.loadState(s.pci as ComponentState);
    this.sts = s.sts as number;
    this.en = s.en as number;
    this.cnt = s.cnt as number;
    this.misc.set(s.misc as Uint8Array);
    this.lastTmrPeriod = s.lastTmrPeriod as number;
    this.sciLevel = s.sci as boolean;
    this.apmStatus = s.apmStatus as number;
    this.updateMapping();
  }
}
