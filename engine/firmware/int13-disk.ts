// INT 13h: diskette, hard disk and CD-ROM services straight on the BlockDevice images
// (the emulated IDE/floppy controllers are separate and never touched from here).
//  drives 0x00-0x01  floppies (an El Torito floppy emulation takes 0x00, real ones shift up)
//  drives 0x80-      hard disks: CHS (translated geometry) and EDD 3.0 (41h-48h)
//  drive  0xE0       the CD-ROM: EDD with 2048-byte sectors, 4Bh emulation status
import type { BiosCtx } from './context';
import type { Guest } from './guest';
import type { BlockDevice } from '../storage/block-device';
import { Seg } from '../cpu/state';
import { floppyGeometry, hardDiskGeometry, chsToLba, type Chs } from './disk-geometry';
import { SliceBlockDevice, emulatedFloppyBytes, type BootEntry, BootMedia } from './el-torito';
import { BDA_FLOPPY_STATUS, BDA_HD_STATUS } from './bda';

export interface Drive {
  number: number;
  kind: 'floppy' | 'hd' | 'cd';
  dev: BlockDevice;
  sectorSize: number;
  chs: Chs;
  /** AH=08h drive type for floppies. */
  floppyType: number;
  totalSectors: number;
  /** Device name in 'storage-activity' events: the name the disk controller gives the same drive. */
  activity: string;
}

const enum St {
  Ok = 0x00,
  BadCommand = 0x01,
  AddressMark = 0x02,
  WriteProtected = 0x03,
  NotFound = 0x04,
  ReadError = 0x10,
  Timeout = 0x80,
  NotReady = 0xaa,
}

export class Disks {
  floppies: Drive[] = [];
  hds: Drive[] = [];
  cd: Drive | null = null;
  /** Set after an El Torito boot: the catalog entry and the drive it appears as. */
  emulation: { entry: BootEntry; drive: number } | null = null;
  private cdStatus = 0;
  /** The configured floppies, before any El Torito emulation moved them. */
  private readonly configuredFloppies: Drive[] = [];

  constructor(private readonly b: BiosCtx) {
    const cfg = b.cfg;
    const names = cfg.storageNames ?? {};
    (cfg.floppies ?? []).forEach((dev, i) => this.floppies.push(makeFloppy(0x00 + i, dev, names.floppies?.[i] ?? `fd${i}`)));
    this.configuredFloppies = this.floppies.slice();
    (cfg.disks ?? []).forEach((dev, i) => this.hds.push(makeHd(0x80 + i, dev, names.disks?.[i] ?? `ide0-${i}`)));
    if (cfg.cdrom) {
      const total = Math.floor(cfg.cdrom.size / 2048);
      const activity = names.cdrom ?? 'ide1-0';
      this.cd = { number: 0xe0, kind: 'cd', dev: cfg.cdrom, sectorSize: 2048, chs: { cylinders: 0, heads: 0, sectors: 0 }, floppyType: 0, totalSectors: total, activity };
    }
  }

  /** Machine reset: drop any emulation. */
  reset(): void {
    this.floppies = this.configuredFloppies.slice();
    this.emulation = null;
    this.cdStatus = 0;
  }

  /** Put the El Torito floppy image in front as drive 0x00. */
  startFloppyEmulation(entry: BootEntry): void {
    const bytes = emulatedFloppyBytes(entry.media);
    const dev = new SliceBlockDevice(this.cd!.dev, entry.lba * 2048, bytes);
    const drive = makeFloppy(0x00, dev, this.cd!.activity); // the LED of the CD it is read from
    this.floppies = [drive, ...this.floppies.map((d, i) => ({ ...d, number: i + 1 }))].slice(0, 2);
    this.emulation = { entry, drive: 0x00 };
  }

  noteNoEmulationBoot(entry: BootEntry): void {
    this.emulation = { entry, drive: 0xe0 };
  }

  lookup(dl: number): Drive | null {
    if (dl < 0x80) return this.floppies[dl] ?? null;
    if (this.cd && dl === this.cd.number) return this.cd;
    return this.hds[dl - 0x80] ?? null;
  }

