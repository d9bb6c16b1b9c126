// Reader for MOO test files (SingleStepTests binary format, see
// ../shared/cpu-tests/moo-format/moo_format_v1.md). Only what the runner needs:
// name, bytes, initial/final registers and RAM, and the exception record.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

/** Register order of the REGS bitmask. */
export const MOO_REGS = ['ax', 'bx', 'cx', 'dx', 'cs', 'ss', 'ds', 'es', 'sp', 'bp', 'si', 'di', 'ip', 'flags'] as const;
export type RegName = (typeof MOO_REGS)[number];
export type Regs = Partial<Record<RegName, number>>;

export interface CpuState {
  regs: Regs;
  ram: [number, number][];
}

export interface VectorTest {
  idx: number;
  name: string;
  bytes: number[];
  initial: CpuState;
  final: CpuState;
  exception?: { vector: number; flagAddress: number };
  hash?: string;
}

function readState(buf: Buffer, start: number, end: number): CpuState {
  const state: CpuState = { regs: {}, ram: [] };
  let p = start;
  while (p < end) {
    const tag = buf.toString('latin1', p, p + 4);
    const len = buf.readUInt32LE(p + 4);
    const body = p + 8;
    if (tag === 'REGS') {
      const mask = buf.readUInt16LE(body);
      let q = body + 2;
      for (let bit = 0; bit < MOO_REGS.length; bit++) {
        if (mask & (1 << bit)) {
          state.regs[MOO_REGS[bit]] = buf.readUInt16LE(q);
          q += 2;
        }
      }
    } else if (tag === 'RAM ') {
      const count = buf.readUInt32LE(body);
      for (let i = 0; i < count; i++) {
        const e = body + 4 + i * 5;
        state.ram.push([buf.readUInt32LE(e), buf[e + 4]]);
      }
    }
    p = body + len;
  }
  return state;
}

function readTest(buf: Buffer, start: number, end: number): VectorTest {
  const test: VectorTest = { idx: buf.readUInt32LE(start), name: '', bytes: [], initial: { regs: {}, ram: [] }, final: { regs: {}, ram: [] } };
  let p = start + 4;
  while (p < end) {
    const tag = buf.toString('latin1', p, p + 4);
    const len = buf.readUInt32LE(p + 4);
    const body = p + 8;
    switch (tag) {
      case 'NAME':
        test.name = buf.toString('latin1', body + 4, body + 4 + buf.readUInt32LE(body));
        break;
      case 'BYTS':
        test.bytes = [...buf.subarray(body + 4, body + 4 + buf.readUInt32LE(body))];
        break;
      case 'INIT':
        test.initial = readState(buf, body, body + len);
        break;
      case 'FINA':
        test.final = readState(buf, body, body + len);
        break;
      case 'EXCP':
        test.exception = { vector: buf[body], flagAddress: buf.readUInt32LE(body + 1) };
        break;
      case 'HASH':
        test.hash = buf.toString('hex', body, body + len);
        break;
    }
    p = body + len;
  }
  return test;
}

export function readMooFile(path: string): VectorTest[] {
  const buf = gunzipSync(readFileSync(path));
  const tests: VectorTest[] = [];
  let p = 0;
  while (p + 8 <= buf.length) {
    const tag = buf.toString('latin1', p, p + 4);
    const len = buf.readUInt32LE(p + 4);
    if (tag === 'TEST') tests.push(readTest(buf, p + 8, p + 8 + len));
    p += 8 + len;
  }
  return tests;
}
