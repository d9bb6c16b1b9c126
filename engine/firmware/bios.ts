/**
 * The built-in BIOS: TypeScript services behind a ROM of byte-emitted stubs.
 *
 * ## Wiring (engine/machine/machine.ts)
 * ```ts
 * const bios = new BuiltinBios({
 *   mem, io, clock,                      // the machine's PhysicalMemory, IoBus, Clock
 *   memoryBytes: ramBytes,               // default mem.ramSize
 *   floppies: [fdImage],                 // BlockDevice[]: drive 0x00, 0x01 (a 512-byte image works)
 *   disks: [hdImage],                    // BlockDevice[]: drive 0x80, ...
 *   cdrom: isoImage,                     // BlockDevice | null: drive 0xE0, El Torito boot
 *   bootOrder: ['cd', 'hd', 'floppy'],   // default; bootMenuMs: 500 (0 = no F12/Esc window)
 *   kernel, initrd, cmdline,             // Uint8Array bzImage (+ initrd): direct Linux boot
 *   serialPorts: [0x3f8],
 *   vga: { vramBytes, lfbAddress?, onGraphicsText, onGraphicsScroll, graphicsText? },
 *                                        // Bochs VBE; the LFB comes from the PCI VGA's BAR0 after
 *                                        // POST assigned it, else lfbAddress. Text drawn in graphics
 *                                        // modes: onGraphicsText(col,row,ch) → vga.shadowPutChar,
 *                                        // onGraphicsScroll(lines,top,bottom) → vga.shadowScroll
 *                                        // (or graphicsText(rows|null): the whole grid → setShadowText).
 *   pci: true,                           // PCI host at 0xCF8: POST assigns BARs/IRQs, PIIX4 PM base
 *   lapic: true, ioapic: { address: 0xfec00000, id: 0, pins: 24 } | null, hpet: { address } | null,
 *   acpi: true, pmBase: 0x600, s5SlpTyp: 0,
 *   events: machine.events,              // INT 13h emits 'storage-activity' (UI disk LED) under
 *   storageNames: { disks: ['ide0-0'] }, //   the IDE's drive names (defaults: ide0-0/ide0-1, CD ide1-0, fd0/fd1)
 * });
 * bios.install(cpu);            // copies the ROM to 0xE0000-0xFFFFF (read-only pages) and maps
 *                               // its alias at 0xFFFE0000 (reset vector 0xFFFFFFF0); keeps `cpu`
 * cpu.bus.hypercall = (n) => bios.hypercall(n);   // 0F 3F ib from the BIOS area
 * // machine reset: bios.reset() (restores the ROM, forgets boot state), then cpu.reset().
 * // snapshots: bios implements Snapshottable (stateId 'bios').
 * ```
 * The CPU starts at F000:FFF0 → POST (hypercall 0xF0) → boot menu window → boot (0xF2),
 * which loads the boot sector / kernel and far-returns into it.
 *
 * POST does what a PC BIOS does before booting: IVT/BDA/EBDA, 8259 (vectors 08h/70h, IRQ0-2
 * unmasked), 8254 channel 0 at 18.2 Hz, i8042 command byte, BDA ticks from the RTC, PCI
 * resources (pci-init.ts: BARs, PIRQ → IRQ 10/11, PIIX4 PM base), VGA mode 3 + font,
 * ACPI tables in the top 64 KiB of RAM (reserved in E820; the DSDT describes the PCI host
 * bridge and its interrupt routing, dsdt.ts), RSDP/MP/SMBIOS/BIOS32 in the ROM.
 *
 * Handler conventions: see guest.ts (CF/ZF in the stacked FLAGS image, IRET) and
 * rom-image.ts (wait loops that HLT until the next interrupt).
 */
