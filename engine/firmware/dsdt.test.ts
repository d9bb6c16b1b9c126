// Decodes the DSDT back into a namespace (a small AML reader for the terms dsdt.ts writes)
// and checks it against the hardware it describes: the PCI slot swizzle of pci-bus.ts, the
// PIIX3 PIRQ registers, and the windows pci-init.ts assigns BARs from.
import { describe, expect, it } from 'vitest';
import { buildDsdtAml, LINK_IRQS } from './dsdt';
import { PciBus } from '../devices/pci-bus';
import { PCI_MEM_LIMIT } from './pci-init';
import { interrupt, resourceTemplate, wordBusNumber, io, dwordMemory } from './aml-resources';
import { eisaId } from './aml';

type Value = number | string | { buffer: number[] } | { ref: string } | Value[];
interface Obj {
  kind: 'name' | 'method' | 'device' | 'region' | 'field';
  value?: Value;
  args?: number;
  region?: { space: number; offset: number; length: number };
  fields?: [string, number][];
}

class Reader {
  p = 0;
  readonly ns = new Map<string, Obj>();
  constructor(readonly b: number[]) {}

  pkgLength(): number {
    const start = this.p;
    const lead = this.b[this.p++];
    const n = lead >> 6;
    if (n === 0) return start + (lead & 0x3f);
    let len = lead & 0x0f;
    for (let i = 0; i < n; i++) len |= this.b[this.p++] << (4 + 8 * i);
    return start + len;
  }

  rawLength(): number {
    const lead = this.b[this.p++];
    const n = lead >> 6;
    if (n === 0) return lead & 0x3f;
    let len = lead & 0x0f;
    for (let i = 0; i < n; i++) len |= this.b[this.p++] << (4 + 8 * i);
    return len;
  }

  seg(): string {
    const s = String.fromCharCode(...this.b.slice(this.p, this.p + 4)).replace(/_+$/, '');
    this.p += 4;
    return s || '_';
  }

  /** A NameString resolved against `scope` (absolute paths like \_SB.PCI0). */
  nameString(scope: string): string {
    let prefix = '';
    let abs = false;
    if (this.b[this.p] === 0x5c) {
      abs = true;
      this.p++;
    }
    while (this.b[this.p] === 0x5e) {
      prefix += '^';
      this.p++;
    }
    let segs: string[];
    const c = this.b[this.p];
    if (c === 0x00) {
      this.p++;
      segs = [];
    } else if (c === 0x2e) {
      this.p++;
      segs = [this.seg(), this.seg()];
    } else if (c === 0x2f) {
      this.p++;
      const n = this.b[this.p++];
      segs = Array.from({ length: n }, () => this.seg());
    } else segs = [this.seg()];
    if (prefix) throw new Error('parent prefixes are not used by dsdt.ts');
    if (abs) return '\\' + segs.join('.');
    return (scope === '\\' ? '\\' : scope + '.') + segs.join('.');
  }

  data(scope: string): Value {
    const op = this.b[this.p++];
    const le = (n: number) => {
      let v = 0;
      for (let i = 0; i < n; i++) v += this.b[this.p + i] * 2 ** (8 * i);
      this.p += n;
      return v;
    };
    switch (op) {
      case 0x00: return 0;
      case 0x01: return 1;
      case 0x0a: return le(1);
      case 0x0b: return le(2);
      case 0x0c: return le(4);
      case 0x0d: {
        let s = '';
        while (this.b[this.p] !== 0) s += String.fromCharCode(this.b[this.p++]);
        this.p++;
        return s;
      }
      case 0x11: {
        const end = this.pkgLength();
        const size = this.data(scope) as number;
        const bytes = this.b.slice(this.p, end);
        expect(bytes.length).toBe(size);
        this.p = end;
        return { buffer: bytes };
      }
      case 0x12: {
        const end = this.pkgLength();
        const count = this.b[this.p++];
        const out: Value[] = [];
        while (this.p < end) {
          const c = this.b[this.p];
          // A name inside a package is a reference, resolved later by the OS.
          if (c === 0x5c || c === 0x2e || c === 0x2f || c === 0x5f || (c >= 0x41 && c <= 0x5a)) out.push({ ref: this.nameString(scope) });
          else out.push(this.data(scope));
        }
        expect(out.length).toBe(count);
        return out;
      }
      default:
        throw new Error(`unexpected data opcode ${op.toString(16)} at ${this.p - 1}`);
    }
  }

