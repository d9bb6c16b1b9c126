// Local APIC of the single CPU (Intel SDM vol. 3A ch. 10; P6-family register layout,
// version 0x14 with 6 LVT entries like QEMU's). Memory-mapped at IA32_APIC_BASE
// (0xFEE00000). It is the CPU's InterruptSource: fixed interrupts accepted through
// IRR/ISR with TPR/PPR priority, plus the 8259A passed through as ExtINT on LINT0
// ("virtual wire" mode, MP spec 3.6.2.2) — so the PIC keeps working until the OS masks
// LINT0 and moves to the I/O APIC.
// The timer counts at 1 GHz / divide (QEMU's APIC bus rate too), from the virtual clock.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { InterruptSource } from '../machine/interrupts';
import type { TimedDevice } from '../machine/clock';
import type { MmioHandler } from '../machine/physical-memory';

export const APIC_DEFAULT_BASE = 0xfee00000;
const APIC_VERSION = 0x14;
const LVT_COUNT = 6;

// Register offsets (SDM table 10-1).
const REG_ID = 0x20;
const REG_VERSION = 0x30;
const REG_TPR = 0x80;
const REG_APR = 0x90;
const REG_PPR = 0xa0;
const REG_EOI = 0xb0;
const REG_LDR = 0xd0;
const REG_DFR = 0xe0;
const REG_SVR = 0xf0;
const REG_ISR = 0x100;
const REG_TMR = 0x180;
const REG_IRR = 0x200;
const REG_ESR = 0x280;
const REG_ICR_LO = 0x300;
const REG_ICR_HI = 0x310;
const REG_LVT_TIMER = 0x320;
const REG_LVT_ERROR = 0x370;
const REG_TIMER_INIT = 0x380;
const REG_TIMER_CUR = 0x390;
const REG_TIMER_DIV = 0x3e0;

// LVT index by (offset - 0x320) >> 4.
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;

const LVT_MASKED = 1 << 16;
const SVR_ENABLE = 1 << 8;

/** Delivery modes (ICR, LVT, I/O APIC redirection entries). */
export const enum DeliveryMode {
  Fixed = 0,
  LowestPriority = 1,
  Smi = 2,
  Nmi = 4,
  Init = 5,
  StartUp = 6,
  ExtInt = 7,
}

/** An interrupt message on the APIC bus (from the I/O APIC or an IPI). */
export interface ApicMessage {
  vector: number;
  mode: number;
  level: boolean;
  logical: boolean;
  dest: number;
}

export class LocalApic implements InterruptSource, TimedDevice, Snapshottable {
  readonly stateId = 'lapic';
  readonly stateVersion = 1;

  /** Called for an NMI (LINT1 in NMI mode, NMI IPI or I/O APIC NMI entry); the machine sets cpu nmiPending. */
  onNmi: () => void = () => {};
  /** EOI of a level-triggered vector: broadcast to the I/O APIC (set by IoApic). */
  onLevelEoi: (vector: number) => void = () => {};

  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  /** Any IRR bit set: hasInterrupt() runs before every instruction, so skip the scan when empty. */
  private irrPending = false;
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private timerInitial = 0;
  private timerDivide = 0;
  /** Timer: virtual time at which `anchorCount` was the current count; -1 when stopped. */
  private anchorNs = -1;
  private anchorCount = 0;
  /** Next virtual time the timer reaches zero (Infinity when stopped). */
  private nextFireNs = Infinity;
  /** An ExtINT message arrived (I/O APIC pin in ExtINT mode): the next INTA goes to the PIC. */
  private extIntPending = false;
  private baseMsr = APIC_DEFAULT_BASE | 0x900;
  private mappedBase: number | null = null;
  private readonly mmio: MmioHandler;

  constructor(
    private readonly ctx: DeviceContext,
    /** The 8259A pair, reached through LINT0 in ExtINT mode. */
    private readonly pic: InterruptSource,
  ) {
    this.mmio = {
      read8: (o) => (this.read32(o & ~3) >>> (8 * (o & 3))) & 0xff,
      write8: (o, v) => {
        // The APIC only decodes aligned 32-bit accesses (SDM 10.4.1); a byte write is a guest bug.
        logGuestError('lapic', 'write8', `byte write 0x${v.toString(16)} to APIC register 0x${o.toString(16)} ignored`);
      },
      read32: (o) => this.read32(o),
      write32: (o, v) => this.write32(o, v),
    };
    this.reset();
  }

  /** Power-on / INIT state (SDM 10.4.7.1), except LINT0 = ExtINT as the BIOS leaves it on the BSP (QEMU does the same). */
  reset(): void {
    this.id = 0;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.irrPending = false;
    this.esr = this.esrPending = 0;
    this.icrLo = this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.lvt[LVT_LINT0] = DeliveryMode.ExtInt << 8;
    this.lvt[LVT_LINT1] = DeliveryMode.Nmi << 8;
    this.timerInitial = 0;
    this.timerDivide = 0;
    this.stopTimer();
    this.extIntPending = false;
    this.setBaseMsr(APIC_DEFAULT_BASE | 0x900);
  }

