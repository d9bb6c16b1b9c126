// Runs x87 instruction sequences on the host's real FPU (test/fpu/host-x87.c,
// compiled with gcc) and on Boxwood's X87 through a minimal fake CpuCore, and
// compares the machine state afterwards bit for bit.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuRegisters, CR0_PE, CR0_NE, CpuFault } from '../../engine/cpu/state';
import type { CpuCore } from '../../engine/cpu/core';
import { X87 } from '../../engine/cpu/fpu/x87';

export interface FpuCase {
  name: string;
  cw: number;
  /** 80-bit values as 20 hex digits (sign|exponent, significand), pushed in order. */
  vals: string[];
  /** Instruction bytes; memory operands must be mod=00 rm=010 ([rdx] / [edx]). */
  code: number[];
  /** Initial memory operand bytes (up to 512). */
  mem?: number[];
  /** Relative tolerance for register values (transcendentals); C1 is then not compared. */
  tol?: number;
  /** Bytes of the 108-byte save image / memory to ignore, and whether to compare memory. */
  ignoreMem?: [number, number][];
}

export interface FpuResult {
  save: Uint8Array; // 108-byte FNSAVE image
  mem: Uint8Array; // 128 bytes
  ax: number;
  flags: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));

export function haveGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return process.arch === 'x64';
  } catch {
    return false;
  }
}

const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

let exePath: string | null = null;
let exeDir: string | null = null;

/** Remove the compiled runner (call when done; also attempted at process exit). */
export function cleanupHost(): void {
  if (exeDir) rmSync(exeDir, { recursive: true, force: true });
  exeDir = exePath = null;
}

/** Compile host-x87.c once into a temp dir. */
function hostExe(): string {
  if (exePath) return exePath;
  const dir = mkdtempSync(join(tmpdir(), 'boxwood-x87-'));
  exeDir = dir;
  process.once('exit', cleanupHost);
  const exe = join(dir, 'host-x87');
  execFileSync('gcc', ['-O1', '-o', exe, join(HERE, 'host-x87.c')], { stdio: 'pipe' });
  exePath = exe;
  return exe;
}

/** Run all cases on the host FPU in one (fresh) process. */
export function runHost(cases: FpuCase[]): FpuResult[] {
  {
    const exe = hostExe();
    const input = cases
      .map((c) => [c.cw.toString(16).padStart(4, '0'), String(c.vals.length), ...c.vals, hex(c.code), c.mem?.length ? hex(c.mem) : '-'].join(' '))
      .join('\n') + '\n';
    const r = spawnSync(exe, [], { input, maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`host-x87 failed: ${r.stderr}`);
    const lines = r.stdout.toString().trim().split('\n');
    if (lines.length !== cases.length) throw new Error(`host-x87 gave ${lines.length} results for ${cases.length} cases`);
    return lines.map((l) => {
      const [save, mem, rax, fl] = l.split(' ');
      return { save: unhex(save), mem: unhex(mem), ax: parseInt(rax.slice(-4), 16), flags: parseInt(fl.slice(-8), 16) };
    });
  }
}

const DS = 3;
const MEM = 0x1000;
const VALS = 0x2000;
const SAVE = 0x3000;

/** A flat 64 KiB address space with every segment based at 0, protected mode. */
class FakeCpu extends CpuRegisters {
  readonly ram = new Uint8Array(0x10000);
  eflags = 0x246;
  ferr = false;
  readonly bus = { onFerr: (a: boolean) => { this.ferr = a; } };
  constructor(readonly fpu: X87) {
    super();
    this.cr0 = CR0_PE | CR0_NE;
    this.segSel[DS] = 0x2b;
  }
  getEflags(): number { return this.eflags; }
  setEflags(v: number, mask = 0x3f7fd5): void { this.eflags = (this.eflags & ~mask) | (v & mask); }
  readSeg8(_s: number, o: number): number { return this.ram[o & 0xffff]; }
  readSeg16(s: number, o: number): number { return this.readSeg8(s, o) | (this.readSeg8(s, o + 1) << 8); }
  readSeg32(s: number, o: number): number { return (this.readSeg16(s, o) | (this.readSeg16(s, o + 2) << 16)) | 0; }
  writeSeg8(_s: number, o: number, v: number): void { this.ram[o & 0xffff] = v; }
  writeSeg16(s: number, o: number, v: number): void { this.writeSeg8(s, o, v & 0xff); this.writeSeg8(s, o + 1, (v >>> 8) & 0xff); }
  writeSeg32(s: number, o: number, v: number): void { this.writeSeg16(s, o, v & 0xffff); this.writeSeg16(s, o + 2, v >>> 16); }
}

let emu: { x: X87; cpu: FakeCpu; core: CpuCore } | null = null;

/**
 * Start of a group (a fresh host process): FNINIT keeps stale register contents,
 * visible through FXAM of an empty ST0 (C1), FNSAVE/FXSAVE images and tags computed
 * on FLDENV. The host process starts with zeroed registers, and both sides then
 * run the same cases in the same order, so the stale contents stay in step.
 */
export function resetEmuRegisters(): void {
  if (!emu) return;
  emu.x.regSE.fill(0); emu.x.regHi.fill(0); emu.x.regLo.fill(0);
}

/** Run one case on Boxwood's X87. */
export function runEmu(c: FpuCase): FpuResult {
  if (!emu) {
    const x = new X87();
    const cpu = new FakeCpu(x);
    emu = { x, cpu, core: cpu as unknown as CpuCore };
  }
  const { x, cpu, core } = emu;
  cpu.ram.fill(0);
  x.reset();
  cpu.eflags = 0x246;
  cpu.reg32[0] = 0;
  const exec = (op: number, modrm: number, off: number) => x.execute(core, op, modrm, DS, off, true, 0x33, 0x1234);
  c.vals.forEach((v, i) => {
    const b = unhex(v);
    for (let j = 0; j < 10; j++) cpu.ram[VALS + 16 * i + j] = b[9 - j];
    exec(3, 0x2a, VALS + 16 * i); // FLD m80
  });
  cpu.ram[VALS + 0x100] = c.cw & 0xff;
  cpu.ram[VALS + 0x101] = c.cw >>> 8;
  exec(1, 0x2a, VALS + 0x100); // FLDCW
  if (c.mem) cpu.ram.set(c.mem, MEM);
  const code = c.code;
  for (let i = 0; i < code.length;) {
    const b = code[i];
    if (b === 0x9b) { x.checkPending(core); i++; continue; }
    if (b === 0x0f && code[i + 1] === 0xae) {
      const reg = (code[i + 2] >>> 3) & 7;
      if (reg === 0) x.fxsave(core, DS, MEM); else x.fxrstor(core, DS, MEM);
      i += 3;
      continue;
    }
    if (b < 0xd8 || b > 0xdf) throw new Error(`harness: unsupported opcode ${b.toString(16)}`);
    const modrm = code[i + 1];
    if (modrm < 0xc0 && (modrm & 0xc7) !== 0x02) throw new Error('harness: memory operands must be [rdx]');
    try {
      exec(b - 0xd8, modrm, MEM);
    } catch (e) {
      if (e instanceof CpuFault) throw new Error(`fault ${e.vector} on ${c.name}`);
      throw e;
    }
    i += 2;
  }
  const ax = cpu.reg16[0];
  const flags = cpu.eflags;
  exec(5, 0x32, SAVE); // FNSAVE
  return { save: cpu.ram.slice(SAVE, SAVE + 108), mem: cpu.ram.slice(MEM, MEM + 128), ax, flags };
}

/** 80-bit value of register i in a save image, as hex. */
export function regHex(save: Uint8Array, i: number): string {
  let s = '';
  for (let j = 9; j >= 0; j--) s += save[28 + 10 * i + j].toString(16).padStart(2, '0');
  return s;
}

function regValue(save: Uint8Array, i: number): number {
  const o = 28 + 10 * i;
  const se = save[o + 8] | (save[o + 9] << 8);
  let m = 0;
  for (let j = 7; j >= 0; j--) m = m * 256 + save[o + j];
  const e = se & 0x7fff;
  if (e === 0x7fff) return m === 2 ** 63 ? (se & 0x8000 ? -Infinity : Infinity) : NaN;
  const v = m * 2 ** (Math.max(e, 1) - 16383 - 63);
  return se & 0x8000 ? -v : v;
}

const word = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);