  terms(end: number, scope: string): void {
    while (this.p < end) {
      const op = this.b[this.p++];
      if (op === 0x08) {
        const n = this.nameString(scope);
        this.ns.set(n, { kind: 'name', value: this.data(scope) });
      } else if (op === 0x14) {
        const e = this.pkgLength();
        const n = this.nameString(scope);
        this.ns.set(n, { kind: 'method', args: this.b[this.p] & 7 });
        this.p = e; // bodies are executed by the OS; their shape is checked by the encoder tests
      } else if (op === 0x5b && this.b[this.p] === 0x82) {
        this.p++;
        const e = this.pkgLength();
        const n = this.nameString(scope);
        this.ns.set(n, { kind: 'device' });
        this.terms(e, n);
      } else if (op === 0x5b && this.b[this.p] === 0x80) {
        this.p++;
        const n = this.nameString(scope);
        const space = this.b[this.p++];
        const offset = this.data(scope) as number;
        const length = this.data(scope) as number;
        this.ns.set(n, { kind: 'region', region: { space, offset, length } });
      } else if (op === 0x5b && this.b[this.p] === 0x81) {
        this.p++;
        const e = this.pkgLength();
        const region = this.nameString(scope);
        this.p++; // flags
        const fields: [string, number][] = [];
        while (this.p < e) fields.push([this.seg(), this.rawLength()]);
        this.ns.set(region + '#field', { kind: 'field', fields });
      } else throw new Error(`unexpected term opcode ${op.toString(16)} at ${this.p - 1}`);
    }
    expect(this.p).toBe(end);
  }
}

function decode(b: number[]): Map<string, Obj> {
  const r = new Reader(b);
  r.terms(b.length, '\\');
  return r.ns;
}

