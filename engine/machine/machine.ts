// The PC: memory, I/O bus, CPU + x87, the chipset devices, firmware, and the run loop.
//
//   const m = new Machine(config);
//   m.events.on('serial-output', ({ data }) => ...);
//   for (;;) { const r = m.runSlice(1_000_000); if (r.stop) break; ... }
//   const state = m.saveState();  const m2 = Machine.restore(config, state);
//
// Run loop: the CPU runs in internal slices that end at the next timer deadline or at a
// multiple of SLICE_QUANTUM instructions, whichever comes first; after each slice every
// TimedDevice is advanced to the current virtual time. In deterministic mode those
// boundaries depend only on machine state (instruction count and device deadlines), so a
// restored machine repeats an uninterrupted run exactly. HLT with IF=1 jumps the clock
// to the next deadline (deterministic) or returns to the host to wait (realtime).
import { Emitter } from '../common/events';
import { log, logGuestError } from '../common/log';
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { Cpu } from '../cpu/cpu';
import { X87 } from '../cpu/fpu/x87';
import { FLAG_IF, Reg } from '../cpu/state';
import type { CpuBus } from '../cpu/core';
import type { DeviceContext } from '../devices/device-context';
import { Pic } from '../devices/pic';
import { Pit } from '../devices/pit';
import { Rtc } from '../devices/rtc';
import { Uart } from '../devices/uart';
import { I8042 } from '../devices/i8042';
import { DebugPort } from '../devices/debug-port';
import { SystemControl } from '../devices/system-control';
import { FwCfg, FwCfgKey } from '../devices/fw-cfg';
import { PciBus } from '../devices/pci-bus';
import { I440fx } from '../devices/i440fx';
import { Piix3 } from '../devices/piix3';
import { LocalApic } from '../devices/apic';
import { IoApic, IOAPIC_BASE } from '../devices/ioapic';
import { AcpiPm } from '../devices/acpi-pm';
import { Hpet } from '../devices/hpet';
import { Vga } from '../devices/vga';
import { PiixIde, type IdeDriveConfig } from '../devices/ide';
import { VirtioBlk } from '../devices/virtio-blk';
import { VirtioConsole } from '../devices/virtio-console';
import type { TimedDevice } from './clock';
import type { IrqLine, InterruptSource } from './interrupts';
import type { MachineEvents } from './events';
import { IoBus } from './io-bus';
import { PhysicalMemory } from './physical-memory';
import { VirtualClock } from './virtual-clock';
import {
  DEFAULT_NS_PER_INSTRUCTION,
  DETERMINISTIC_START_DATE_MS,
  defaultBootOrder,
  fillCmos,
  type MachineConfig,
} from './machine-config';
import { publishLinuxBoot } from './linux-fw-cfg';
import { installBuiltinFirmware, type BuiltinFirmware } from './builtin-firmware';

export type { MachineConfig } from './machine-config';

/** Internal slice bound in instructions: the granularity of timer checks when no deadline is nearer. */
export const SLICE_QUANTUM = 65536;
export const MACHINE_STATE_VERSION = 1;

export interface MachineState {
  version: number;
  components: { [stateId: string]: { version: number; state: ComponentState } };
}

export interface SliceResult {
  /** Instructions retired during this call. */
  instructions: number;
  /**
   * Why the call returned: the budget ran out; a device asked for host attention;
   * the CPU is halted waiting for an interrupt (realtime: wait `waitNs`; deterministic:
   * no timer will ever wake it, only host input can); the machine stopped (power-off,
   * triple fault with the 'stop' policy, or halted with interrupts disabled).
   */
  reason: 'budget' | 'yield' | 'idle' | 'stopped';
  /** For 'idle' in realtime mode: ns until the next timer deadline (Infinity when none). */
  waitNs?: number;
}

interface Resettable {
  reset(): void;
}