import type { CpuCore } from '../cpu/core';
import { CpuFault, Seg } from '../cpu/state';
import type { PhysicalMemory, MmioHandler } from '../machine/physical-memory';
import type { IoBus } from '../machine/io-bus';
import type { Clock } from '../machine/clock';
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { log } from '../common/log';
import type { BiosConfig, BiosCtx } from './context';
import { Guest } from './guest';
import { buildRomCode, Hc, ROM_BASE, ROM_SEG, ROM_SEG_BASE, ROM_SIZE, TS_VECTORS, type RomLayout } from './rom-image';
import { fixChecksum } from './rom-builder';
import * as B from './bda';
import { Video } from './int10-video';
import { Disks } from './int13-disk';
import { SystemServices } from './int15-system';
import { Keyboard } from './int16-keyboard';
import { TimeServices, PciBios } from './int1a-time-pci';
import { BootManager } from './boot';
import { buildAcpi } from './acpi-tables';
import { buildMpConfig, buildMpFloating } from './mp-table';
import { pciInit, PCI_MEM_LIMIT } from './pci-init';
import { buildSmbiosTable, buildSmbiosEntry } from './smbios';
import { HIGH_AREA_BYTES } from './e820';
import { font8x16, font8x8 } from './font';
import type { VbeRomPointers } from './vbe';
import type { BootEntry } from './el-torito';

export type { BiosConfig, BootDevice } from './context';

/** F000 offsets of the ROM's table area (below the stubs at 0x100 and the fixed entries). */
const T = {
  rsdp: 0x0000,
  bios32: 0x0020,
  mpFloating: 0x0040,
  smbiosEntry: 0x0060,
  smbiosTable: 0x5000,
  mpConfig: 0x1000,
  vbe: 0x2000,
  font8: 0x3000,
  font16: 0x4000,
} as const;

export class BuiltinBios implements BiosCtx, Snapshottable {
  readonly stateId = 'bios';
  readonly stateVersion = 1;

  readonly cfg: BiosConfig;
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  readonly clock: Clock;
  readonly ramBytes: number;
  /** The 128 KiB image for 0xE0000-0xFFFFF. */
  readonly rom: Uint8Array;
  /** Read-only view of the ROM for the 0xFFFE0000 alias. */
  readonly romAlias: MmioHandler;

  private readonly layout: RomLayout;
  readonly video: Video;
  readonly disks: Disks;
  readonly keyboard: Keyboard;
  private readonly system: SystemServices;
  private readonly time: TimeServices;
  private readonly pci: PciBios;
  private readonly bootMgr: BootManager;
  private cpu: CpuCore | null = null;
  private vbeRom: VbeRomPointers | null = null;
  private installed = false;

  constructor(config: BiosConfig) {
    this.cfg = config;
    this.mem = config.mem;
    this.io = config.io;
    this.clock = config.clock;
    this.ramBytes = config.memoryBytes ?? config.mem.ramSize;
    if (this.ramBytes < 2 * 1024 * 1024) throw new RangeError('the built-in BIOS needs at least 2 MiB of RAM');

    this.layout = buildRomCode(font8x8());
    this.video = new Video(this);
    this.disks = new Disks(this);
    this.keyboard = new Keyboard(this);
    this.system = new SystemServices(this);
    this.time = new TimeServices(this);
    this.pci = new PciBios(this);
    this.bootMgr = new BootManager(this, this.disks, this.keyboard);
    this.rom = this.buildTables();
    const rom = this.rom;
    this.romAlias = { read8: (o) => rom[o & (ROM_SIZE - 1)], write8: () => {} };
  }

