import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { parseLinuxHeader, vidModeFromCmdline, loadLinux, REAL_MODE_BASE, CMDLINE_ADDR, KERNEL_ADDR } from './linux-boot';
import { PhysicalMemory } from '../machine/physical-memory';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Shared guest images live next to the repository: ../shared/guests.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guestPath = (name: string) => path.resolve(repoRoot, '../shared/guests', name);
const haveGuest = (name: string) => fs.existsSync(guestPath(name));


describe('Linux boot protocol', () => {
  it('parses vga= like a boot loader', () => {
    expect(vidModeFromCmdline('console=ttyS0')).toBe(0xffff);
    expect(vidModeFromCmdline('quiet vga=788')).toBe(788);
    expect(vidModeFromCmdline('vga=0x314')).toBe(0x314);
    expect(vidModeFromCmdline('vga=ext')).toBe(0xfffe);
    expect(vidModeFromCmdline('vga=ask')).toBe(0xfffd);
  });

  it('rejects non-kernels', () => {
    expect(parseLinuxHeader(new Uint8Array(4096))).toMatch(/signature/);
  });

  it.skipIf(!haveGuest('linux-686.vmlinuz'))('reads the guest kernel header and loads it', () => {
    const k = new Uint8Array(fs.readFileSync(guestPath('linux-686.vmlinuz')));
    const h = parseLinuxHeader(k);
    if (typeof h === 'string') throw new Error(h);
    expect(h.version).toBeGreaterThanOrEqual(0x020f);
    expect(h.realModeSize + h.kernelSize).toBe(k.length);
    const mem = new PhysicalMemory(64 * 1024 * 1024);
    const initrd = new Uint8Array(1000).fill(7);
    const e = loadLinux(mem, k, initrd, 'console=ttyS0 vga=788', 64 * 1024 * 1024 - 0x10000);
    expect(e.cs).toBe((REAL_MODE_BASE >> 4) + 0x20);
    const r = (a: number) => mem.read32(a) >>> 0;
    expect(mem.read8(REAL_MODE_BASE + 0x210)).toBe(0xff);
    expect(mem.read8(REAL_MODE_BASE + 0x211) & 0x81).toBe(0x81);
    expect(mem.read16(REAL_MODE_BASE + 0x1fa)).toBe(788);
    expect(r(REAL_MODE_BASE + 0x228)).toBe(CMDLINE_ADDR);
    expect(r(REAL_MODE_BASE + 0x218)).toBe(e.initrdAddr);
    expect(r(REAL_MODE_BASE + 0x21c)).toBe(1000);
    expect(e.initrdAddr % 4096).toBe(0);
    expect(e.initrdAddr + 1000).toBeLessThanOrEqual(64 * 1024 * 1024 - 0x10000);
    expect(mem.read8(KERNEL_ADDR)).toBe(k[h.realModeSize]);
    expect(String.fromCharCode(...mem.ram.subarray(CMDLINE_ADDR, CMDLINE_ADDR + 13))).toBe('console=ttyS0');
  });
});
