// PIIX3 IDE controller (PCI 00:01.1, 8086:7010) in legacy ("compatibility") mode:
// primary channel at 0x1F0-0x1F7 / 0x3F6 on ISA IRQ 14, secondary at 0x170-0x177 / 0x376
// on IRQ 15, bus-master DMA registers in BAR4 (SFF-8038i). Up to four drives: ATA disks
// over a BlockDevice (ATA/ATAPI-6 command set incl. LBA48), and ATAPI CD-ROMs (MMC subset),
// possibly without a medium — QEMU's `pc` always has an (empty) CD drive, so Linux sees sr0.
// Transfers are synchronous: a PIO block or a whole DMA transfer is done the moment the
// guest asks for it, which is indistinguishable from a very fast disk.
// Behaviour that guests probe (absent-drive reads, signatures after reset, IRQ semantics)
// follows QEMU's hw/ide, since that is what the reference guests were tested against.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { BlockDevice } from '../storage/block-device';
import { PciBus, PciConfigSpace, type PciFunction } from './pci-bus';

export type IdeDriveConfig =
  | { kind: 'disk'; image: BlockDevice; model?: string; serial?: string }
  | { kind: 'cdrom'; image: BlockDevice | null; model?: string; serial?: string };

export interface PiixIdeOptions {
  /** Index 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave. */
  drives: (IdeDriveConfig | undefined)[];
  dev?: number;
  fn?: number;
}

// Status register bits.
const ST_ERR = 0x01;
const ST_DRQ = 0x08;
const ST_DSC = 0x10;
const ST_DRDY = 0x40;
const ST_BSY = 0x80;
// Error register bits.
const ER_ABRT = 0x04;
const ER_IDNF = 0x10;
const ER_UNC = 0x40;
// Device control.
const CTL_NIEN = 0x02;
const CTL_SRST = 0x04;
const CTL_HOB = 0x80;
// Bus-master registers.
const BM_CMD_START = 0x01;
const BM_CMD_TO_MEMORY = 0x08;
const BM_ST_ACTIVE = 0x01;
const BM_ST_ERROR = 0x02;
const BM_ST_INT = 0x04;
// SCSI sense keys and additional sense codes (SPC/MMC).
const SK_NOT_READY = 0x02;
const SK_MEDIUM_ERROR = 0x03;
const SK_ILLEGAL_REQUEST = 0x05;
const SK_UNIT_ATTENTION = 0x06;
const ASC_INVALID_OPCODE = 0x20;
const ASC_LBA_OUT_OF_RANGE = 0x21;
const ASC_INVALID_FIELD = 0x24;
const ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28;
const ASC_SAVING_NOT_SUPPORTED = 0x39;
const ASC_MEDIUM_NOT_PRESENT = 0x3a;
const ASC_READ_ERROR = 0x11;
const ASC_REMOVAL_PREVENTED = 0x53;

const SECTOR = 512;
const CD_SECTOR = 2048;
const MAX_MULT = 16;
/** PIO buffer: a 16-sector MULTIPLE block, or an ATAPI DRQ chunk of up to 0xFFFE bytes. */
const BUF_SIZE = 0x10000;
/** CDs above 80 minutes are reported as DVDs (profile 0x10), like QEMU. */
const CD_MAX_SECTORS = 80 * 60 * 75;
const MAX_PRD_ENTRIES = 8192;

type PioNext = 'none' | 'read' | 'write' | 'packet' | 'atapi' | 'identify';
type DmaKind = 'none' | 'read' | 'write' | 'atapi';

/** Per-drive copy of the command block registers (writes go to both drives, reads come from the selected one). */
class TaskFile {
  feature = 0;
  nsector = 0;
  sector = 0;
  lcyl = 0;
  hcyl = 0;
  hobFeature = 0;
  hobNsector = 0;
  hobSector = 0;
  hobLcyl = 0;
  hobHcyl = 0;
}

class IdeDrive {
  readonly tf = new TaskFile();
  status = 0;
  error = 0;
  readonly atapi: boolean;
  readonly present: boolean;
  image: BlockDevice | null;
  readonly model: string;
  readonly serial: string;
  // Geometry (ATA): the default translation, and what INITIALIZE DEVICE PARAMETERS selected.
  cyls = 0;
  heads = 0;
  spt = 0;
  curHeads = 0;
  curSpt = 0;
  multCount = MAX_MULT;
  writeCache = true;
  /** Transfer mode selected with SET FEATURES 03h (for IDENTIFY words 63/88). */
  xferMode = 0x0c;
  // PIO state.
  readonly buf = new Uint8Array(BUF_SIZE);
  pos = 0;
  end = 0;
  next: PioNext = 'none';
  // The ATA command in progress: next LBA, sectors left, sectors per DRQ block.
  lba = 0;
  remaining = 0;
  block = 1;
  lba48 = false;
  dma: DmaKind = 'none';
  // ATAPI.
  senseKey = 0;
  asc = 0;
  unitAttention = false;
  locked = false;
  /** GESN media event: 0 none, 2 new media, 3 media removal. */
  mediaEvent = 0;
  byteLimit = 0;
  /** Bytes of the current data-in phase still to deliver. */
  atapiLeft = 0;
  /** Response bytes for non-READ commands (null: read from the medium at atapiOffset). */
  atapiData: Uint8Array | null = null;
  atapiOffset = 0;
  lastActivityNs = -Infinity;
  lastActivityKind = '';

  constructor(cfg: IdeDriveConfig | undefined, index: number) {
    this.present = !!cfg;
    this.atapi = cfg?.kind === 'cdrom';
    this.image = cfg?.image ?? null;
    this.model = cfg?.model ?? (this.atapi ? 'BOXWOOD DVD-ROM' : 'BOXWOOD HARDDISK');
    this.serial = cfg?.serial ?? `BW${(index + 1).toString().padStart(6, '0')}`;
    if (cfg?.kind === 'disk') {
      if (cfg.image.size % SECTOR) throw new Error(`IDE disk image size ${cfg.image.size} is not a multiple of 512`);
      // Default CHS translation as QEMU/BIOSes use it: 16 heads, 63 sectors, at most 16383 cylinders.
      const total = cfg.image.size / SECTOR;
      this.heads = 16;
      this.spt = 63;
      this.cyls = Math.max(1, Math.min(16383, Math.floor(total / (16 * 63))));
      this.curHeads = this.heads;
      this.curSpt = this.spt;
    }
  }

  get sectors(): number {
    return this.image ? Math.floor(this.image.size / (this.atapi ? CD_SECTOR : SECTOR)) : 0;
  }
}

class IdeChannel {
  readonly drives: [IdeDrive, IdeDrive];
  select = 0xa0;
  control = 0;
  irqPending = false;
  bmCmd = 0;
  bmStatus = 0;
  prd = 0;

  constructor(
    private readonly ide: PiixIde,
    readonly index: number,
    cfg: (IdeDriveConfig | undefined)[],
  ) {
    this.drives = [new IdeDrive(cfg[0], index * 2), new IdeDrive(cfg[1], index * 2 + 1)];
    this.reset();
  }

  private get ctx(): DeviceContext {
    return this.ide.ctx;
  }

  get cur(): IdeDrive {
    return this.drives[(this.select >>> 4) & 1];
  }

  private get anyDrive(): boolean {
    return this.drives[0].present || this.drives[1].present;
  }