  /** Raw sector read for the boot code. */
  read(d: Drive, lba: number, count: number): Uint8Array {
    const buf = new Uint8Array(count * d.sectorSize);
    const off = lba * d.sectorSize;
    const avail = Math.max(0, Math.min(buf.length, d.dev.size - off));
    if (avail > 0) d.dev.read(off, buf, 0, avail);
    this.activity(d, 'read');
    return buf;
  }

  /** Blink the drive's LED in the UI, as the IDE controller does for the OS's own accesses. */
  private activity(d: Drive, kind: 'read' | 'write'): void {
    this.b.cfg.events?.emit('storage-activity', { device: d.activity, kind });
  }

  private setStatus(g: Guest, d: Drive | null, dl: number, st: number): void {
    if (dl < 0x80) this.b.mem.write8(BDA_FLOPPY_STATUS, st);
    else if (d?.kind === 'cd') this.cdStatus = st;
    else this.b.mem.write8(BDA_HD_STATUS, st);
    g.status(st);
  }

  int13(g: Guest): void {
    const dl = g.dl;
    const ah = g.ah;
    const d = this.lookup(dl);
    if (ah === 0x01) {
      // Last status: AH = status of the previous operation.
      const st = dl < 0x80 ? this.b.mem.read8(BDA_FLOPPY_STATUS) : d?.kind === 'cd' ? this.cdStatus : this.b.mem.read8(BDA_HD_STATUS);
      g.al = st;
      g.status(0);
      g.ah = st;
      return;
    }
    if (!d) {
      if (ah === 0x15) {
        g.ah = 0; // no such drive
        g.setCF(dl >= 0x80);
        return;
      }
      if (ah === 0x08 && dl < 0x80) {
        // No diskette: report the controller with zero drives (as IBM does), CF=1 from DOS's view.
        g.bx = 0; g.cx = 0; g.dh = 0; g.dl = this.floppies.length;
        this.setStatus(g, null, dl, St.BadCommand);
        return;
      }
      this.setStatus(g, null, dl, dl < 0x80 ? St.Timeout : St.BadCommand);
      return;
    }
    try {
      this.dispatch(g, d, ah);
    } catch (e) {
      this.b.log(`INT 13h AH=${ah.toString(16)} drive ${dl.toString(16)}: ${(e as Error).message}`);
      this.setStatus(g, d, dl, St.ReadError);
    }
  }

  private dispatch(g: Guest, d: Drive, ah: number): void {
    const dl = d.number;
    switch (ah) {
      case 0x00: // reset
      case 0x0d: // alternate reset
      case 0x10: // test ready
      case 0x11: // recalibrate
      case 0x0c: // seek
      case 0x47: // extended seek
        return this.setStatus(g, d, dl, St.Ok);
      case 0x02:
      case 0x03:
      case 0x04:
        return this.chsTransfer(g, d, ah);
      case 0x05: // format track: only meaningful on writable floppies; accept without effect
        return this.setStatus(g, d, dl, d.dev.readOnly ? St.WriteProtected : St.Ok);
      case 0x08:
        return this.params(g, d);
      case 0x15:
        if (d.kind === 'floppy') {
          g.ah = 0x02; // diskette with change-line support
        } else {
          g.ah = 0x03; // fixed disk; CX:DX = sectors
          g.cx = (d.totalSectors >>> 16) & 0xffff;
          g.dx = d.totalSectors & 0xffff;
        }
        g.setCF(false);
        return;
      case 0x16: // change line: not changed
        return this.setStatus(g, d, dl, St.Ok);
      case 0x17: // set diskette type for format
      case 0x18: // set media type for format
        if (ah === 0x18) {
          // ES:DI -> the diskette parameter table.
          g.setRealSeg(Seg.ES, 0xf000);
          g.di = 0xefc7;
        }
        return this.setStatus(g, d, dl, St.Ok);
      case 0x41:
        if (g.bx !== 0x55aa) return this.setStatus(g, d, dl, St.BadCommand);
        g.bx = 0xaa55;
        g.cx = 0x0007; // fixed-disk access (42h-44h,47h,48h), locking/ejecting, EDD (48h)
        g.ah = 0x30; // EDD 3.0
        g.setCF(false);
        return;
      case 0x42:
      case 0x43:
      case 0x44:
        return this.lbaTransfer(g, d, ah);
      case 0x45: // lock/unlock
      case 0x46: // eject
        return this.setStatus(g, d, dl, d.kind === 'cd' ? St.Ok : St.BadCommand);
      case 0x48:
        return this.driveParams(g, d);
      case 0x4b:
        return this.emulationStatus(g, d);
      case 0x4e: // set hardware configuration
        return this.setStatus(g, d, dl, St.Ok);
      default:
        return this.setStatus(g, d, dl, St.BadCommand);
    }
  }