  /** Lay the data tables into the ROM next to the code and resolve fix-ups. */
  private buildTables(): Uint8Array {
    const b = this.layout.builder;
    const at = (off: number) => b.atPhys(ROM_SEG_BASE + off);
    // BIOS32 service directory "_32_": entry point, revision 0, 1 paragraph, checksum.
    if (this.cfg.pci) {
      at(T.bios32).ascii('_32_').abs32('bios32_entry').u8(0, 1, 0).u8(0, 0, 0, 0, 0);
    }
    // MP tables only when an I/O APIC exists.
    if (this.cfg.ioapic) {
      const cfgTable = buildMpConfig({ ioapic: this.cfg.ioapic, pci: !!this.cfg.pci });
      at(T.mpConfig).data(cfgTable);
      at(T.mpFloating).data(buildMpFloating(ROM_SEG_BASE + T.mpConfig));
    }
    // VBE strings and mode list.
    const vbe = this.video.vbe;
    if (this.cfg.vga) {
      at(T.vbe);
      const str = (s: string) => {
        const off = b.pos - (ROM_SEG_BASE - ROM_BASE);
        b.ascii(s).u8(0);
        return off;
      };
      const oem = str('Boxwood VBE');
      const vendor = str('Boxwood');
      const product = str('Boxwood Bochs-DISPI VGA');
      const revision = str('1.0');
      b.align(2, 0);
      const modeList = b.pos - (ROM_SEG_BASE - ROM_BASE);
      for (const m of vbe.modes) b.u16(m.mode);
      b.u16(0xffff);
      this.vbeRom = { oem, vendor, product, revision, modeList };
      vbe.rom = this.vbeRom;
    }
    // SMBIOS: entry point and structures.
    const smb = buildSmbiosTable({
      vendor: 'Boxwood',
      biosVersion: 'Boxwood BIOS 1.0',
      biosDate: '11/25/2026',
      manufacturer: 'Boxwood',
      product: this.cfg.pci ? 'Boxwood PC (i440FX + PIIX)' : 'Boxwood PC (ISA)',
      romBytes: ROM_SIZE,
      romSegment: ROM_BASE >>> 4,
    });
    at(T.smbiosTable).data(smb.table);
    at(T.smbiosEntry).data(buildSmbiosEntry(ROM_SEG_BASE + T.smbiosTable, smb));
    at(T.font8).data(font8x8());
    at(T.font16).data(font8x16());
    this.video.fontPtr = {
      f16: { seg: ROM_SEG, off: T.font16 },
      f8: { seg: ROM_SEG, off: T.font8 },
      f8hi: { seg: ROM_SEG, off: T.font8 + 0x400 },
    };
    const image = b.finish();
    if (this.cfg.pci) fixChecksum(image, ROM_SEG_BASE - ROM_BASE + T.bios32, ROM_SEG_BASE - ROM_BASE + T.bios32 + 16, ROM_SEG_BASE - ROM_BASE + T.bios32 + 10);
    return image;
  }

  /** Put the ROM in place and remember the CPU the hypercalls act on. */
  install(cpu: CpuCore): void {
    this.cpu = cpu;
    this.mem.loadRom(ROM_BASE, this.rom);
    if (!this.installed) {
      this.mem.mapMmio(0x100000000 - ROM_SIZE, ROM_SIZE, this.romAlias);
      this.installed = true;
    }
  }

  /** Machine reset: fresh ROM contents and boot state. */
  reset(): void {
    this.mem.setReadOnly(ROM_BASE, ROM_SIZE, false);
    this.mem.loadRom(ROM_BASE, this.rom);
    this.bootMgr.reset();
    this.video.vbe.current = null;
    this.disks.reset();
  }

  // ---- BiosCtx ----
  waitOffset(v: number): number {
    const off = this.layout.wait.get(v);
    if (off === undefined) throw new Error(`no wait loop for vector ${v.toString(16)}`);
    return off;
  }
  romOffset(label: string): number {
    const off = this.layout.off[label];
    if (off === undefined) throw new Error(`unknown ROM label ${label}`);
    return off;
  }
  setEip(g: Guest, off: number): void {
    g.cpu.eip = off;
  }
  print(text: string): void {
    this.video.writeString(text);
  }
  log(message: string): void {
    log('info', 'bios', message);
  }

