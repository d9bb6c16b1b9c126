// Direct Linux boot the way QEMU offers it to SeaBIOS (hw/i386/x86.c x86_load_linux):
// the setup header is patched here (command line pointer, initrd placement, loader
// type, heap end), and setup code, protected-mode kernel, initrd and command line are
// published as fw_cfg items that QEMU's linuxboot_dma.bin option ROM copies into place.
import { FwCfgKey, type FwCfg } from '../devices/fw-cfg';

/** ACPI tables live at the top of RAM below 4 GiB; QEMU keeps the initrd out of that area. */
const ACPI_DATA_SIZE = 0x20000 + 0x8000;

export function publishLinuxBoot(fw: FwCfg, ramBytes: number, kernel: Uint8Array, initrd: Uint8Array | undefined, cmdline: string): void {
  if (kernel.length < 0x1000) throw new Error('kernel image is too small to be a bzImage');
  const dv = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const isHdrS = dv.getUint32(0x202, true) === 0x53726448; // "HdrS"
  const protocol = isHdrS ? dv.getUint16(0x206, true) : 0;
  if (protocol < 0x202) throw new Error(`Linux boot protocol ${protocol.toString(16)} is too old (need 2.02+)`);
  const loadHigh = (kernel[0x211] & 0x01) !== 0;
  if (!loadHigh) throw new Error('zImage kernels (not loaded high) are not supported; use a bzImage');

  let setupSects = kernel[0x1f1];
  if (setupSects === 0) setupSects = 4;
  const setupSize = (setupSects + 1) * 512;
  const realAddr = 0x10000;
  const cmdlineAddr = 0x20000;
  const protAddr = 0x100000;

  let initrdMax = protocol >= 0x203 ? dv.getUint32(0x22c, true) : 0x37ffffff;
  if (initrdMax >= ramBytes - ACPI_DATA_SIZE) initrdMax = ramBytes - ACPI_DATA_SIZE - 1;

  const setup = kernel.slice(0, setupSize);
  const sdv = new DataView(setup.buffer);
  const cmd = new TextEncoder().encode(cmdline + '\0');

  sdv.setUint32(0x228, cmdlineAddr, true); // cmd_line_ptr
  setup[0x210] = 0xb0; // type_of_loader: QEMU
  setup[0x211] |= 0x80; // CAN_USE_HEAP
  sdv.setUint16(0x224, cmdlineAddr - realAddr - 0x200, true); // heap_end_ptr

  // vga= on the command line selects the boot video mode (as QEMU does).
  const vga = /(?:^| )vga=(\S+)/.exec(cmdline);
  if (vga) {
    const v = vga[1];
    const mode = v === 'normal' ? 0xffff : v === 'ext' ? 0xfffe : v === 'ask' ? 0xfffd : Number(v);
    if (Number.isFinite(mode)) sdv.setUint16(0x1fa, mode, true);
  }

  if (initrd) {
    if (initrd.length > initrdMax) throw new Error(`initrd (${initrd.length} bytes) does not fit below 0x${initrdMax.toString(16)}`);
    const initrdAddr = (initrdMax - initrd.length) & ~4095;
    sdv.setUint32(0x218, initrdAddr, true);
    sdv.setUint32(0x21c, initrd.length, true);
    fw.addU32(FwCfgKey.InitrdAddr, initrdAddr);
    fw.addU32(FwCfgKey.InitrdSize, initrd.length);
    fw.addBytes(FwCfgKey.InitrdData, initrd);
  }

  const prot = kernel.subarray(setupSize);
  fw.addU32(FwCfgKey.KernelAddr, protAddr);
  fw.addU32(FwCfgKey.KernelSize, prot.length);
  fw.addBytes(FwCfgKey.KernelData, prot);
  fw.addU32(FwCfgKey.CmdlineAddr, cmdlineAddr);
  fw.addU32(FwCfgKey.CmdlineSize, cmd.length);
  fw.addBytes(FwCfgKey.CmdlineData, cmd);
  fw.addU32(FwCfgKey.SetupAddr, realAddr);
  fw.addU32(FwCfgKey.SetupSize, setup.length);
  fw.addBytes(FwCfgKey.SetupData, setup);
}