  driveName(d: IdeDrive): string {
    return `ide${this.index}-${this.drives.indexOf(d)}`;
  }

  /** Power-on / hardware reset of both drives. */
  reset(): void {
    this.control = 0;
    this.bmCmd = this.bmStatus = this.prd = 0;
    for (const d of this.drives) {
      d.next = 'none';
      d.dma = 'none';
      d.multCount = MAX_MULT;
      d.curHeads = d.heads;
      d.curSpt = d.spt;
      d.writeCache = true;
      d.locked = false;
      d.senseKey = d.asc = 0;
      d.status = d.atapi ? 0 : ST_DRDY | ST_DSC;
      d.error = 0x01;
      this.setSignature(d);
    }
    this.select = 0xa0;
    this.setIrq(false);
  }

  private setSignature(d: IdeDrive): void {
    const t = d.tf;
    t.nsector = 1;
    t.sector = 1;
    if (d.atapi) {
      t.lcyl = 0x14;
      t.hcyl = 0xeb;
    } else if (d.present) {
      t.lcyl = t.hcyl = 0;
    } else {
      t.lcyl = t.hcyl = 0xff;
    }
    this.select &= 0xf0;
  }

  // ---- Interrupts ----

  setIrq(pending: boolean): void {
    this.irqPending = pending;
    if (pending) this.bmStatus |= BM_ST_INT; // PIIX latches every INTRQ rise in the BM status (QEMU does too)
    this.updateIrqLine();
  }

  private raise(): void {
    this.setIrq(true);
  }

  updateIrqLine(): void {
    const line = this.ctx.isaIrq(this.index === 0 ? 14 : 15);
    if (this.irqPending && !(this.control & CTL_NIEN)) line.raise();
    else line.lower();
  }

  // ---- Register file ----

  readReg(reg: number): number {
    const d = this.cur;
    const t = d.tf;
    const hob = (this.control & CTL_HOB) !== 0;
    const absent = !this.anyDrive;
    switch (reg) {
      case 1:
        if (absent || (!d.present && this.select & 0x10)) return 0;
        return hob ? t.hobFeature : d.error;
      case 2:
        return absent ? 0 : hob ? t.hobNsector : t.nsector;
      case 3:
        return absent ? 0 : hob ? t.hobSector : t.sector;
      case 4:
        return absent ? 0 : hob ? t.hobLcyl : t.lcyl;
      case 5:
        return absent ? 0 : hob ? t.hobHcyl : t.hcyl;
      case 6:
        return absent ? 0 : this.select;
      case 7:
        if (this.irqPending) this.setIrq(false); // reading Status acknowledges INTRQ
        return this.altStatus();
    }
    return 0xff;
  }

  altStatus(): number {
    const d = this.cur;
    if (!this.anyDrive || !d.present) return 0;
    return d.status;
  }

  writeReg(reg: number, v: number): void {
    v &= 0xff;
    if (reg >= 1 && reg <= 5) {
      this.control &= ~CTL_HOB; // a register write clears HOB (ATA-6 7.9)
      for (const d of this.drives) {
        const t = d.tf;
        switch (reg) {
          case 1: t.hobFeature = t.feature; t.feature = v; break;
          case 2: t.hobNsector = t.nsector; t.nsector = v; break;
          case 3: t.hobSector = t.sector; t.sector = v; break;
          case 4: t.hobLcyl = t.lcyl; t.lcyl = v; break;
          case 5: t.hobHcyl = t.hcyl; t.hcyl = v; break;
        }
      }
      return;
    }
    if (reg === 6) {
      this.select = v | 0xa0; // bits 7 and 5 are obsolete "always one"
      return;
    }
    if (reg === 7) this.command(v);
  }

  writeControl(v: number): void {
    const old = this.control;
    this.control = v & (CTL_HOB | CTL_SRST | CTL_NIEN);
    if (!(old & CTL_SRST) && v & CTL_SRST) {
      for (const d of this.drives) {
        d.status = ST_BSY | ST_DSC;
        d.error = 0x01;
        d.next = 'none';
        d.dma = 'none';
      }
    } else if (old & CTL_SRST && !(v & CTL_SRST)) {
      // Software reset done: ATAPI devices come back with DRDY clear (QEMU, ATA-6 9.2).
      for (const d of this.drives) {
        d.status = d.atapi ? 0 : ST_DRDY | ST_DSC;
        this.setSignature(d);
      }
    }
    this.updateIrqLine();
  }

  // ---- Data port ----

  readData(bytes: number): number {
    const d = this.cur;
    if (d.next === 'none' || d.pos >= d.end || d.next === 'write' || d.next === 'packet') return bytes === 4 ? -1 : (1 << (8 * bytes)) - 1;
    let v = 0;
    for (let i = 0; i < bytes && d.pos < d.end; i++) v |= d.buf[d.pos++] << (8 * i);
    if (d.pos >= d.end) this.bufferDone(d);
    return v;
  }

  writeData(bytes: number, v: number): void {
    const d = this.cur;
    if (d.next !== 'write' && d.next !== 'packet') return;
    for (let i = 0; i < bytes && d.pos < d.end; i++) d.buf[d.pos++] = (v >>> (8 * i)) & 0xff;
    if (d.pos >= d.end) this.bufferDone(d);
  }

  private bufferDone(d: IdeDrive): void {
    const next = d.next;
    d.next = 'none';
    switch (next) {
      case 'identify':
        d.status = ST_DRDY | ST_DSC;
        return;
      case 'read': {
        const n = Math.min(d.block, d.remaining);
        d.lba += n;
        d.remaining -= n;
        this.setPosition(d, d.lba);
        if (d.remaining > 0) this.pioReadBlock(d);
        else d.status = ST_DRDY | ST_DSC; // no interrupt after the last PIO-in block
        return;
      }
      case 'write': {
        const n = Math.min(d.block, d.remaining);
        if (!this.writeSectors(d, d.lba, d.buf.subarray(0, n * SECTOR))) return;
        d.lba += n;
        d.remaining -= n;
        this.setPosition(d, d.lba);
        if (d.remaining > 0) this.pioWriteBlock(d);
        else d.status = ST_DRDY | ST_DSC;
        this.raise();
        return;
      }
      case 'packet':
        this.atapiCommand(d, d.buf.slice(0, 12));
        return;
      case 'atapi':
        if (d.atapiLeft > 0) this.atapiSendChunk(d);
        else this.atapiDone(d);
        return;
    }
  }

  // ---- Command completion helpers ----

  private ok(d: IdeDrive, irq = true): void {
    d.status = ST_DRDY | ST_DSC;
    d.error = 0;
    if (irq) this.raise();
  }

  private fail(d: IdeDrive, error: number): void {
    d.next = 'none';
    d.dma = 'none';
    d.status = ST_DRDY | ST_DSC | ST_ERR;
    d.error = error;
    this.raise();
  }

  private activity(d: IdeDrive, kind: 'read' | 'write'): void {
    // At most one event per drive and direction per 100 ms of virtual time: the host only shows a LED.
    const now = this.ctx.clock.nowNs();
    if (kind === d.lastActivityKind && now - d.lastActivityNs < 100e6) return;
    d.lastActivityNs = now;
    d.lastActivityKind = kind;
    this.ctx.events.emit('storage-activity', { device: this.driveName(d), kind });
  }

  // ---- ATA ----

