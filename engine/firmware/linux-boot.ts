// Linux direct kernel boot (Documentation/arch/x86/boot.rst, protocol >= 2.02): the BIOS
// acts as the boot loader. Real-mode setup goes to 0x10000 (segment 0x1000), the command
// line to 0x20000, the protected-mode kernel to 1 MiB and the initrd as high as allowed
// below the reserved top of RAM; then the setup code is entered in real mode at 0x1020:0000
// with DS = ES = FS = GS = SS = 0x1000, exactly as a boot loader would.
import type { PhysicalMemory } from '../machine/physical-memory';

export const REAL_MODE_BASE = 0x10000;
export const CMDLINE_ADDR = 0x20000;
export const KERNEL_ADDR = 0x100000;
const HEAP_END = CMDLINE_ADDR - REAL_MODE_BASE - 0x200; // 0xFE00

export interface LinuxHeader {
  setupSects: number;
  /** Boot protocol version, e.g. 0x020f. */
  version: number;
  loadflags: number;
  initrdAddrMax: number;
  cmdlineSize: number;
  /** Bytes of real-mode code ((setup_sects + 1) * 512). */
  realModeSize: number;
  /** Bytes of protected-mode kernel. */
  kernelSize: number;
}

export function parseLinuxHeader(k: Uint8Array): LinuxHeader | string {
  if (k.length < 0x250) return 'file too small for a Linux kernel';
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  if (dv.getUint16(0x1fe, true) !== 0xaa55) return 'no boot sector signature';
  if (dv.getUint32(0x202, true) !== 0x53726448) return 'no "HdrS" header (pre-2.00 kernel)';
  const version = dv.getUint16(0x206, true);
  if (version < 0x0202) return `boot protocol ${(version >> 8).toString()}.${(version & 0xff).toString()} is older than 2.02`;
  const loadflags = k[0x211];
  if (!(loadflags & 0x01)) return 'not a bzImage (LOADED_HIGH clear)';
  const setupSects = k[0x1f1] || 4;
  const realModeSize = (setupSects + 1) * 512;
  if (realModeSize >= k.length) return 'setup is larger than the file';
  return {
    setupSects,
    version,
    loadflags,
    initrdAddrMax: version >= 0x0203 ? dv.getUint32(0x22c, true) : 0x37ffffff,
    cmdlineSize: version >= 0x0206 ? dv.getUint32(0x238, true) : 255,
    realModeSize,
    kernelSize: k.length - realModeSize,
  };
}

/** vid_mode for a `vga=` argument: normal/ext/ask or a number (decimal or 0x hex). */
export function vidModeFromCmdline(cmdline: string): number {
  const m = /(?:^|\s)vga=(\S+)/.exec(cmdline);
  if (!m) return 0xffff;
  const v = m[1];
  if (v === 'normal') return 0xffff;
  if (v === 'ext') return 0xfffe;
  if (v === 'ask') return 0xfffd;
  const n = v.startsWith('0x') ? parseInt(v.slice(2), 16) : parseInt(v, 10);
  return Number.isFinite(n) ? n & 0xffff : 0xffff;
}

export interface LinuxEntry {
  cs: number;
  ip: number;
  seg: number;
  sp: number;
  initrdAddr: number;
}

/**
 * Load kernel, initrd and command line into RAM. `usableTop` is the first byte the initrd
 * must not reach (the reserved high BIOS area).
 */
export function loadLinux(mem: PhysicalMemory, kernel: Uint8Array, initrd: Uint8Array | null, cmdline: string, usableTop: number): LinuxEntry {
  const h = parseLinuxHeader(kernel);
  if (typeof h === 'string') throw new Error(`cannot boot kernel: ${h}`);
  if (KERNEL_ADDR + h.kernelSize > usableTop) throw new Error('kernel does not fit in RAM');

  const setup = kernel.slice(0, h.realModeSize);
  const dv = new DataView(setup.buffer);
  dv.setUint16(0x1fa, vidModeFromCmdline(cmdline), true);
  setup[0x210] = 0xff; // type_of_loader: undefined boot loader
  setup[0x211] = h.loadflags | 0x80; // CAN_USE_HEAP
  dv.setUint16(0x224, HEAP_END, true);
  dv.setUint32(0x228, CMDLINE_ADDR, true);

  let initrdAddr = 0;
  if (initrd && initrd.length) {
    const limit = Math.min(h.initrdAddrMax + 1, usableTop);
    initrdAddr = (limit - initrd.length) & ~0xfff;
    if (initrdAddr < KERNEL_ADDR + h.kernelSize) throw new Error('initrd does not fit in RAM above the kernel');
    dv.setUint32(0x218, initrdAddr, true);
    dv.setUint32(0x21c, initrd.length, true);
  }

  const cmd = new TextEncoder().encode(cmdline.slice(0, Math.min(h.cmdlineSize, 0xffff)));
  const cmdBuf = new Uint8Array(cmd.length + 1);
  cmdBuf.set(cmd);

  const put = (addr: number, data: Uint8Array) => {
    if (!mem.dmaWrite(addr, data)) throw new Error(`cannot place ${data.length} bytes at 0x${addr.toString(16)}`);
  };
  put(REAL_MODE_BASE, setup);
  put(CMDLINE_ADDR, cmdBuf);
  put(KERNEL_ADDR, kernel.subarray(h.realModeSize));
  if (initrd && initrdAddr) put(initrdAddr, initrd);

  const seg = REAL_MODE_BASE >>> 4;
  return { cs: seg + 0x20, ip: 0, seg, sp: (HEAP_END + 0x200) & 0xfffc, initrdAddr };
}
