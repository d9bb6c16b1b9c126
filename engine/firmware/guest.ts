// How the BIOS's TypeScript handlers see the caller: registers, the INT frame's FLAGS
// image, and guest memory addressed through the caller's segments.
//
// Flag convention (used by every INT handler): the ROM entry for vector nn is
// `0F 3F nn ; IRET`. The INT instruction pushed FLAGS, CS, IP on SS:SP (16-bit frame: the
// caller is in real or v86 mode), so results such as CF and ZF are written into the
// stacked FLAGS image at SS:SP+4 and IRET hands them back together with the caller's IF.
// Entries reached by a far CALL from protected mode (BIOS32, PCI BIOS) end in RETF and set
// the live EFLAGS instead (`setLiveCF`).
import type { CpuCore } from '../cpu/core';
import { FLAG_CF, FLAG_ZF, FLAG_IF, Reg, Seg, CR0_PG } from '../cpu/state';
import type { PhysicalMemory } from '../machine/physical-memory';

export const enum R8 {
  AL = 0,
  AH = 1,
  CL = 4,
  CH = 5,
  DL = 8,
  DH = 9,
  BL = 12,
  BH = 13,
}

/** A thin view on the calling context, rebuilt for each hypercall. */
export class Guest {
  constructor(
    readonly cpu: CpuCore,
    readonly mem: PhysicalMemory,
  ) {}

  get al(): number { return this.cpu.reg8[R8.AL]; }
  set al(v: number) { this.cpu.reg8[R8.AL] = v; }
  get ah(): number { return this.cpu.reg8[R8.AH]; }
  set ah(v: number) { this.cpu.reg8[R8.AH] = v; }
  get bl(): number { return this.cpu.reg8[R8.BL]; }
  set bl(v: number) { this.cpu.reg8[R8.BL] = v; }
  get bh(): number { return this.cpu.reg8[R8.BH]; }
  set bh(v: number) { this.cpu.reg8[R8.BH] = v; }
  get cl(): number { return this.cpu.reg8[R8.CL]; }
  set cl(v: number) { this.cpu.reg8[R8.CL] = v; }
  get ch(): number { return this.cpu.reg8[R8.CH]; }
  set ch(v: number) { this.cpu.reg8[R8.CH] = v; }
  get dl(): number { return this.cpu.reg8[R8.DL]; }
  set dl(v: number) { this.cpu.reg8[R8.DL] = v; }
  get dh(): number { return this.cpu.reg8[R8.DH]; }
  set dh(v: number) { this.cpu.reg8[R8.DH] = v; }
  get ax(): number { return this.cpu.reg16[Reg.EAX * 2]; }
  set ax(v: number) { this.cpu.reg16[Reg.EAX * 2] = v; }
  get bx(): number { return this.cpu.reg16[Reg.EBX * 2]; }
  set bx(v: number) { this.cpu.reg16[Reg.EBX * 2] = v; }
  get cx(): number { return this.cpu.reg16[Reg.ECX * 2]; }
  set cx(v: number) { this.cpu.reg16[Reg.ECX * 2] = v; }
  get dx(): number { return this.cpu.reg16[Reg.EDX * 2]; }
  set dx(v: number) { this.cpu.reg16[Reg.EDX * 2] = v; }
  get si(): number { return this.cpu.reg16[Reg.ESI * 2]; }
  set si(v: number) { this.cpu.reg16[Reg.ESI * 2] = v; }
  get di(): number { return this.cpu.reg16[Reg.EDI * 2]; }
  set di(v: number) { this.cpu.reg16[Reg.EDI * 2] = v; }
  get bp(): number { return this.cpu.reg16[Reg.EBP * 2]; }
  set bp(v: number) { this.cpu.reg16[Reg.EBP * 2] = v; }
  get eax(): number { return this.cpu.reg32[Reg.EAX] >>> 0; }
  set eax(v: number) { this.cpu.reg32[Reg.EAX] = v; }
  get ebx(): number { return this.cpu.reg32[Reg.EBX] >>> 0; }
  set ebx(v: number) { this.cpu.reg32[Reg.EBX] = v; }
  get ecx(): number { return this.cpu.reg32[Reg.ECX] >>> 0; }
  set ecx(v: number) { this.cpu.reg32[Reg.ECX] = v; }
  get edx(): number { return this.cpu.reg32[Reg.EDX] >>> 0; }
  set edx(v: number) { this.cpu.reg32[Reg.EDX] = v; }
  get esi(): number { return this.cpu.reg32[Reg.ESI] >>> 0; }
  set esi(v: number) { this.cpu.reg32[Reg.ESI] = v; }
  get edi(): number { return this.cpu.reg32[Reg.EDI] >>> 0; }
  set edi(v: number) { this.cpu.reg32[Reg.EDI] = v; }