  /** Starting LBA of the command (LBA28, LBA48 or CHS); -1 for an invalid CHS address. */
  private startLba(d: IdeDrive, lba48: boolean): number {
    const t = d.tf;
    if (lba48) {
      return (t.hobHcyl * 2 ** 40) + (t.hobLcyl * 2 ** 32) + (t.hobSector * 2 ** 24) + ((t.hcyl << 16) | (t.lcyl << 8) | t.sector);
    }
    if (this.select & 0x40) return ((this.select & 0x0f) << 24) | (t.hcyl << 16) | (t.lcyl << 8) | t.sector;
    const cyl = t.lcyl | (t.hcyl << 8);
    const head = this.select & 0x0f;
    const sect = t.sector;
    if (sect === 0 || sect > d.curSpt || head >= d.curHeads) return -1;
    return (cyl * d.curHeads + head) * d.curSpt + sect - 1;
  }

  private sectorCount(d: IdeDrive, lba48: boolean): number {
    const t = d.tf;
    if (lba48) return ((t.hobNsector << 8) | t.nsector) || 65536;
    return t.nsector || 256;
  }

  /** Leave the task file pointing at `lba` (QEMU's ide_set_sector), in the addressing mode used. */
  private setPosition(d: IdeDrive, lba: number): void {
    const t = d.tf;
    if (d.lba48) {
      t.sector = lba & 0xff;
      t.lcyl = (lba >>> 8) & 0xff;
      t.hcyl = (lba >>> 16) & 0xff;
      const hi = Math.floor(lba / 2 ** 24);
      t.hobSector = hi & 0xff;
      t.hobLcyl = (hi >>> 8) & 0xff;
      t.hobHcyl = (hi >>> 16) & 0xff;
    } else if (this.select & 0x40) {
      t.sector = lba & 0xff;
      t.lcyl = (lba >>> 8) & 0xff;
      t.hcyl = (lba >>> 16) & 0xff;
      this.select = (this.select & 0xf0) | ((lba >>> 24) & 0x0f);
    } else if (d.curHeads && d.curSpt) {
      const cyl = Math.floor(lba / (d.curHeads * d.curSpt));
      const r = lba % (d.curHeads * d.curSpt);
      t.lcyl = cyl & 0xff;
      t.hcyl = (cyl >>> 8) & 0xff;
      this.select = (this.select & 0xf0) | Math.floor(r / d.curSpt);
      t.sector = (r % d.curSpt) + 1;
    }
  }

  private readSectors(d: IdeDrive, lba: number, into: Uint8Array): boolean {
    try {
      d.image!.read(lba * SECTOR, into, 0, into.length);
    } catch (e) {
      logGuestError('ide', 'readerr', `${this.driveName(d)}: read of LBA ${lba} failed: ${(e as Error).message}`);
      this.fail(d, ER_UNC | ER_ABRT);
      return false;
    }
    this.activity(d, 'read');
    return true;
  }

  private writeSectors(d: IdeDrive, lba: number, data: Uint8Array): boolean {
    try {
      d.image!.write(lba * SECTOR, data);
    } catch (e) {
      logGuestError('ide', 'writeerr', `${this.driveName(d)}: write of LBA ${lba} failed: ${(e as Error).message}`);
      this.fail(d, ER_ABRT);
      return false;
    }
    this.activity(d, 'write');
    return true;
  }

  private pioReadBlock(d: IdeDrive): void {
    const n = Math.min(d.block, d.remaining);
    if (!this.readSectors(d, d.lba, d.buf.subarray(0, n * SECTOR))) return;
    d.pos = 0;
    d.end = n * SECTOR;
    d.next = 'read';
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise();
  }

  private pioWriteBlock(d: IdeDrive): void {
    const n = Math.min(d.block, d.remaining);
    d.pos = 0;
    d.end = n * SECTOR;
    d.next = 'write';
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
  }

  /** Validate the address of a read/write command; reports IDNF and returns false when out of range. */
  private setupTransfer(d: IdeDrive, lba48: boolean): boolean {
    const lba = this.startLba(d, lba48);
    const count = this.sectorCount(d, lba48);
    if (lba < 0 || lba + count > d.sectors) {
      logGuestError('ide', 'range', `${this.driveName(d)}: sectors ${lba}+${count} outside the disk (${d.sectors} sectors)`);
      this.fail(d, ER_IDNF | ER_ABRT);
      return false;
    }
    d.lba48 = lba48;
    d.lba = lba;
    d.remaining = count;
    return true;
  }

  private command(cmd: number): void {
    const d = this.cur;
    if (!d.present) return; // commands to a missing device are ignored (nothing drives the bus)
    if (d.status & ST_BSY) return;
    d.next = 'none';
    d.dma = 'none';
    if (d.atapi) {
      this.atapiAtaCommand(d, cmd);
      return;
    }
    switch (cmd) {
      case 0xec: // IDENTIFY DEVICE
        this.sendIdentify(d, this.identifyAta(d));
        return;
      case 0xa1: // IDENTIFY PACKET DEVICE: not a packet device
      case 0xa0:
        this.fail(d, ER_ABRT);
        return;
      case 0x20:
      case 0x21: // READ SECTORS
      case 0x24: // READ SECTORS EXT
      case 0xc4: // READ MULTIPLE
      case 0x29: // READ MULTIPLE EXT
        if (!this.setupTransfer(d, cmd === 0x24 || cmd === 0x29)) return;
        d.block = cmd === 0xc4 || cmd === 0x29 ? d.multCount : 1;
        if (d.block === 0) return this.fail(d, ER_ABRT); // MULTIPLE without SET MULTIPLE MODE
        this.pioReadBlock(d);
        return;
      case 0x30:
      case 0x31: // WRITE SECTORS
      case 0x34: // WRITE SECTORS EXT
      case 0xc5: // WRITE MULTIPLE
      case 0x39: // WRITE MULTIPLE EXT
        if (d.image!.readOnly) return this.fail(d, ER_ABRT);
        if (!this.setupTransfer(d, cmd === 0x34 || cmd === 0x39)) return;
        d.block = cmd === 0xc5 || cmd === 0x39 ? d.multCount : 1;
        if (d.block === 0) return this.fail(d, ER_ABRT);
        this.pioWriteBlock(d);
        return;
      case 0xc8:
      case 0xc9: // READ DMA
      case 0x25: // READ DMA EXT
      case 0xca:
      case 0xcb: // WRITE DMA
      case 0x35: {
        // WRITE DMA EXT
        const write = cmd === 0xca || cmd === 0xcb || cmd === 0x35;
        if (write && d.image!.readOnly) return this.fail(d, ER_ABRT);
        if (!this.setupTransfer(d, cmd === 0x25 || cmd === 0x35)) return;
        d.dma = write ? 'write' : 'read';
        d.status = ST_DRDY | ST_DSC | ST_DRQ;
        this.tryDma();
        return;
      }
      case 0x40:
      case 0x41: // READ VERIFY SECTORS
      case 0x42: // READ VERIFY SECTORS EXT
        if (!this.setupTransfer(d, cmd === 0x42)) return;
        this.setPosition(d, d.lba + d.remaining - 1);
        this.ok(d);
        return;
      case 0xc6: {
        // SET MULTIPLE MODE: a power of two up to the maximum in IDENTIFY word 47, or 0 to disable
        const n = d.tf.nsector;
        if (n > MAX_MULT || (n & (n - 1)) !== 0) return this.fail(d, ER_ABRT);
        d.multCount = n;
        this.ok(d);
        return;
      }
      case 0x91: // INITIALIZE DEVICE PARAMETERS: logical heads (device reg) and sectors per track
        if (d.tf.nsector === 0) return this.fail(d, ER_ABRT);
        d.curSpt = d.tf.nsector;
        d.curHeads = (this.select & 0x0f) + 1;
        this.ok(d);
        return;
      case 0xe7: // FLUSH CACHE
      case 0xea: // FLUSH CACHE EXT
        try {
          d.image!.flush();
        } catch (e) {
          logGuestError('ide', 'flush', `${this.driveName(d)}: flush failed: ${(e as Error).message}`);
          return this.fail(d, ER_ABRT);
        }
        this.ok(d);
        return;
      case 0xef:
        this.setFeatures(d);
        return;
      case 0x90: // EXECUTE DEVICE DIAGNOSTIC
        for (const x of this.drives) if (x.present) this.setSignature(x);
        d.error = 0x01;
        d.status = ST_DRDY | ST_DSC;
        this.raise();
        return;
      case 0x70: // SEEK
      case 0xe5: // CHECK POWER MODE: always active/idle
        if (cmd === 0xe5) d.tf.nsector = 0xff;
        this.ok(d);
        return;
      case 0xe0:
      case 0xe1:
      case 0xe2:
      case 0xe3: // STANDBY / IDLE (IMMEDIATE): a virtual disk never spins down
      case 0x94:
      case 0x95:
      case 0x96:
      case 0x97: // their old opcodes
        this.ok(d);
        return;
    }
    if (cmd >= 0x10 && cmd <= 0x1f) {
      // RECALIBRATE
      this.ok(d);
      return;
    }
    logGuestError('ide', `cmd${cmd}`, `${this.driveName(d)}: unsupported ATA command 0x${cmd.toString(16)}`);
    this.fail(d, ER_ABRT);
  }

