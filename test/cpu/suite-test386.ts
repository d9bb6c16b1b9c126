// test386.asm POST 0xEE reference lines: each line's instruction (encoding from
// test386-EE-table.tsv) runs in a flat 32-bit ring-0 code segment built directly
// in the CPU state, followed by HLT; exceptions vector to per-vector HLT stubs.
import { readFileSync } from 'node:fs';
import type { FileResult } from './exclusions';
import type { Harness } from './harness';
import { CR0_ET, CR0_PE, Reg, Seg, FLAG_CF } from '../../engine/cpu/state';

const GDT = 0x1000;
const IDT = 0x2000;
const STUBS = 0x3000;
const CODE = 0x10000;
const STACK_TOP = 0x9000;
const CODE_SEL = 0x08;
const DATA_SEL = 0x10;

interface TableEntry {
  firstLine: number;
  lines: number;
  size: 'B' | 'W' | 'D';
  mnemonic: string;
  dst: string;
  src: string;
  type: string;
  psMask: number;
  bytes: number[];
}

/** BCD lines come first and are not in the table. */
const BCD: Record<string, { bytes: number[]; psMask: number }> = {
  daa: { bytes: [0x27], psMask: 0x00d5 },
  das: { bytes: [0x2f], psMask: 0x00d5 },
  aaa: { bytes: [0x37], psMask: 0x0011 },
  aas: { bytes: [0x3f], psMask: 0x0011 },
  aam: { bytes: [0xd4, 0x0a], psMask: 0x00c4 },
  aad: { bytes: [0xd5, 0x0a], psMask: 0x00c4 },
};

function parseEncoding(enc: string): number[] {
  const hex = enc.replace(/\s+/g, '');
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

export function readTable(path: string): TableEntry[] {
  const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const c = row.split('\t');
    return {
      firstLine: +c[0],
      lines: +c[1],
      size: c[3] as 'B' | 'W' | 'D',
      mnemonic: c[4],
      dst: c[5],
      src: c[6],
      type: c[7],
      psMask: parseInt(c[8], 16),
      bytes: parseEncoding(c[11]),
    };
  });
}

function writeDescriptor(h: Harness, addr: number, lo: number, hi: number): void {
  const v = new DataView(h.mem.ram.buffer);
  v.setInt32(addr, lo, true);
  v.setInt32(addr + 4, hi, true);
}

/** GDT (flat code/data), IDT with a HLT stub per exception vector. */
export function setupFlatProtectedMode(h: Harness): void {
  writeDescriptor(h, GDT + 8, 0x0000ffff, 0x00cf9b00);
  writeDescriptor(h, GDT + 16, 0x0000ffff, 0x00cf9300);
  for (let v = 0; v < 32; v++) {
    const off = STUBS + v;
    writeDescriptor(h, IDT + v * 8, (CODE_SEL << 16) | (off & 0xffff), (off & 0xffff0000) | 0x8e00);
    h.mem.ram[off] = 0xf4;
  }
}

function enterFlatProtectedMode(h: Harness): void {
  const cpu = h.cpu;
  cpu.reset();
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.gdtrBase = GDT;
  cpu.gdtrLimit = 23;
  cpu.idtrBase = IDT;
  cpu.idtrLimit = 32 * 8 - 1;
  for (let s = Seg.ES; s <= Seg.GS; s++) {
    const code = s === Seg.CS;
    cpu.segSel[s] = code ? CODE_SEL : DATA_SEL;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAccess[s] = code ? 0xc9b : 0xc93;
  }
  cpu.cpl = 0;
  cpu.reg32[Reg.ESP] = STACK_TOP;
  cpu.eip = CODE;
  cpu.updateModeCaches();
}

const LINE = /^(\S+(?: \S+)*?) (?:([BWD]) )?EAX=([0-9A-F]{8})(?: EDX=([0-9A-F]{8}))? PS=([0-9A-F]{4}) (#DE )?EAX=([0-9A-F]{8})(?: EDX=([0-9A-F]{8}))? PS=([0-9A-F]{4})/;

function sizeMask(size: string): number {
  return size === 'B' ? 0xff : size === 'W' ? 0xffff : -1;
}

function storeSized(h: Harness, size: string, v: number): void {
  const n = size === 'B' ? 1 : size === 'W' ? 2 : 4;
  for (let i = 0; i < n; i++) h.mem.ram[i] = v >>> (8 * i);
}

function loadSized(h: Harness, size: string): number {
  const r = h.mem.ram;
  const v = r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24);
  return v & sizeMask(size);
}

const REG_NAMES = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