export class Machine {
  readonly config: MachineConfig;
  readonly events = new Emitter<MachineEvents>();
  readonly mem: PhysicalMemory;
  readonly io = new IoBus();
  readonly clock: VirtualClock;
  readonly cpu: Cpu;
  readonly pic: Pic;
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly uarts: Uart[] = [];
  readonly i8042: I8042;
  readonly debugPort: DebugPort;
  readonly systemControl: SystemControl;
  readonly fwCfg: FwCfg;
  readonly vga: Vga;
  readonly pci: PciBus | null = null;
  readonly lapic: LocalApic | null = null;
  readonly ioapic: IoApic | null = null;
  readonly acpiPm: AcpiPm | null = null;
  readonly hpet: Hpet | null = null;
  readonly ide: PiixIde | null = null;
  readonly virtioBlk: VirtioBlk[] = [];
  readonly virtioConsole: VirtioConsole | null = null;
  readonly firmware: BuiltinFirmware | null = null;

  /** Why the machine stopped, when it did (power-off, triple fault with 'stop', dead halt). */
  stopReason: string | null = null;
  /** Register dump taken at the last triple fault (for the CLI). */
  lastShutdown: { reason: string; registers: string } | null = null;
  /** Resets performed (triple faults, guest reset requests). */
  resetCount = 0;

  private readonly timers: TimedDevice[] = [];
  private readonly components: Snapshottable[] = [];
  private readonly resettables: Resettable[] = [];
  private readonly flushers: { flush(): void }[] = [];
  private nextDeadline = 0;
  private yieldRequested = false;
  private pendingReset: string | null = null;
  /** Realtime mode: measured execution speed (EMA), starting at 20 MIPS. */
  private instructionsPerNs = 0.02;
  /** The HPET's legacy replacement route disconnects the PIT from IRQ 0 and the RTC from IRQ 8. */
  private legacyReplacement = false;

