// The physical memory map the BIOS reports (INT 15h E820h, and derived E801h/88h/12h).
import { EBDA_BASE } from './bda';
import { ROM_BASE } from './rom-image';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

/** Bytes at the top of RAM the BIOS keeps for ACPI tables (reserved in the map). */
export const HIGH_AREA_BYTES = 0x10000;

/**
 * RAM below the EBDA, the EBDA, the BIOS ROM (0xE0000-0xFFFFF), extended RAM up to the
 * high BIOS area (ACPI tables), that area, and the ROM alias below 4 GiB.
 */
export function e820Map(ramBytes: number): E820Entry[] {
  const highBase = ramBytes - HIGH_AREA_BYTES;
  return [
    { base: 0, length: EBDA_BASE, type: E820_RAM },
    { base: EBDA_BASE, length: 0xa0000 - EBDA_BASE, type: E820_RESERVED },
    { base: ROM_BASE, length: 0x100000 - ROM_BASE, type: E820_RESERVED },
    { base: 0x100000, length: highBase - 0x100000, type: E820_RAM },
    { base: highBase, length: HIGH_AREA_BYTES, type: E820_RESERVED },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED },
  ];
}

/** Usable RAM above 1 MiB, in bytes (what E801h/88h describe). */
export function extendedRamBytes(ramBytes: number): number {
  return ramBytes - HIGH_AREA_BYTES - 0x100000;
}
