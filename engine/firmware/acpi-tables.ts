// ACPI tables: RSDP (in the ROM, found by scanning 0xE0000-0xFFFFF), and RSDT, FADT, FACS,
// DSDT (dsdt.ts), MADT, HPET in the reserved high BIOS area at the top of RAM (FACS must be writable).
// The FADT points at the PIIX4 PM block (PM1a event/control, PM timer) the firmware programs
// at `pmBase`; the MADT lists only the APICs that exist; the DSDT carries \_S5 so an OS can
// power off by writing SLP_TYP|SLP_EN to PM1a_CNT.
import { fixChecksum } from './rom-builder';
import { buildDsdtAml } from './dsdt';

export const OEM_ID = 'BOXWD ';
export const OEM_TABLE_ID = 'BOXWOOD ';
/** Room for all tables (the DSDT with two 124-entry _PRT packages is ~4 KiB); fits HIGH_AREA_BYTES. */
export const AREA_BYTES = 0x4000;

export interface AcpiOptions {
  /** Physical base of the (RAM) area the tables go to; they take < 4 KiB. */
  base: number;
  pmBase: number;
  sciIrq: number;
  s5SlpTyp: number;
  lapic: boolean;
  ioapic: { address: number; id: number } | null;
  hpet: { address: number; blockId: number } | null;
  /** PCI memory window for the host bridge's _CRS (BARs live there); null: no PCI0 in the DSDT. */
  pci?: { memBase: number; memLimit: number } | null;
}

export interface AcpiTables {
  /** Bytes to copy to `base`. */
  area: Uint8Array;
  /** The 20-byte RSDP (revision 0), to place in the ROM on a 16-byte boundary. */
  rsdp: Uint8Array;
  /** Physical addresses of each table (tests and logs). */
  addr: Record<string, number>;
}

class TableWriter {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  u8(o: number, v: number) { this.buf[o] = v; }
  u16(o: number, v: number) { this.dv.setUint16(o, v, true); }
  u32(o: number, v: number) { this.dv.setUint32(o, v >>> 0, true); }
  ascii(o: number, s: string) { for (let i = 0; i < s.length; i++) this.buf[o + i] = s.charCodeAt(i); }
}

/** A table with the standard 36-byte header, checksummed. */
function sdt(signature: string, revision: number, body: Uint8Array | number[]): Uint8Array {
  const w = new TableWriter(36 + body.length);
  w.ascii(0, signature);
  w.u32(4, 36 + body.length);
  w.u8(8, revision);
  w.ascii(10, OEM_ID);
  w.ascii(16, OEM_TABLE_ID);
  w.u32(24, 1);
  w.ascii(28, 'BXWD');
  w.u32(32, 1);
  w.buf.set(body, 36);
  fixChecksum(w.buf, 0, w.buf.length, 9);
  return w.buf;
}

function fadt(o: AcpiOptions, facs: number, dsdt: number): Uint8Array {
  // ACPI 1.0 FADT (revision 1, 116 bytes).
  const w = new TableWriter(116 - 36);
  const at = (off: number) => off - 36;
  w.u32(at(36), facs);
  w.u32(at(40), dsdt);
  w.u8(at(44), 0); // INT_MODEL (1.0): dual PIC; APIC use is found through the MADT
  w.u16(at(46), o.sciIrq);
  w.u32(at(48), 0); // SMI_CMD = 0: no legacy mode, SCI_EN is always set
  w.u32(at(56), o.pmBase); // PM1a_EVT_BLK
  w.u32(at(64), o.pmBase + 4); // PM1a_CNT_BLK
  w.u32(at(76), o.pmBase + 8); // PM_TMR_BLK
  w.u8(at(88), 4); // PM1_EVT_LEN
  w.u8(at(89), 2); // PM1_CNT_LEN
  w.u8(at(91), 4); // PM_TMR_LEN
  w.u16(at(96), 0xfff); // P_LVL2_LAT > 100: C2 not supported
  w.u16(at(98), 0xfff); // P_LVL3_LAT > 1000: C3 not supported
  w.u8(at(108), 0x32); // CENTURY CMOS register
  // WBINVD | PROC_C1 | SLP_BUTTON (no fixed sleep button) | RTC_S4; PM timer is 24-bit (PIIX4).
  w.u32(at(112), 0x01 | 0x04 | 0x20 | 0x80);
  return sdt('FACP', 1, w.buf);
}