  constructor(config: MachineConfig) {
    this.config = config;
    const deterministic = config.deterministic ?? false;
    const ramBytes = Math.round(config.memoryMiB * 1024 * 1024);
    this.mem = new PhysicalMemory(ramBytes);
    this.io.logUnclaimed = false;
    const hostNow = config.now ?? (() => performance.now());
    this.clock = new VirtualClock(deterministic, config.nsPerInstruction ?? DEFAULT_NS_PER_INSTRUCTION, () => this.cpu.instructionCount, hostNow);
    this.components.push(this.clock, this.mem);

    // ---- Interrupt wiring: ISA IRQ n → 8259A input n and I/O APIC pin n (IRQ 0 → pin 2, QEMU's layout).
    this.pic = new Pic(this.io);
    const isPc = (config.chipset ?? 'pc') === 'pc';
    const isaLines: IrqLine[] = [];
    for (let n = 0; n < 16; n++) {
      isaLines.push({
        raise: () => {
          this.pic.setIrq(n, true);
          this.ioapic?.pin(n === 0 ? 2 : n).raise();
        },
        lower: () => {
          this.pic.setIrq(n, false);
          this.ioapic?.pin(n === 0 ? 2 : n).lower();
        },
      });
    }
    const ctx: DeviceContext = {
      mem: this.mem,
      io: this.io,
      clock: this.clock,
      events: this.events,
      isaIrq: (n) => isaLines[n],
      addTimer: (d) => this.timers.push(d),
      requestYield: () => {
        this.yieldRequested = true;
      },
    };
    // PIT and RTC outputs pass through the HPET legacy-replacement switch.
    const gated = (n: number): IrqLine => ({
      raise: () => {
        if (!this.legacyReplacement) isaLines[n].raise();
      },
      lower: () => isaLines[n].lower(),
    });
    const legacyCtx: DeviceContext = { ...ctx, isaIrq: (n) => (n === 0 || n === 8 ? gated(n) : isaLines[n]) };

    // ---- CPU + x87.
    const bus: CpuBus = {
      mem: this.mem,
      io: this.io,
      interrupts: this.pic,
      clock: this.clock,
      onShutdown: (reason) => this.onCpuShutdown(reason),
      onFerr: (asserted) => (asserted ? isaLines[13].raise() : isaLines[13].lower()),
    };
    this.cpu = new Cpu(bus, { fpu: new X87() });
    this.components.push(this.cpu);

    // ---- Chipset.
    this.components.push(this.pic);
    this.resettables.push(this.pic);
    if (isPc) {
      const pci = new PciBus(ctx);
      this.pci = pci;
      const i440fx = new I440fx(ctx, pci);
      const piix3 = new Piix3(ctx, pci);
      const lapic = new LocalApic(ctx, this.pic);
      lapic.onNmi = () => this.cpu.raiseNmi();
      // WRMSR IA32_APIC_BASE moves (or disables) the local APIC's MMIO window.
      this.cpu.onApicBaseWrite = (v) => lapic.setBaseMsr(v);
      this.lapic = lapic;
      this.cpu.apicPresent = true;
      bus.interrupts = lapic as InterruptSource;
      this.timers.push(lapic);
      const ioapic = new IoApic(ctx, lapic);
      this.ioapic = ioapic;
      pci.pirqToGsi = (p) => ioapic.pin(16 + p);
      this.acpiPm = new AcpiPm(ctx, pci);
      this.timers.push(this.acpiPm);
      this.hpet = new Hpet(ctx, (n) => (n < 16 ? isaLines[n] : ioapic.pin(n)));
      this.hpet.onLegacyReplacement = (on) => {
        this.legacyReplacement = on;
        if (on) {
          isaLines[0].lower();
          isaLines[8].lower();
        }
      };
      this.timers.push(this.hpet);
      for (const d of [pci, i440fx, piix3, lapic, ioapic, this.acpiPm, this.hpet]) {
        this.components.push(d);
        this.resettables.push(d);
      }
    }
    this.pit = new Pit(legacyCtx);
    this.rtc = new Rtc(legacyCtx, { startDateMs: config.startDateMs ?? (deterministic ? DETERMINISTIC_START_DATE_MS : Date.now()) });
    fillCmos(this.rtc.cmos, config, this.mem.ramSize);
    this.rtc.updateChecksum();
    for (let i = 0; i < (config.serialPorts ?? 2); i++) {
      const u = new Uart(ctx, i);
      this.uarts.push(u);
      this.components.push(u);
      this.resettables.push(u);
      this.flushers.push(u);
    }
    this.i8042 = new I8042(ctx);
    this.debugPort = new DebugPort(ctx);
    this.flushers.push(this.debugPort);
    this.systemControl = new SystemControl(ctx, this.pit, { resetControl: !isPc });
    this.fwCfg = new FwCfg(ctx);
    for (const d of [this.pit, this.rtc, this.i8042, this.systemControl, this.fwCfg]) {
      this.components.push(d);
      this.resettables.push(d as Resettable);
    }

    // ---- Disks: PIIX3 IDE like QEMU's pc: hda/hdb on the primary channel, the CD drive
    // (always present, possibly empty) as secondary master. Floppies are BIOS-only.
    if (this.pci) {
      const d = config.disks ?? {};
      const drives: (IdeDriveConfig | undefined)[] = [
        d.hda ? { kind: 'disk', image: d.hda } : undefined,
        d.hdb ? { kind: 'disk', image: d.hdb } : undefined,
        { kind: 'cdrom', image: d.cdrom ?? null },
        undefined,
      ];
      this.ide = new PiixIde(ctx, this.pci, { drives });
      this.components.push(this.ide);
      this.resettables.push(this.ide as unknown as Resettable);
    }

    // ---- virtio-pci devices after the VGA's slot 2: consoles, then disks (vda, vdb...).
    if (this.pci && config.virtio) {
      let dev = 3;
      if (config.virtio.console) {
        this.virtioConsole = new VirtioConsole(ctx, this.pci, dev++);
        this.components.push(this.virtioConsole);
        this.resettables.push(this.virtioConsole);
      }
      (config.virtio.blk ?? []).forEach((image, i) => {
        const blk = new VirtioBlk(ctx, this.pci!, dev++, image, `virtio-blk${i}`);
        this.virtioBlk.push(blk);
        this.components.push(blk);
      });
    }

    // ---- Display.
    const images = config.firmwareImages;
    this.vga = new Vga(ctx, { romImage: config.firmware === 'seabios' && isPc ? images?.vgaBios : undefined });
    if (this.pci) this.pci.attach(2, 0, this.vga);
    else this.vga.setLinearFramebufferBase(0xe0000000);
    this.components.push(this.vga);
    this.resettables.push(this.vga);

    this.applyChipsetQuirks();

    // ---- Firmware.
    this.setupFwCfg();
    if (config.firmware === 'seabios') {
      if (!images?.bios) throw new Error('firmware "seabios" needs firmwareImages.bios (e.g. /usr/share/seabios/bios-256k.bin)');
      this.loadSystemRom(images.bios, isPc);
    } else {
      this.firmware = installBuiltinFirmware(this);
      bus.hypercall = (n) => this.firmware!.hypercall(n);
      this.components.push(this.firmware);
    }

    this.events.on('reset-request', ({ reason }) => this.requestReset(reason));
    this.events.on('power-off', ({ reason }) => this.stop(`power-off: ${reason}`));
    this.nextDeadline = this.advanceTimers();
  }

