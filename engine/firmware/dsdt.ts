// The DSDT: \_S5 for soft-off and, on PCI machines, the PCI host bridge \_SB.PCI0 so an
// ACPI OS scans bus 0 and routes its interrupts. Without PCI0 Linux says "Using ACPI for IRQ
// routing" and never enumerates PCI at all.
//
// Interrupt routing follows the hardware (engine/devices/pci-bus.ts): slot `dev`, pin P
// (1 = INTA) drives PIRQ (dev + P - 2) & 3. In APIC mode (the OS called _PIC(1)) the PIIX3
// also drives PIRQA-D into I/O APIC pins 16-19, so _PRT names those GSIs directly (level,
// active low by the _PRT convention). In PIC mode _PRT names the link devices LNKA-LNKD,
// which read and write the PIIX3 PIRQ route registers (PCI config 0x60-0x63 of 00:01.0)
// that POST programmed (pci-init.ts), so the OS may also re-route them through _SRS.
import * as aml from './aml';
import { dwordMemory, interrupt, INTERRUPT_NUMBER_OFFSET, io, resourceTemplate, wordBusNumber, wordIO } from './aml-resources';

export interface DsdtOptions {
  s5SlpTyp: number;
  /** PCI host bridge windows; null on machines without PCI (no \_SB.PCI0). */
  pci: { memBase: number; memLimit: number } | null;
}

/** ISA IRQs a PCI link may be routed to (the ones POST uses plus IRQ 5, like QEMU's). */
export const LINK_IRQS = [5, 10, 11];
const LINKS = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];
/** PIIX3 at 00:01.0: _ADR is (device << 16) | function. */
const PIIX3_ADR = 0x00010000;
const PIRQ_FIELD = (p: number) => `PRQ${p}`;
const PIRQ_PATH = (p: number) => `\\_SB.PCI0.ISA.${PIRQ_FIELD(p)}`;

/** PIRQ (0 = A) a slot's pin (0 = INTA, the _PRT numbering) is wired to. */
export function slotPirq(slot: number, pin: number): number {
  return (slot + pin - 1) & 3;
}

export function buildDsdtAml(o: DsdtOptions): number[] {
  const out: number[] = [];
  if (o.pci) out.push(...picMethod(), ...pciHostBridge(o.pci), ...linkHelpers(), ...LINKS.flatMap((_, p) => linkDevice(p)));
  // Name (\_S5, Package (4) { typ_a, typ_b, 0, 0 }): SLP_TYPa/b for soft-off.
  out.push(...aml.name('\\_S5', aml.pkg(aml.integer(o.s5SlpTyp), aml.integer(o.s5SlpTyp), aml.integer(0), aml.integer(0))));
  return out;
}

function pciHostBridge(w: { memBase: number; memLimit: number }): number[] {
  const crs = resourceTemplate(
    wordBusNumber(0x00, 0xff),
    io(0x0cf8, 0x0cf8, 0x01, 0x08), // the config mechanism #1 ports belong to the bridge itself
    wordIO(0x0000, 0x0cf7),
    wordIO(0x0d00, 0xffff),
    dwordMemory(0x000a0000, 0x000bffff, 'cacheable'), // legacy VGA window
    dwordMemory(w.memBase, w.memLimit), // BARs: pci-init.ts assigns them below the I/O APIC
  );
  return aml.device(
    '\\_SB.PCI0',
    aml.name('_HID', aml.eisaId('PNP0A03')),
    aml.name('_ADR', aml.integer(0)),
    aml.name('_UID', aml.integer(0)),
    aml.name('_BBN', aml.integer(0)),
    aml.name('_CRS', crs),
    aml.name('PRTA', prt((slot, pin) => [aml.integer(0), aml.integer(16 + slotPirq(slot, pin))])),
    aml.name('PRTP', prt((slot, pin) => [aml.nameString(`\\_SB.${LINKS[slotPirq(slot, pin)]}`), aml.integer(0)])),
    // _PRT: If (PICM) { Return (PRTA) } Return (PRTP)
    aml.method('_PRT', 0, false, aml.if_(aml.ref('\\PICM'), aml.ret(aml.ref('PRTA'))), aml.ret(aml.ref('PRTP'))),
    aml.device(
      'ISA',
      aml.name('_ADR', aml.integer(PIIX3_ADR)),
      aml.operationRegion('PIRQ', aml.RegionSpace.PciConfig, 0x60, 4),
      aml.field('PIRQ', aml.FieldAccess.Byte, [0, 1, 2, 3].map((p) => [PIRQ_FIELD(p), 8] as [string, number])),
    ),
  );
}

