// SMBIOS 2.8 (DMI): the 32-bit entry point (in the ROM, 16-byte aligned in 0xF0000-0xFFFFF
// where OSes scan for "_SM_") and a minimal structure table: BIOS (type 0), system (type 1),
// end of table (type 127). Linux's DMI code and memtest's system line read these.
import { fixChecksum } from './rom-builder';

export interface SmbiosInfo {
  vendor: string;
  biosVersion: string;
  biosDate: string;
  manufacturer: string;
  product: string;
  /** BIOS ROM size in bytes (64 KiB units in the table). */
  romBytes: number;
  /** Real-mode segment where the BIOS starts (0xE000 for a 128 KiB ROM). */
  romSegment: number;
}

function structure(type: number, handle: number, formatted: number[], strings: string[]): number[] {
  const len = 4 + formatted.length;
  const out = [type, len, handle & 0xff, handle >>> 8, ...formatted];
  if (strings.length === 0) return [...out, 0, 0];
  for (const s of strings) out.push(...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0);
  out.push(0);
  return out;
}

export function buildSmbiosTable(i: SmbiosInfo): { table: Uint8Array; count: number; maxSize: number } {
  const s: number[][] = [];
  // Type 0 (2.0 layout): vendor=1, version=2, start segment, date=3, ROM size, characteristics
  // (bit 3: "BIOS characteristics not supported" — the honest answer for a fixed firmware).
  s.push(structure(0, 0x0000, [1, 2, i.romSegment & 0xff, i.romSegment >>> 8, 3, i.romBytes / 65536 - 1, 0x08, 0, 0, 0, 0, 0, 0, 0], [i.vendor, i.biosVersion, i.biosDate]));
  // Type 1 (2.0 layout): manufacturer=1, product=2, version=3, serial=4.
  s.push(structure(1, 0x0100, [1, 2, 3, 4], [i.manufacturer, i.product, '1.0', '0']));
  s.push(structure(127, 0x7f00, [], []));
  const table = new Uint8Array(s.flat());
  return { table, count: s.length, maxSize: Math.max(...s.map((x) => x.length)) };
}

/** The 31-byte "_SM_" entry point for a structure table at `tableAddr`. */
export function buildSmbiosEntry(tableAddr: number, t: { table: Uint8Array; count: number; maxSize: number }): Uint8Array {
  const e = new Uint8Array(0x1f);
  const dv = new DataView(e.buffer);
  e.set([0x5f, 0x53, 0x4d, 0x5f], 0); // "_SM_"
  e[5] = 0x1f; // entry point length
  e[6] = 2;
  e[7] = 8; // version 2.8
  dv.setUint16(8, t.maxSize, true);
  e[10] = 0; // entry point revision
  e.set([0x5f, 0x44, 0x4d, 0x49, 0x5f], 0x10); // "_DMI_"
  dv.setUint16(0x16, t.table.length, true);
  dv.setUint32(0x18, tableAddr, true);
  dv.setUint16(0x1c, t.count, true);
  e[0x1e] = 0x28; // BCD revision 2.8
  fixChecksum(e, 0x10, 0x1f, 0x15); // intermediate checksum
  fixChecksum(e, 0, 0x1f, 4);
  return e;
}
