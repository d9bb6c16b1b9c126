// The copy loop: sparse (all-zero grains are not written), exact, cancellable, with progress.
import { describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from './block-device';
import { CancelledError, copyData } from './convert';

describe('copyData', () => {
  it('copies exactly and writes only non-zero grains (odd sizes and offsets too)', async () => {
    const size = 3 * 1024 * 1024 + 1536;
    const src = new Uint8Array(size);
    for (const o of [0, 4095, 1024 * 1024 - 1, 2 * 1024 * 1024 + 7, size - 1]) src[o] = 0x5a;
    const dstBytes = new Uint8Array(size);
    const dst = new MemoryBlockDevice(dstBytes);
    const writes: number[] = [];
    const orig = dst.write.bind(dst);
    dst.write = (off, data) => {
      writes.push(off);
      orig(off, data);
    };
    const progress: number[] = [];
    await copyData({ src: new MemoryBlockDevice(src, true), dst, grain: 4096 }, { onProgress: (d) => progress.push(d) });
    expect(Buffer.compare(Buffer.from(dstBytes), Buffer.from(src))).toBe(0);
    expect(writes).toEqual([0, 1024 * 1024 - 4096, 2 * 1024 * 1024, size - 1536]);
    expect(progress[progress.length - 1]).toBe(size);
  });

  it('stops with CancelledError when the signal fires', async () => {
    const ac = new AbortController();
    const p = copyData(
      { src: new MemoryBlockDevice(new Uint8Array(8 * 1024 * 1024), true), dst: new MemoryBlockDevice(new Uint8Array(8 * 1024 * 1024)), grain: 65536 },
      { signal: ac.signal, onProgress: (d) => d >= 2 * 1024 * 1024 && ac.abort() },
    );
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});