interface Resource {
  tag: number;
  bytes: number[];
}
function resources(buf: number[]): Resource[] {
  const out: Resource[] = [];
  let p = 0;
  for (;;) {
    const t = buf[p];
    if (t & 0x80) {
      const len = buf[p + 1] | (buf[p + 2] << 8);
      out.push({ tag: t, bytes: buf.slice(p, p + 3 + len) });
      p += 3 + len;
    } else {
      const len = t & 7;
      out.push({ tag: t >> 3, bytes: buf.slice(p, p + 1 + len) });
      p += 1 + len;
      if (t >> 3 === 0x0f) break; // End Tag
    }
  }
  expect(p).toBe(buf.length);
  return out;
}
const u16 = (b: number[], o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: number[], o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const eisa = (id: string) => eisaId(id).slice(1).reduce((v, x, i) => v + x * 2 ** (8 * i), 0);

describe('resource descriptors', () => {
  it('encodes the layouts of ACPI 6.4 section 6.4', () => {
    expect(wordBusNumber(0, 0xff)).toEqual([0x88, 13, 0, 2, 0x0c, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01]);
    expect(io(0xcf8, 0xcf8, 1, 8)).toEqual([0x47, 1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8]);
    const m = dwordMemory(0xa0000, 0xbffff, 'cacheable');
    expect(m.length).toBe(26);
    expect(m.slice(0, 6)).toEqual([0x87, 23, 0, 0, 0x0c, 0x03]);
    expect(u32(m, 10)).toBe(0xa0000);
    expect(u32(m, 22)).toBe(0x20000);
    expect(interrupt({ level: true, activeLow: false, shared: true }, [5, 11])).toEqual([0x89, 10, 0, 0x09, 2, 5, 0, 0, 0, 11, 0, 0, 0]);
    // Buffer (size) { descriptors, End Tag }.
    expect(resourceTemplate(io(0x60, 0x60, 1, 1))).toEqual([0x11, 0x0d, 0x0a, 0x0a, 0x47, 1, 0x60, 0, 0x60, 0, 1, 1, 0x79, 0]);
  });
});

describe('DSDT', () => {
  const ram = 128 * 1024 * 1024;
  const ns = decode(buildDsdtAml({ s5SlpTyp: 0, pci: { memBase: ram, memLimit: PCI_MEM_LIMIT } }));

  it('has \\_S5 and, without PCI, nothing else', () => {
    expect(ns.get('\\_S5')?.value).toEqual([0, 0, 0, 0]);
    expect([...decode(buildDsdtAml({ s5SlpTyp: 0, pci: null })).keys()]).toEqual(['\\_S5']);
  });

  it('declares the PCI host bridge and the OS interrupt-model hook', () => {
    expect(ns.get('\\_SB.PCI0')?.kind).toBe('device');
    expect(ns.get('\\_SB.PCI0._HID')?.value).toBe(eisa('PNP0A03'));
    expect(ns.get('\\_SB.PCI0._ADR')?.value).toBe(0);
    expect(ns.get('\\_SB.PCI0._BBN')?.value).toBe(0);
    expect(ns.get('\\_SB.PCI0._UID')?.value).toBe(0);
    expect(ns.get('\\_SB.PCI0._PRT')).toMatchObject({ kind: 'method', args: 0 });
    expect(ns.get('\\_PIC')).toMatchObject({ kind: 'method', args: 1 });
    expect(ns.get('\\PICM')?.value).toBe(0);
  });

  it("gives the bridge all buses, I/O but its config ports, VGA and the BAR window", () => {
    const crs = resources((ns.get('\\_SB.PCI0._CRS')!.value as { buffer: number[] }).buffer);
    const words = crs.filter((r) => r.tag === 0x88).map((r) => ({ type: r.bytes[3], min: u16(r.bytes, 8), max: u16(r.bytes, 10), len: u16(r.bytes, 14) }));
    expect(words).toEqual([
      { type: 2, min: 0, max: 0xff, len: 0x100 },
      { type: 1, min: 0, max: 0xcf7, len: 0xcf8 },
      { type: 1, min: 0xd00, max: 0xffff, len: 0xf300 },
    ]);
    const mem = crs.filter((r) => r.tag === 0x87).map((r) => [u32(r.bytes, 10), u32(r.bytes, 14), u32(r.bytes, 22)]);
    expect(mem).toEqual([
      [0xa0000, 0xbffff, 0x20000],
      [ram, 0xfebfffff, 0xfec00000 - ram],
    ]);
    // pci-init.ts's memory BARs (from 0xE0000000) land inside the window.
    expect(0xe0000000).toBeGreaterThanOrEqual(ram);
    expect(crs.at(-1)!.bytes).toEqual([0x79, 0]);
  });

  it('routes every slot 1-31, pins A-D, as the PIIX3 wires them', () => {
    const apic = ns.get('\\_SB.PCI0.PRTA')!.value as number[][];
    const pic = ns.get('\\_SB.PCI0.PRTP')!.value as Value[][];
    expect(apic.length).toBe(124);
    expect(pic.length).toBe(124);
    let i = 0;
    for (let slot = 1; slot < 32; slot++) {
      for (let pin = 0; pin < 4; pin++, i++) {
        const pirq = PciBus.pirqOf(slot, pin + 1);
        expect(apic[i]).toEqual([slot * 0x10000 + 0xffff, pin, 0, 16 + pirq]);
        expect(pic[i]).toEqual([slot * 0x10000 + 0xffff, pin, { ref: `\\_SB.LNK${'ABCD'[pirq]}` }, 0]);
      }
    }
  });

  it('backs the link devices with the PIIX3 PIRQ route registers', () => {
    expect(ns.get('\\_SB.PCI0.ISA._ADR')?.value).toBe(0x00010000);
    expect(ns.get('\\_SB.PCI0.ISA.PIRQ')?.region).toEqual({ space: 2, offset: 0x60, length: 4 });
    expect(ns.get('\\_SB.PCI0.ISA.PIRQ#field')?.fields).toEqual([['PRQ0', 8], ['PRQ1', 8], ['PRQ2', 8], ['PRQ3', 8]]);
    for (let p = 0; p < 4; p++) {
      const l = `\\_SB.LNK${'ABCD'[p]}`;
      expect(ns.get(l)?.kind).toBe('device');
      expect(ns.get(`${l}._HID`)?.value).toBe(eisa('PNP0C0F'));
      expect(ns.get(`${l}._UID`)?.value).toBe(p + 1);
      const prs = resources((ns.get(`${l}._PRS`)!.value as { buffer: number[] }).buffer);
      expect(prs[0].bytes).toEqual(interrupt({ level: true, activeLow: false, shared: true }, LINK_IRQS));
      for (const m of ['_STA', '_CRS', '_DIS']) expect(ns.get(`${l}.${m}`)).toMatchObject({ kind: 'method', args: 0 });
      expect(ns.get(`${l}._SRS`)).toMatchObject({ kind: 'method', args: 1 });
    }
    expect(ns.get('\\_SB.IQST')).toMatchObject({ kind: 'method', args: 1 });
    expect(ns.get('\\_SB.IQCR')).toMatchObject({ kind: 'method', args: 1 });
  });
});
