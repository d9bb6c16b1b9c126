// VirtualBox VDI images (dynamic and fixed), read-only: Boxwood imports them by
// conversion. Layout (little-endian): a 64-byte text pre-header, signature 0xbeda107f
// at 0x40, version at 0x44 (1.1 supported), then header v1: 0x4c image type (1 dynamic,
// 2 fixed), 0x154 block-map offset, 0x158 data offset, 0x170 disk size u64, 0x178 block
// size, 0x17c extra bytes before each block, 0x180 block count. The block map holds one
// u32 per block: the index of the allocated block, 0xffffffff (never written: zeros) or
// 0xfffffffe (discarded: zeros).
import type { BlockDevice } from './block-device';
import type { FileHandle } from './file-handle';

export const VDI_SIGNATURE = 0xbeda107f;
const BLOCK_FREE = 0xffffffff;
const BLOCK_ZERO = 0xfffffffe;

export class VdiImage implements BlockDevice {
  readonly readOnly = true;
  readonly size: number;
  readonly blockSize: number;
  readonly imageType: 'dynamic' | 'fixed';
  private readonly map: Uint32Array;
  private readonly dataOffset: number;
  private readonly extra: number;

  constructor(private readonly file: FileHandle) {
    const fileSize = file.size();
    const h = new Uint8Array(0x190);
    if (fileSize < h.length) throw new Error(`not a usable VDI image: file is too short (${fileSize} bytes)`);
    file.read(0, h, 0, h.length);
    const dv = new DataView(h.buffer);
    if (dv.getUint32(0x40, true) !== VDI_SIGNATURE) throw new Error('not a usable VDI image: bad signature');
    const version = dv.getUint32(0x44, true);
    if (version >>> 16 !== 1) throw new Error(`not a usable VDI image: unsupported version ${version >>> 16}.${version & 0xffff}`);
    const type = dv.getUint32(0x4c, true);
    if (type !== 1 && type !== 2) throw new Error(`not a usable VDI image: unsupported image type ${type} (only dynamic and fixed)`);
    this.imageType = type === 1 ? 'dynamic' : 'fixed';
    const mapOffset = dv.getUint32(0x154, true);
    this.dataOffset = dv.getUint32(0x158, true);
    this.size = Number(dv.getBigUint64(0x170, true));
    this.blockSize = dv.getUint32(0x178, true);
    this.extra = dv.getUint32(0x17c, true);
    const blocks = dv.getUint32(0x180, true);
    if (!this.blockSize || this.blockSize % 512) throw new Error(`not a usable VDI image: block size ${this.blockSize} is invalid`);
    if (blocks * this.blockSize < this.size) throw new Error(`not a usable VDI image: ${blocks} blocks do not cover the disk size`);
    if (mapOffset + blocks * 4 > fileSize) throw new Error('not a usable VDI image: the block map lies outside the file');
    const raw = new Uint8Array(blocks * 4);
    file.read(mapOffset, raw, 0, raw.length);
    this.map = new Uint32Array(blocks);
    const mv = new DataView(raw.buffer);
    for (let i = 0; i < blocks; i++) {
      const e = mv.getUint32(i * 4, true);
      if (e !== BLOCK_FREE && e !== BLOCK_ZERO && e >= blocks) throw new Error(`not a usable VDI image: block map entry ${i} (${e}) is out of range`);
      this.map[i] = e;
    }
  }

  /** Whether the block holding `offset` has data in the file (for sparse conversion). */
  isAllocated(offset: number): boolean {
    const e = this.map[Math.floor(offset / this.blockSize)];
    return e !== BLOCK_FREE && e !== BLOCK_ZERO;
  }

  read(offset: number, into: Uint8Array, intoOffset: number, length: number): void {
    if (offset < 0 || offset + length > this.size) throw new RangeError(`read of ${length} bytes at ${offset} is past the end of the image (${this.size})`);
    while (length > 0) {
      const b = Math.floor(offset / this.blockSize);
      const within = offset - b * this.blockSize;
      const n = Math.min(this.blockSize - within, length);
      const e = this.map[b];
      if (e === BLOCK_FREE || e === BLOCK_ZERO) into.fill(0, intoOffset, intoOffset + n);
      else this.file.read(this.dataOffset + e * (this.blockSize + this.extra) + this.extra + within, into, intoOffset, n);
      offset += n;
      intoOffset += n;
      length -= n;
    }
  }

  write(): void {
    throw new Error('VDI images are read-only in Boxwood (convert them to qcow2)');
  }

  flush(): void {}

  close(): void {
    this.file.close();
  }
}