  /** CpuBus.hypercall target. */
  hypercall(n: number): void {
    const cpu = this.cpu;
    if (!cpu) throw new Error('BuiltinBios.install(cpu) was not called');
    const g = new Guest(cpu, this.mem);
    try {
      this.dispatch(n, g);
    } catch (e) {
      if (e instanceof CpuFault) throw e; // a fault on the caller's memory: delivered by the CPU
      log('error', 'bios', `hypercall ${n.toString(16)} (AX=${g.ax.toString(16)}) failed: ${(e as Error).stack ?? e}`);
      if (n < 0x100 && TS_VECTORS.includes(n)) g.setCF(true);
    }
  }

  private dispatch(n: number, g: Guest): void {
    switch (n) {
      case 0x10: return this.video.int10(g);
      case 0x11: g.ax = this.mem.read16(B.BDA_EQUIPMENT); return;
      case 0x12: g.ax = this.mem.read16(B.BDA_MEM_KB); return;
      case 0x13:
      case 0x40: return this.disks.int13(g);
      case 0x14: return this.int14(g);
      case 0x15: return this.system.int15(g);
      case 0x16: return this.keyboard.int16(g);
      case 0x17: g.ah = 0x30; return; // no printer: "not busy, selected" with no ports listed in the BDA
      case 0x18:
        this.print('\r\nNo bootable device. System halted.\r\n');
        return this.setEip(g, this.romOffset('halt_loop'));
      case 0x1a: return this.time.int1a(g, this.pci);
      case Hc.Post: return this.post(g);
      case Hc.BootMenu: return this.bootMgr.menuStep(g);
      case Hc.Boot: return this.bootMgr.boot(g);
      case Hc.Bios32: return this.bios32(g);
      case Hc.Pci32: return this.pci.call(g, true);
      case Hc.KbdIrq: return this.keyboard.scanCode(g.al);
      default:
        log('warn', 'bios', `unknown hypercall ${n.toString(16)}`);
    }
  }

  // ---- POST ----
  private post(g: Guest): void {
    const mem = this.mem;
    // Low memory: IVT, BDA, EBDA.
    for (let a = 0; a < 0x500; a += 4) mem.write32(a, 0);
    for (let a = B.EBDA_BASE; a < B.EBDA_BASE + B.EBDA_KB * 1024; a += 4) mem.write32(a, 0);
    mem.write8(B.EBDA_BASE, B.EBDA_KB);
    this.installVectors();

    const serial = this.cfg.serialPorts ?? [0x3f8];
    serial.slice(0, 4).forEach((p, i) => mem.write16(B.BDA_COM + 2 * i, p));
    const floppies = this.disks.floppies.length;
    const equipment =
      (floppies ? 0x0001 | ((floppies - 1) << 6) : 0) |
      0x0002 | // math coprocessor
      0x0004 | // PS/2 pointing device
      0x0020 | // initial video: 80x25 colour
      (Math.min(serial.length, 4) << 9);
    mem.write16(B.BDA_EQUIPMENT, equipment);
    mem.write16(B.BDA_MEM_KB, 640 - B.EBDA_KB);
    mem.write16(B.BDA_EBDA_SEG, B.EBDA_SEG);
    mem.write8(B.BDA_HD_COUNT, this.disks.hds.length);
    mem.write16(B.BDA_RESET_FLAG, 0);
    this.keyboard.reset();

    this.initPic();
    // PIT channel 0: mode 3, divisor 65536 → IRQ0 at 18.2 Hz.
    this.io.out8(0x43, 0x36);
    this.io.out8(0x40, 0);
    this.io.out8(0x40, 0);
    this.initKbc();
    // Tick count from the RTC's time of day; clear the CMOS shutdown status.
    mem.write32(B.BDA_TICKS, Math.floor((this.time.rtcSecondsOfDay() * 1193182) / 65536));
    this.time.setCmos(0x0f, 0);

    if (this.cfg.pci) {
      const r = pciInit(this.pci, this.io, this.cfg.pmBase ?? 0x600);
      if (r.vgaLfb !== null) this.video.vbe.lfbBase = r.vgaLfb;
      this.log(`PCI: ${r.devices.length} functions, VGA LFB ${r.vgaLfb?.toString(16) ?? 'none'}`);
    }
    this.video.vbe.rom = this.vbeRom;
    if (this.cfg.vga && !this.video.vbe.probe()) {
      this.log('Bochs DISPI interface not found: VBE disabled');
      this.video.vbe.rom = null;
    }
    this.video.setMode(0x03);
    this.installTables();

    this.print(`Boxwood BIOS\r\n${Math.floor(this.ramBytes / (1024 * 1024))} MiB RAM\r\n`);
    // The stub continues with SS:SP = 0:7C00 and jumps to the boot sequence.
    g.setRealSeg(Seg.SS, 0);
  }

