/**
 * PCI bus 0: configuration mechanism #1 (ports 0xCF8/0xCFC-0xCFF) and the config-space
 * model every PCI function implements (`PciFunction` + `PciConfigSpace`).
 *
 * ## Wiring (engine/machine/machine.ts) — QEMU `pc` layout
 * ```ts
 * const pci = new PciBus(ctx);                      // claims 0xCF8 (dword), 0xCFA/0xCFB, 0xCFC-0xCFF
 * new I440fx(ctx, pci);                             // 00:00.0 host bridge, PAM 0x59-0x5F → mem.setReadOnly
 * const piix3 = new Piix3(ctx, pci);                // 00:01.0 ISA bridge: PIRQ routes 0x60-0x63, reset port 0xCF9
 * const lapic = new LocalApic(ctx, pic);            // MMIO 0xFEE00000; `pic` = the 8259A InterruptSource
 * lapic.onNmi = () => cpu.raiseNmi();               // LINT1 / NMI IPIs / I/O APIC NMI entries
 * cpuBus.interrupts = lapic;                        // CPU's INTR source; the PIC reaches it via LINT0 ExtINT
 * ctx.addTimer(lapic);                              // (virtual wire, reset value) until the OS masks LINT0
 * const ioapic = new IoApic(ctx, lapic);            // MMIO 0xFEC00000, 24 pins; gets the LAPIC's EOI broadcasts
 * //   ISA IRQ n must drive 8259A input n AND ioapic.pin(n === 0 ? 2 : n) (QEMU's MADT IRQ0→GSI2 override).
 * pci.pirqToGsi = (p) => ioapic.pin(16 + p);        // PIRQA-D also drive GSI 16-19, as QEMU's piix3 does
 * const pm = new AcpiPm(ctx, pci);                  // 00:01.3 PIIX4 PM: PM1a at 0x600, PM_TMR 0x608, SCI = ISA IRQ 9,
 * ctx.addTimer(pm);                                 //   SMI_CMD 0xB2 (ACPI_ENABLE 0xF1 / DISABLE 0xF0), S5 = SLP_TYP 0
 * const hpet = new Hpet(ctx, (n) => (n < 16 ? isaIrq(n) : ioapic.pin(n)));   // MMIO 0xFED00000
 * hpet.onLegacyReplacement = (on) => gate PIT (IRQ0) and RTC (IRQ8) outputs; ctx.addTimer(hpet);
 * const ide = new PiixIde(ctx, pci, { drives: [hda, hdb, { kind: 'cdrom', image: iso ?? null }, undefined] });
 *                                                   // 00:01.1; 0x1F0/0x3F6 IRQ14, 0x170/0x376 IRQ15, BM-DMA in BAR4
 * vga: pci.attach(2, 0, vga)                        // the VGA helper's PciFunction
 * new VirtioBlk(ctx, pci, 3, image);                // slot 3.. : transitional virtio (legacy BAR0 + modern BAR4)
 * new VirtioConsole(ctx, pci, 4);                   //   console output → 'serial-output' port 100; input: sendInput()
 * // Keep the LAPIC in step with IA32_APIC_BASE (relocation / global disable): after each run slice,
 * // lapic.setBaseMsr(cpu.apicBase) — a no-op when unchanged. CPUID.1:EDX.APIC (bit 9) should be set.
 * ```
 * PCI INTx: device `dev` pin P (1 = INTA) uses PIRQ `(dev + P - 2) & 3` (QEMU's slot swizzle,
 * `PciBus.pirqOf`); PIIX3 register 0x60+pirq selects the ISA IRQ (bit 7 = disabled). Firmware
 * programs those and each function's Interrupt Line (0x3C), and must describe the same routing
 * in its ACPI _PRT / MP / $PIR tables. Lines are level-triggered and shared: the bus ORs them
 * (set ELCR for the chosen IRQs). Devices call `this.pci.setIrq(level)`.
 *
 * ## Implementing a PCI device
 * ```ts
 * class MyDev implements PciFunction {
 *   readonly pci = new PciConfigSpace('mydev', { vendorId, deviceId, classCode, interruptPin: 1,
 *     bars: [{ kind: 'mem', size: 0x1000000, prefetchable: true, onMap: (base) => ... /* null = unmapped *\/ },
 *            { kind: 'io', size: 0x20, io: { read8, write8 } }] });   // `io`/`mmio` handlers are (un)mapped for you
 * }
 * pci.attach(dev, fn, new MyDev());
 * ```
 * Reset: `pci.reset()` restores every function's power-on config (BARs unmapped). PAM registers
 * go back to 0 but the memory map is left as it is: the machine restores the BIOS image itself.
 */
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { PortHandlers } from '../machine/io-bus';
import type { MmioHandler } from '../machine/physical-memory';
import type { IrqLine } from '../machine/interrupts';