  /**
   * Machine-side adjustments of the PCI functions, re-applied after every reset:
   *  - I/O BARs decode 32 address bits as on QEMU (an all-ones sizing write reads back
   *    0xFFFFFFF1 for 16 ports). SeaBIOS sizes BARs as 32-bit values and runs out of I/O
   *    space when the upper half reads 0.
   *  - There is no SMM. PIIX4 PM DEVACTB (0x58) bit 25 APMC_EN tells SeaBIOS that SMM was
   *    already initialised, so it does not raise an SMI through port 0xB2 and wait for a
   *    handler to acknowledge it on 0xB3 (which would never happen).
   */
  private applyChipsetQuirks(): void {
    if (!this.pci) return;
    for (let devfn = 0; devfn < 256; devfn++) {
      const f = this.pci.function(devfn);
      f?.bars.forEach((bar, i) => {
        if (bar?.kind === 'io') f.setWritable(0x10 + 4 * i, 4, ~(bar.size - 1) & ~3);
      });
    }
    if (this.acpiPm) this.acpiPm.pci.set32(0x58, this.acpiPm.pci.get32(0x58) | (1 << 25));
  }

  /** Offer SeaBIOS what QEMU's fw_cfg does: RAM size, CPUs, boot menu off, e820, IRQ0 override, kernel. */
  private setupFwCfg(): void {
    const fw = this.fwCfg;
    const config = this.config;
    const ram = this.mem.ramSize;
    fw.addU64(FwCfgKey.RamSize, ram);
    fw.addU16(FwCfgKey.NbCpus, 1);
    fw.addU16(FwCfgKey.MaxCpus, 1);
    fw.addU16(FwCfgKey.NoGraphic, 0);
    fw.addU16(FwCfgKey.BootMenu, 0);
    fw.addBytes(FwCfgKey.Uuid, new Uint8Array(16));
    fw.addU32(FwCfgKey.Irq0Override, this.ioapic ? 1 : 0);
    const bootCode = { floppy: 'a', hd: 'c', cdrom: 'd' } as const;
    fw.addU16(FwCfgKey.BootDevice, (config.bootOrder ?? defaultBootOrder(config)).map((b) => bootCode[b])[0].charCodeAt(0));
    // etc/e820: { u64 address, u64 length, u32 type } little-endian; RAM below 4 GiB.
    const e820 = new Uint8Array(20);
    const dv = new DataView(e820.buffer);
    dv.setBigUint64(0, 0n, true);
    dv.setBigUint64(8, BigInt(ram), true);
    dv.setUint32(16, 1, true);
    fw.addFile('etc/e820', e820);
    const images = config.firmwareImages;
    if (images?.vgaBios && !this.pci) fw.addFile('vgaroms/vgabios-stdvga.bin', images.vgaBios);
    if (config.kernel) {
      publishLinuxBoot(fw, ram, config.kernel, config.initrd, config.cmdline ?? '');
      if (config.firmware === 'seabios') {
        if (!images?.linuxBoot) throw new Error('direct kernel boot with SeaBIOS needs firmwareImages.linuxBoot (QEMU linuxboot_dma.bin)');
        fw.addFile('genroms/linuxboot_dma.bin', images.linuxBoot);
        // SeaBIOS boots the option ROM first only when bootorder names it.
        fw.addFile('bootorder', new TextEncoder().encode('/rom@genroms/linuxboot_dma.bin\n\0'));
      }
    }
  }