  private setFeatures(d: IdeDrive): void {
    const t = d.tf;
    switch (t.feature) {
      case 0x03: {
        // Set transfer mode: PIO 0-4 (0x08-0x0C or 0x00/0x01), MWDMA 0-2 (0x20-0x22), UDMA 0-5 (0x40-0x45).
        const m = t.nsector;
        const ok = m <= 0x01 || (m >= 0x08 && m <= 0x0c) || (m >= 0x20 && m <= 0x22) || (m >= 0x40 && m <= 0x45);
        if (!ok) return this.fail(d, ER_ABRT);
        d.xferMode = m;
        return this.ok(d);
      }
      case 0x02: // enable write cache
      case 0x82: // disable write cache
        d.writeCache = t.feature === 0x02;
        return this.ok(d);
      case 0xaa: // read look-ahead on/off
      case 0x55:
      case 0xcc: // reverting to power-on defaults
      case 0x66:
      case 0x05: // APM: accepted and ignored
      case 0x85:
      case 0x31: // (ATAPI) disable media status notification
        return this.ok(d);
    }
    logGuestError('ide', `feat${t.feature}`, `${this.driveName(d)}: unsupported SET FEATURES 0x${t.feature.toString(16)}`);
    this.fail(d, ER_ABRT);
  }

  private sendIdentify(d: IdeDrive, words: Uint16Array): void {
    for (let i = 0; i < 256; i++) {
      d.buf[2 * i] = words[i] & 0xff;
      d.buf[2 * i + 1] = words[i] >>> 8;
    }
    d.pos = 0;
    d.end = 512;
    d.next = 'identify';
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise();
  }

  private static putString(w: Uint16Array, first: number, count: number, s: string): void {
    // ATA strings: two characters per word, first character in the high byte, space padded.
    const padded = s.padEnd(count * 2, ' ');
    for (let i = 0; i < count; i++) w[first + i] = (padded.charCodeAt(2 * i) << 8) | padded.charCodeAt(2 * i + 1);
  }

  private identifyAta(d: IdeDrive): Uint16Array {
    const w = new Uint16Array(256);
    const total = d.sectors;
    w[0] = 0x0040; // fixed device
    w[1] = d.cyls;
    w[3] = d.heads;
    w[4] = 512 * d.spt; // obsolete: bytes per track
    w[5] = 512;
    w[6] = d.spt;
    IdeChannel.putString(w, 10, 10, d.serial);
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    IdeChannel.putString(w, 23, 4, '1.0');
    IdeChannel.putString(w, 27, 20, d.model);
    w[47] = 0x8000 | MAX_MULT;
    w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    w[51] = 0x200;
    w[52] = 0x200;
    w[53] = 0x0007; // words 54-58, 64-70 and 88 valid
    const curCyls = Math.min(65535, Math.floor(Math.min(total, 16514064) / (d.curHeads * d.curSpt)));
    w[54] = curCyls;
    w[55] = d.curHeads;
    w[56] = d.curSpt;
    const chsCap = curCyls * d.curHeads * d.curSpt;
    w[57] = chsCap & 0xffff;
    w[58] = chsCap >>> 16;
    w[59] = d.multCount ? 0x100 | d.multCount : 0;
    const lba28 = Math.min(total, 0x0fffffff);
    w[60] = lba28 & 0xffff;
    w[61] = lba28 >>> 16;
    const mw = d.xferMode >= 0x20 && d.xferMode <= 0x22 ? 1 << (d.xferMode - 0x20) : 0;
    w[63] = 0x07 | (mw << 8); // MWDMA 0-2 supported, selected mode
    w[64] = 0x03; // PIO 3 and 4
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[80] = 0x00f0; // ATA/ATAPI-4..7
    w[81] = 0x0016;
    w[82] = (1 << 14) | (1 << 5); // NOP, write cache
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, LBA48
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (d.writeCache ? 1 << 5 : 0);
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 1 << 14;
    const ud = d.xferMode >= 0x40 && d.xferMode <= 0x45 ? 1 << (d.xferMode - 0x40) : 0;
    w[88] = 0x3f | (ud << 8); // UDMA 0-5 supported (the PIIX3 itself only does MWDMA; Linux picks per controller)
    w[93] = 0x6001;
    w[100] = total % 0x10000;
    w[101] = Math.floor(total / 0x10000) % 0x10000;
    w[102] = Math.floor(total / 2 ** 32) % 0x10000;
    w[103] = 0;
    return w;
  }