/** Describe the differences between host and emulator results ('' when equal). */
export function diff(c: FpuCase, host: FpuResult, mine: FpuResult): string {
  const out: string[] = [];
  const swMask = c.tol ? ~0x200 & 0xffff : 0xffff;
  if (word(host.save, 0) !== word(mine.save, 0)) out.push(`cw ${word(host.save, 0).toString(16)} vs ${word(mine.save, 0).toString(16)}`);
  if ((word(host.save, 4) & swMask) !== (word(mine.save, 4) & swMask)) out.push(`sw ${word(host.save, 4).toString(16)} vs ${word(mine.save, 4).toString(16)}`);
  if (word(host.save, 8) !== word(mine.save, 8)) out.push(`tw ${word(host.save, 8).toString(16)} vs ${word(mine.save, 8).toString(16)}`);
  // Empty registers keep stale contents on hardware (not predictable from the host process): skip them.
  const top = (word(host.save, 4) >>> 11) & 7, tw = word(host.save, 8);
  for (let i = 0; i < 8; i++) {
    if (((tw >>> (2 * ((top + i) & 7))) & 3) === 3) continue;
    const h = regHex(host.save, i), m = regHex(mine.save, i);
    if (h === m) continue;
    if (c.tol) {
      const hv = regValue(host.save, i), mv = regValue(mine.save, i);
      if (hv === mv || (Number.isNaN(hv) && Number.isNaN(mv) && h.slice(0, 4) === m.slice(0, 4))) continue;
      if (Math.abs(hv - mv) <= c.tol * Math.abs(hv)) continue;
    }
    out.push(`st${i} ${h} vs ${m}`);
  }
  let memDiff = false;
  for (let i = 0; i < 128; i++) {
    if (c.ignoreMem?.some(([a, b]) => i >= a && i < b)) continue;
    if (host.mem[i] !== mine.mem[i]) memDiff = true;
  }
  if (memDiff) out.push(`mem ${hex(host.mem.slice(0, 32))} vs ${hex(mine.mem.slice(0, 32))}`);
  if ((host.ax & 0xffff) !== (mine.ax & 0xffff)) out.push(`ax ${host.ax.toString(16)} vs ${mine.ax.toString(16)}`);
  const fm = 0x8d5;
  if ((host.flags & fm) !== (mine.flags & fm)) out.push(`eflags ${(host.flags & fm).toString(16)} vs ${(mine.flags & fm).toString(16)}`);
  return out.join('; ');
}