  /** Map a system ROM at the top of 4 GiB and its last 128 KiB at 0xE0000 (the ISA BIOS window). */
  private loadSystemRom(rom: Uint8Array, readOnlyLow: boolean): void {
    if (rom.length % 65536 !== 0 || rom.length > 16 * 1024 * 1024) throw new Error(`BIOS image of ${rom.length} bytes is not a multiple of 64 KiB`);
    const highBase = 0x100000000 - rom.length;
    this.mem.mapMmio(highBase, rom.length, {
      read8: (o) => rom[o],
      write8: () => {},
      read16: (o) => rom[o] | (rom[o + 1] << 8),
      read32: (o) => rom[o] | (rom[o + 1] << 8) | (rom[o + 2] << 16) | (rom[o + 3] << 24),
    });
    const low = rom.subarray(Math.max(0, rom.length - 0x20000));
    const lowBase = 0x100000 - low.length;
    // On the PC the low copy is shadow RAM controlled by the i440FX PAM registers (SeaBIOS
    // makes it writable, copies itself, then write-protects it); on isapc it is plain RAM.
    if (readOnlyLow) this.mem.loadRom(lowBase, low);
    else this.mem.ram.set(low, lowBase);
  }

  // ---------------------------------------------------------------- run loop

  /** Advance every timer to now; returns the earliest next deadline. */
  private advanceTimers(): number {
    const now = this.clock.nowNs();
    let next = Infinity;
    for (let i = 0; i < this.timers.length; i++) {
      const d = this.timers[i].advance(now);
      if (d < next) next = d;
    }
    return next;
  }

  private flushOutput(): void {
    for (const f of this.flushers) f.flush();
  }

  /** Run up to `budget` instructions (fewer when the CPU idles, the guest resets, or a device asks for the host). */
  runSlice(budget = 1_000_000): SliceResult {
    let executed = 0;
    const det = this.clock.deterministic;
    this.yieldRequested = false;
    let reason: SliceResult['reason'] = 'budget';
    let waitNs: number | undefined;
    while (executed < budget) {
      if (this.stopReason !== null) {
        reason = 'stopped';
        break;
      }
      if (this.pendingReset !== null) this.performReset();
      const cpu = this.cpu;
      if (cpu.halted && !this.canWake()) {
        if ((cpu.getEflags() & FLAG_IF) === 0 && !cpu.nmiPending) {
          // CLI; HLT: nothing but an NMI or a reset can resume it.
          this.stop('halted with interrupts disabled');
          reason = 'stopped';
          break;
        }
        const deadline = this.nextDeadline;
        if (!Number.isFinite(deadline)) {
          reason = 'idle';
          waitNs = Infinity;
          break;
        }
        if (det) {
          // A device that keeps reporting a deadline in the past without raising anything
          // would spin here forever; time still moves on by at least a microsecond.
          const now = this.clock.nowNs();
          this.clock.skipTo(deadline > now ? deadline : now + 1000);
          this.nextDeadline = this.advanceTimers();
          continue;
        }
        const wait = deadline - this.clock.nowNs();
        if (wait > 0) {
          reason = 'idle';
          waitNs = wait;
          break;
        }
        this.nextDeadline = this.advanceTimers();
        if (!this.canWake()) {
          reason = 'idle';
          waitNs = Math.max(0, this.nextDeadline - this.clock.nowNs());
          break;
        }
      }
      // Slice length: up to the next quantum boundary, the next deadline and the budget.
      let n = SLICE_QUANTUM - (cpu.instructionCount % SLICE_QUANTUM);
      if (det) n = Math.min(n, this.clock.instructionsUntil(this.nextDeadline));
      else if (Number.isFinite(this.nextDeadline)) {
        // Realtime: convert the time to the next deadline into instructions at the
        // measured speed, so timers fire about on time.
        n = Math.min(n, Math.max(256, Math.ceil((this.nextDeadline - this.clock.nowNs()) * this.instructionsPerNs)));
      }
      if (!det) n = Math.min(n, budget - executed);
      const t0 = det ? 0 : this.clock.nowNs();
      const ran = cpu.run(n);
      executed += ran;
      if (!det && ran >= 1000) {
        const dt = this.clock.nowNs() - t0;
        if (dt > 0) this.instructionsPerNs = 0.8 * this.instructionsPerNs + 0.2 * (ran / dt);
      }
      this.nextDeadline = this.advanceTimers();
      if (this.pendingReset !== null) {
        this.performReset();
        reason = 'yield';
        break;
      }
      if (this.yieldRequested) {
        reason = 'yield';
        break;
      }
      if (ran === 0 && cpu.halted && !this.canWake() && !Number.isFinite(this.nextDeadline) && (cpu.getEflags() & FLAG_IF) !== 0) {
        reason = 'idle';
        waitNs = Infinity;
        break;
      }
    }
    this.flushOutput();
    return waitNs === undefined ? { instructions: executed, reason } : { instructions: executed, reason, waitNs };
  }

