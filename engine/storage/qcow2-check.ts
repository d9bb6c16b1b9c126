// A consistency check of a qcow2 image's metadata, in the spirit of `qemu-img check`:
// count every reference to every host cluster (header, refcount table and blocks, L1,
// L2 tables, data and compressed clusters) and compare with the stored refcounts.
//   errors: a cluster referenced more often than its refcount (or with refcount 0),
//           references outside the file, wrong COPIED flags — real corruption;
//   leaks:  clusters whose refcount is higher than their references (wasted space only).
// Used by the unit tests' simulated crashes and by `boxwood disk info`.
import type { FileHandle } from './file-handle';
import { parseQcow2Header } from './qcow2-header';

export interface Qcow2CheckResult {
  errors: string[];
  leaks: number;
  /** Clusters referenced by the image. */
  allocated: number;
}

const TWO32 = 2 ** 32;

export function checkQcow2(file: FileHandle): Qcow2CheckResult {
  const fileSize = file.size();
  const head = new Uint8Array(Math.min(fileSize, 2 * 1024 * 1024));
  file.read(0, head, 0, head.length);
  const h = parseQcow2Header(head, fileSize);
  if (h.nbSnapshots > 0) throw new Error('images with internal snapshots are not checked here (their L1 tables share clusters); use qemu-img check');
  const cs = 2 ** h.clusterBits;
  const errors: string[] = [];
  const refs = new Map<number, number>();
  const ref = (offset: number, length: number, what: string) => {
    if (offset + length > fileSize + cs) errors.push(`${what} at ${offset} lies outside the file`);
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    for (let c = first; c <= last; c++) refs.set(c, (refs.get(c) ?? 0) + 1);
  };
  const readU64 = (buf: Uint8Array, i: number): [number, number] => {
    const dv = new DataView(buf.buffer, buf.byteOffset);
    return [dv.getUint32(i * 8), dv.getUint32(i * 8 + 4)];
  };

  ref(0, cs, 'header');
  ref(h.refcountTableOffset, h.refcountTableClusters * cs, 'refcount table');
  const table = new Uint8Array(h.refcountTableClusters * cs);
  file.read(h.refcountTableOffset, table, 0, table.length);
  const blocks: number[] = [];
  for (let i = 0; i < table.length / 8; i++) {
    const [hi, lo] = readU64(table, i);
    const off = hi * TWO32 + (lo & 0xfffffe00);
    blocks.push(off);
    if (off) ref(off, cs, `refcount block ${i}`);
  }
  if (h.l1Size) ref(h.l1TableOffset, h.l1Size * 8, 'L1 table');
  const l1 = new Uint8Array(h.l1Size * 8);
  file.read(h.l1TableOffset, l1, 0, l1.length);
  const l2 = new Uint8Array(cs);
  // Copied-flag checks need refcounts, so collect the entries and check them afterwards.
  const copiedClaims: [number, boolean, string][] = [];
  const x = 62 - (h.clusterBits - 8);
  for (let i = 0; i < h.l1Size; i++) {
    const [hi, lo] = readU64(l1, i);
    const off = (hi & 0x00ffffff) * TWO32 + (lo & 0xfffffe00);
    if (!off) continue;
    ref(off, cs, `L2 table ${i}`);
    copiedClaims.push([off, (hi & 0x80000000) !== 0, `L1 entry ${i}`]);
    file.read(off, l2, 0, cs);
    for (let j = 0; j < cs / 8; j++) {
      const [ehi, elo] = readU64(l2, j);
      if (ehi & 0x40000000) {
        const e = (BigInt(ehi & 0x3fffffff) << 32n) | BigInt(elo);
        const host = Number(e & ((1n << BigInt(x)) - 1n));
        const end = Math.floor(host / 512) * 512 + (Number(e >> BigInt(x)) + 1) * 512;
        ref(host, end - host, `compressed cluster ${i}/${j}`);
        continue;
      }
      const d = (ehi & 0x00ffffff) * TWO32 + (elo & 0xfffffe00);
      if (!d) continue;
      if (d % cs) errors.push(`L2 entry ${i}/${j} (${d}) is not cluster-aligned`);
      ref(d, cs, `data cluster ${i}/${j}`);
      copiedClaims.push([d, (ehi & 0x80000000) !== 0, `L2 entry ${i}/${j}`]);
    }
  }

  const refBits = 2 ** h.refcountOrder;
  const perBlock = (cs * 8) / refBits;
  const blockBuf = new Uint8Array(cs);
  let loaded = -1;
  const refcount = (c: number): number => {
    const bi = Math.floor(c / perBlock);
    const off = blocks[bi] ?? 0;
    if (!off) return 0;
    if (loaded !== bi) {
      file.read(off, blockBuf, 0, cs);
      loaded = bi;
    }
    const i = c % perBlock;
    const dv = new DataView(blockBuf.buffer);
    switch (refBits) {
      case 8:
        return blockBuf[i];
      case 16:
        return dv.getUint16(i * 2);
      case 32:
        return dv.getUint32(i * 4);
      case 64:
        return Number(dv.getBigUint64(i * 8));
      default: {
        const bit = i * refBits;
        return (blockBuf[bit >> 3] >> (bit & 7)) & ((1 << refBits) - 1);
      }
    }
  };

  let leaks = 0;
  let maxCluster = Math.ceil(fileSize / cs);
  for (const c of refs.keys()) if (c > maxCluster) maxCluster = c;
  maxCluster++;
  // Every cluster a refcount block covers, sorted, so blocks are read once each.
  const covered = Math.min(blocks.length * perBlock, maxCluster + perBlock);
  for (let c = 0; c < covered; c++) {
    const r = refcount(c);
    const n = refs.get(c) ?? 0;
    if (n > r) errors.push(`cluster ${c}: refcount ${r} < ${n} references`);
    else if (r > n) leaks++;
  }
  for (const [c] of refs) if (c >= covered) errors.push(`cluster ${c} is referenced but no refcount block covers it`);
  for (const [off, copied, what] of copiedClaims) {
    const r = refcount(off / cs);
    if (copied !== (r === 1) && r !== 0) errors.push(`${what}: COPIED flag ${copied} but refcount ${r}`);
  }
  return { errors, leaks, allocated: refs.size };
}