  private installVectors(): void {
    const mem = this.mem;
    const set = (v: number, seg: number, off: number) => {
      mem.write16(v * 4, off);
      mem.write16(v * 4 + 2, seg);
    };
    const L = this.layout.off;
    for (let v = 0; v < 0x78; v++) set(v, ROM_SEG, L.iret);
    set(0x08, ROM_SEG, L.int08);
    set(0x09, ROM_SEG, L.int09);
    for (let v = 0x0a; v <= 0x0f; v++) set(v, ROM_SEG, L.irq_master);
    set(0x70, ROM_SEG, L.irq8);
    for (let v = 0x71; v <= 0x77; v++) set(v, ROM_SEG, L.irq_slave);
    for (const [v, off] of this.layout.entry) set(v, ROM_SEG, off);
    set(0x19, ROM_SEG, L.boot);
    set(0x1d, 0, 0); // video parameter table: none
    set(0x1e, ROM_SEG, L.dpt);
    set(0x1f, ROM_SEG, T.font8 + 0x400);
    set(0x41, 0, 0);
    set(0x43, ROM_SEG, T.font8);
    set(0x46, 0, 0);
    for (let v = 0x60; v <= 0x67; v++) set(v, 0, 0); // user vectors
  }

  private initPic(): void {
    const io = this.io;
    io.out8(0x20, 0x11); // ICW1: edge, cascade, ICW4
    io.out8(0xa0, 0x11);
    io.out8(0x21, 0x08); // ICW2: vectors 08h-0Fh
    io.out8(0xa1, 0x70); //        70h-77h
    io.out8(0x21, 0x04); // ICW3: slave on IRQ2
    io.out8(0xa1, 0x02);
    io.out8(0x21, 0x01); // ICW4: 8086 mode
    io.out8(0xa1, 0x01);
    io.out8(0x21, 0xf8); // unmask IRQ0 (timer), IRQ1 (keyboard), IRQ2 (cascade)
    io.out8(0xa1, 0xff);
  }

  private initKbc(): void {
    const io = this.io;
    if (io.in8(0x64) === 0xff) return; // no i8042
    // Drain stale output, then command byte: IRQ1 on, system flag, aux off, translation on.
    for (let i = 0; i < 16 && io.in8(0x64) & 0x01; i++) io.in8(0x60);
    io.out8(0x64, 0x60);
    io.out8(0x60, 0x65);
  }

  /** ACPI tables into the reserved top of RAM, RSDP into the ROM (written past read-only). */
  private installTables(): void {
    if (this.cfg.acpi === false) return;
    const base = this.ramBytes - HIGH_AREA_BYTES;
    const hpet = this.cfg.hpet ? { address: this.cfg.hpet.address, blockId: this.mem.read32(this.cfg.hpet.address) >>> 0 } : null;
    const t = buildAcpi({
      base,
      pmBase: this.cfg.pmBase ?? 0x600,
      sciIrq: 9,
      s5SlpTyp: this.cfg.s5SlpTyp ?? 0,
      lapic: !!this.cfg.lapic,
      ioapic: this.cfg.ioapic ?? null,
      hpet,
      // BARs are assigned from pci-init.ts's MEM_START up to the I/O APIC; the window the OS
      // may use for them starts right above RAM, like QEMU's.
      pci: this.cfg.pci ? { memBase: this.ramBytes, memLimit: PCI_MEM_LIMIT } : null,
    });
    this.mem.ram.fill(0, base, base + HIGH_AREA_BYTES);
    this.mem.ram.set(t.area, base);
    const rsdpAt = ROM_SEG_BASE + T.rsdp;
    this.mem.ram.set(t.rsdp, rsdpAt);
    this.rom.set(t.rsdp, rsdpAt - ROM_BASE);
    this.log(`ACPI: RSDP at ${rsdpAt.toString(16)}, RSDT at ${t.addr.RSDT.toString(16)}`);
  }

