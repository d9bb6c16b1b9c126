// Keyboard: the INT 09h scan-code translation (set 1, as the i8042 delivers with
// translation on) into the BDA ring buffer and shift flags, and the INT 16h services.
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import * as B from './bda';

const SHIFT_R = 0x01, SHIFT_L = 0x02, CTRL = 0x04, ALT = 0x08, SCROLL = 0x10, NUM = 0x20, CAPS = 0x40, INSERT = 0x80;

// Plain and shifted ASCII for scan codes 0x00-0x39 ('' = no character).
const NORMAL = '\0\x1b1234567890-=\x08\tqwertyuiop[]\r\0asdfghjkl;\'`\0\\zxcvbnm,./\0*\0 ';
const SHIFTED = '\0\x1b!@#$%^&*()_+\x08\tQWERTYUIOP{}\r\0ASDFGHJKL:"~\0|ZXCVBNM<>?\0*\0 ';
const KEYPAD_NUM = '789-456+1230.';
const KEYPAD_ASCII_NAV = [0, 0, 0, 0x2d, 0, 0, 0, 0x2b, 0, 0, 0, 0, 0]; // '-' and '+' keep ASCII

export class Keyboard {
  private e0 = false;

  constructor(private readonly b: BiosCtx) {}

  private get mem() { return this.b.mem; }

  reset(): void {
    const m = this.mem;
    m.write16(B.BDA_KBD_HEAD, 0x1e);
    m.write16(B.BDA_KBD_TAIL, 0x1e);
    m.write16(B.BDA_KBD_BUF_START, 0x1e);
    m.write16(B.BDA_KBD_BUF_END, 0x3e);
    m.write8(B.BDA_KBD_FLAGS1, 0);
    m.write8(B.BDA_KBD_FLAGS2, 0);
    m.write8(B.BDA_KBD_FLAGS3, 0x10); // enhanced 101/102-key keyboard
    m.write8(B.BDA_KBD_LEDS, 0);
    this.e0 = false;
  }

  /** Append a key (scan << 8 | ascii); false when the buffer is full. */
  enqueue(key: number): boolean {
    const m = this.mem;
    const start = m.read16(B.BDA_KBD_BUF_START) || 0x1e;
    const end = m.read16(B.BDA_KBD_BUF_END) || 0x3e;
    const tail = m.read16(B.BDA_KBD_TAIL);
    let next = tail + 2;
    if (next >= end) next = start;
    if (next === m.read16(B.BDA_KBD_HEAD)) return false;
    m.write16(0x400 + tail, key);
    m.write16(B.BDA_KBD_TAIL, next);
    return true;
  }

  /** The next key without removing it, or -1. */
  peek(): number {
    const head = this.mem.read16(B.BDA_KBD_HEAD);
    if (head === this.mem.read16(B.BDA_KBD_TAIL)) return -1;
    return this.mem.read16(0x400 + head);
  }

  dequeue(): number {
    const key = this.peek();
    if (key < 0) return key;
    const m = this.mem;
    let head = m.read16(B.BDA_KBD_HEAD) + 2;
    if (head >= (m.read16(B.BDA_KBD_BUF_END) || 0x3e)) head = m.read16(B.BDA_KBD_BUF_START) || 0x1e;
    m.write16(B.BDA_KBD_HEAD, head);
    return key;
  }

  /** INT 09h body: one scan code byte from port 0x60. */
  scanCode(code: number): void {
    if (code === 0xe0) {
      this.e0 = true;
      return;
    }
    if (code === 0xe1 || code === 0xfa || code === 0xfe || code === 0x00 || code === 0xff) return; // Pause prefix, ACK, resend, errors
    const ext = this.e0;
    this.e0 = false;
    const m = this.mem;
    let f1 = m.read8(B.BDA_KBD_FLAGS1);
    let f2 = m.read8(B.BDA_KBD_FLAGS2);
    let f3 = m.read8(B.BDA_KBD_FLAGS3);
    const release = (code & 0x80) !== 0;
    const sc = code & 0x7f;
    const setBit = (v: number, bit: number, on: boolean) => (on ? v | bit : v & ~bit);
    switch (sc) {
      case 0x2a: f1 = setBit(f1, SHIFT_L, !release); break;
      case 0x36: f1 = setBit(f1, SHIFT_R, !release); break;
      case 0x1d:
        if (ext) f3 = setBit(f3, 0x04, !release);
        else f2 = setBit(f2, 0x01, !release);
        f1 = setBit(f1, CTRL, ((f2 & 0x01) | (f3 & 0x04)) !== 0);
        break;
      case 0x38:
        if (ext) f3 = setBit(f3, 0x08, !release);
        else f2 = setBit(f2, 0x02, !release);
        f1 = setBit(f1, ALT, ((f2 & 0x02) | (f3 & 0x08)) !== 0);
        break;
      case 0x3a:
        if (!release && !(f2 & 0x40)) f1 ^= CAPS;
        f2 = setBit(f2, 0x40, !release);
        break;
      case 0x45:
        if (!release && !(f2 & 0x20)) f1 ^= NUM;
        f2 = setBit(f2, 0x20, !release);
        break;
      case 0x46:
        if (!release && !(f2 & 0x10)) f1 ^= SCROLL;
        f2 = setBit(f2, 0x10, !release);
        break;
      default:
        if (!release) {
          const key = translate(sc, ext, f1);
          if (key >= 0) {
            if (sc === 0x52 && !(f1 & (SHIFT_L | SHIFT_R | NUM))) f1 ^= INSERT;
            this.enqueue(key);
          }
        }
    }
    m.write8(B.BDA_KBD_FLAGS1, f1);
    m.write8(B.BDA_KBD_FLAGS2, f2);
    m.write8(B.BDA_KBD_FLAGS3, (f3 & ~0x02) | (ext ? 0x02 : 0));
  }

