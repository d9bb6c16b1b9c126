// Environment and state images: FNSTENV/FLDENV (14/28 bytes), FNSAVE/FRSTOR
// (94/108 bytes), in the real-mode (and v86) and protected-mode layouts;
// FXSAVE/FXRSTOR (512 bytes, abridged tag); packed BCD (FBLD/FBSTP).
// Stores build the whole image first and then write it with the last byte probed
// first, so a fault leaves the FPU state unchanged; loads read everything first.
import type { CpuCore } from '../core';
import { CpuFault, Vec } from '../state';
import type { X87 } from './x87';
import { Unp, fromI64 } from './float80';

const buf = new Uint8Array(512);
const view = new DataView(buf.buffer);

function put16(o: number, v: number): void { view.setUint16(o, v & 0xffff, true); }
function put32(o: number, v: number): void { view.setUint32(o, v >>> 0, true); }

/** Build the environment image at buf[0..]; returns its size (14 or 28). */
function buildEnv(x: X87, cpu: CpuCore, o32: boolean): number {
  const prot = x.isProtected(cpu);
  const cw = x.cw, sw = x.statusWord(), tw = x.tagWord();
  if (o32) {
    put32(0, 0xffff0000 | cw);
    put32(4, 0xffff0000 | sw);
    put32(8, 0xffff0000 | tw);
    if (prot) {
      put32(12, x.fip);
      put32(16, (x.fop << 16) | x.fcs);
      put32(20, x.fdp);
      put32(24, 0xffff0000 | x.fds);
    } else {
      const ip = ((x.fcs << 4) + x.fip) >>> 0, dp = ((x.fds << 4) + x.fdp) >>> 0;
      put32(12, 0xffff0000 | (ip & 0xffff));
      put32(16, ((ip & 0xffff0000) >>> 4) | x.fop);
      put32(20, 0xffff0000 | (dp & 0xffff));
      put32(24, (dp & 0xffff0000) >>> 4);
    }
    return 28;
  }
  put16(0, cw); put16(2, sw); put16(4, tw);
  if (prot) {
    put16(6, x.fip); put16(8, x.fcs); put16(10, x.fdp); put16(12, x.fds);
  } else {
    const ip = ((x.fcs << 4) + x.fip) >>> 0, dp = ((x.fds << 4) + x.fdp) >>> 0;
    put16(6, ip); put16(8, ((ip & 0xf0000) >>> 4) | x.fop); put16(10, dp); put16(12, (dp & 0xf0000) >>> 4);
  }
  return 14;
}

/** FNSTENV (withRegs=false) / FNSAVE (true): the caller then masks exceptions / re-initialises. */
export function storeEnv(x: X87, cpu: CpuCore, seg: number, off: number, o32: boolean, withRegs = false): void {
  let n = buildEnv(x, cpu, o32);
  if (withRegs) {
    for (let i = 0; i < 8; i++) {
      const p = (x.top + i) & 7;
      put32(n, x.regLo[p]); put32(n + 4, x.regHi[p]); put16(n + 8, x.regSE[p]);
      n += 10;
    }
  }
  x.writeBytes(cpu, seg, off, buf, n);
}

/** FLDENV (withRegs=false) / FRSTOR (true). */
export function loadEnv(x: X87, cpu: CpuCore, seg: number, off: number, o32: boolean, withRegs: boolean): void {
  const n = (o32 ? 28 : 14) + (withRegs ? 80 : 0);
  for (let i = 0; i < n; i++) buf[i] = cpu.readSeg8(seg, (off + i) >>> 0);
  const prot = x.isProtected(cpu);
  let cw: number, sw: number, tw: number;
  if (o32) {
    cw = view.getUint16(0, true); sw = view.getUint16(4, true); tw = view.getUint16(8, true);
    if (prot) {
      x.fip = view.getUint32(12, true);
      x.fcs = view.getUint16(16, true);
      x.fop = view.getUint16(18, true) & 0x7ff;
      x.fdp = view.getUint32(20, true);
      x.fds = view.getUint16(24, true);
    } else {
      x.fip = (view.getUint16(12, true) | ((view.getUint32(16, true) & 0x0ffff000) << 4)) >>> 0;
      x.fop = view.getUint16(16, true) & 0x7ff;
      x.fdp = (view.getUint16(20, true) | ((view.getUint32(24, true) & 0x0ffff000) << 4)) >>> 0;
      x.fcs = 0; x.fds = 0;
    }
  } else {
    cw = view.getUint16(0, true); sw = view.getUint16(2, true); tw = view.getUint16(4, true);
    if (prot) {
      x.fip = view.getUint16(6, true); x.fcs = view.getUint16(8, true);
      x.fdp = view.getUint16(10, true); x.fds = view.getUint16(12, true);
    } else {
      const w = view.getUint16(8, true);
      x.fip = view.getUint16(6, true) | ((w & 0xf000) << 4);
      x.fop = w & 0x7ff;
      x.fdp = view.getUint16(10, true) | ((view.getUint16(12, true) & 0xf000) << 4);
      x.fcs = 0; x.fds = 0;
    }
  }
  x.cw = (cw & 0x1f7f) | 0x40;
  x.top = (sw >>> 11) & 7;
  x.sw = sw & ~0x3800;
  let empty = 0;
  for (let p = 0; p < 8; p++) if (((tw >>> (2 * p)) & 3) === 3) empty |= 1 << p;
  x.empty = empty;
  if (withRegs) {
    let o = o32 ? 28 : 14;
    for (let i = 0; i < 8; i++) {
      const p = (x.top + i) & 7;
      x.regLo[p] = view.getUint32(o, true);
      x.regHi[p] = view.getUint32(o + 4, true);
      x.regSE[p] = view.getUint16(o + 8, true);
      o += 10;
    }
  }
  x.recomputeES();
}