// Standard type-0 header offsets (PCI Local Bus Spec 3.0, 6.1).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 1 << 0;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;
export const PCI_COMMAND_INTX_DISABLE = 1 << 10;
export const PCI_STATUS_INTERRUPT = 1 << 3;
export const PCI_STATUS_CAP_LIST = 1 << 4;

/** One Base Address Register. Size is a power of two (memory BARs are rounded up to 4 KiB to map whole pages). */
export interface PciBarDef {
  kind: 'io' | 'mem';
  size: number;
  prefetchable?: boolean;
  /** Port handlers registered at the BAR's base while IO decoding is on (kind 'io'). */
  io?: PortHandlers;
  /** MMIO handler mapped at the BAR's base while memory decoding is on (kind 'mem'). */
  mmio?: MmioHandler;
  /** Called after the BAR became decoded at `base`, or stopped being decoded (`null`). For custom mappings (e.g. a VGA LFB). */
  onMap?(base: number | null): void;
}

export interface PciIds {
  vendorId: number;
  deviceId: number;
  /** 24-bit class code: class << 16 | subclass << 8 | prog-if. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** Header type without the multi-function bit (0 for ordinary functions). */
  headerType?: number;
  /** Interrupt pin: 0 none, 1 INTA .. 4 INTD. */
  interruptPin?: number;
  /** Up to six BARs, index = BAR number (use undefined for gaps). */
  bars?: (PciBarDef | undefined)[];
  /** Expansion ROM image (mapped when enabled through 0x30 and memory decoding is on). */
  rom?: Uint8Array;
}

/** What a device on the bus implements: its config space. Everything else is behind it. */
export interface PciFunction {
  readonly pci: PciConfigSpace;
}

/**
 * A function's 256-byte configuration space with write masks, BAR decoding and INTx.
 * Devices construct one with their ids and BARs, may add capabilities, may open
 * device-specific registers with `setWritable`, and react to writes via `onWrite`.
 */
export class PciConfigSpace {
  readonly bytes = new Uint8Array(256);
  /** Bits the guest may change. */
  private readonly wmask = new Uint8Array(256);
  /** Write-one-to-clear bits (status register). */
  private readonly w1cmask = new Uint8Array(256);
  private initial = new Uint8Array(256);
  private romSize = 0;
  readonly bars: (PciBarDef | undefined)[];
  /** Current decoded base of each BAR (null = not decoded); index 6 is the expansion ROM. */
  private readonly mapped: (number | null)[] = [null, null, null, null, null, null, null];
  private romHandler: MmioHandler | null = null;
  private nextCap = 0x40;
  private lastCap = 0;
  private intxLevel = false;
  /** Set by PciBus.attach. */
  bus: PciBus | null = null;
  devfn = -1;
  /** Device hook after a guest config write (offset/size of the access), e.g. PAM or PMBA registers. */
  onWrite: ((offset: number, size: number) => void) | null = null;
  /** Device hook before a guest config read, to refresh dynamic registers. */
  onRead: ((offset: number, size: number) => void) | null = null;

