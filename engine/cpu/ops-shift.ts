// Shifts and rotates (C0/C1/D0-D3 groups) and SHLD/SHRD. Counts are masked to
// 5 bits (186+); a masked count of 0 changes nothing, flags included. For counts
// other than 1, OF (architecturally undefined) is computed the way P6 cores and
// Bochs do: from the result, as if the last single-bit step had produced it.
import type { Cpu } from './cpu';
import type { OpTable } from './dispatch';
import { FLAG_AF as FLAG_AF_, FLAG_CF as FLAG_CF_, FLAG_OF as FLAG_OF_ } from './state';
import { Reg } from './state';
// Module-local copies of imported constants (an imported binding can cost a getter call per use).
const Reg_ECX = Reg.ECX;
const FLAG_AF = FLAG_AF_;
const FLAG_CF = FLAG_CF_;
const FLAG_OF = FLAG_OF_;

const CF_OF = FLAG_CF | FLAG_OF;
const CF_OF_AF = FLAG_CF | FLAG_OF | FLAG_AF;

/** Apply shift/rotate `op` (the ModR/M reg field) to v (size bits), count already masked to 0..31 and non-zero. */
export function shiftOp(cpu: Cpu, op: number, v: number, count: number, bits: number): number {
  const top = bits - 1;
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  v &= mask;
  let r: number;
  let cf: number;
  switch (op) {
    case 0: {
      // ROL
      const n = count & top;
      r = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
      cf = r & 1;
      cpu.setFlagBits(CF_OF, cf | ((((r >>> top) ^ cf) & 1) << 11));
      return r;
    }
    case 1: {
      // ROR
      const n = count & top;
      r = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
      cf = (r >>> top) & 1;
      cpu.setFlagBits(CF_OF, cf | ((((r >>> top) ^ (r >>> (top - 1))) & 1) << 11));
      return r;
    }
    case 2: {
      // RCL: rotate through CF, a (bits+1)-bit rotation.
      const n = bits === 32 ? count : count % (bits + 1);
      const c = cpu.getCF();
      if (n === 0) {
        // A whole turn: value and CF unchanged; OF (undefined) as the 286 leaves it after its last step.
        r = v;
        cf = c;
      } else if (bits === 32) {
        r = n === 1 ? (v << 1) | c : (v << n) | (c << (n - 1)) | (v >>> (33 - n));
        cf = (v >>> (32 - n)) & 1;
      } else {
        const wide = v | (c << bits); // bits+1 bit value
        const rot = ((wide << n) | (wide >>> (bits + 1 - n))) & ((1 << (bits + 1)) - 1);
        r = rot & mask;
        cf = (rot >>> bits) & 1;
      }
      cpu.setFlagBits(CF_OF, cf | ((((r >>> top) ^ cf) & 1) << 11));
      return r;
    }
    case 3: {
      // RCR
      const n = bits === 32 ? count : count % (bits + 1);
      const c = cpu.getCF();
      if (n === 0) {
        r = v;
        cf = c;
      } else if (bits === 32) {
        r = n === 1 ? (v >>> 1) | (c << 31) : (v >>> n) | (c << (32 - n)) | (v << (33 - n));
        cf = (v >>> (n - 1)) & 1;
      } else {
        const wide = v | (c << bits);
        const rot = ((wide >>> n) | (wide << (bits + 1 - n))) & ((1 << (bits + 1)) - 1);
        r = rot & mask;
        cf = (rot >>> bits) & 1;
      }
      cpu.setFlagBits(CF_OF, cf | ((((r >>> top) ^ (r >>> (top - 1))) & 1) << 11));
      return r;
    }
    case 4:
    case 6: {
      // SHL/SAL (/6 is an undocumented alias)
      r = count < 32 ? (v << count) & mask : 0;
      cf = count <= bits ? (v >>> (bits - count)) & 1 : 0;
      cpu.setResultFlags(r, top, CF_OF_AF, cf | ((((r >>> top) ^ cf) & 1) << 11));
      return r;
    }
    case 5: {
      // SHR
      r = count < bits ? v >>> count : 0;
      cf = count <= bits ? (v >>> (count - 1)) & 1 : 0;
      cpu.setResultFlags(r, top, CF_OF_AF, cf | (count === 1 ? ((v >>> top) & 1) << 11 : 0));
      return r;
    }
    default: {
      // SAR
      const s = (v << (32 - bits)) >> (32 - bits);
      const n = count < bits ? count : bits - 1;
      r = (s >> n) & mask;
      cf = count < bits ? (s >> (count - 1)) & 1 : (s >>> 31) & 1;
      cpu.setResultFlags(r, top, CF_OF_AF, cf);
      return r;
    }
  }
}

