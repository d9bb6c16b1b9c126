// The deterministic write sequence of the kill -9 storm: parent and child generate the
// same writes from the same seed, so the parent knows what every acknowledged flush
// covered without trusting anything the child may not have finished printing.
export interface StormWrite {
  seq: number;
  offset: number;
  data: Uint8Array;
}

export function stormWrites(seed: number, size: number): { next(): StormWrite } {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let seq = 0;
  return {
    next(): StormWrite {
      seq++;
      // Mostly sector-sized guest writes, some large and cluster-straddling ones.
      const len = r() < 0.8 ? 512 * (1 + Math.floor(r() * 16)) : 1 + Math.floor(r() * 200_000);
      const sectorAligned = r() < 0.9;
      let offset = Math.floor(r() * (size - len));
      if (sectorAligned) offset -= offset % 512;
      const data = new Uint8Array(len).fill((seq % 255) + 1);
      // A per-write marker so torn or misplaced writes show up.
      data[0] = seq & 0xff;
      return { seq, offset, data };
    },
  };
}