  /** Would a halted CPU resume now (NMI, or INTR with IF set)? */
  private canWake(): boolean {
    const cpu = this.cpu;
    if (cpu.isShutdown) return false;
    if (cpu.nmiPending && !cpu.nmiBlocked) return true;
    return (cpu.getEflags() & FLAG_IF) !== 0 && cpu.bus.interrupts.hasInterrupt();
  }

  /**
   * Run until predicate() is true (checked after every slice) or timeoutMs of host time
   * pass. Realtime idle periods are slept through synchronously. Returns whether it matched.
   */
  runUntil(predicate: () => boolean, timeoutMs: number): boolean {
    const end = performance.now() + timeoutMs;
    while (!predicate()) {
      if (performance.now() >= end) return false;
      const r = this.runSlice(1_000_000);
      if (r.reason === 'stopped') return predicate();
      if (r.reason === 'idle') {
        if (r.waitNs === Infinity) return predicate();
        if (r.waitNs && r.waitNs > 0) sleepMs(Math.min(r.waitNs / 1e6, 10, Math.max(0, end - performance.now())));
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- host input

  /** Bytes typed into a serial port (0 = COM1 .. 3, 100 = the virtio console). */
  serialInput(port: number, data: Uint8Array | number[]): void {
    if (port === 100) this.virtioConsole?.sendInput(Uint8Array.from(data));
    else this.uarts[port]?.receive(data);
  }

  /** Set-2 scan codes from the host keyboard. */
  keyboardInput(scancodes: number[]): void {
    this.i8042.keyboard.sendScancodes(scancodes);
  }

  /** Relative mouse motion and buttons. */
  mouseInput(dx: number, dy: number, dz: number, buttons: number): void {
    this.i8042.mouse.move(dx, dy, dz, buttons);
  }

  /** The NMI button (also what a watchdog would do); the RTC index port's bit 7 masks it. */
  nmi(): void {
    if (!this.rtc.nmiMasked) this.cpu.raiseNmi();
  }

  /** Text currently on the VGA screen (rows joined by newlines). */
  textScreen(): string {
    return this.vga.getTextScreen();
  }

  // ---------------------------------------------------------------- reset / stop

  private requestReset(reason: string): void {
    this.pendingReset = reason;
    // Stop the CPU after the current instruction: run() returns as soon as it sees halted.
    this.cpu.halted = true;
  }

  /** Hard reset now (the power-on state of CPU and devices; RAM and disks are kept). */
  reset(): void {
    this.pendingReset = 'host reset';
    this.performReset();
  }

  private performReset(): void {
    const reason = this.pendingReset;
    this.pendingReset = null;
    this.resetCount++;
    log('info', 'machine', `reset: ${reason}`);
    for (const r of this.resettables) if (typeof r.reset === 'function') r.reset();
    this.applyChipsetQuirks();
    this.mem.setA20(true);
    this.firmware?.reset();
    this.cpu.reset();
    this.stopReason = null;
    this.nextDeadline = this.advanceTimers();
  }

  private onCpuShutdown(reason: string): void {
    const registers = this.dumpRegisters();
    this.lastShutdown = { reason, registers };
    logGuestError('cpu', 'shutdown', `CPU shutdown (${reason})\n${registers}`);
    if ((this.config.onTripleFault ?? 'reset') === 'stop') this.stop(`CPU shutdown: ${reason}`);
    else this.events.emit('reset-request', { reason: `CPU shutdown: ${reason}` });
  }

  /** Host power button held: the machine stops at once (no guest shutdown) and reports 'power-off'. */
  powerOff(): void {
    this.events.emit('power-off', { reason: 'host power-off' });
  }

  /** Stop executing for good (power-off); runSlice reports 'stopped'. */
  stop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.cpu.halted = true;
  }

  /** Human-readable CPU state (for triple faults and debugging). */
  dumpRegisters(): string {
    const c = this.cpu;
    const h = (v: number, w = 8) => (v >>> 0).toString(16).padStart(w, '0');
    const r = c.reg32;
    const segNames = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];
    const lines = [
      `EAX=${h(r[Reg.EAX])} EBX=${h(r[Reg.EBX])} ECX=${h(r[Reg.ECX])} EDX=${h(r[Reg.EDX])}`,
      `ESI=${h(r[Reg.ESI])} EDI=${h(r[Reg.EDI])} EBP=${h(r[Reg.EBP])} ESP=${h(r[Reg.ESP])}`,
      `EIP=${h(c.eip)} EFL=${h(c.getEflags())} CPL=${c.cpl} instructions=${c.instructionCount}`,
      ...segNames.map((n, i) => `${n.padEnd(4)}=${h(c.segSel[i], 4)} base=${h(c.segBase[i])} limit=${h(c.segLimit[i])} access=${h(c.segAccess[i], 4)}`),
      `GDT=${h(c.gdtrBase)} ${h(c.gdtrLimit, 4)} IDT=${h(c.idtrBase)} ${h(c.idtrLimit, 4)}`,
      `CR0=${h(c.cr0)} CR2=${h(c.cr2)} CR3=${h(c.cr3)} CR4=${h(c.cr4)}`,
    ];

    return lines.join('\n');
  }

  // ---------------------------------------------------------------- save / restore

  /**
   * The whole machine state. Call between runSlice calls. RAM is copied, unless shareRam:
   * then the state refers to the live RAM and must be consumed (e.g. written to a file)
   * before the machine runs again — a snapshot of a large guest saves a full copy.
   */
  saveState(opts: { shareRam?: boolean } = {}): MachineState {
    this.flushOutput();
    const components: MachineState['components'] = {};
    for (const c of this.components) {
      let state = c.saveState();
      if (c === this.mem && !opts.shareRam) state = { ...state, ram: (state.ram as Uint8Array).slice() };
      if (components[c.stateId]) throw new Error(`duplicate state id ${c.stateId}`);
      components[c.stateId] = { version: c.stateVersion, state };
    }
    components.machine = {
      version: 1,
      state: { stopReason: this.stopReason, resetCount: this.resetCount, pendingReset: this.pendingReset, legacyReplacement: this.legacyReplacement },
    };
    return { version: MACHINE_STATE_VERSION, components };
  }

  /** Load a state saved from a machine built with the same config. */
  loadState(s: MachineState): void {
    if (s.version !== MACHINE_STATE_VERSION) throw new StateVersionError('machine', s.version, MACHINE_STATE_VERSION);
    for (const c of this.components) {
      const entry = s.components[c.stateId];
      if (!entry) throw new Error(`saved state has no component "${c.stateId}"`);
      c.loadState(entry.state, entry.version);
    }
    const m = s.components.machine?.state;
    if (m) {
      this.stopReason = m.stopReason as string | null;
      this.resetCount = m.resetCount as number;
      this.pendingReset = m.pendingReset as string | null;
      this.legacyReplacement = m.legacyReplacement as boolean;
    }
    this.nextDeadline = this.advanceTimers();
  }

  static restore(config: MachineConfig, state: MachineState): Machine {
    const m = new Machine(config);
    m.loadState(state);
    return m;
  }
}

/** Block the thread for ms (Atomics.wait works in Node's main thread and in workers). */
const sleepCell = typeof SharedArrayBuffer !== 'undefined' ? new Int32Array(new SharedArrayBuffer(4)) : null;
export function sleepMs(ms: number): void {
  if (ms <= 0) return;
  if (sleepCell) Atomics.wait(sleepCell, 0, 0, ms);
}