/** INC/DEC r (r not the accumulator): the listed EAX value is the operand, moved into r and back. */
function implicitRegister(dst: string): number {
  const i = REG_NAMES.indexOf(dst.replace(/^e/, ''));
  return i > 0 ? i : -1;
}

/** Run one reference line; null when it matches. */
function runLine(h: Harness, line: string, bytes: number[], psMask: number, size: string, memDst: boolean, memSrc: boolean, stc: boolean, dstReg = -1): string | null {
  const m = LINE.exec(line);
  if (!m) return `unparsed line: ${line}`;
  const [, , , eaxIn, edxIn, psIn, de, eaxOut, edxOut, psOut] = m;
  const cpu = h.cpu;
  enterFlatProtectedMode(h);
  const eax = parseInt(eaxIn, 16) | 0;
  const edx = edxIn ? parseInt(edxIn, 16) | 0 : 0;
  cpu.reg32[Reg.EAX] = eax;
  cpu.reg32[Reg.EDX] = edx;
  cpu.reg32[Reg.ECX] = edx;
  cpu.setEflags(parseInt(psIn, 16) | (stc ? FLAG_CF : 0));
  h.mem.ram.fill(0, 0, 4);
  if (memSrc) storeSized(h, size, edx);
  if (memDst) storeSized(h, size, eax);
  h.mem.ram.set([...bytes, 0xf4], CODE);
  const savedDst = dstReg >= 0 ? cpu.reg32[dstReg] : 0;
  if (dstReg >= 0) cpu.reg32[dstReg] = eax;
  for (let i = 0; i < 8 && !cpu.halted; i++) cpu.run(16);
  if (dstReg >= 0) {
    cpu.reg32[Reg.EAX] = cpu.reg32[dstReg];
    cpu.reg32[dstReg] = savedDst;
  }
  if (!cpu.halted) return 'did not reach HLT';
  const stub = cpu.eip - 1 - STUBS;
  const vector = stub >= 0 && stub < 32 ? stub : -1;
  if (de ? vector !== 0 : vector !== -1) return de ? `expected #DE, got vector ${vector}` : `unexpected exception ${vector}`;
  let gotEax = cpu.reg32[Reg.EAX];
  if (memDst && !de) gotEax = (gotEax & ~sizeMask(size)) | loadSized(h, size);
  const diffs: string[] = [];
  if (gotEax >>> 0 !== parseInt(eaxOut, 16)) diffs.push(`EAX=${(gotEax >>> 0).toString(16)} want ${eaxOut}`);
  if (edxOut && cpu.reg32[Reg.EDX] >>> 0 !== parseInt(edxOut, 16)) diffs.push(`EDX=${(cpu.reg32[Reg.EDX] >>> 0).toString(16)} want ${edxOut}`);
  const ps = de ? cpu.getEflags() : cpu.getEflags();
  if ((ps & psMask) !== (parseInt(psOut, 16) & psMask)) diffs.push(`PS=${(ps & psMask).toString(16)} want ${psOut}`);
  return diffs.length ? diffs.join(', ') : null;
}

export function runTest386(h: Harness, referencePath: string, tablePath: string, result: FileResult, limit: number): void {
  const lines = readFileSync(referencePath, 'utf8').split('\n');
  const table = readTable(tablePath);
  setupFlatProtectedMode(h);
  // BCD lines: everything before the first table entry.
  const firstTableLine = table[0].firstLine;
  let perGroup = 0;
  let lastMnemonic = '';
  for (let n = 1; n < firstTableLine; n++) {
    const line = lines[n - 1];
    const mnemonic = line.split(' ')[0];
    perGroup = mnemonic === lastMnemonic ? perGroup + 1 : 0;
    lastMnemonic = mnemonic;
    const bcd = BCD[mnemonic];
    if (perGroup >= limit) continue;
    if (!bcd) result.record(`line${n}`, `unknown BCD mnemonic ${mnemonic}`);
    else result.record(`line${n}`, runLine(h, line, bcd.bytes, bcd.psMask, 'B', false, false, false));
  }
  for (const e of table) {
    const shift = e.type.startsWith('SHIFTS');
    const count = Math.min(e.lines, limit);
    for (let i = 0; i < count; i++) {
      const n = e.firstLine + i;
      result.record(`line${n}`, runLine(h, lines[n - 1], e.bytes, e.psMask, e.size, e.dst === '[mem]', e.src === '[mem]', shift, /^(inc|dec)$/.test(e.mnemonic) ? implicitRegister(e.dst) : -1));
    }
  }
}