  private chsTransfer(g: Guest, d: Drive, ah: number): void {
    const count = g.al;
    if (d.kind === 'cd') return this.setStatus(g, d, d.number, St.BadCommand);
    const sector = g.cl & 0x3f;
    const cyl = g.ch | (d.kind === 'hd' ? (g.cl & 0xc0) << 2 : 0);
    const head = g.dh;
    if (count === 0 || sector === 0 || sector > d.chs.sectors || head >= d.chs.heads) {
      g.al = 0;
      return this.setStatus(g, d, d.number, St.NotFound);
    }
    const lba = chsToLba(d.chs, cyl, head, sector);
    if (lba + count > d.totalSectors) {
      g.al = 0;
      return this.setStatus(g, d, d.number, St.NotFound);
    }
    const buf = g.lin(Seg.ES, g.bx);
    this.transfer(g, d, ah === 0x03 ? 'write' : ah === 0x04 ? 'verify' : 'read', lba, count, buf);
    g.al = count;
  }

  private transfer(g: Guest, d: Drive, op: 'read' | 'write' | 'verify', lba: number, count: number, buf: number): void {
    if (op === 'read') {
      g.writeBytes(buf, this.read(d, lba, count));
    } else if (op === 'write') {
      if (d.dev.readOnly) return this.setStatus(g, d, d.number, St.WriteProtected);
      d.dev.write(lba * d.sectorSize, g.readBytes(buf, count * d.sectorSize));
      this.activity(d, 'write');
    }
    this.setStatus(g, d, d.number, St.Ok);
  }

  private lbaTransfer(g: Guest, d: Drive, ah: number): void {
    const p = g.lin(Seg.DS, g.si);
    const size = g.read8(p);
    if (size < 0x10) return this.setStatus(g, d, d.number, St.BadCommand);
    const count = g.read16(p + 2);
    const off = g.read16(p + 4);
    const seg = g.read16(p + 6);
    const lbaLo = g.read32(p + 8);
    const lbaHi = g.read32(p + 12);
    let buf = ((seg << 4) + off) >>> 0;
    if (seg === 0xffff && off === 0xffff && size >= 0x18) buf = g.read32(p + 16);
    if (lbaHi !== 0 || lbaLo + count > d.totalSectors) {
      g.write16(p + 2, 0);
      return this.setStatus(g, d, d.number, St.NotFound);
    }
    if (count === 0) return this.setStatus(g, d, d.number, St.Ok);
    this.transfer(g, d, ah === 0x43 ? 'write' : ah === 0x44 ? 'verify' : 'read', lbaLo, count, buf);
  }

  private params(g: Guest, d: Drive): void {
    if (d.kind === 'cd') return this.setStatus(g, d, d.number, St.BadCommand);
    const maxCyl = d.chs.cylinders - 1;
    g.ch = maxCyl & 0xff;
    g.cl = (d.chs.sectors & 0x3f) | ((maxCyl >> 2) & 0xc0);
    g.dh = d.chs.heads - 1;
    if (d.kind === 'floppy') {
      g.dl = this.floppies.length;
      g.bl = d.floppyType;
      g.bh = 0;
      // ES:DI -> diskette parameter table.
      g.setRealSeg(Seg.ES, 0xf000);
      g.di = 0xefc7;
    } else {
      g.dl = this.hds.length;
    }
    g.al = 0;
    this.setStatus(g, d, d.number, St.Ok);
  }