  /** Follow IA32_APIC_BASE (MSR 0x1B): relocation and the global enable bit 11. */
  setBaseMsr(value: number): void {
    this.baseMsr = value >>> 0;
    const base = this.globallyEnabled ? (value & 0xfffff000) >>> 0 : null;
    if (base === this.mappedBase) return;
    if (this.mappedBase !== null) this.ctx.mem.unmapMmio(this.mmio);
    this.mappedBase = base;
    if (base !== null) this.ctx.mem.mapMmio(base, 0x1000, this.mmio);
  }

  private get globallyEnabled(): boolean {
    return (this.baseMsr & 0x800) !== 0;
  }

  private get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  // ---- InterruptSource ----

  hasInterrupt(): boolean {
    if (this.irrPending && this.highestDeliverable() >= 0) return true;
    return this.picRouted() && this.pic.hasInterrupt();
  }

  acknowledge(): number {
    const v = this.irrPending ? this.highestDeliverable() : -1;
    if (v >= 0) {
      clearBit(this.irr, v);
      this.irrPending = highest(this.irr) >= 0;
      setBit(this.isr, v);
      return v;
    }
    if (this.picRouted() && this.pic.hasInterrupt()) {
      this.extIntPending = false;
      return this.pic.acknowledge();
    }
    // The request went away between INTR and INTA: the spurious vector (SDM 10.9).
    return this.svr & 0xff;
  }

