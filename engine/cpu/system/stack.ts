// Stack access for far transfers and event delivery, plus state snapshots.
//
// Gates and returns must check the whole frame before writing any of it (a push
// that faults half-way must not leave a half-built frame on a stack the guest
// will look at) and must sometimes use a stack other than the current SS (inner
// stack from the TSS). StackPtr works on an explicit SS cache copy and linear
// addresses; the caller checks room first with checkPush/checkPop.
import type { CpuCore } from '../core';
import { CpuFault, Reg, Seg, Vec, CR0_PE, SEG_ACCESS_DB } from '../state';

export class StackPtr {
  readonly b32: boolean;
  constructor(
    readonly base: number,
    readonly limit: number,
    readonly access: number,
    public esp: number,
  ) {
    this.b32 = (access & SEG_ACCESS_DB) !== 0;
  }

  static current(cpu: CpuCore): StackPtr {
    return new StackPtr(cpu.segBase[Seg.SS], cpu.segLimit[Seg.SS], cpu.segAccess[Seg.SS], cpu.reg32[Reg.ESP]);
  }

  /** Offset (within SS) of the stack top. */
  get offset(): number {
    return this.b32 ? this.esp >>> 0 : this.esp & 0xffff;
  }

  /** Is [offset, offset+bytes-1] inside the segment (expand-up or expand-down)? */
  private fits(offset: number, bytes: number): boolean {
    const upper = this.b32 ? 0xffffffff : 0xffff;
    const last = offset + bytes - 1;
    if (last > upper) return false;
    if ((this.access & 0x0c) === 0x04) return offset > this.limit; // data, expand-down
    return last <= this.limit;
  }

  /** Room for `bytes` of pushes, else raise `vector(error)` (#SS(0) on the same stack, #SS(sel)/#TS on a new one). */
  checkPush(bytes: number, error: number, vector: number = Vec.SS): void {
    const mask = this.b32 ? 0xffffffff : 0xffff;
    const start = ((this.offset - bytes) & mask) >>> 0;
    if (!this.fits(start, bytes)) throw new CpuFault(vector, error);
  }

  /** `bytes` of pops available above the top, else #SS(error). */
  checkPop(bytes: number, error = 0): void {
    if (!this.fits(this.offset, bytes)) throw new CpuFault(Vec.SS, error);
  }

  private step(delta: number): number {
    if (this.b32) this.esp = (this.esp + delta) | 0;
    else this.esp = (this.esp & ~0xffff) | ((this.esp + delta) & 0xffff);
    return this.offset;
  }

  push32(cpu: CpuCore, v: number): void {
    const off = this.step(-4);
    cpu.writeLin32((this.base + off) | 0, v);
  }
  push16(cpu: CpuCore, v: number): void {
    const off = this.step(-2);
    cpu.writeLin16((this.base + off) | 0, v & 0xffff);
  }
  push(cpu: CpuCore, v: number, o32: boolean): void {
    if (o32) this.push32(cpu, v);
    else this.push16(cpu, v);
  }
  pop32(cpu: CpuCore): number {
    const v = cpu.readLin32((this.base + this.offset) | 0);
    this.step(4);
    return v;
  }
  pop16(cpu: CpuCore): number {
    const v = cpu.readLin16((this.base + this.offset) | 0);
    this.step(2);
    return v;
  }
  pop(cpu: CpuCore, o32: boolean): number {
    return o32 ? this.pop32(cpu) : this.pop16(cpu);
  }
  /** Read without popping, `at` bytes above the top. */
  peek(cpu: CpuCore, at: number, o32: boolean): number {
    const mask = this.b32 ? 0xffffffff : 0xffff;
    const lin = (this.base + ((this.offset + at) & mask)) | 0;
    return o32 ? cpu.readLin32(lin) : cpu.readLin16(lin);
  }
  skip(bytes: number): void {
    this.step(bytes);
  }
  /** Write the stack pointer back to ESP (SP only for a 16-bit stack). */
  commit(cpu: CpuCore): void {
    cpu.reg32[Reg.ESP] = this.b32 ? this.esp : (cpu.reg32[Reg.ESP] & ~0xffff) | (this.esp & 0xffff);
  }
}

/**
 * What a far transfer or event delivery may change before it can still fault:
 * ESP, EIP, CPL, EFLAGS and the six segment-register caches (general registers,
 * LDTR and TR only change past a task switch's commit point, which is never rolled
 * back). Restored on a fault so the caller, or the nested-fault logic, sees the
 * state the operation started with. Plain numbers, not typed-array copies: this is
 * taken on every INT and IRET, and slicing typed arrays costs far more.
 * In real mode only ESP is kept: the real-mode paths change nothing else before
 * their last possible fault.
 */
export interface Snapshot {
  esp: number;
  full: boolean;
  eip: number;
  cpl: number;
  eflags: number;
  /** sel, base, limit, access for ES, CS, SS, DS, FS, GS. */
  segs: number[];
}

const SEGS = 6;

export function snapshot(cpu: CpuCore): Snapshot {
  if ((cpu.cr0 & CR0_PE) === 0) return { esp: cpu.reg32[Reg.ESP], full: false, eip: 0, cpl: 0, eflags: 0, segs: [] };
  const segs: number[] = new Array(SEGS * 4);
  for (let i = 0; i < SEGS; i++) {
    segs[i * 4] = cpu.segSel[i];
    segs[i * 4 + 1] = cpu.segBase[i];
    segs[i * 4 + 2] = cpu.segLimit[i];
    segs[i * 4 + 3] = cpu.segAccess[i];
  }
  return { esp: cpu.reg32[Reg.ESP], full: true, eip: cpu.eip, cpl: cpu.cpl, eflags: cpu.getEflags(), segs };
}

export function restore(cpu: CpuCore, s: Snapshot): void {
  cpu.reg32[Reg.ESP] = s.esp;
  if (!s.full) return;
  for (let i = 0; i < SEGS; i++) {
    cpu.segSel[i] = s.segs[i * 4];
    cpu.segBase[i] = s.segs[i * 4 + 1];
    cpu.segLimit[i] = s.segs[i * 4 + 2];
    cpu.segAccess[i] = s.segs[i * 4 + 3];
  }
  cpu.eip = s.eip;
  cpu.cpl = s.cpl;
  cpu.setEflags(s.eflags);
  cpu.updateModeCaches();
}