  // ---- INT 14h: serial ports through the UART registers ----
  private int14(g: Guest): void {
    const base = this.mem.read16(B.BDA_COM + 2 * (g.dx & 3));
    if (!base || g.dx > 3) {
      g.ah = 0x80;
      return;
    }
    const io = this.io;
    const status = () => {
      g.ah = io.in8(base + 5);
      g.al = io.in8(base + 6);
    };
    switch (g.ah) {
      case 0x00: {
        // AL: bits 7-5 baud (110..9600), 4-3 parity, 2 stop bits, 1-0 word length.
        const divisors = [1047, 768, 384, 192, 96, 48, 24, 12];
        const div = divisors[g.al >> 5];
        io.out8(base + 3, 0x80);
        io.out8(base, div & 0xff);
        io.out8(base + 1, div >> 8);
        io.out8(base + 3, g.al & 0x1f);
        io.out8(base + 1, 0);
        return status();
      }
      case 0x01: {
        const ch = g.al;
        io.out8(base, ch);
        g.ah = io.in8(base + 5) & 0x7f;
        g.al = ch;
        return;
      }
      case 0x02:
        if (io.in8(base + 5) & 0x01) {
          g.al = io.in8(base);
          g.ah = io.in8(base + 5) & 0x1e;
        } else {
          g.ah = 0x80; // timeout
        }
        return;
      case 0x03:
        return status();
      default:
        return;
    }
  }

  // ---- BIOS32 service directory ----
  private bios32(g: Guest): void {
    // EAX = service identifier, EBX = 0 (selector). "$PCI" is the only service.
    if (g.eax === 0x49435024 && this.cfg.pci && g.ebx === 0) {
      g.al = 0x00;
      g.ebx = ROM_SEG_BASE;
      g.ecx = 0x10000;
      g.edx = this.layout.off.pci32_entry;
    } else {
      g.al = 0x80; // service not present
    }
    g.setLiveCF(false);
  }

  // ---- snapshots ----
  saveState(): ComponentState {
    const vbe = this.video.vbe;
    const em = this.disks.emulation;
    return {
      vbeMode: vbe.current ? vbe.current.mode : -1,
      vbeLfb: vbe.lfb,
      lfbBase: vbe.lfbBase,
      vbePresent: vbe.rom !== null,
      videoMode: this.video.mode ? this.video.mode.mode : -1,
      emulation: em ? { entry: { ...em.entry }, drive: em.drive } : null,
      boot: this.bootMgr.save(),
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const vbe = this.video.vbe;
    vbe.lfbBase = state.lfbBase as number;
    vbe.current = (state.vbeMode as number) >= 0 ? vbe.find(state.vbeMode as number) ?? null : null;
    vbe.lfb = state.vbeLfb as boolean;
    vbe.rom = state.vbePresent ? this.vbeRom : null;
    const vm = state.videoMode as number;
    this.video.restoreMode(vm);
    const em = state.emulation as { entry: Record<string, number>; drive: number } | null;
    this.disks.reset();
    this.bootMgr.load(state.boot as { phase: string; until: number; chosen: string });
    if (em) {
      const entry = em.entry as unknown as BootEntry;
      if (em.drive === 0x00) this.disks.startFloppyEmulation(entry);
      else this.disks.noteNoEmulationBoot(entry);
    }
  }
}
