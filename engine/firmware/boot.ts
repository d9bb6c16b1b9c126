// The boot sequence: an optional boot-menu window (F12 or Esc), then each device of the
// boot order in turn — CD-ROM through El Torito (no emulation, or floppy emulation), hard
// disk (MBR with 55AA), floppy — or a Linux kernel handed in by the host. The chosen boot
// sector is loaded to 0:7C00 (or the catalog's load segment) with DL = the boot drive and
// the ROM stub far-returns into it.
import type { BiosCtx, BootDevice } from './context';
import type { Guest } from './guest';
import type { Disks } from './int13-disk';
import type { Keyboard } from './int16-keyboard';
import { Seg, Reg } from '../cpu/state';
import { readBootCatalog, BootMedia } from './el-torito';
import { loadLinux } from './linux-boot';
import { HIGH_AREA_BYTES } from './e820';

const NAMES: Record<BootDevice, string> = { cd: 'CD-ROM', hd: 'Hard disk', floppy: 'Floppy' };

type MenuState = { phase: 'start' } | { phase: 'window'; until: number } | { phase: 'menu' } | { phase: 'done' };

export class BootManager {
  private menu: MenuState = { phase: 'start' };
  /** A device picked in the boot menu, tried before the configured order. */
  private chosen: BootDevice | null = null;

  constructor(
    private readonly b: BiosCtx,
    private readonly disks: Disks,
    private readonly kbd: Keyboard,
  ) {}

  get order(): BootDevice[] {
    return this.b.cfg.bootOrder ?? ['cd', 'hd', 'floppy'];
  }

  /** For snapshots: the menu phase and a device picked in it. */
  save(): { phase: string; until: number; chosen: string } {
    return { phase: this.menu.phase, until: this.menu.phase === 'window' ? this.menu.until : 0, chosen: this.chosen ?? '' };
  }
  load(s: { phase: string; until: number; chosen: string }): void {
    this.menu = s.phase === 'window' ? { phase: 'window', until: s.until } : ({ phase: s.phase } as MenuState);
    this.chosen = s.chosen ? (s.chosen as BootDevice) : null;
  }

  /** Restart the menu window (INT 19h / reset). */
  reset(): void {
    this.menu = { phase: 'start' };
    this.chosen = null;
  }

  /** The devices that are present, in boot order. */
  private present(): BootDevice[] {
    return this.order.filter((d) => (d === 'cd' ? !!this.disks.cd : d === 'hd' ? this.disks.hds.length > 0 : this.disks.floppies.length > 0));
  }

  /** Hc.BootMenu: runs until the window closes; while waiting it points EIP at the HLT loop. */
  menuStep(g: Guest): void {
    const ms = this.b.cfg.bootMenuMs ?? 500;
    const wait = () => this.b.setEip(g, this.b.romOffset('menu_wait'));
    switch (this.menu.phase) {
      case 'start':
        if (ms <= 0 || this.b.cfg.kernel) {
          this.menu = { phase: 'done' };
          return;
        }
        this.b.print('Press F12 or Esc for the boot menu\r\n');
        this.menu = { phase: 'window', until: this.b.clock.nowNs() + ms * 1e6 };
        return wait();
      case 'window': {
        const key = this.kbd.dequeue();
        if (key >= 0 && (key >> 8 === 0x86 || key >> 8 === 0x01)) {
          const devs = this.present();
          this.b.print('\r\nBoot menu:\r\n');
          devs.forEach((d, i) => this.b.print(`  ${i + 1}. ${NAMES[d]}\r\n`));
          this.b.print('Select a boot device: ');
          this.menu = { phase: 'menu' };
          return wait();
        }
        if (this.b.clock.nowNs() >= this.menu.until) {
          this.menu = { phase: 'done' };
          return;
        }
        return wait();
      }
      case 'menu': {
        const key = this.kbd.dequeue();
        if (key < 0) return wait();
        const devs = this.present();
        const n = (key & 0xff) - 0x31;
        if ((key & 0xff) === 0x0d || (key >> 8) === 0x01) {
          this.b.print('\r\n');
          this.menu = { phase: 'done' };
          return;
        }
        if (n >= 0 && n < devs.length) {
          this.chosen = devs[n];
          this.b.print(`${n + 1}\r\n`);
          this.menu = { phase: 'done' };
          return;
        }
        return wait();
      }
      case 'done':
        return;
    }
  }