  constructor(readonly name: string, ids: PciIds) {
    const b = this.bytes;
    this.set16(PCI_VENDOR_ID, ids.vendorId);
    this.set16(PCI_DEVICE_ID, ids.deviceId);
    b[PCI_REVISION] = ids.revision ?? 0;
    b[0x09] = ids.classCode & 0xff;
    b[0x0a] = (ids.classCode >>> 8) & 0xff;
    b[0x0b] = (ids.classCode >>> 16) & 0xff;
    b[PCI_HEADER_TYPE] = ids.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, ids.subsystemVendorId ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, ids.subsystemId ?? 0);
    b[PCI_INTERRUPT_PIN] = ids.interruptPin ?? 0;
    // Command: IO, memory, bus master, SERR, interrupt disable are writable; status: error bits W1C.
    this.setWritable(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | (1 << 6) | (1 << 8) | PCI_COMMAND_INTX_DISABLE);
    this.w1cmask[PCI_STATUS + 1] = 0xf9; // parity, target/master abort, SERR, detected parity
    this.wmask[0x0c] = 0xff; // cache line size
    this.wmask[0x0d] = 0xff; // latency timer
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
    this.bars = (ids.bars ?? []).slice(0, 6);
    for (let i = 0; i < this.bars.length; i++) {
      const bar = this.bars[i];
      if (!bar) continue;
      if (bar.kind === 'mem' && bar.size < 4096) bar.size = 4096;
      if (bar.size & (bar.size - 1)) throw new Error(`${name}: BAR${i} size ${bar.size} is not a power of two`);
      const low = bar.kind === 'io' ? 1 : bar.prefetchable ? 8 : 0;
      this.set32(PCI_BAR0 + 4 * i, low);
      // I/O BARs decode 32 address bits like QEMU's (sizing reads back 0xFFFFFFxx; SeaBIOS relies on it).
      this.setWritable(PCI_BAR0 + 4 * i, 4, ~(bar.size - 1) & (bar.kind === 'io' ? ~3 : ~0xf));
    }
    if (ids.rom && ids.rom.length) {
      let size = 2048;
      while (size < ids.rom.length) size *= 2;
      if (size < 4096) size = 4096;
      const rom = ids.rom;
      this.romHandler = { read8: (o) => (o < rom.length ? rom[o] : 0xff), write8: () => {} };
      this.setWritable(PCI_ROM_ADDRESS, 4, (~(size - 1) | 1) >>> 0);
      this.romSize = size;
    }
  }

  /** Remember the current bytes as the power-on state (PciBus.attach calls this). */
  captureInitial(): void {
    this.initial = this.bytes.slice();
  }

  get vendorId(): number { return this.get16(PCI_VENDOR_ID); }
  get deviceId(): number { return this.get16(PCI_DEVICE_ID); }
  get command(): number { return this.get16(PCI_COMMAND); }
  get interruptLine(): number { return this.bytes[PCI_INTERRUPT_LINE]; }
  get interruptPin(): number { return this.bytes[PCI_INTERRUPT_PIN]; }
  /** Bus mastering enabled: DMA devices must check this before touching memory. */
  get busMaster(): boolean { return (this.command & PCI_COMMAND_MASTER) !== 0; }
  /** Decoded base of BAR i (null when the guest has not enabled it). */
  barBase(i: number): number | null { return this.mapped[i]; }

  get8(o: number): number { return this.bytes[o]; }
  get16(o: number): number { return this.bytes[o] | (this.bytes[o + 1] << 8); }
  get32(o: number): number { return (this.get16(o) | (this.get16(o + 2) << 16)) >>> 0; }
  set8(o: number, v: number): void { this.bytes[o] = v; }
  set16(o: number, v: number): void { this.bytes[o] = v; this.bytes[o + 1] = v >>> 8; }
  set32(o: number, v: number): void { this.set16(o, v & 0xffff); this.set16(o + 2, v >>> 16); }

  /** Make `len` bytes at `offset` guest-writable under `mask` (little-endian, applied per byte). */
  setWritable(offset: number, len: number, mask: number): void {
    for (let i = 0; i < len; i++) this.wmask[offset + i] = i < 4 ? (mask >>> (8 * i)) & 0xff : 0xff;
  }

  /**
   * Append a capability (id, next pointer, then `length - 2` body bytes) to the list at 0x34.
   * Returns its offset; the device fills the body with set8/16/32.
   */
  addCapability(id: number, length: number): number {
    const off = this.nextCap;
    if (off + length > 0x100) throw new Error(`${this.name}: capability list full`);
    this.nextCap = (off + length + 3) & ~3;
    this.bytes[off] = id;
    this.bytes[off + 1] = 0;
    if (this.lastCap) this.bytes[this.lastCap + 1] = off;
    else this.bytes[PCI_CAPABILITY_LIST] = off;
    this.lastCap = off;
    this.bytes[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    return off;
  }

  /** Drive the function's INTx pin (level). Honours Command.InterruptDisable and sets Status.Interrupt. */
  setIrq(level: boolean): void {
    this.intxLevel = level;
    if (level) this.bytes[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else this.bytes[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
    this.bus?.updateIntx();
  }

  /** Effective INTx assertion seen by the bus. */
  get intxAsserted(): boolean {
    return this.intxLevel && (this.command & PCI_COMMAND_INTX_DISABLE) === 0 && this.interruptPin !== 0;
  }

  /** Config read as the guest sees it (size 1, 2 or 4; offset aligned by the caller). */
  read(offset: number, size: number): number {
    this.onRead?.(offset, size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.bytes[offset + i] << (8 * i);
    return v >>> 0;
  }

  /** Config write as the guest issues it. */
  write(offset: number, size: number, value: number): void {
    const oldCommand = this.command;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      const wm = this.wmask[o];
      this.bytes[o] = (this.bytes[o] & ~wm) | (byte & wm);
      this.bytes[o] &= ~(byte & this.w1cmask[o]);
    }
    const touchesBars = offset < PCI_BAR0 + 24 && offset + size > PCI_BAR0;
    const touchesRom = offset < PCI_ROM_ADDRESS + 4 && offset + size > PCI_ROM_ADDRESS;
    const touchesCommand = offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND;
    if (touchesBars || touchesRom || touchesCommand) this.updateMappings();
    if (touchesCommand && (oldCommand ^ this.command) & PCI_COMMAND_INTX_DISABLE) this.bus?.updateIntx();
    this.onWrite?.(offset, size);
  }

  /** Recompute which BARs are decoded and where; (un)map what changed. */
  updateMappings(): void {
    const cmd = this.command;
    for (let i = 0; i < 7; i++) {
      const next = this.decodedBase(i, cmd);
      const cur = this.mapped[i];
      if (next === cur) continue;
      if (cur !== null) this.unmapBar(i, cur);
      this.mapped[i] = next;
      if (next !== null) this.mapBar(i, next);
    }
  }

  private decodedBase(i: number, cmd: number): number | null {
    if (i === 6) {
      if (!this.romHandler || !(cmd & PCI_COMMAND_MEMORY)) return null;
      const v = this.get32(PCI_ROM_ADDRESS);
      if (!(v & 1)) return null;
      const base = (v & ~(this.romSize - 1)) >>> 0;
      return base === 0 || base + this.romSize - 1 >= 0xffffffff ? null : base;
    }
    const bar = this.bars[i];
    if (!bar) return null;
    const v = this.get32(PCI_BAR0 + 4 * i);
    if (bar.kind === 'io') {
      if (!(cmd & PCI_COMMAND_IO)) return null;
      const base = (v & ~3) >>> 0;
      // Like QEMU's pci_bar_address: address 0 and ranges past the 64 KiB port space are "unmapped".
      return base === 0 || base + bar.size > 0x10000 ? null : base;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) return null;
    const base = (v & ~0xf) >>> 0;
    // A BAR left at its sizing value (all ones masked) ends at 0xFFFFFFFF: QEMU treats that as unmapped too.
    return base === 0 || base + bar.size - 1 >= 0xffffffff ? null : base;
  }

  private mapBar(i: number, base: number): void {
    const ctx = this.bus?.ctx;
    if (!ctx) return;
    if (i === 6) {
      ctx.mem.mapMmio(base, this.romSize, this.romHandler!);
      return;
    }
    const bar = this.bars[i]!;
    if (bar.kind === 'io' && bar.io) ctx.io.register(base, bar.size, bar.io);
    if (bar.kind === 'mem' && bar.mmio) ctx.mem.mapMmio(base, bar.size, bar.mmio);
    bar.onMap?.(base);
  }

  private unmapBar(i: number, base: number): void {
    const ctx = this.bus?.ctx;
    if (!ctx) return;
    if (i === 6) {
      ctx.mem.unmapMmio(this.romHandler!);
      return;
    }
    const bar = this.bars[i]!;
    if (bar.kind === 'io' && bar.io) ctx.io.unregister(base, bar.size);
    if (bar.kind === 'mem' && bar.mmio) ctx.mem.unmapMmio(bar.mmio);
    bar.onMap?.(null);
  }

  /** Power-on state: header as constructed, BARs unmapped, INTx low. */
  reset(): void {
    this.bytes.set(this.initial);
    this.intxLevel = false;
    this.updateMappings();
    this.bus?.updateIntx();
  }

  saveState(): ComponentState {
    return { bytes: this.bytes.slice(), intx: this.intxLevel };
  }

  loadState(s: ComponentState): void {
    this.bytes.set(s.bytes as Uint8Array);
    this.intxLevel = s.intx as boolean;
    this.updateMappings();
    this.bus?.updateIntx();
  }
}

/** Config mechanism #1 and INTx routing for bus 0. */
export class PciBus implements Snapshottable {
  readonly stateId = 'pci-bus';
  readonly stateVersion = 1;
  /** 0xCF8 CONFIG_ADDRESS. */
  private address = 0;
  private readonly fns: (PciConfigSpace | undefined)[] = new Array(256);
  /** PIRQ n (0-3) → ISA IRQ (0-15) or -1; installed by the PIIX3. */
  pirqRouter: (pirq: number) => number = () => -1;
  /** Optional direct PIRQ → I/O APIC GSI 16+n wiring (QEMU's piix3 drives both). */
  pirqToGsi: ((pirq: number) => IrqLine) | null = null;
  /** ISA IRQs currently driven high by the bus (bit mask), and PIRQ levels. */
  private isaDriven = 0;
  private pirqDriven = 0;

  constructor(readonly ctx: DeviceContext) {
    // Only a dword access to 0xCF8 is CONFIG_ADDRESS (mechanism #1). Byte/word cycles to 0xCF8/0xCFA/0xCFB
    // are ignored, so Linux's mechanism #2 probe (writes 0 to 0xCFB/0xCF8/0xCFA, reads them back) fails
    // as it should. 0xCF9 (reset control) belongs to the PIIX3.
    const ignore = { read8: () => 0xff, write8: () => {}, read16: () => 0xffff, write16: () => {} };
    ctx.io.register(0xcf8, 1, {
      ...ignore,
      read32: () => this.address | 0,
      write32: (_p, v) => { this.address = (v & 0x80fffffc) >>> 0; },
    });
    ctx.io.register(0xcfa, 2, ignore);
    ctx.io.register(0xcfc, 4, {
      read8: (p) => this.configRead(p & 3, 1),
      read16: (p) => this.configRead(p & 3, 2),
      read32: (p) => this.configRead(p & 3, 4) | 0,
      write8: (p, v) => this.configWrite(p & 3, 1, v),
      write16: (p, v) => this.configWrite(p & 3, 2, v),
      write32: (p, v) => this.configWrite(p & 3, 4, v),
    });
  }

  /** Put a function at 00:dev.fn. */
  attach(dev: number, fn: number, f: PciFunction): void {
    const devfn = (dev << 3) | fn;
    if (this.fns[devfn]) throw new Error(`PCI 00:${dev.toString(16)}.${fn} is already taken`);
    this.fns[devfn] = f.pci;
    f.pci.bus = this;
    f.pci.devfn = devfn;
    f.pci.captureInitial();
    f.pci.updateMappings();
  }

  /** The function at devfn, for firmware enumeration and tests. */
  function(devfn: number): PciConfigSpace | undefined {
    return this.fns[devfn];
  }

  /** PIRQ index (0=A) of device `dev` pin `pin` (1=INTA): QEMU's i440fx/piix swizzle. */
  static pirqOf(dev: number, pin: number): number {
    return (dev + pin - 2) & 3;
  }

  /** Config access on behalf of firmware or tests (same as the guest's CF8/CFC cycle). */
  readConfig(devfn: number, offset: number, size: number): number {
    const f = this.fns[devfn];
    if (!f) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return f.read(offset, size);
  }

  writeConfig(devfn: number, offset: number, size: number, value: number): void {
    this.fns[devfn]?.write(offset, size, value);
  }

  private target(): { devfn: number; reg: number } | null {
    const a = this.address;
    if (!(a & 0x80000000)) return null;
    if ((a >>> 16) & 0xff) return null; // only bus 0 exists
    return { devfn: (a >>> 8) & 0xff, reg: a & 0xfc };
  }

  private configRead(byteOff: number, size: number): number {
    const t = this.target();
    const none = size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    if (!t) return none;
    const f = this.fns[t.devfn];
    if (!f) return none; // master abort: all ones, which is how enumeration finds empty slots
    const off = t.reg + byteOff;
    let v = f.read(off, size);
    // Multi-function bit: function 0 advertises the other functions of its device.
    if ((t.devfn & 7) === 0 && off <= PCI_HEADER_TYPE && off + size > PCI_HEADER_TYPE && this.hasSiblings(t.devfn)) {
      v |= 0x80 << (8 * (PCI_HEADER_TYPE - off));
    }
    return v >>> 0;
  }

  private configWrite(byteOff: number, size: number, value: number): void {
    const t = this.target();
    if (!t) return;
    const f = this.fns[t.devfn];
    if (!f) return;
    f.write(t.reg + byteOff, size, value);
  }

  private hasSiblings(devfn: number): boolean {
    for (let fn = 1; fn < 8; fn++) if (this.fns[devfn + fn]) return true;
    return false;
  }

  /** Recompute the wired-OR of INTx lines → PIRQs → ISA IRQs (and GSIs). Called on any change. */
  updateIntx(): void {
    let pirqs = 0;
    for (let devfn = 0; devfn < 256; devfn++) {
      const f = this.fns[devfn];
      if (f && f.intxAsserted) pirqs |= 1 << PciBus.pirqOf(devfn >> 3, f.interruptPin);
    }
    let isa = 0;
    for (let p = 0; p < 4; p++) {
      if (!(pirqs & (1 << p))) continue;
      const irq = this.pirqRouter(p);
      if (irq >= 0 && irq < 16) isa |= 1 << irq;
    }
    const changedIsa = isa ^ this.isaDriven;
    this.isaDriven = isa;
    for (let irq = 0; irq < 16; irq++) {
      if (!(changedIsa & (1 << irq))) continue;
      const line = this.ctx.isaIrq(irq);
      if (isa & (1 << irq)) line.raise();
      else line.lower();
    }
    const changedPirq = pirqs ^ this.pirqDriven;
    this.pirqDriven = pirqs;
    if (this.pirqToGsi) {
      for (let p = 0; p < 4; p++) {
        if (!(changedPirq & (1 << p))) continue;
        const line = this.pirqToGsi(p);
        if (pirqs & (1 << p)) line.raise();
        else line.lower();
      }
    }
  }

  reset(): void {
    this.address = 0;
    for (const f of this.fns) f?.reset();
    this.updateIntx();
  }

  saveState(): ComponentState {
    return { address: this.address, isaDriven: this.isaDriven, pirqDriven: this.pirqDriven };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.address = s.address as number;
    // The interrupt controllers restore their own pin levels; remember what we drove so the next change is an edge.
    this.isaDriven = s.isaDriven as number;
    this.pirqDriven = s.pirqDriven as number;
  }
}

/** Log helper shared by PCI devices for bad guest programming. */
export function pciGuestError(f: PciConfigSpace, key: string, message: string): void {
  logGuestError(f.name, key, `${f.name}: ${message}`);
}