/** Package { Package { 0xSSSSFFFF, pin, source, source index } } for slots 1-31, pins A-D. */
function prt(entry: (slot: number, pin: number) => aml.Aml[]): aml.Aml {
  const rows: aml.Aml[] = [];
  for (let slot = 1; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) rows.push(aml.pkg(aml.integer(((slot << 16) | 0xffff) >>> 0), aml.integer(pin), ...entry(slot, pin)));
  }
  return aml.pkg(...rows); // 124 rows: PackageOp holds up to 255 elements
}

/**
 * \_SB.IQST (pirq): _STA of a link: 0x0B (present, enabled, functioning) unless the route's
 * disable bit 7 is set (0x09: present, disabled).
 * \_SB.IQCR (pirq): _CRS of a link: one shared level interrupt, the routed IRQ or none.
 */
function linkHelpers(): number[] {
  const iqst = aml.method(
    '\\_SB.IQST',
    1,
    false,
    aml.if_(aml.and(aml.integer(0x80), aml.arg(0)), aml.ret(aml.integer(0x09))),
    aml.ret(aml.integer(0x0b)),
  );
  const iqcr = aml.method(
    '\\_SB.IQCR',
    1,
    true, // Serialized: it creates a named buffer
    aml.name('PRR0', resourceTemplate(interrupt({ level: true, activeLow: false, shared: true }, [0]))),
    aml.createDWordField(aml.ref('PRR0'), INTERRUPT_NUMBER_OFFSET, 'PRRI'),
    aml.if_(aml.lLess(aml.arg(0), aml.integer(0x80)), aml.store(aml.and(aml.arg(0), aml.integer(0x0f)), aml.ref('PRRI'))),
    aml.ret(aml.ref('PRR0')),
  );
  return [...iqst, ...iqcr];
}

/** Interrupt link p (PNP0C0F) over PIIX3 PIRQ route register 0x60 + p. */
function linkDevice(p: number): number[] {
  const reg = aml.ref(PIRQ_PATH(p));
  return aml.device(
    `\\_SB.${LINKS[p]}`,
    aml.name('_HID', aml.eisaId('PNP0C0F')),
    aml.name('_UID', aml.integer(p + 1)),
    aml.name('_PRS', resourceTemplate(interrupt({ level: true, activeLow: false, shared: true }, LINK_IRQS))),
    aml.method('_STA', 0, false, aml.ret(aml.call('\\_SB.IQST', reg))),
    aml.method('_DIS', 0, false, aml.or(reg, aml.integer(0x80), reg)),
    aml.method('_CRS', 0, false, aml.ret(aml.call('\\_SB.IQCR', reg))),
    aml.method('_SRS', 1, false, aml.createDWordField(aml.arg(0), INTERRUPT_NUMBER_OFFSET, 'PRRI'), aml.store(aml.ref('PRRI'), reg)),
  );
}

/** \PICM and \_PIC (mode): the OS says whether it uses the 8259s (0) or the I/O APIC (1). */
function picMethod(): number[] {
  return [...aml.name('\\PICM', aml.integer(0)), ...aml.method('\\_PIC', 1, false, aml.store(aml.arg(0), aml.ref('\\PICM')))];
}
