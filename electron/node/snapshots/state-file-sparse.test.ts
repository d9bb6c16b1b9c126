// Version 2 of the machine state file: large byte arrays (guest RAM) keep only their
// non-zero pages; version 1 files still load.
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, StateFileError, STATE_FILE_VERSION } from './state-file';

function ramWithPages(pages: number[], size = 4 << 20): Uint8Array {
  const ram = new Uint8Array(size);
  for (const p of pages) for (let i = 0; i < 4096; i += 97) ram[p * 4096 + i] = (p + i) & 255 || 1;
  ram[size - 1] = 7; // the last page, last byte
  return ram;
}

describe('machine state file, zero pages', () => {
  it('round-trips a large byte array exactly and stores only its non-zero pages', () => {
    const ram = ramWithPages([0, 1, 5, 300, 511]);
    const bytes = encodeState({ mem: { ram }, small: new Uint8Array([1, 2]) });
    expect(STATE_FILE_VERSION).toBe(2);
    const header = Buffer.from(bytes).toString('utf8', 16, 16 + Buffer.from(bytes).readUInt32LE(12));
    expect(header).toContain('"zeroPages":4096');
    const back = decodeState(bytes) as { mem: { ram: Uint8Array }; small: Uint8Array };
    expect(back.mem.ram).toBeInstanceOf(Uint8Array);
    expect(back.mem.ram.length).toBe(ram.length);
    expect(Buffer.compare(Buffer.from(back.mem.ram), Buffer.from(ram))).toBe(0);
    expect(Array.from(back.small)).toEqual([1, 2]);
  });

  it('an all-zero array and version 1 files (no page layout) load', () => {
    const zero = decodeState(encodeState({ ram: new Uint8Array(2 << 20) })) as { ram: Uint8Array };
    expect(zero.ram.length).toBe(2 << 20);
    expect(zero.ram.every((b) => b === 0)).toBe(true);
    const v1 = encodeState({ ram: new Uint8Array([9, 8, 7]) }); // small arrays are stored as in version 1
    v1[8] = 1;
    expect(Array.from((decodeState(v1) as { ram: Uint8Array }).ram)).toEqual([9, 8, 7]);
  });

  it('a page layout in a version 1 file is refused', () => {
    const v2 = encodeState({ ram: ramWithPages([3]) });
    const v1 = v2.slice();
    v1[8] = 1;
    expect(() => decodeState(v1)).toThrow(StateFileError);
    expect(() => decodeState(v1)).toThrow(/invalid page layout/);
  });
});