  private driveParams(g: Guest, d: Drive): void {
    const p = g.lin(Seg.DS, g.si);
    const size = g.read16(p);
    if (size < 0x1a) return this.setStatus(g, d, d.number, St.BadCommand);
    const out = size >= 0x1e ? 0x1e : 0x1a;
    g.write16(p, out);
    // Flags: bit 1 CHS valid, bit 2 removable, bit 4 change line, bit 5 lockable, bit 6 max-CHS.
    const flags = d.kind === 'hd' ? 0x0002 : d.kind === 'cd' ? 0x0074 : 0x0016;
    g.write16(p + 2, flags);
    const cd = d.kind === 'cd';
    g.write32(p + 4, cd ? 0xffffffff : d.chs.cylinders);
    g.write32(p + 8, cd ? 0xffffffff : d.chs.heads);
    g.write32(p + 12, cd ? 0xffffffff : d.chs.sectors);
    g.write32(p + 16, d.totalSectors);
    g.write32(p + 20, 0);
    g.write16(p + 24, d.sectorSize);
    if (out >= 0x1e) g.write32(p + 26, 0xffffffff); // no device parameter table extension
    this.setStatus(g, d, d.number, St.Ok);
  }

  private emulationStatus(g: Guest, d: Drive): void {
    const al = g.al;
    const em = this.emulation;
    if ((al !== 0x00 && al !== 0x01) || !em || em.drive !== d.number) return this.setStatus(g, d, d.number, St.BadCommand);
    const p = g.lin(Seg.DS, g.si);
    const e = em.entry;
    const emulated = e.media !== BootMedia.NoEmulation;
    g.write8(p + 0x00, 0x13);
    g.write8(p + 0x01, e.media);
    g.write8(p + 0x02, em.drive);
    g.write8(p + 0x03, 0); // controller index
    g.write32(p + 0x04, e.lba);
    g.write16(p + 0x08, 0); // device specification: master on the first controller
    g.write16(p + 0x0a, 0); // user buffer segment
    g.write16(p + 0x0c, e.loadSegment || 0x07c0);
    g.write16(p + 0x0e, e.sectorCount);
    if (emulated) {
      const chs = this.floppies[0].chs;
      g.write8(p + 0x10, (chs.cylinders - 1) & 0xff);
      g.write8(p + 0x11, (chs.sectors & 0x3f) | (((chs.cylinders - 1) >> 2) & 0xc0));
      g.write8(p + 0x12, chs.heads - 1);
    } else {
      g.write8(p + 0x10, 0);
      g.write8(p + 0x11, 0);
      g.write8(p + 0x12, 0);
    }
    if (al === 0x00 && emulated) {
      // Terminate emulation: the real floppies move back to their own numbers.
      this.floppies = this.floppies.slice(1).map((f, i) => ({ ...f, number: i }));
      this.emulation = null;
    }
    this.setStatus(g, d, d.number, St.Ok);
  }
}

function makeFloppy(number: number, dev: BlockDevice, activity: string): Drive {
  const { chs, type } = floppyGeometry(dev.size);
  return { number, kind: 'floppy', dev, sectorSize: 512, chs, floppyType: type, totalSectors: chs.cylinders * chs.heads * chs.sectors, activity };
}

function makeHd(number: number, dev: BlockDevice, activity: string): Drive {
  const mbr = new Uint8Array(512);
  if (dev.size >= 512) dev.read(0, mbr, 0, 512);
  const chs = hardDiskGeometry(dev.size, mbr);
  return { number, kind: 'hd', dev, sectorSize: 512, chs, floppyType: 0, totalSectors: Math.floor(dev.size / 512), activity };
}