  /** Hc.Boot: load a boot sector and set up the far return into it, or go to boot_fail. */
  boot(g: Guest): void {
    const cfg = this.b.cfg;
    const failOffset = this.b.romOffset('boot_fail');
    if (cfg.kernel) {
      try {
        return this.bootLinux(g);
      } catch (e) {
        this.b.print(`Linux boot failed: ${(e as Error).message}\r\n`);
        return this.b.setEip(g, failOffset);
      }
    }
    const order = this.chosen ? [this.chosen, ...this.order.filter((d) => d !== this.chosen)] : this.order;
    for (const dev of order) {
      const r = dev === 'cd' ? this.tryCd(g) : dev === 'hd' ? this.tryDisk(g, 0x80) : this.tryDisk(g, 0x00);
      if (r === true) return;
      if (typeof r === 'string') this.b.print(`${NAMES[dev]}: ${r}\r\n`);
    }
    this.b.setEip(g, failOffset);
  }

  /** Registers for the boot sector: DL = drive, CS:IP pushed for the stub's RETF. */
  private enter(g: Guest, drive: number, seg: number, off: number): void {
    const cpu = g.cpu;
    for (const s of [Seg.DS, Seg.ES, Seg.SS]) g.setRealSeg(s, 0);
    cpu.reg32[Reg.ESP] = 0x7c00;
    for (const r of [Reg.EAX, Reg.EBX, Reg.ECX, Reg.ESI, Reg.EDI, Reg.EBP]) cpu.reg32[r] = 0;
    cpu.reg32[Reg.EDX] = drive;
    this.pushFar(g, seg, off);
  }

  private pushFar(g: Guest, seg: number, off: number): void {
    const sp = (g.cpu.reg16[Reg.ESP * 2] - 4) & 0xffff;
    g.cpu.reg16[Reg.ESP * 2] = sp;
    const a = g.lin(Seg.SS, sp);
    g.write16(a, off);
    g.write16(a + 2, seg);
  }

  private tryDisk(g: Guest, drive: number): true | string | null {
    const d = this.disks.lookup(drive);
    if (!d) return null;
    const sector = this.disks.read(d, 0, 1);
    if (d.kind === 'hd' && (sector[510] !== 0x55 || sector[511] !== 0xaa)) return 'not bootable (no 55AA signature)';
    if (d.kind === 'floppy' && sector.every((x) => x === 0)) return 'not bootable (empty boot sector)';
    g.writeBytes(0x7c00, sector);
    this.b.log(`booting from drive ${drive.toString(16)}`);
    this.enter(g, drive, 0, 0x7c00);
    return true;
  }

  private tryCd(g: Guest): true | string | null {
    const cd = this.disks.cd;
    if (!cd) return null;
    const entry = readBootCatalog(cd.dev);
    if (typeof entry === 'string') return `not bootable (${entry})`;
    if (entry.media === BootMedia.NoEmulation) {
      const seg = entry.loadSegment || 0x07c0;
      const count = entry.sectorCount || 1;
      const bytes = new Uint8Array(count * 512);
      cd.dev.read(entry.lba * 2048, bytes, 0, Math.min(bytes.length, cd.dev.size - entry.lba * 2048));
      g.writeBytes(seg << 4, bytes);
      this.disks.noteNoEmulationBoot(entry);
      this.b.log(`booting CD (no emulation, ${count} sectors at ${seg.toString(16)}:0)`);
      this.enter(g, cd.number, seg === 0x07c0 ? 0 : seg, seg === 0x07c0 ? 0x7c00 : 0);
      return true;
    }
    if (entry.media === BootMedia.HardDisk) return 'hard disk emulation is not supported';
    this.disks.startFloppyEmulation(entry);
    const fd = this.disks.lookup(0x00)!;
    const sector = this.disks.read(fd, 0, 1);
    const seg = entry.loadSegment || 0x07c0;
    g.writeBytes(seg << 4, sector);
    this.b.log('booting CD (floppy emulation as drive 0)');
    this.enter(g, 0x00, seg === 0x07c0 ? 0 : seg, seg === 0x07c0 ? 0x7c00 : 0);
    return true;
  }

  private bootLinux(g: Guest): void {
    const cfg = this.b.cfg;
    const e = loadLinux(this.b.mem, cfg.kernel!, cfg.initrd ?? null, cfg.cmdline ?? '', this.b.ramBytes - HIGH_AREA_BYTES);
    this.b.log(`Linux: setup at ${e.seg.toString(16)}:0, initrd at 0x${e.initrdAddr.toString(16)}`);
    const cpu = g.cpu;
    for (const r of [Reg.EAX, Reg.EBX, Reg.ECX, Reg.EDX, Reg.ESI, Reg.EDI, Reg.EBP]) cpu.reg32[r] = 0;
    for (const s of [Seg.DS, Seg.ES, Seg.FS, Seg.GS, Seg.SS]) g.setRealSeg(s, e.seg);
    // The far return pops from SS:SP, so push below the final stack pointer.
    cpu.reg32[Reg.ESP] = e.sp;
    this.pushFar(g, e.cs, e.ip);
  }
}