function checkAlign16(cpu: CpuCore, seg: number, off: number): void {
  if (((cpu.segBase[seg] + off) & 15) !== 0) throw new CpuFault(Vec.GP, 0);
}

/**
 * FXSAVE: bytes 0-31 header, 32-159 ST0-ST7 in 16-byte slots. No SSE on this CPU:
 * MXCSR/MXCSR_MASK are written as 0 and the XMM area (160-511) is left untouched.
 */
export function fxsaveArea(x: X87, cpu: CpuCore, seg: number, off: number): void {
  checkAlign16(cpu, seg, off);
  buf.fill(0, 0, 160);
  put16(0, x.cw);
  put16(2, x.statusWord());
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (!((x.empty >>> p) & 1)) ftw |= 1 << p;
  buf[4] = ftw;
  put16(6, x.fop);
  put32(8, x.fip);
  put16(12, x.fcs);
  put32(16, x.fdp);
  put16(20, x.fds);
  for (let i = 0; i < 8; i++) {
    const p = (x.top + i) & 7;
    put32(32 + 16 * i, x.regLo[p]);
    put32(36 + 16 * i, x.regHi[p]);
    put16(40 + 16 * i, x.regSE[p]);
  }
  x.writeBytes(cpu, seg, off, buf, 160);
}

export function fxrstorArea(x: X87, cpu: CpuCore, seg: number, off: number): void {
  checkAlign16(cpu, seg, off);
  for (let i = 0; i < 160; i++) buf[i] = cpu.readSeg8(seg, (off + i) >>> 0);
  x.cw = (view.getUint16(0, true) & 0x1f7f) | 0x40;
  const sw = view.getUint16(2, true);
  x.top = (sw >>> 11) & 7;
  x.sw = sw & ~0x3800;
  x.empty = ~buf[4] & 0xff;
  x.fop = view.getUint16(6, true) & 0x7ff;
  x.fip = view.getUint32(8, true);
  x.fcs = view.getUint16(12, true);
  x.fdp = view.getUint32(16, true);
  x.fds = view.getUint16(20, true);
  for (let i = 0; i < 8; i++) {
    const p = (x.top + i) & 7;
    x.regLo[p] = view.getUint32(32 + 16 * i, true);
    x.regHi[p] = view.getUint32(36 + 16 * i, true);
    x.regSE[p] = view.getUint16(40 + 16 * i, true);
  }
  x.recomputeES();
}

/** FBLD: 18 packed digits + sign byte → exact value (invalid digits are taken at face value). */
export function readBcd(cpu: CpuCore, seg: number, off: number, u: Unp): void {
  for (let i = 0; i < 10; i++) buf[i] = cpu.readSeg8(seg, (off + i) >>> 0);
  let v = 0n;
  for (let i = 8; i >= 0; i--) v = v * 100n + BigInt((buf[i] >>> 4) * 10 + (buf[i] & 15));
  fromI64(u, Number(v >> 32n) >>> 0, Number(v & 0xffffffffn) >>> 0);
  u.s = buf[9] >>> 7;
}

/** FBSTP store: the magnitude (< 10^18) and sign, or the BCD indefinite. */
export function writeBcd(x: X87, cpu: CpuCore, seg: number, off: number, invalid: boolean, neg: number, mag: bigint): void {
  buf.fill(0, 0, 10);
  if (invalid) {
    buf[7] = 0xc0; buf[8] = 0xff; buf[9] = 0xff;
  } else {
    let v = mag;
    for (let i = 0; i < 9; i++) {
      const d = Number(v % 100n);
      v /= 100n;
      buf[i] = ((Math.floor(d / 10) << 4) | (d % 10)) & 0xff;
    }
    buf[9] = neg ? 0x80 : 0;
  }
  x.writeBytes(cpu, seg, off, buf, 10);
}