  get es(): number { return this.cpu.segSel[Seg.ES]; }
  get ds(): number { return this.cpu.segSel[Seg.DS]; }

  /** Linear address of seg:off for a caller in real or v86 mode (always from the cache base). */
  lin(seg: Seg, off: number): number {
    return (this.cpu.segBase[seg] + (off & 0xffff)) >>> 0;
  }
  /** Linear address of the stacked FLAGS of a 16-bit INT frame. */
  private flagsLin(): number {
    return this.lin(Seg.SS, this.cpu.reg16[Reg.ESP * 2] + 4);
  }
  private setStackedFlag(bit: number, on: boolean): void {
    const a = this.flagsLin();
    const f = this.read16(a);
    this.write16(a, on ? f | bit : f & ~bit);
  }
  /** CF in the caller's FLAGS image (returned by IRET). */
  setCF(on: boolean): void { this.setStackedFlag(FLAG_CF, on); }
  setZF(on: boolean): void { this.setStackedFlag(FLAG_ZF, on); }
  /** Let IRET return with interrupts enabled (handlers that waited with STI). */
  setStackedIF(on: boolean): void { this.setStackedFlag(FLAG_IF, on); }
  /** Common error return: AH = status, CF = 1 (AH = 0, CF = 0 on success). */
  status(ah: number): void {
    this.ah = ah;
    this.setCF(ah !== 0);
  }
  /** For entries left by RETF (protected-mode callers): CF in the live EFLAGS. */
  setLiveCF(on: boolean): void {
    this.cpu.setEflags(on ? FLAG_CF : 0, FLAG_CF);
  }

  /** Set a real-mode segment register (selector and base; limits are kept, as on hardware). */
  setRealSeg(seg: Seg, sel: number): void {
    this.cpu.segSel[seg] = sel & 0xffff;
    this.cpu.segBase[seg] = (sel & 0xffff) << 4;
  }

  // Memory: linear addresses. Without paging they are physical (through A20), with paging
  // (a v86 caller of a paging monitor, or a protected-mode PCI BIOS call) they go through
  // the CPU's translation with the caller's privilege.
  private get paged(): boolean { return (this.cpu.cr0 & CR0_PG) !== 0; }
  read8(lin: number): number { return this.paged ? this.cpu.readLin8(lin) : this.mem.read8(lin); }
  read16(lin: number): number { return this.paged ? this.cpu.readLin16(lin) : this.mem.read16(lin); }
  read32(lin: number): number { return (this.paged ? this.cpu.readLin32(lin) : this.mem.read32(lin)) >>> 0; }
  write8(lin: number, v: number): void { if (this.paged) this.cpu.writeLin8(lin, v); else this.mem.write8(lin, v); }
  write16(lin: number, v: number): void { if (this.paged) this.cpu.writeLin16(lin, v); else this.mem.write16(lin, v); }
  write32(lin: number, v: number): void { if (this.paged) this.cpu.writeLin32(lin, v); else this.mem.write32(lin, v); }

  /** Copy bytes into the guest at a linear address (fast path: unpaged plain RAM). */
  writeBytes(lin: number, data: Uint8Array): void {
    if (!this.paged && this.mem.a20Enabled && isPlainRam(this.mem, lin, data.length)) {
      this.mem.dmaWrite(lin, data);
      return;
    }
    for (let i = 0; i < data.length; i++) this.write8(lin + i, data[i]);
  }
  readBytes(lin: number, length: number): Uint8Array {
    if (!this.paged && this.mem.a20Enabled && isPlainRam(this.mem, lin, length)) return this.mem.ram.slice(lin, lin + length);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(lin + i);
    return out;
  }
  /** Read a NUL-terminated string (for messages). */
  readString(lin: number, max = 256): string {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = this.read8(lin + i);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
}

/** True when [addr, addr+len) is writable RAM (no ROM, MMIO or holes). */
export function isPlainRam(mem: PhysicalMemory, addr: number, len: number): boolean {
  if (addr < 0 || len < 0 || addr + len > mem.ramSize) return false;
  if (len === 0) return true;
  for (let p = addr >>> 12; p <= (addr + len - 1) >>> 12; p++) if (mem.pageKind[p] !== 0 /* PageKind.Ram */) return false;
  return true;
}
