// Intel MultiProcessor Specification 1.4 tables: the floating pointer (which must sit in
// the BIOS ROM area 0xF0000-0xFFFFF) and the configuration table. Built only when an I/O
// APIC exists: a table naming an absent IOAPIC makes Linux oops in setup_IO_APIC.
import { fixChecksum } from './rom-builder';

export interface MpOptions {
  ioapic: { address: number; id: number; pins: number };
  pci: boolean;
}

/** The configuration table, for physical address `at`. */
export function buildMpConfig(o: MpOptions): Uint8Array {
  const entries: number[] = [];
  let count = 0;
  const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const ascii = (s: string, n: number) => [...s.padEnd(n, ' ').slice(0, n)].map((c) => c.charCodeAt(0));
  // Processor: local APIC id 0, version 0x14, enabled + bootstrap, family 6 model 3 stepping 3.
  entries.push(0, 0, 0x14, 0x03, ...u32(0x0633), ...u32(0x0000_0201), ...u32(0), ...u32(0));
  count++;
  const isaBus = o.pci ? 1 : 0;
  if (o.pci) {
    entries.push(1, 0, ...ascii('PCI', 6));
    count++;
  }
  entries.push(1, isaBus, ...ascii('ISA', 6));
  count++;
  entries.push(2, o.ioapic.id, 0x11, 0x01, ...u32(o.ioapic.address));
  count++;
  // ISA IRQs: identity to IOAPIC pins, except IRQ0 on pin 2 and no IRQ2 (the cascade).
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue;
    const pin = irq === 0 ? 2 : irq;
    if (pin >= o.ioapic.pins) continue;
    entries.push(3, 0 /* INT */, ...u16(0), isaBus, irq, o.ioapic.id, pin);
    count++;
  }
  // Local interrupts: LINT0 ExtINT (8259 virtual wire), LINT1 NMI, to all local APICs.
  entries.push(4, 3, ...u16(0), isaBus, 0, 0xff, 0);
  entries.push(4, 1, ...u16(0), isaBus, 0, 0xff, 1);
  count += 2;

  const len = 44 + entries.length;
  const t = new Uint8Array(len);
  t.set(ascii('PCMP', 4), 0);
  t.set(u16(len), 4);
  t[6] = 4; // spec revision 1.4
  t.set(ascii('BOXWOOD', 8), 8);
  t.set(ascii('BOXWOOD PC', 12), 16);
  t.set(u16(count), 34);
  t.set(u32(0xfee00000), 36);
  t.set(entries, 44);
  fixChecksum(t, 0, len, 7);
  return t;
}

/** The 16-byte floating pointer structure pointing at the configuration table. */
export function buildMpFloating(configAddr: number): Uint8Array {
  const f = new Uint8Array(16);
  f.set([0x5f, 0x4d, 0x50, 0x5f], 0); // "_MP_"
  f[4] = configAddr & 0xff;
  f[5] = (configAddr >>> 8) & 0xff;
  f[6] = (configAddr >>> 16) & 0xff;
  f[7] = (configAddr >>> 24) & 0xff;
  f[8] = 1; // length in paragraphs
  f[9] = 4; // revision 1.4
  f[11] = 0; // feature 1: configuration table present
  f[12] = 0; // feature 2: virtual wire mode (no IMCR)
  fixChecksum(f, 0, 16, 10);
  return f;
}
