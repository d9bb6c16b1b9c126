// I/O permission checks for IN/OUT/INS/OUTS (SDM Vol. 1 19.5): in protected mode
// with CPL > IOPL, and always in virtual-8086 mode, every bit covering the accessed
// ports in the TSS I/O bitmap must be clear.
import type { CpuCore } from '../core';
import { CpuFault, Seg, Vec, CR0_PE, FLAG_IOPL, FLAG_VM } from '../state';
import { ioMapBase } from './tss';

export function checkIo(cpu: CpuCore, port: number, size: number): void {
  if ((cpu.cr0 & CR0_PE) === 0) return;
  const flags = cpu.getEflags();
  if ((flags & FLAG_VM) === 0 && cpu.cpl <= (flags & FLAG_IOPL) >>> 12) return;
  // Only a 32-bit TSS has a bitmap; its base is the word at TSS+0x66.
  const base = ioMapBase(cpu);
  if (base < 0) throw new CpuFault(Vec.GP, 0);
  const off = base + ((port & 0xffff) >>> 3);
  // Two bytes are always read (an access can straddle a byte); both must lie within the TSS limit.
  if (off + 1 > cpu.segLimit[Seg.TR]) throw new CpuFault(Vec.GP, 0);
  const bits = cpu.readSys16(cpu.segBase[Seg.TR] + off);
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) throw new CpuFault(Vec.GP, 0);
}
