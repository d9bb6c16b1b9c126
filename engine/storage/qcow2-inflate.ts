// Raw DEFLATE (RFC 1951) decoder for qcow2 compressed clusters. QEMU compresses each
// cluster with zlib's raw deflate (windowBits -12: no zlib header, no checksum), so a
// plain RFC 1951 inflater is enough. engine/ cannot import node:zlib, hence this file.
// The output is bounded: a cluster never inflates past its size, and qcow2 compressed
// data may be followed by unrelated bytes up to the sector end, which are ignored.

class Huffman {
  /** counts[len] = number of codes of that bit length; symbols sorted by code. */
  readonly counts = new Uint16Array(16);
  readonly symbols: Uint16Array;
  constructor(lengths: Uint8Array, n: number) {
    this.symbols = new Uint16Array(n);
    for (let i = 0; i < n; i++) this.counts[lengths[i]]++;
    this.counts[0] = 0;
    const offs = new Uint16Array(16);
    for (let i = 1; i < 16; i++) offs[i] = offs[i - 1] + this.counts[i - 1];
    for (let i = 0; i < n; i++) if (lengths[i]) this.symbols[offs[lengths[i]]++] = i;
  }
}

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

let fixedLit: Huffman | undefined;
let fixedDist: Huffman | undefined;
function fixedTables(): [Huffman, Huffman] {
  if (!fixedLit || !fixedDist) {
    const l = new Uint8Array(288);
    l.fill(8, 0, 144);
    l.fill(9, 144, 256);
    l.fill(7, 256, 280);
    l.fill(8, 280, 288);
    fixedLit = new Huffman(l, 288);
    fixedDist = new Huffman(new Uint8Array(30).fill(5), 30);
  }
  return [fixedLit, fixedDist];
}

export class InflateError extends Error {}

class Inflater {
  private pos = 0;
  private bitBuf = 0;
  private bitCnt = 0;
  out = 0;
  constructor(
    private readonly src: Uint8Array,
    private readonly dst: Uint8Array,
  ) {}

  private bits(n: number): number {
    while (this.bitCnt < n) {
      // Past the input: the stream is truncated (qcow2 gives the whole sector run).
      if (this.pos >= this.src.length) throw new InflateError('compressed data is truncated');
      this.bitBuf |= this.src[this.pos++] << this.bitCnt;
      this.bitCnt += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCnt -= n;
    return v;
  }

  private decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= this.bits(1);
      const count = h.counts[len];
      if (code - first < count) return h.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new InflateError('invalid Huffman code');
  }

  /** Inflate until the final block ends or the output is full. */
  run(): void {
    let final = 0;
    while (!final && this.out < this.dst.length) {
      final = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) {
        const [l, d] = fixedTables();
        this.codes(l, d);
      } else if (type === 2) this.dynamic();
      else throw new InflateError('invalid deflate block type');
    }
  }

  private stored(): void {
    this.bitBuf = 0;
    this.bitCnt = 0;
    if (this.pos + 4 > this.src.length) throw new InflateError('compressed data is truncated');
    const len = this.src[this.pos] | (this.src[this.pos + 1] << 8);
    const nlen = this.src[this.pos + 2] | (this.src[this.pos + 3] << 8);
    if ((len ^ 0xffff) !== nlen) throw new InflateError('stored block length check failed');
    this.pos += 4;
    if (this.pos + len > this.src.length) throw new InflateError('compressed data is truncated');
    const n = Math.min(len, this.dst.length - this.out);
    this.dst.set(this.src.subarray(this.pos, this.pos + n), this.out);
    this.out += n;
    this.pos += len;
  }

  private dynamic(): void {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw new InflateError('bad dynamic block counts');
    const cl = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) cl[CL_ORDER[i]] = this.bits(3);
    const clh = new Huffman(cl, 19);
    const lengths = new Uint8Array(nlen + ndist);
    let i = 0;
    while (i < nlen + ndist) {
      const sym = this.decode(clh);
      if (sym < 16) lengths[i++] = sym;
      else {
        let rep: number;
        let val = 0;
        if (sym === 16) {
          if (i === 0) throw new InflateError('repeat with no previous length');
          val = lengths[i - 1];
          rep = 3 + this.bits(2);
        } else if (sym === 17) rep = 3 + this.bits(3);
        else rep = 11 + this.bits(7);
        if (i + rep > nlen + ndist) throw new InflateError('too many code lengths');
        lengths.fill(val, i, i + rep);
        i += rep;
      }
    }
    if (lengths[256] === 0) throw new InflateError('no end-of-block code');
    this.codes(new Huffman(lengths.subarray(0, nlen), nlen), new Huffman(lengths.subarray(nlen), ndist));
  }

  private codes(lit: Huffman, dist: Huffman): void {
    const dst = this.dst;
    for (;;) {
      const sym = this.decode(lit);
      if (sym < 256) {
        if (this.out >= dst.length) return;
        dst[this.out++] = sym;
      } else if (sym === 256) return;
      else {
        const li = sym - 257;
        if (li >= 29) throw new InflateError('bad length symbol');
        const len = LEN_BASE[li] + this.bits(LEN_EXTRA[li]);
        const di = this.decode(dist);
        if (di >= 30) throw new InflateError('bad distance symbol');
        const d = DIST_BASE[di] + this.bits(DIST_EXTRA[di]);
        if (d > this.out) throw new InflateError('distance too far back');
        const n = Math.min(len, dst.length - this.out);
        for (let k = 0; k < n; k++, this.out++) dst[this.out] = dst[this.out - d];
        if (this.out >= dst.length) return;
      }
    }
  }
}

/**
 * Inflate raw deflate `src` into `dst` (up to its length). Returns the number of bytes
 * produced. Throws InflateError on malformed or truncated input.
 */
export function inflateRaw(src: Uint8Array, dst: Uint8Array): number {
  const inf = new Inflater(src, dst);
  inf.run();
  return inf.out;
}