  int16(g: Guest): void {
    const ah = g.ah;
    switch (ah) {
      case 0x00:
      case 0x10: {
        const key = this.dequeue();
        if (key < 0) {
          this.b.setEip(g, this.b.waitOffset(0x16)); // idle until IRQ1 fills the buffer
          return;
        }
        g.ax = ah === 0x00 ? legacy(key) : key;
        return;
      }
      case 0x01:
      case 0x11: {
        const key = this.peek();
        g.setZF(key < 0);
        if (key >= 0) g.ax = ah === 0x01 ? legacy(key) : key;
        return;
      }
      case 0x02:
        g.al = this.mem.read8(B.BDA_KBD_FLAGS1);
        return;
      case 0x12: {
        const f2 = this.mem.read8(B.BDA_KBD_FLAGS2);
        const f3 = this.mem.read8(B.BDA_KBD_FLAGS3);
        g.al = this.mem.read8(B.BDA_KBD_FLAGS1);
        g.ah = (f2 & 0x73) | ((f3 & 0x0c) ? (f3 & 0x04 ? 0x04 : 0) | (f3 & 0x08 ? 0x08 : 0) : 0);
        return;
      }
      case 0x03: // typematic rate: accepted
        return;
      case 0x05:
        g.al = this.enqueue(g.cx) ? 0 : 1;
        return;
      case 0x09:
        g.al = 0x30; // 10h-12h supported, typematic
        return;
      case 0x0a:
        g.bx = 0x41ab; // MF2 keyboard with translation
        return;
      default:
        return;
    }
  }
}

/** AH=00h/01h view of an enhanced key: grey keys' E0 ASCII becomes 0. */
function legacy(key: number): number {
  if ((key & 0xff) === 0xe0 && key >>> 8) return key & 0xff00;
  if (key >>> 8 === 0xe0) return (0x1c << 8) | (key & 0xff); // grey Enter and '/'
  return key;
}

/** scan << 8 | ascii for a make code, or -1 for keys that produce nothing. */
export function translate(sc: number, ext: boolean, flags: number): number {
  const shift = (flags & (SHIFT_L | SHIFT_R)) !== 0;
  const ctrl = (flags & CTRL) !== 0;
  const alt = (flags & ALT) !== 0;
  if (ext) {
    if (sc === 0x1c) return ctrl ? 0xe00a : 0xe00d; // grey Enter
    if (sc === 0x35) return 0xe02f; // grey '/'
    if (sc >= 0x47 && sc <= 0x53 && sc !== 0x4a && sc !== 0x4c && sc !== 0x4e) {
      if (alt) return (sc + 0x50) << 8;
      if (ctrl) return (CTRL_NAV[sc - 0x47] << 8) | 0xe0;
      return (sc << 8) | 0xe0;
    }
    return -1;
  }
  if (sc >= 0x3b && sc <= 0x44) {
    const base = alt ? 0x68 : ctrl ? 0x5e : shift ? 0x54 : 0x3b;
    return (base + sc - 0x3b) << 8;
  }
  if (sc === 0x57 || sc === 0x58) {
    const base = alt ? 0x8b : ctrl ? 0x89 : shift ? 0x87 : 0x85;
    return (base + sc - 0x57) << 8;
  }
  if (sc >= 0x47 && sc <= 0x53) {
    const i = sc - 0x47;
    const numlock = (flags & NUM) !== 0;
    if (alt) return -1;
    if (ctrl) return CTRL_NAV[i] << 8;
    if (numlock !== shift) return (sc << 8) | KEYPAD_NUM.charCodeAt(i);
    return (sc << 8) | KEYPAD_ASCII_NAV[i];
  }
  if (sc >= NORMAL.length) return -1;
  const n = NORMAL.charCodeAt(sc);
  if (n === 0) return -1;
  const isLetter = n >= 0x61 && n <= 0x7a;
  if (alt) {
    if (sc === 0x01) return 0x0100;
    if (sc === 0x0e) return 0x0e00;
    if (sc === 0x0f) return 0xa500;
    if (sc === 0x1c) return 0xa600;
    if (sc >= 0x02 && sc <= 0x0d) return (sc + 0x76) << 8; // Alt-1..Alt-= are 78h-83h
    return sc << 8;
  }
  if (ctrl) {
    if (isLetter) return (sc << 8) | (n - 0x60);
    switch (sc) {
      case 0x01: return 0x011b;
      case 0x03: return 0x0300;
      case 0x07: return 0x071e;
      case 0x0c: return 0x0c1f;
      case 0x0e: return 0x0e7f;
      case 0x0f: return 0x9400;
      case 0x1a: return 0x1a1b;
      case 0x1b: return 0x1b1d;
      case 0x1c: return 0x1c0a;
      case 0x2b: return 0x2b1c;
      case 0x39: return 0x3920;
      default: return -1;
    }
  }
  if (sc === 0x0f && shift) return 0x0f00;
  let c = shift ? SHIFTED.charCodeAt(sc) : n;
  if (isLetter && (flags & CAPS)) c = shift ? n : n - 0x20;
  return (sc << 8) | c;
}

/** Ctrl + keypad navigation scan codes (Home..Del). */
const CTRL_NAV = [0x77, 0x8d, 0x84, 0x8e, 0x73, 0x8f, 0x74, 0x90, 0x75, 0x91, 0x76, 0x92, 0x93];