function facs(): Uint8Array {
  const w = new TableWriter(64);
  w.ascii(0, 'FACS');
  w.u32(4, 64);
  return w.buf; // hardware signature, waking vector, global lock, flags: 0
}

function madt(o: AcpiOptions): Uint8Array {
  const e: number[] = [];
  const u16 = (v: number) => [v & 0xff, v >>> 8];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  e.push(...u32(0xfee00000), ...u32(1)); // local APIC address; PCAT_COMPAT (8259s present)
  e.push(0, 8, 0, 0, ...u32(1)); // processor 0, APIC id 0, enabled
  if (o.ioapic) {
    e.push(1, 12, o.ioapic.id, 0, ...u32(o.ioapic.address), ...u32(0));
    // ISA IRQ0 is wired to IOAPIC pin 2; the SCI is level-triggered, active high on PIIX4.
    e.push(2, 10, 0, 0, ...u32(2), ...u16(0x0000));
    e.push(2, 10, 0, o.sciIrq, ...u32(o.sciIrq), ...u16(0x000d));
    // PCI interrupts routed to ISA IRQ 10/11 (see pci-init.ts) are level, active high like QEMU's.
    for (const irq of [10, 11]) e.push(2, 10, 0, irq, ...u32(irq), ...u16(0x000d));
  }
  e.push(4, 6, 0xff, ...u16(0), 1); // local APIC NMI on LINT1 for all processors
  return sdt('APIC', 1, e);
}

function hpetTable(h: { address: number; blockId: number }): Uint8Array {
  const w = new TableWriter(56 - 36);
  w.u32(0, h.blockId);
  // Generic address: system memory, 64-bit register width.
  w.u8(4, 0);
  w.u8(5, 64);
  w.u8(6, 0);
  w.u8(7, 0);
  w.u32(8, h.address);
  w.u32(12, 0);
  w.u8(16, 0); // HPET number
  w.u16(17, 0x0080); // minimum clock tick in periodic mode
  w.u8(19, 0);
  return sdt('HPET', 1, w.buf);
}

export function buildAcpi(o: AcpiOptions): AcpiTables {
  const area = new Uint8Array(AREA_BYTES);
  const addr: Record<string, number> = {};
  let off = 0;
  const place = (nameKey: string, t: Uint8Array, align = 16) => {
    off = (off + align - 1) & ~(align - 1);
    if (off + t.length > area.length) throw new RangeError('ACPI tables overflow their area');
    area.set(t, off);
    addr[nameKey] = o.base + off;
    off += t.length;
    return addr[nameKey];
  };
  const facsAddr = place('FACS', facs(), 64);
  const dsdtAddr = place('DSDT', sdt('DSDT', 1, buildDsdtAml({ s5SlpTyp: o.s5SlpTyp, pci: o.pci ?? null })));
  const tables = [place('FACP', fadt(o, facsAddr, dsdtAddr))];
  if (o.lapic) tables.push(place('APIC', madt(o)));
  if (o.hpet) tables.push(place('HPET', hpetTable(o.hpet)));
  const rsdtBody: number[] = [];
  for (const t of tables) rsdtBody.push(t & 0xff, (t >>> 8) & 0xff, (t >>> 16) & 0xff, (t >>> 24) & 0xff);
  const rsdtAddr = place('RSDT', sdt('RSDT', 1, rsdtBody));

  const r = new TableWriter(20);
  r.ascii(0, 'RSD PTR ');
  r.ascii(9, OEM_ID);
  r.u8(15, 0); // revision 0 (ACPI 1.0): no XSDT
  r.u32(16, rsdtAddr);
  fixChecksum(r.buf, 0, 20, 8);
  return { area, rsdp: r.buf, addr };
}
