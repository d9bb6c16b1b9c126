import { describe, it, expect } from 'vitest';
import { encodeState, decodeState, StateFileError } from './state-file';
import { Machine } from '../../../engine/machine/machine';
import { MemoryBlockDevice } from '../../../engine/storage/block-device';

/** A boot sector that counts forever with the timer interrupt enabled: sti; l: inc word [0x600]; inc eax; jmp l. */
function countingBootSector(): Uint8Array {
  const s = new Uint8Array(512);
  s.set([0xfb, 0xff, 0x06, 0x00, 0x06, 0x66, 0x40, 0xeb, 0xf8]);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

describe('machine state file', () => {
  it('round-trips plain data and typed arrays exactly', () => {
    const state = { a: 1, s: 'x', inf: Infinity, nested: { ram: new Uint8Array([1, 2, 3]), regs: new Int32Array([-1, 7]), f: new Float64Array([0.5, NaN]) }, list: [new Uint16Array([65535])] };
    const back = decodeState(encodeState(state)) as typeof state;
    expect(back.a).toBe(1);
    expect(back.inf).toBe(Infinity);
    expect(Array.from(back.nested.ram)).toEqual([1, 2, 3]);
    expect(back.nested.regs).toBeInstanceOf(Int32Array);
    expect(Array.from(back.nested.regs)).toEqual([-1, 7]);
    expect(Number.isNaN(back.nested.f[1])).toBe(true);
    expect(back.list[0][0]).toBe(65535);
  });

  it('compresses guest RAM and restores a running machine that continues identically', () => {
    const image = countingBootSector();
    const config = { memoryMiB: 16, firmware: 'builtin' as const, disks: { hda: new MemoryBlockDevice(image.slice(), true) }, deterministic: true };
    const m = new Machine(config);
    for (let i = 0; i < 20; i++) m.runSlice(50_000);
    expect(m.mem.read16(0x600)).toBeGreaterThan(1000); // the guest loop is running
    const bytes = encodeState(m.saveState());
    expect(bytes.length).toBeLessThan(16 * 1024 * 1024 / 20);
    const restored = Machine.restore({ ...config, disks: { hda: new MemoryBlockDevice(image.slice(), true) } }, decodeState(bytes) as ReturnType<Machine['saveState']>);
    expect(restored.cpu.instructionCount).toBe(m.cpu.instructionCount);
    expect(restored.cpu.eip).toBe(m.cpu.eip);
    for (let i = 0; i < 20; i++) {
      m.runSlice(10_000);
      restored.runSlice(10_000);
    }
    expect(restored.cpu.instructionCount).toBe(m.cpu.instructionCount);
    expect(restored.cpu.reg32[0]).toBe(m.cpu.reg32[0]);
    expect(restored.mem.read16(0x600)).toBe(m.mem.read16(0x600));
    // The BIOS timer tick (IRQ0 → INT 8 → 0x46C) advanced identically: devices restored too.
    expect(m.mem.read32(0x46c)).toBeGreaterThan(0);
    expect(restored.mem.read32(0x46c)).toBe(m.mem.read32(0x46c));
    expect(restored.textScreen()).toBe(m.textScreen());
  });

  it('rejects damaged files with a clear error', () => {
    const good = encodeState({ ram: new Uint8Array(1000) });
    expect(() => decodeState(new Uint8Array(10))).toThrow(StateFileError);
    expect(() => decodeState(good.slice(0, good.length - 3))).toThrow(/truncated/);
    const wrongVersion = good.slice();
    wrongVersion[8] = 99;
    expect(() => decodeState(wrongVersion)).toThrow(/version 99/);
    const garbage = good.slice();
    garbage[garbage.length - 2] ^= 0xff;
    expect(() => decodeState(garbage)).toThrow(StateFileError);
  });
});