function shiftEb(cpu: Cpu, count: number): void {
  const op = cpu.regField;
  const v = cpu.readRmw8();
  count &= 0x1f;
  if (count === 0) return;
  cpu.writeRmw8(shiftOp(cpu, op, v, count, 8));
}

function shiftEv(cpu: Cpu, count: number): void {
  const op = cpu.regField;
  const v = cpu.readRmwV();
  count &= 0x1f;
  if (count === 0) return;
  cpu.writeRmwV(shiftOp(cpu, op, v, count, cpu.o32 ? 32 : 16));
}

/** SHLD: shift dst left, filling from src. 16-bit counts above 16 shift through the 32-bit pair (P6/Bochs). */
function shld(cpu: Cpu, dst: number, src: number, count: number): number {
  let r: number;
  let cf: number;
  if (cpu.o32) {
    r = (dst << count) | (src >>> (32 - count));
    cf = (dst >>> (32 - count)) & 1;
    cpu.setResultFlags(r, 31, CF_OF_AF, cf | ((((r >>> 31) ^ cf) & 1) << 11));
    return r;
  }
  const pair = ((dst & 0xffff) << 16) | (src & 0xffff);
  let wide = count < 32 ? pair << count : 0;
  if (count > 16) wide |= (dst & 0xffff) << (count - 16);
  r = (wide >>> 16) & 0xffff;
  cf = (pair >>> (32 - count)) & 1;
  cpu.setResultFlags(r, 15, CF_OF_AF, cf | ((((r >>> 15) ^ cf) & 1) << 11));
  return r;
}

function shrd(cpu: Cpu, dst: number, src: number, count: number): number {
  let r: number;
  let cf: number;
  if (cpu.o32) {
    r = (dst >>> count) | (src << (32 - count));
    cf = (dst >>> (count - 1)) & 1;
    cpu.setResultFlags(r, 31, CF_OF_AF, cf | ((((r >>> 31) ^ (r >>> 30)) & 1) << 11));
    return r;
  }
  const pair = ((src & 0xffff) << 16) | (dst & 0xffff);
  let wide = pair >>> count;
  if (count > 16) wide |= (dst & 0xffff) << (32 - count);
  r = wide & 0xffff;
  cf = (pair >>> (count - 1)) & 1;
  cpu.setResultFlags(r, 15, CF_OF_AF, cf | ((((r >>> 15) ^ (r >>> 14)) & 1) << 11));
  return r;
}

function doubleShift(cpu: Cpu, left: boolean, count: number): void {
  const src = cpu.getRegV(cpu.regField);
  const dst = cpu.readRmwV();
  count &= 0x1f;
  if (count === 0) return;
  cpu.writeRmwV(left ? shld(cpu, dst, src, count) : shrd(cpu, dst, src, count));
}

export function installShifts(t: OpTable): void {
  t[0xc0] = (cpu) => {
    cpu.decodeModrm();
    shiftEb(cpu, cpu.fetch8());
  };
  t[0xc1] = (cpu) => {
    cpu.decodeModrm();
    shiftEv(cpu, cpu.fetch8());
  };
  t[0xd0] = (cpu) => {
    cpu.decodeModrm();
    shiftEb(cpu, 1);
  };
  t[0xd1] = (cpu) => {
    cpu.decodeModrm();
    shiftEv(cpu, 1);
  };
  t[0xd2] = (cpu) => {
    cpu.decodeModrm();
    shiftEb(cpu, cpu.reg8[Reg_ECX * 4]);
  };
  t[0xd3] = (cpu) => {
    cpu.decodeModrm();
    shiftEv(cpu, cpu.reg8[Reg_ECX * 4]);
  };
  t[0x1a4] = (cpu) => {
    cpu.decodeModrm();
    doubleShift(cpu, true, cpu.fetch8());
  };
  t[0x1a5] = (cpu) => {
    cpu.decodeModrm();
    doubleShift(cpu, true, cpu.reg8[Reg_ECX * 4]);
  };
  t[0x1ac] = (cpu) => {
    cpu.decodeModrm();
    doubleShift(cpu, false, cpu.fetch8());
  };
  t[0x1ad] = (cpu) => {
    cpu.decodeModrm();
    doubleShift(cpu, false, cpu.reg8[Reg_ECX * 4]);
  };
}