  private identifyAtapi(d: IdeDrive): Uint16Array {
    const w = new Uint16Array(256);
    w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5); // ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets
    IdeChannel.putString(w, 10, 10, d.serial);
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    IdeChannel.putString(w, 23, 4, '1.0');
    IdeChannel.putString(w, 27, 20, d.model);
    w[48] = 1;
    w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    w[53] = 7;
    const mw = d.xferMode >= 0x20 && d.xferMode <= 0x22 ? 1 << (d.xferMode - 0x20) : 0;
    w[62] = 7;
    w[63] = 0x07 | (mw << 8);
    w[64] = 3;
    w[65] = 0xb4;
    w[66] = 0xb4;
    w[67] = 0x12c;
    w[68] = 0xb4;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x1e; // ATAPI-1..4
    w[82] = (1 << 14) | (1 << 9) | (1 << 4); // NOP, DEVICE RESET, PACKET
    w[83] = 1 << 14;
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (1 << 9) | (1 << 4);
    w[87] = 1 << 14;
    const ud = d.xferMode >= 0x40 && d.xferMode <= 0x45 ? 1 << (d.xferMode - 0x40) : 0;
    w[88] = 0x3f | (ud << 8);
    w[93] = 0x6001;
    return w;
  }

  // ---- Bus-master DMA (SFF-8038i) ----

  writeBmCommand(v: number): void {
    const was = this.bmCmd;
    // The direction bit may only change while the engine is stopped.
    this.bmCmd = was & BM_CMD_START ? (v & BM_CMD_START) | (was & BM_CMD_TO_MEMORY) : v & (BM_CMD_START | BM_CMD_TO_MEMORY);
    if (!(v & BM_CMD_START)) {
      this.bmStatus &= ~BM_ST_ACTIVE; // stopping aborts whatever was in flight
      return;
    }
    if (!(was & BM_CMD_START)) {
      this.bmStatus |= BM_ST_ACTIVE;
      this.tryDma();
    }
  }

  writeBmStatus(v: number): void {
    // Bits 1 and 2 are write-one-to-clear, 5 and 6 (drive DMA capable) are plain, 0 and 7 read-only.
    this.bmStatus = (this.bmStatus & ~(v & (BM_ST_ERROR | BM_ST_INT)) & ~0x60) | (v & 0x60);
  }

  tryDma(): void {
    const d = this.cur;
    if (!(this.bmCmd & BM_CMD_START) || d.dma === 'none') return;
    this.runDma(d);
  }

  /** Walk the PRD table: [{addr, len}], or null after logging when it is unreadable or unterminated. */
  private prdList(): { addr: number; len: number }[] | null {
    const list: { addr: number; len: number }[] = [];
    let p = this.prd;
    for (let i = 0; i < MAX_PRD_ENTRIES; i++) {
      const e = this.ctx.mem.dmaRead(p, 8);
      if (!e) {
        logGuestError('ide', 'prdread', `PRD table entry at 0x${p.toString(16)} is outside RAM`);
        return null;
      }
      const addr = (e[0] | (e[1] << 8) | (e[2] << 16) | (e[3] << 24)) & ~1;
      const len = (e[4] | (e[5] << 8)) || 0x10000;
      list.push({ addr: addr >>> 0, len });
      if (e[7] & 0x80) return list;
      p += 8;
      if ((p & 0xffff) === 0) break; // a PRD table may not cross a 64 KiB boundary
    }
    logGuestError('ide', 'prdeot', `PRD table at 0x${this.prd.toString(16)} has no end-of-table entry within 64 KiB`);
    return null;
  }

  private dmaFailed(d: IdeDrive, why: string): void {
    logGuestError('ide', 'dma', `${this.driveName(d)}: DMA aborted: ${why}`);
    this.bmStatus = (this.bmStatus & ~BM_ST_ACTIVE) | BM_ST_ERROR;
    if (d.atapi) this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    else this.fail(d, ER_ABRT);
  }

  private runDma(d: IdeDrive): void {
    const kind = d.dma;
    d.dma = 'none';
    if (!this.ide.pci.busMaster) return this.dmaFailed(d, 'bus mastering is disabled in the PCI command register');
    const toMemory = kind !== 'write';
    if (!!(this.bmCmd & BM_CMD_TO_MEMORY) !== toMemory) return this.dmaFailed(d, 'bus-master direction does not match the command');
    const prds = this.prdList();
    if (!prds) return this.dmaFailed(d, 'bad PRD table');
    const total = kind === 'atapi' ? d.atapiLeft : d.remaining * SECTOR;
    const capacity = prds.reduce((s, e) => s + e.len, 0);
    if (capacity < total) return this.dmaFailed(d, `PRD table describes ${capacity} bytes, the command moves ${total}`);
    let data: Uint8Array;
    if (kind === 'write') {
      data = new Uint8Array(total);
      let off = 0;
      for (const e of prds) {
        if (off >= total) break;
        const n = Math.min(e.len, total - off);
        const chunk = this.ctx.mem.dmaRead(e.addr, n);
        if (!chunk) return this.dmaFailed(d, `PRD buffer 0x${e.addr.toString(16)}+${n} is outside RAM`);
        data.set(chunk, off);
        off += n;
      }
      if (!this.writeSectors(d, d.lba, data)) return;
      d.lba += d.remaining;
      d.remaining = 0;
      this.setPosition(d, d.lba);
    } else {
      data = new Uint8Array(total);
      if (kind === 'read') {
        if (!this.readSectors(d, d.lba, data)) return;
        d.lba += d.remaining;
        d.remaining = 0;
        this.setPosition(d, d.lba);
      } else if (!this.atapiFill(d, data)) {
        return;
      }
      let off = 0;
      for (const e of prds) {
        if (off >= total) break;
        const n = Math.min(e.len, total - off);
        if (!this.ctx.mem.dmaWrite(e.addr, data.subarray(off, off + n))) {
          return this.dmaFailed(d, `PRD buffer 0x${e.addr.toString(16)}+${n} is outside RAM`);
        }
        off += n;
      }
    }
    this.bmStatus &= ~BM_ST_ACTIVE;
    if (kind === 'atapi') this.atapiDone(d);
    else this.ok(d);
  }

  // ---- ATAPI ----

  private atapiAtaCommand(d: IdeDrive, cmd: number): void {
    switch (cmd) {
      case 0xa1: // IDENTIFY PACKET DEVICE
        this.sendIdentify(d, this.identifyAtapi(d));
        return;
      case 0xec: // IDENTIFY DEVICE: abort and show the packet signature so the host knows to use 0xA1
        this.setSignature(d);
        this.fail(d, ER_ABRT);
        return;
      case 0xa0: {
        // PACKET: collect the 12-byte command block; feature bit 0 asks for DMA data.
        const t = d.tf;
        d.byteLimit = t.lcyl | (t.hcyl << 8);
        d.pos = 0;
        d.end = 12;
        d.next = 'packet';
        t.nsector = 1; // CoD=1, IO=0: the device wants the command packet
        d.status = ST_DRDY | ST_DSC | ST_DRQ;
        return;
      }
      case 0x08: // DEVICE RESET
        this.setSignature(d);
        d.status = 0;
        d.error = 0x01;
        return;
      case 0x90:
        for (const x of this.drives) if (x.present) this.setSignature(x);
        d.error = 0x01;
        d.status = 0;
        this.raise();
        return;
      case 0xef:
        this.setFeatures(d);
        return;
      case 0xe5:
        d.tf.nsector = 0xff;
        this.ok(d);
        return;
      case 0xe0:
      case 0xe1:
      case 0xe7:
        this.ok(d);
        return;
    }
    logGuestError('ide', `acmd${cmd}`, `${this.driveName(d)}: ATA command 0x${cmd.toString(16)} not valid for a packet device`);
    this.fail(d, ER_ABRT);
  }

  private atapiError(d: IdeDrive, key: number, asc: number): void {
    d.senseKey = key;
    d.asc = asc;
    d.next = 'none';
    d.dma = 'none';
    d.atapiLeft = 0;
    d.error = (key << 4) | (key === SK_ILLEGAL_REQUEST ? ER_ABRT : 0);
    d.status = ST_DRDY | ST_DSC | ST_ERR;
    d.tf.nsector = 3; // IO=1, CoD=1: status phase
    this.raise();
  }

  private atapiDone(d: IdeDrive): void {
    d.senseKey = 0;
    d.asc = 0;
    d.error = 0;
    d.status = ST_DRDY | ST_DSC;
    d.tf.nsector = 3;
    this.raise();
  }

  /** Start the data-in phase of `total` bytes: static response bytes, or sectors from the medium at byte offset. */
  private atapiDataIn(d: IdeDrive, dmaRequested: boolean, total: number, data: Uint8Array | null, offset = 0): void {
    d.atapiData = data;
    d.atapiOffset = offset;
    d.atapiLeft = total;
    if (total === 0) return this.atapiDone(d);
    if (dmaRequested) {
      d.dma = 'atapi';
      d.status = ST_DRDY | ST_DSC | ST_DRQ;
      this.tryDma();
      return;
    }
    this.atapiSendChunk(d);
  }

  /** Copy the next `into.length` bytes of the data-in phase. */
  private atapiFill(d: IdeDrive, into: Uint8Array): boolean {
    if (d.atapiData) {
      into.set(d.atapiData.subarray(d.atapiOffset, d.atapiOffset + into.length));
    } else {
      if (!d.image) {
        this.atapiError(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        return false;
      }
      try {
        d.image.read(d.atapiOffset, into, 0, into.length);
      } catch (e) {
        logGuestError('ide', 'cdread', `${this.driveName(d)}: read at byte ${d.atapiOffset} failed: ${(e as Error).message}`);
        this.atapiError(d, SK_MEDIUM_ERROR, ASC_READ_ERROR);
        return false;
      }
      this.activity(d, 'read');
    }
    d.atapiOffset += into.length;
    d.atapiLeft -= into.length;
    return true;
  }

  private atapiSendChunk(d: IdeDrive): void {
    // Byte count limit from the PACKET command (ATAPI: 0 is treated as the maximum; must be even).
    let limit = d.byteLimit === 0 || d.byteLimit === 0xffff ? 0xfffe : d.byteLimit;
    let size = d.atapiLeft;
    if (size > limit) {
      if (limit & 1) limit--;
      if (!d.atapiData && limit >= CD_SECTOR) limit -= limit % CD_SECTOR; // whole sectors per DRQ, as drives do
      size = limit;
    }
    if (!this.atapiFill(d, d.buf.subarray(0, size))) return;
    d.pos = 0;
    d.end = size;
    d.next = 'atapi';
    d.tf.lcyl = size & 0xff;
    d.tf.hcyl = size >>> 8;
    d.tf.nsector = 2; // IO=1, CoD=0: data to the host
    d.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise();
  }

  private atapiCommand(d: IdeDrive, cdb: Uint8Array): void {
    const op = cdb[0];
    const dma = (d.tf.feature & 1) !== 0;
    const be16 = (o: number) => (cdb[o] << 8) | cdb[o + 1];
    const be32 = (o: number) => ((cdb[o] << 24) | (cdb[o + 1] << 16) | (cdb[o + 2] << 8) | cdb[o + 3]) >>> 0;
    const reply = (bytes: Uint8Array, alloc: number) => {
      const data = bytes.subarray(0, Math.min(bytes.length, alloc));
      this.atapiDataIn(d, dma, data.length, data);
    };
    // Commands that report even with a pending unit attention (MMC-6 4.1.6.1 / QEMU's ALLOW_UA).
    const allowUa = op === 0x12 || op === 0x03 || op === 0x46 || op === 0x4a;
    if (d.unitAttention && !allowUa) {
      d.unitAttention = false;
      return this.atapiError(d, SK_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
    }
    const needsMedium = [0x00, 0x25, 0x28, 0xa8, 0x43, 0x2b, 0x51, 0x52].includes(op);
    if (needsMedium && !d.image) return this.atapiError(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    switch (op) {
      case 0x00: // TEST UNIT READY
      case 0x2b: // SEEK(10)
      case 0xbb: // SET CD SPEED
        return this.atapiDone(d);
      case 0x03: {
        // REQUEST SENSE (fixed format); reporting clears the condition
        const b = new Uint8Array(18);
        b[0] = 0x70;
        b[2] = d.senseKey;
        b[7] = 10;
        b[12] = d.asc;
        if (d.senseKey === SK_UNIT_ATTENTION) d.unitAttention = false;
        const alloc = cdb[4];
        d.senseKey = d.asc = 0;
        return reply(b, alloc);
      }
      case 0x12: {
        // INQUIRY (standard data only: EVPD pages are not supported)
        if (cdb[1] & 1) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        const b = new Uint8Array(36);
        b[0] = 0x05; // CD/DVD device
        b[1] = 0x80; // removable
        b[2] = 0x00;
        b[3] = 0x21; // ATAPI, response format 1
        b[4] = 31;
        ascii(b, 8, 'BOXWOOD ', 8);
        ascii(b, 16, d.model.slice(8) || 'DVD-ROM', 16);
        ascii(b, 32, '1.0', 4);
        return reply(b, cdb[4]);
      }
      case 0x25: {
        // READ CAPACITY: last LBA and block length
        const b = new Uint8Array(8);
        putBe32(b, 0, d.sectors - 1);
        putBe32(b, 4, CD_SECTOR);
        return reply(b, 8);
      }
      case 0x28:
      case 0xa8: {
        // READ(10) / READ(12)
        const lba = be32(2);
        const n = op === 0x28 ? be16(7) : be32(6);
        if (lba + n > d.sectors) {
          logGuestError('ide', 'cdrange', `${this.driveName(d)}: READ of ${n} sectors at ${lba} past the end (${d.sectors})`);
          return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        }
        return this.atapiDataIn(d, dma, n * CD_SECTOR, null, lba * CD_SECTOR);
      }
      case 0x1a:
      case 0x5a:
        return this.modeSense(d, cdb, reply);
      case 0x43:
        return this.readToc(d, cdb, reply);
      case 0x46:
        return this.getConfiguration(d, cdb, reply);
      case 0x4a: {
        // GET EVENT STATUS NOTIFICATION: only polled mode, media class (MMC-6 6.7)
        if (!(cdb[1] & 1)) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        const classes = cdb[4];
        const b = new Uint8Array(8);
        if (classes & 0x10) {
          putBe16(b, 0, 6);
          b[2] = 0x04; // media class
          b[3] = 0x10; // supported: media
          b[4] = d.mediaEvent;
          b[5] = d.image ? 0x02 : 0x00; // media present (tray closed)
          d.mediaEvent = 0;
          return reply(b, be16(7));
        }
        putBe16(b, 0, 2);
        b[2] = 0x80; // no event available for the requested classes
        b[3] = 0x10;
        return reply(b.subarray(0, 4), be16(7));
      }
      case 0x51: {
        // READ DISC INFORMATION: a finalised single-session disc
        if (cdb[1] & 7) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        const b = new Uint8Array(34);
        putBe16(b, 0, 32);
        b[2] = 0x0e; // last session complete, disc finalised
        b[3] = 1;
        b[4] = 1;
        b[5] = 1;
        b[6] = 1;
        return reply(b, be16(7));
      }
      case 0x52: {
        // READ TRACK INFORMATION (MMC-6 6.27): the one data track of a finished disc
        const type = cdb[1] & 3;
        const n = be32(2);
        const ok = (type === 0 && n < d.sectors) || (type === 1 && n === 1) || (type === 2 && n === 1);
        if (!ok) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        const b = new Uint8Array(36);
        putBe16(b, 0, 34);
        b[2] = 1; // track
        b[3] = 1; // session
        b[5] = 0x04; // data track, recorded uninterrupted
        b[6] = 0x01; // data mode 1
        putBe32(b, 24, d.sectors); // track size; start address 0
        return reply(b, be16(7));
      }
      case 0x1b: {
        // START STOP UNIT: LoEj with Start=0 ejects (unless locked)
        const loej = (cdb[4] & 2) !== 0;
        const start = (cdb[4] & 1) !== 0;
        if (loej && !start) {
          if (d.locked) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED);
          if (d.image) {
            d.image = null;
            d.mediaEvent = 3;
            this.ide.onEject(this.driveName(d));
          }
        }
        return this.atapiDone(d);
      }
      case 0x1e: // PREVENT ALLOW MEDIUM REMOVAL
        d.locked = (cdb[4] & 1) !== 0;
        return this.atapiDone(d);
    }
    logGuestError('ide', `scsi${op}`, `${this.driveName(d)}: unsupported ATAPI command 0x${op.toString(16)}`);
    this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
  }

  private modeSense(d: IdeDrive, cdb: Uint8Array, reply: (b: Uint8Array, alloc: number) => void): void {
    const ten = cdb[0] === 0x5a;
    const pc = cdb[2] >>> 6;
    const page = cdb[2] & 0x3f;
    const alloc = ten ? (cdb[7] << 8) | cdb[8] : cdb[4];
    if (pc === 3) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    const pages: number[] = [];
    const errorRecovery = [0x01, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00];
    const caps = [
      0x2a, 0x14,
      0x3b, 0x00, // reads CD-R/RW, DVD-ROM/R/RAM
      0x71, 0x60, // multisession, mode 2 form 1/2, audio play; CD-DA read, accurate stream
      0x29 | (d.locked ? 0x02 : 0), 0x00, // lock supported, eject, tray loading
      0x02, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x02, 0xc0, // 4x speed, 2 volume levels, 512 KiB buffer, 4x current
      0x00, 0x00, 0x00, 0x00,
    ];
    if (page === 0x01 || page === 0x3f) pages.push(...errorRecovery);
    if (page === 0x2a || page === 0x3f) pages.push(...caps);
    if (!pages.length) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    const hdr = ten ? 8 : 4;
    const b = new Uint8Array(hdr + pages.length);
    b.set(pages, hdr);
    const mediumType = d.image ? 0x01 : 0x70; // 120 mm data disc / door closed, no disc
    if (ten) {
      putBe16(b, 0, b.length - 2);
      b[2] = mediumType;
    } else {
      b[0] = b.length - 1;
      b[1] = mediumType;
    }
    reply(b, alloc);
  }

  private readToc(d: IdeDrive, cdb: Uint8Array, reply: (b: Uint8Array, alloc: number) => void): void {
    const msf = (cdb[1] & 2) !== 0;
    let format = cdb[2] & 0x0f;
    if (format === 0 && cdb[9] >>> 6) format = cdb[9] >>> 6; // SFF-8020 placed the format in the control byte
    const startTrack = cdb[6];
    const alloc = (cdb[7] << 8) | cdb[8];
    const total = d.sectors;
    const addr = (lba: number): number[] => {
      if (!msf) return [(lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff];
      const f = lba + 150;
      return [0, Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75];
    };
    const out: number[] = [0, 0, 1, 1];
    if (format === 0) {
      if (startTrack > 1 && startTrack !== 0xaa) return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
      if (startTrack <= 1) out.push(0, 0x14, 1, 0, ...addr(0)); // track 1: data, ADR 1
      out.push(0, 0x14, 0xaa, 0, ...addr(total)); // lead-out
    } else if (format === 1) {
      out.push(0, 0x14, 1, 0, ...addr(0)); // first track of the last (only) session
    } else if (format === 2) {
      // Raw TOC: points A0 (first track), A1 (last track), A2 (lead-out), then track 1 — always MSF.
      const m = (lba: number) => {
        const f = lba + 150;
        return [Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75];
      };
      out.push(1, 0x14, 0, 0xa0, 0, 0, 0, 0, 1, 0x00, 0x00);
      out.push(1, 0x14, 0, 0xa1, 0, 0, 0, 0, 1, 0x00, 0x00);
      out.push(1, 0x14, 0, 0xa2, 0, 0, 0, 0, ...m(total));
      out.push(1, 0x14, 0, 0x01, 0, 0, 0, 0, ...m(0));
    } else {
      return this.atapiError(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    }
    const b = Uint8Array.from(out);
    putBe16(b, 0, b.length - 2);
    reply(b, alloc);
  }

  private getConfiguration(d: IdeDrive, cdb: Uint8Array, reply: (b: Uint8Array, alloc: number) => void): void {
    const rt = cdb[1] & 3;
    const startFeature = (cdb[2] << 8) | cdb[3];
    const alloc = (cdb[7] << 8) | cdb[8];
    const dvd = d.sectors > CD_MAX_SECTORS;
    const profile = d.image ? (dvd ? 0x0010 : 0x0008) : 0;
    const features: { code: number; current: boolean; body: number[] }[] = [
      // Profile list: DVD-ROM and CD-ROM, the medium's one flagged current.
      { code: 0x0000, current: true, body: [0x00, 0x10, profile === 0x10 ? 1 : 0, 0, 0x00, 0x08, profile === 0x08 ? 1 : 0, 0] },
      { code: 0x0001, current: true, body: [0, 0, 0, 2, 0, 0, 0, 0] }, // core: ATAPI physical interface
      { code: 0x0003, current: true, body: [0x29, 0, 0, 0] }, // removable medium: tray, eject, lock
    ];
    const out: number[] = [0, 0, 0, 0, 0, 0, profile >>> 8, profile & 0xff];
    for (const f of features) {
      if (rt === 2 ? f.code !== startFeature : f.code < startFeature) continue;
      if (rt === 1 && !f.current) continue;
      const version = f.code === 0x0001 ? 1 : 0;
      out.push(f.code >>> 8, f.code & 0xff, (version << 2) | 0x02 | (f.current ? 1 : 0), f.body.length, ...f.body);
    }
    const b = Uint8Array.from(out);
    putBe32(b, 0, b.length - 4);
    reply(b, alloc);
  }

  /** Host: change the medium of an ATAPI drive (null = eject). Raises a unit attention like a real tray. */
  changeMedium(d: IdeDrive, image: BlockDevice | null): void {
    d.image = image;
    d.unitAttention = image !== null;
    d.mediaEvent = image ? 2 : 3;
    d.locked = false;
  }

  saveState(): ComponentState {
    return {
      select: this.select, control: this.control, irqPending: this.irqPending,
      bmCmd: this.bmCmd, bmStatus: this.bmStatus, prd: this.prd,
      drives: this.drives.map((d) => ({
        tf: { ...d.tf },
        status: d.status, error: d.error, curHeads: d.curHeads, curSpt: d.curSpt, multCount: d.multCount,
        writeCache: d.writeCache, xferMode: d.xferMode,
        buf: d.buf.slice(0, d.end), pos: d.pos, end: d.end, next: d.next,
        lba: d.lba, remaining: d.remaining, block: d.block, lba48: d.lba48, dma: d.dma,
        senseKey: d.senseKey, asc: d.asc, unitAttention: d.unitAttention, locked: d.locked, mediaEvent: d.mediaEvent,
        byteLimit: d.byteLimit, atapiLeft: d.atapiLeft, atapiData: d.atapiData ? d.atapiData.slice() : null,
        atapiOffset: d.atapiOffset, hasMedium: d.image !== null,
      })),
    };
  }

  loadState(s: ComponentState): void {
    this.select = s.select as number;
    this.control = s.control as number;
    this.bmCmd = s.bmCmd as number;
    this.bmStatus = s.bmStatus as number;
    this.prd = s.prd as number;
    const ds = s.drives as { [k: string]: StateLike }[];
    ds.forEach((x, i) => {
      const d = this.drives[i];
      Object.assign(d.tf, x.tf as object);
      d.status = x.status as number;
      d.error = x.error as number;
      d.curHeads = x.curHeads as number;
      d.curSpt = x.curSpt as number;
      d.multCount = x.multCount as number;
      d.writeCache = x.writeCache as boolean;
      d.xferMode = x.xferMode as number;
      d.buf.set(x.buf as Uint8Array);
      d.pos = x.pos as number;
      d.end = x.end as number;
      d.next = x.next as PioNext;
      d.lba = x.lba as number;
      d.remaining = x.remaining as number;
      d.block = x.block as number;
      d.lba48 = x.lba48 as boolean;
      d.dma = x.dma as DmaKind;
      d.senseKey = x.senseKey as number;
      d.asc = x.asc as number;
      d.unitAttention = x.unitAttention as boolean;
      d.locked = x.locked as boolean;
      d.mediaEvent = x.mediaEvent as number;
      d.byteLimit = x.byteLimit as number;
      d.atapiLeft = x.atapiLeft as number;
      d.atapiData = (x.atapiData as Uint8Array | null) ?? null;
      d.atapiOffset = x.atapiOffset as number;
      // The medium itself is host configuration: if the host restored without one, the guest sees a change.
      if (d.atapi && (x.hasMedium as boolean) !== (d.image !== null)) {
        d.unitAttention = d.image !== null;
        d.mediaEvent = d.image ? 2 : 3;
      }
    });
    this.irqPending = s.irqPending as boolean;
    this.updateIrqLine();
  }
}

type StateLike = ComponentState[string];

function ascii(b: Uint8Array, off: number, s: string, len: number): void {
  const p = s.padEnd(len, ' ');
  for (let i = 0; i < len; i++) b[off + i] = p.charCodeAt(i) & 0x7f;
}
function putBe16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function putBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export class PiixIde implements PciFunction, Snapshottable {
  readonly stateId = 'piix-ide';
  readonly stateVersion = 1;
  readonly pci: PciConfigSpace;
  private readonly channels: [IdeChannel, IdeChannel];
  /** The guest ejected a CD (START STOP UNIT): the host may update its UI. */
  onEject: (drive: string) => void = () => {};

  constructor(
    readonly ctx: DeviceContext,
    bus: PciBus,
    opts: PiixIdeOptions,
  ) {
    this.channels = [new IdeChannel(this, 0, opts.drives.slice(0, 2)), new IdeChannel(this, 1, opts.drives.slice(2, 4))];
    this.pci = new PciConfigSpace('piix3-ide', {
      vendorId: 0x8086,
      deviceId: 0x7010,
      classCode: 0x010180, // IDE, bus-master capable, both channels in compatibility mode
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      bars: [undefined, undefined, undefined, undefined, {
        kind: 'io',
        size: 16,
        io: {
          read8: (p) => this.bmRead(p),
          write8: (p, v) => this.bmWrite(p, v, 1),
          read16: (p) => this.bmRead(p) | (this.bmRead(p + 1) << 8),
          write16: (p, v) => this.bmWrite(p, v, 2),
          read32: (p) => (this.bmRead(p) | (this.bmRead(p + 1) << 8) | (this.bmRead(p + 2) << 16) | (this.bmRead(p + 3) << 24)),
          write32: (p, v) => this.bmWrite(p, v, 4),
        },
      }],
    });
    // IDETIM (0x40/0x42) with IDE Decode Enable (bit 15) set on both channels, as firmware leaves it;
    // Linux's ata_piix skips a channel whose enable bit is clear.
    for (let i = 0x40; i < 0x50; i++) this.pci.setWritable(i, 1, 0xff);
    this.pci.set16(0x40, 0x8000);
    this.pci.set16(0x42, 0x8000);
    bus.attach(opts.dev ?? 1, opts.fn ?? 1, this);
    this.registerLegacy(0, 0x1f0, 0x3f6);
    this.registerLegacy(1, 0x170, 0x376);
  }

  private registerLegacy(ch: number, base: number, ctl: number): void {
    const c = this.channels[ch];
    this.ctx.io.register(base, 1, {
      read8: () => c.readData(1),
      read16: () => c.readData(2),
      read32: () => c.readData(4),
      write8: (_p, v) => c.writeData(1, v),
      write16: (_p, v) => c.writeData(2, v),
      write32: (_p, v) => c.writeData(4, v),
    });
    this.ctx.io.register(base + 1, 7, {
      read8: (p) => c.readReg(p - base),
      write8: (p, v) => c.writeReg(p - base, v),
    });
    this.ctx.io.register(ctl, 1, {
      read8: () => c.altStatus(),
      write8: (_p, v) => c.writeControl(v),
    });
  }

  private bmRead(port: number): number {
    const base = this.pci.barBase(4);
    if (base === null) return 0xff;
    const off = port - base;
    const c = this.channels[off >> 3];
    switch (off & 7) {
      case 0:
        return c.bmCmd;
      case 2:
        return c.bmStatus;
      case 4:
      case 5:
      case 6:
      case 7:
        return (c.prd >>> (8 * ((off & 7) - 4))) & 0xff;
    }
    return 0;
  }

  private bmWrite(port: number, value: number, size: number): void {
    const base = this.pci.barBase(4);
    if (base === null) return;
    for (let i = 0; i < size; i++) {
      const off = port - base + i;
      const c = this.channels[(off >> 3) & 1];
      const v = (value >>> (8 * i)) & 0xff;
      switch (off & 7) {
        case 0:
          c.writeBmCommand(v);
          break;
        case 2:
          c.writeBmStatus(v);
          break;
        case 4:
        case 5:
        case 6:
        case 7: {
          const shift = 8 * ((off & 7) - 4);
          c.prd = ((c.prd & ~(0xff << shift)) | (v << shift)) >>> 0;
          c.prd &= ~3; // the PRD table is dword aligned
          c.prd >>>= 0;
          break;
        }
      }
    }
  }

  /** Host: insert (image) or remove (null) the medium of the CD drive at index 0-3. */
  changeMedium(index: number, image: BlockDevice | null): void {
    const d = this.channels[index >> 1].drives[index & 1];
    if (!d.atapi) throw new Error(`IDE drive ${index} is not a CD-ROM`);
    this.channels[index >> 1].changeMedium(d, image);
  }

  reset(): void {
    for (const c of this.channels) c.reset();
    this.pci.reset();
  }

  saveState(): ComponentState {
    return { pci: this.pci.saveState(), ch0: this.channels[0].saveState(), ch1: this.channels[1].saveState() };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.pci.loadState(s.pci as ComponentState);
    this.channels[0].loadState(s.ch0 as ComponentState);
    this.channels[1].loadState(s.ch1 as ComponentState);
  }
}
