import { describe, expect, it } from 'vitest';
import { e820Map, extendedRamBytes, E820_RAM, HIGH_AREA_BYTES } from './e820';

describe('E820 map', () => {
  it('covers low RAM, EBDA, ROM, extended RAM and the reserved top without overlaps', () => {
    const ram = 128 * 1024 * 1024;
    const map = e820Map(ram);
    for (let i = 1; i < map.length; i++) expect(map[i].base).toBeGreaterThanOrEqual(map[i - 1].base + map[i - 1].length);
    const usable = map.filter((e) => e.type === E820_RAM).reduce((s, e) => s + e.length, 0);
    expect(usable).toBe(0x9fc00 + ram - HIGH_AREA_BYTES - 0x100000);
    expect(map[0]).toEqual({ base: 0, length: 0x9fc00, type: 1 });
    expect(map.find((e) => e.base === 0xe0000)?.type).toBe(2);
    expect(map.find((e) => e.base === 0x100000)?.length).toBe(extendedRamBytes(ram));
  });
});
