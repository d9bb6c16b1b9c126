// A tiny x86 byte emitter for the BIOS ROM stubs: a buffer with a cursor, labels and
// fix-ups (rel8/rel16 jumps, 16-bit absolute offsets). Only the handful of 16-bit real-mode
// instructions the stubs use are named; anything else is written as raw bytes with a
// comment at the call site. No assembler runs at machine start.

type Fixup = { at: number; label: string; kind: 'rel8' | 'rel16' | 'abs16' | 'abs32'; base: number };

export class RomBuilder {
  readonly bytes: Uint8Array;
  /** Current emit offset inside the image. */
  pos = 0;
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];

  /**
   * @param size image size in bytes
   * @param physBase physical address of byte 0 (for abs32 fix-ups, e.g. 0xE0000)
   * @param segBase linear base of the code segment used for abs16 fix-ups (0xF0000: offsets in F000)
   */
  constructor(
    size: number,
    readonly physBase = 0,
    readonly segBase = 0,
    fill = 0xff,
  ) {
    this.bytes = new Uint8Array(size).fill(fill);
  }

  /** Move the cursor to an image offset. */
  at(offset: number): this {
    if (offset < 0 || offset > this.bytes.length) throw new RangeError(`ROM offset ${offset.toString(16)} out of range`);
    this.pos = offset;
    return this;
  }
  /** Move the cursor to a physical address. */
  atPhys(addr: number): this {
    return this.at(addr - this.physBase);
  }
  align(n: number, fill = 0x90): this {
    while (this.pos % n) this.u8(fill);
    return this;
  }
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`duplicate ROM label ${name}`);
    this.labels.set(name, this.pos);
    return this;
  }
  /** Image offset of a label. */
  offsetOf(name: string): number {
    const v = this.labels.get(name);
    if (v === undefined) throw new Error(`unknown ROM label ${name}`);
    return v;
  }
  /** Physical address of a label. */
  physOf(name: string): number {
    return this.physBase + this.offsetOf(name);
  }
  /** Offset of a label inside the code segment (segBase). */
  segOffsetOf(name: string): number {
    return this.physOf(name) - this.segBase;
  }

  u8(...v: number[]): this {
    for (const b of v) {
      if (this.pos >= this.bytes.length) throw new RangeError('ROM overflow');
      this.bytes[this.pos++] = b & 0xff;
    }
    return this;
  }
  u16(v: number): this {
    return this.u8(v, v >>> 8);
  }
  u32(v: number): this {
    return this.u8(v, v >>> 8, v >>> 16, v >>> 24);
  }
  data(d: Uint8Array | number[]): this {
    for (const b of d) this.u8(b);
    return this;
  }
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  /** Reserve n bytes (left as filled) and return their image offset. */
  reserve(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.length) throw new RangeError('ROM overflow');
    this.pos += n;
    return at;
  }

  // ---- instructions ----
  /** The firmware hypercall 0F 3F ib. */
  hypercall(n: number): this { return this.u8(0x0f, 0x3f, n); }
  iret(): this { return this.u8(0xcf); }
  retf(): this { return this.u8(0xcb); }
  /** 32-bit RETF from a 32-bit code segment (same encoding; noted for readability). */
  retf32(): this { return this.u8(0xcb); }
  cli(): this { return this.u8(0xfa); }
  sti(): this { return this.u8(0xfb); }
  cld(): this { return this.u8(0xfc); }
  hlt(): this { return this.u8(0xf4); }
  int(n: number): this { return this.u8(0xcd, n); }
  pushAx(): this { return this.u8(0x50); }
  popAx(): this { return this.u8(0x58); }
  pushDs(): this { return this.u8(0x1e); }
  popDs(): this { return this.u8(0x1f); }
  /** MOV AL, imm8 */
  movAl(v: number): this { return this.u8(0xb0, v); }
  /** MOV AH, imm8 */
  movAh(v: number): this { return this.u8(0xb4, v); }
  /** MOV AX, imm16 */
  movAx(v: number): this { return this.u8(0xb8).u16(v); }
  /** MOV DS, AX */
  movDsAx(): this { return this.u8(0x8e, 0xd8); }
  /** MOV SS, AX */
  movSsAx(): this { return this.u8(0x8e, 0xd0); }
  /** MOV SP, imm16 */
  movSp(v: number): this { return this.u8(0xbc).u16(v); }
  /** XOR AX, AX */
  xorAxAx(): this { return this.u8(0x31, 0xc0); }
  outImmAl(port: number): this { return this.u8(0xe6, port); }
  inAlImm(port: number): this { return this.u8(0xe4, port); }
  /** JMP FAR seg:off */
  jmpFar(seg: number, off: number): this { return this.u8(0xea).u16(off).u16(seg); }
  jmpShort(label: string): this { return this.u8(0xeb).fix(label, 'rel8', 1); }
  jmpNear(label: string): this { return this.u8(0xe9).fix(label, 'rel16', 2); }
  /** Jcc short: cc is the low nibble of 0x70+cc (2 = JB/JC, 3 = JAE/JNC, 4 = JE, 5 = JNE). */
  jcc(cc: number, label: string): this { return this.u8(0x70 | cc).fix(label, 'rel8', 1); }
  jc(label: string): this { return this.jcc(0x2, label); }
  jnc(label: string): this { return this.jcc(0x3, label); }
  jz(label: string): this { return this.jcc(0x4, label); }
  jnz(label: string): this { return this.jcc(0x5, label); }
  /** A 16-bit segment offset of a label (e.g. inside a table). */
  abs16(label: string): this { return this.fix(label, 'abs16', 2); }
  /** A 32-bit physical address of a label. */
  abs32(label: string): this { return this.fix(label, 'abs32', 4); }

  private fix(label: string, kind: Fixup['kind'], size: number): this {
    const at = this.pos;
    this.fixups.push({ at, label, kind, base: at + size });
    for (let i = 0; i < size; i++) this.u8(0);
    return this;
  }

  /** Resolve fix-ups; throws on unknown labels or out-of-range short jumps. */
  finish(): Uint8Array {
    for (const f of this.fixups) {
      const target = this.offsetOf(f.label);
      switch (f.kind) {
        case 'rel8': {
          const d = target - f.base;
          if (d < -128 || d > 127) throw new RangeError(`short jump to ${f.label} out of range (${d})`);
          this.bytes[f.at] = d & 0xff;
          break;
        }
        case 'rel16': {
          const d = (target - f.base) & 0xffff;
          this.bytes[f.at] = d;
          this.bytes[f.at + 1] = d >>> 8;
          break;
        }
        case 'abs16': {
          const v = this.physBase + target - this.segBase;
          if (v < 0 || v > 0xffff) throw new RangeError(`label ${f.label} is outside the code segment`);
          this.bytes[f.at] = v;
          this.bytes[f.at + 1] = v >>> 8;
          break;
        }
        case 'abs32': {
          const v = this.physBase + target;
          for (let i = 0; i < 4; i++) this.bytes[f.at + i] = v >>> (8 * i);
          break;
        }
      }
    }
    return this.bytes;
  }
}

/** 8-bit checksum byte that makes the sum of `b[start..end)` zero, written at `at`. */
export function fixChecksum(b: Uint8Array, start: number, end: number, at: number): void {
  b[at] = 0;
  let s = 0;
  for (let i = start; i < end; i++) s = (s + b[i]) & 0xff;
  b[at] = (0x100 - s) & 0xff;
}

export function sum8(b: Uint8Array, start = 0, end = b.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + b[i]) & 0xff;
  return s;
}