  /** PIC INTR reaches the CPU: APIC globally off (bypass), LINT0 unmasked ExtINT (virtual wire), or an ExtINT message. */
  private picRouted(): boolean {
    if (!this.globallyEnabled) return true;
    if (this.extIntPending) return true;
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASKED) === 0 && ((l >>> 8) & 7) === DeliveryMode.ExtInt;
  }

  /** Highest IRR vector whose priority class beats the PPR, or -1. */
  private highestDeliverable(): number {
    if (!this.globallyEnabled || !this.softwareEnabled) return -1;
    const v = highest(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  private ppr(): number {
    const isrv = highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  // ---- Inputs ----

  /** Accept an interrupt message (from the I/O APIC or our own ICR). Returns false when not addressed to us. */
  deliver(msg: ApicMessage): boolean {
    if (!this.matchesDestination(msg.logical, msg.dest)) return false;
    this.accept(msg.mode, msg.vector, msg.level);
    return true;
  }

  /** LINT1 input (the chipset NMI line). */
  lint1(): void {
    if (!this.globallyEnabled) {
      this.onNmi();
      return;
    }
    const l = this.lvt[LVT_LINT1];
    if (!(l & LVT_MASKED)) this.accept((l >>> 8) & 7, l & 0xff, false);
  }

  private matchesDestination(logical: boolean, dest: number): boolean {
    dest &= 0xff;
    if (!logical) return dest === 0xff || dest === this.id;
    if (dest === 0xff) return true;
    const ldr = this.ldr >>> 24;
    // DFR model: 0xF = flat (bitmap), 0x0 = cluster (high nibble cluster id, low nibble bitmap).
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0;
    return (ldr >>> 4) === (dest >>> 4) && (ldr & dest & 0xf) !== 0;
  }

  private accept(mode: number, vector: number, level: boolean): void {
    switch (mode) {
      case DeliveryMode.Fixed:
      case DeliveryMode.LowestPriority:
        if (!this.softwareEnabled || !this.globallyEnabled) return; // a disabled APIC drops fixed interrupts
        if (vector < 16) {
          this.raiseError(1 << 6); // received illegal vector
          return;
        }
        setBit(this.irr, vector);
        this.irrPending = true;
        if (level) setBit(this.tmr, vector);
        else clearBit(this.tmr, vector);
        return;
      case DeliveryMode.Nmi:
        this.onNmi();
        return;
      case DeliveryMode.ExtInt:
        this.extIntPending = true;
        return;
      case DeliveryMode.Smi:
      case DeliveryMode.Init:
      case DeliveryMode.StartUp:
        // Single CPU without SMM: nothing to start or reset through the APIC bus.
        logGuestError('lapic', `mode${mode}`, `APIC delivery mode ${mode} (SMI/INIT/SIPI) ignored on a uniprocessor machine`);
        return;
      default:
        logGuestError('lapic', 'badmode', `reserved APIC delivery mode ${mode}`);
    }
  }

  private raiseError(bits: number): void {
    this.esrPending |= bits;
    const l = this.lvt[LVT_ERROR];
    if (!(l & LVT_MASKED) && (l & 0xff) >= 16) this.accept(DeliveryMode.Fixed, l & 0xff, false);
  }

  private eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) {
      clearBit(this.tmr, v);
      this.onLevelEoi(v);
    }
  }

  // ---- Timer ----

  private get divideShift(): number {
    // Divide configuration (SDM 10.5.4): bits 0,1,3; 0b111 means divide by 1.
    const d = (this.timerDivide & 3) | ((this.timerDivide & 8) >>> 1);
    return d === 7 ? 0 : d + 1;
  }

  private tickNs(): number {
    return 1 << this.divideShift;
  }

  private get timerMode(): number {
    return (this.lvt[LVT_TIMER] >>> 17) & 3;
  }

  private stopTimer(): void {
    this.anchorNs = -1;
    this.anchorCount = 0;
    this.nextFireNs = Infinity;
  }

  private startTimer(now: number, count: number): void {
    if (count === 0) {
      this.stopTimer();
      return;
    }
    this.anchorNs = now;
    this.anchorCount = count;
    this.nextFireNs = now + count * this.tickNs();
    this.ctx.requestYield(); // the machine must learn the new deadline
  }

  private currentCount(now: number): number {
    if (this.anchorNs < 0) return 0;
    const ticks = Math.floor((now - this.anchorNs) / this.tickNs());
    if (ticks < this.anchorCount) return this.anchorCount - ticks;
    if (this.timerMode !== 1 || this.timerInitial === 0) return 0;
    return this.timerInitial - ((ticks - this.anchorCount) % this.timerInitial);
  }

  advance(nowNs: number): number {
    if (this.nextFireNs <= nowNs) {
      const l = this.lvt[LVT_TIMER];
      if (!(l & LVT_MASKED)) this.accept(DeliveryMode.Fixed, l & 0xff, false);
      if (this.timerMode === 1 && this.timerInitial > 0) {
        // Periodic: re-arm from the last expiry so the period does not drift; coalesce missed ticks.
        const period = this.timerInitial * this.tickNs();
        const missed = Math.floor((nowNs - this.nextFireNs) / period);
        this.anchorNs = this.nextFireNs + missed * period;
        this.anchorCount = this.timerInitial;
        this.nextFireNs = this.anchorNs + period;
      } else {
        this.anchorNs = -1; // one-shot reached zero: the current count stays 0
        this.nextFireNs = Infinity;
      }
    }
    return this.nextFireNs;
  }

  // ---- Registers ----

  read32(offset: number): number {
    const reg = offset & 0xff0;
    if (offset & 0xf) return 0; // only the first dword of each 16-byte slot exists
    switch (reg) {
      case REG_ID:
        return this.id << 24;
      case REG_VERSION:
        return APIC_VERSION | ((LVT_COUNT - 1) << 16);
      case REG_TPR:
        return this.tpr;
      case REG_APR:
        return 0;
      case REG_PPR:
        return this.ppr();
      case REG_EOI:
        return 0;
      case REG_LDR:
        return this.ldr;
      case REG_DFR:
        return this.dfr | 0;
      case REG_SVR:
        return this.svr;
      case REG_ESR:
        return this.esr;
      case REG_ICR_LO:
        return this.icrLo & ~(1 << 12); // delivery status: always idle
      case REG_ICR_HI:
        return this.icrHi;
      case REG_TIMER_INIT:
        return this.timerInitial | 0;
      case REG_TIMER_CUR:
        return this.currentCount(this.ctx.clock.nowNs()) | 0;
      case REG_TIMER_DIV:
        return this.timerDivide;
    }
    if (reg >= REG_ISR && reg < REG_ISR + 0x80) return this.isr[(reg - REG_ISR) >> 4] | 0;
    if (reg >= REG_TMR && reg < REG_TMR + 0x80) return this.tmr[(reg - REG_TMR) >> 4] | 0;
    if (reg >= REG_IRR && reg < REG_IRR + 0x80) return this.irr[(reg - REG_IRR) >> 4] | 0;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) return this.lvt[(reg - REG_LVT_TIMER) >> 4] | 0;
    logGuestError('lapic', `r${reg}`, `read of reserved APIC register 0x${reg.toString(16)}`);
    return 0;
  }

  write32(offset: number, value: number): void {
    value >>>= 0;
    if (offset & 0xf) return;
    const reg = offset & 0xff0;
    switch (reg) {
      case REG_ID:
        this.id = value >>> 24;
        return;
      case REG_TPR:
        this.tpr = value & 0xff;
        return;
      case REG_EOI:
        this.eoi();
        return;
      case REG_LDR:
        this.ldr = value & 0xff000000;
        return;
      case REG_DFR:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case REG_SVR:
        // SDM 10.4.7.2 says software-disabling also masks every LVT entry; QEMU does not, and the
        // reference guests were validated on QEMU, so LINT0's virtual wire keeps working here too.
        this.svr = value & 0x3ff;
        return;
      case REG_ESR:
        // A write latches the errors found since the previous write (SDM 10.5.3).
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case REG_ICR_HI:
        this.icrHi = value & 0xff000000;
        return;
      case REG_ICR_LO:
        this.icrLo = value & 0x000cdfff;
        this.sendIpi();
        return;
      case REG_TIMER_INIT:
        this.timerInitial = value;
        this.startTimer(this.ctx.clock.nowNs(), value);
        return;
      case REG_TIMER_DIV: {
        const now = this.ctx.clock.nowNs();
        const cur = this.currentCount(now);
        this.timerDivide = value & 0xb;
        if (this.anchorNs >= 0 && cur > 0) this.startTimer(now, cur); // keep counting from here at the new rate
        return;
      }
    }
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
      const i = (reg - REG_LVT_TIMER) >> 4;
      // Writable: vector, delivery mode (not timer/error), polarity/trigger (LINT only), mask, timer mode.
      const masks = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
      let v = value & masks[i];
      if (i === LVT_TIMER && ((v >>> 17) & 3) > 1) {
        logGuestError('lapic', 'tscdeadline', 'TSC-deadline/reserved timer mode not supported (not in CPUID); using one-shot');
        v &= ~(3 << 17);
      }
      this.lvt[i] = v;
      return;
    }
    if (reg === REG_VERSION || reg === REG_PPR || reg === REG_APR || reg === REG_TIMER_CUR || (reg >= REG_ISR && reg < REG_IRR + 0x80)) return; // read-only
    logGuestError('lapic', `w${reg}`, `write of 0x${value.toString(16)} to reserved APIC register 0x${reg.toString(16)}`);
  }

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    const logical = (lo & (1 << 11)) !== 0;
    const shorthand = (lo >>> 18) & 3;
    // INIT level de-assert (mode 5, level bit 14 clear) is a legacy synchronisation message: no effect.
    if (mode === DeliveryMode.Init && !(lo & (1 << 14))) return;
    let toSelf: boolean;
    if (shorthand === 0) toSelf = this.matchesDestination(logical, this.icrHi >>> 24);
    else toSelf = shorthand !== 3; // self, or all including self
    if (!toSelf) return; // no other CPUs exist
    if ((mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority) && vector < 16) {
      this.raiseError(1 << 5); // send illegal vector
      return;
    }
    this.accept(mode, vector, false); // IPIs are edge-triggered: never set TMR
  }

  saveState(): ComponentState {
    return {
      id: this.id, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr,
      isr: this.isr.slice(), tmr: this.tmr.slice(), irr: this.irr.slice(),
      esr: this.esr, esrPending: this.esrPending, icrLo: this.icrLo, icrHi: this.icrHi,
      lvt: this.lvt.slice(), timerInitial: this.timerInitial, timerDivide: this.timerDivide,
      anchorNs: this.anchorNs, anchorCount: this.anchorCount,
      nextFireNs: this.nextFireNs === Infinity ? -1 : this.nextFireNs,
      extIntPending: this.extIntPending, baseMsr: this.baseMsr,
    };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.id = s.id as number;
    this.tpr = s.tpr as number;
    this.ldr = s.ldr as number;
    this.dfr = s.dfr as number;
    this.svr = s.svr as number;
    this.isr.set(s.isr as Uint32Array);
    this.tmr.set(s.tmr as Uint32Array);
    this.irr.set(s.irr as Uint32Array);
    this.irrPending = highest(this.irr) >= 0;
    this.esr = s.esr as number;
    this.esrPending = s.esrPending as number;
    this.icrLo = s.icrLo as number;
    this.icrHi = s.icrHi as number;
    this.lvt.set(s.lvt as Uint32Array);
    this.timerInitial = s.timerInitial as number;
    this.timerDivide = s.timerDivide as number;
    this.anchorNs = s.anchorNs as number;
    this.anchorCount = s.anchorCount as number;
    this.nextFireNs = (s.nextFireNs as number) < 0 ? Infinity : (s.nextFireNs as number);
    this.extIntPending = s.extIntPending as boolean;
    this.setBaseMsr(s.baseMsr as number);
  }
}

function setBit(a: Uint32Array, v: number): void {
  a[v >>> 5] |= 1 << (v & 31);
}
function clearBit(a: Uint32Array, v: number): void {
  a[v >>> 5] &= ~(1 << (v & 31));
}
function testBit(a: Uint32Array, v: number): boolean {
  return (a[v >>> 5] & (1 << (v & 31))) !== 0;
}
function highest(a: Uint32Array): number {
  for (let i = 7; i >= 0; i--) if (a[i]) return i * 32 + 31 - Math.clz32(a[i]);
  return -1;
}
