// I/O APIC (82093AA datasheet; version 0x20 like QEMU's, which adds the EOI register at
// 0x40). 24 input pins, memory-mapped at 0xFEC00000 with the indirect IOREGSEL (0x00) /
// IOWIN (0x10) window. Pins are GSIs: the machine wires ISA IRQ n to pin n (IRQ0 → pin 2,
// matching the MADT interrupt source override QEMU publishes) and PCI PIRQA-D to 16-19.
// Edge pins latch a rising edge in IRR and deliver once unmasked; level pins deliver while
// asserted and set Remote IRR until the local APIC broadcasts the EOI of that vector.
// Polarity (bit 13) only tells the chip how the wire is driven; our IrqLines carry the
// logical assertion already, so it does not invert anything.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { IrqLine } from '../machine/interrupts';
import type { MmioHandler } from '../machine/physical-memory';
import type { LocalApic } from './apic';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;
const VERSION = 0x20;

const RTE_MASKED = 1 << 16;
const RTE_LEVEL = 1 << 15;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_DELIVERY_STATUS = 1 << 12;

export class IoApic implements Snapshottable {
  readonly stateId = 'ioapic';
  readonly stateVersion = 1;

  private id = 0;
  private regsel = 0;
  /** Redirection table: low and high dwords per pin. */
  private readonly rteLo = new Uint32Array(IOAPIC_PINS);
  private readonly rteHi = new Uint32Array(IOAPIC_PINS);
  /** Current input levels and latched edges. */
  private levels = 0;
  private irr = 0;
  private readonly lines: IrqLine[] = [];
  readonly mmio: MmioHandler;

  constructor(
    ctx: DeviceContext,
    private readonly lapic: LocalApic,
    base = IOAPIC_BASE,
  ) {
    lapic.onLevelEoi = (v) => this.eoi(v);
    for (let i = 0; i < IOAPIC_PINS; i++) {
      const pin = i;
      this.lines.push({ raise: () => this.setLevel(pin, true), lower: () => this.setLevel(pin, false) });
    }
    this.mmio = {
      read8: (o) => (this.read32(o & ~3) >>> (8 * (o & 3))) & 0xff,
      write8: (o, v) => {
        // Byte access to IOREGSEL is common (Linux uses 32-bit, but firmware may not).
        if (o === 0) this.regsel = v;
        else logGuestError('ioapic', 'w8', `byte write to I/O APIC offset 0x${o.toString(16)} ignored`);
      },
      read32: (o) => this.read32(o),
      write32: (o, v) => this.write32(o, v),
    };
    ctx.mem.mapMmio(base, 0x1000, this.mmio);
    this.reset();
  }

  /** GSI input `n` as an IrqLine. */
  pin(n: number): IrqLine {
    return this.lines[n];
  }

  reset(): void {
    this.id = 0;
    this.regsel = 0;
    this.rteLo.fill(RTE_MASKED);
    this.rteHi.fill(0);
    this.irr = 0;
  }

  private setLevel(pin: number, high: boolean): void {
    const bit = 1 << pin;
    const was = (this.levels & bit) !== 0;
    if (high) this.levels |= bit;
    else this.levels &= ~bit;
    if (this.rteLo[pin] & RTE_LEVEL) {
      if (high) this.irr |= bit;
      else this.irr &= ~bit;
    } else if (high && !was) {
      this.irr |= bit;
    }
    if (high) this.service(pin);
  }

  /** Deliver pin `pin` if it is pending and allowed to. */
  private service(pin: number): void {
    const bit = 1 << pin;
    if (!(this.irr & bit)) return;
    const lo = this.rteLo[pin];
    if (lo & RTE_MASKED) return; // edge stays latched in IRR until unmasked (QEMU behaves the same)
    const level = (lo & RTE_LEVEL) !== 0;
    if (level && lo & RTE_REMOTE_IRR) return; // waiting for the EOI
    const accepted = this.lapic.deliver({
      vector: lo & 0xff,
      mode: (lo >>> 8) & 7,
      level,
      logical: (lo & (1 << 11)) !== 0,
      dest: this.rteHi[pin] >>> 24,
    });
    if (!accepted) return;
    if (level) this.rteLo[pin] |= RTE_REMOTE_IRR;
    else this.irr &= ~bit;
  }

  /** EOI broadcast from the local APIC (or a write to the EOI register): clear Remote IRR, re-deliver if still asserted. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.rteLo[pin];
      if ((lo & 0xff) !== vector || !(lo & RTE_REMOTE_IRR)) continue;
      this.rteLo[pin] &= ~RTE_REMOTE_IRR;
      if (this.levels & (1 << pin)) {
        this.irr |= 1 << pin;
        this.service(pin);
      }
    }
  }

  read32(offset: number): number {
    if (offset === 0x00) return this.regsel;
    if (offset !== 0x10) return 0;
    const r = this.regsel;
    if (r === 0x00) return this.id << 24;
    if (r === 0x01) return VERSION | ((IOAPIC_PINS - 1) << 16);
    if (r === 0x02) return this.id << 24; // arbitration id
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
      const pin = (r - 0x10) >> 1;
      if (r & 1) return this.rteHi[pin] | 0;
      return (this.rteLo[pin] & ~RTE_DELIVERY_STATUS) | 0;
    }
    logGuestError('ioapic', `r${r}`, `read of nonexistent I/O APIC register 0x${r.toString(16)}`);
    return 0;
  }

  write32(offset: number, value: number): void {
    value >>>= 0;
    if (offset === 0x00) {
      this.regsel = value & 0xff;
      return;
    }
    if (offset === 0x40) {
      this.eoi(value & 0xff);
      return;
    }
    if (offset !== 0x10) return;
    const r = this.regsel;
    if (r === 0x00) {
      this.id = (value >>> 24) & 0x0f;
      return;
    }
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
      const pin = (r - 0x10) >> 1;
      if (r & 1) {
        this.rteHi[pin] = value & 0xff000000;
        return;
      }
      // Delivery status and Remote IRR are read-only.
      const keep = this.rteLo[pin] & (RTE_REMOTE_IRR | RTE_DELIVERY_STATUS);
      this.rteLo[pin] = (value & ~(RTE_REMOTE_IRR | RTE_DELIVERY_STATUS) & 0x1ffff) | keep;
      if (!(this.rteLo[pin] & RTE_LEVEL)) this.rteLo[pin] &= ~RTE_REMOTE_IRR; // edge mode has no Remote IRR
      else if (this.levels & (1 << pin)) this.irr |= 1 << pin; // a level input already asserted is pending
      this.service(pin);
      return;
    }
    if (r === 0x01 || r === 0x02) return; // read-only
    logGuestError('ioapic', `w${r}`, `write to nonexistent I/O APIC register 0x${r.toString(16)}`);
  }

  saveState(): ComponentState {
    return { id: this.id, regsel: this.regsel, rteLo: this.rteLo.slice(), rteHi: this.rteHi.slice(), levels: this.levels, irr: this.irr };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.id = s.id as number;
    this.regsel = s.regsel as number;
    this.rteLo.set(s.rteLo as Uint32Array);
    this.rteHi.set(s.rteHi as Uint32Array);
    this.levels = s.levels as number;
    this.irr = s.irr as number;
  }
}
