// High Precision Event Timer (IA-PC HPET spec 1.0a), memory-mapped at 0xFED00000.
// Like QEMU's: 3 comparators, 64-bit main counter at 100 MHz (period 10,000,000 fs),
// legacy replacement capable. The counter is derived from the virtual clock.
// Legacy replacement (GEN_CONF bit 1) routes timer 0 to ISA IRQ0 and timer 1 to IRQ8 and
// — on real chipsets — disconnects the PIT and RTC from those lines: the machine gets
// `onLegacyReplacement(true)` so it can gate the PIT/RTC outputs, as QEMU does.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { DeviceContext } from './device-context';
import type { TimedDevice } from '../machine/clock';
import type { IrqLine } from '../machine/interrupts';
import type { MmioHandler } from '../machine/physical-memory';

export const HPET_BASE = 0xfed00000;
const NUM_TIMERS = 3;
const PERIOD_FS = 10_000_000; // 10 ns per tick
const TICK_NS = PERIOD_FS / 1e6;
const TWO32 = 0x1_0000_0000;

const CFG_ENABLE = 1 << 0;
const CFG_LEGACY = 1 << 1;

const TN_LEVEL = 1 << 1;
const TN_INT_ENB = 1 << 2;
const TN_PERIODIC = 1 << 3;
const TN_PERIODIC_CAP = 1 << 4;
const TN_SIZE_CAP = 1 << 5;
const TN_SETVAL = 1 << 6;
const TN_32BIT = 1 << 8;
const TN_ROUTE_SHIFT = 9;
/** Writable configuration bits (FSB delivery is not offered). */
const TN_WRITABLE = TN_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_SETVAL | TN_32BIT | (0x1f << TN_ROUTE_SHIFT);
/** Interrupt routing capability: I/O APIC inputs 20-23 (QEMU advertises the same for its pc). */
const ROUTE_CAP = 0x00f00000;

interface HpetTimer {
  config: number;
  /** Comparator value (up to 64 bits, kept exact below 2^53). */
  cmp: number;
  period: number;
  /** Absolute main-counter value of the next match, Infinity when none. */
  fireAt: number;
  /** Our output is asserted (level mode, or the instant of an edge). */
  asserted: boolean;
}

export class Hpet implements TimedDevice, Snapshottable {
  readonly stateId = 'hpet';
  readonly stateVersion = 1;
  /** Legacy replacement switched: gate the PIT (IRQ0) and RTC (IRQ8) outputs accordingly. */
  onLegacyReplacement: (enabled: boolean) => void = () => {};

  private genConf = 0;
  private isr = 0;
  /** Main counter value at `baseNs` (and frozen there while halted). */
  private counterBase = 0;
  private baseNs = 0;
  private readonly timers: HpetTimer[] = [];
  readonly mmio: MmioHandler;

  constructor(
    private readonly ctx: DeviceContext,
    /** Interrupt input `n` (ISA IRQ below 16 through ctx.isaIrq; GSIs 20-23 need the I/O APIC). */
    private readonly irqLine: (n: number) => IrqLine | null = (n) => (n < 16 ? ctx.isaIrq(n) : null),
    base = HPET_BASE,
  ) {
    for (let i = 0; i < NUM_TIMERS; i++) this.timers.push({ config: 0, cmp: 0, period: 0, fireAt: Infinity, asserted: false });
    this.mmio = {
      read8: (o) => (this.read32(o & ~3) >>> (8 * (o & 3))) & 0xff,
      write8: (o) => logGuestError('hpet', 'w8', `byte write to HPET register 0x${o.toString(16)} ignored`),
      read32: (o) => this.read32(o),
      write32: (o, v) => this.write32(o, v),
    };
    ctx.mem.mapMmio(base, 0x1000, this.mmio);
    this.reset();
  }

  reset(): void {
    for (const t of this.timers) {
      if (t.asserted) this.setOutput(this.timers.indexOf(t), false);
      t.config = 0;
      t.cmp = 0xffffffff; // comparators reset to all ones (low dword; the high dword is not modelled beyond 2^53)
      t.period = 0;
      t.fireAt = Infinity;
    }
    const wasLegacy = (this.genConf & CFG_LEGACY) !== 0;
    this.genConf = 0;
    this.isr = 0;
    this.counterBase = 0;
    this.baseNs = this.ctx.clock.nowNs();
    if (wasLegacy) this.onLegacyReplacement(false);
  }

  private get enabled(): boolean {
    return (this.genConf & CFG_ENABLE) !== 0;
  }

  private counterAt(ns: number): number {
    if (!this.enabled) return this.counterBase;
    return this.counterBase + Math.floor((ns - this.baseNs) / TICK_NS);
  }

  private nsForCounter(value: number): number {
    return this.baseNs + (value - this.counterBase) * TICK_NS;
  }

  /** Recompute when timer i next matches, from the current counter. */
  private arm(i: number, now: number): void {
    const t = this.timers[i];
    if (!this.enabled) {
      t.fireAt = Infinity;
      return;
    }
    const cnt = this.counterAt(now);
    if (t.config & TN_32BIT) {
      // 32-bit comparators match the low half: the next time the counter's low dword equals cmp.
      let delta = (((t.cmp % TWO32) - (cnt % TWO32)) % TWO32 + TWO32) % TWO32;
      if (delta === 0) delta = TWO32;
      t.fireAt = cnt + delta;
    } else {
      t.fireAt = t.cmp > cnt ? t.cmp : Infinity;
    }
    this.ctx.requestYield();
  }

  advance(nowNs: number): number {
    let next = Infinity;
    if (!this.enabled) return next;
    const cnt = this.counterAt(nowNs);
    for (let i = 0; i < NUM_TIMERS; i++) {
      const t = this.timers[i];
      if (t.fireAt <= cnt) {
        this.fire(i);
        if (t.config & TN_PERIODIC && t.period > 0) {
          // Periodic: advance the comparator by the period; coalesce ticks we slept through.
          const missed = Math.floor((cnt - t.fireAt) / t.period);
          const step = (missed + 1) * t.period;
          t.fireAt += step;
          t.cmp = t.config & TN_32BIT ? (t.cmp + step) % TWO32 : t.cmp + step;
        } else if (t.config & TN_32BIT) {
          t.fireAt += TWO32; // a one-shot 32-bit comparator matches again after the counter wraps
        } else {
          t.fireAt = Infinity;
        }
      }
      if (t.fireAt !== Infinity) next = Math.min(next, this.nsForCounter(t.fireAt));
    }
    return next;
  }

  private route(i: number): number {
    if (this.genConf & CFG_LEGACY) {
      if (i === 0) return 0;
      if (i === 1) return 8;
    }
    return (this.timers[i].config >>> TN_ROUTE_SHIFT) & 0x1f;
  }

  private setOutput(i: number, high: boolean): void {
    const line = this.irqLine(this.route(i));
    this.timers[i].asserted = high;
    if (!line) return;
    if (high) line.raise();
    else line.lower();
  }

  private fire(i: number): void {
    const t = this.timers[i];
    if (t.config & TN_LEVEL) {
      // Level mode: status bit and line stay set until the guest writes 1 to GINTR_STA.
      this.isr |= 1 << i;
      if (t.config & TN_INT_ENB) this.setOutput(i, true);
    } else if (t.config & TN_INT_ENB) {
      this.setOutput(i, true);
      this.setOutput(i, false);
    }
  }

  read32(offset: number): number {
    const now = this.ctx.clock.nowNs();
    switch (offset) {
      case 0x000: // GCAP_ID low: rev 1, 3 timers, 64-bit counter, legacy capable, vendor 8086
        return 0x01 | ((NUM_TIMERS - 1) << 8) | (1 << 13) | (1 << 15) | (0x8086 << 16);
      case 0x004:
        return PERIOD_FS;
      case 0x010:
        return this.genConf;
      case 0x014:
        return 0;
      case 0x020:
        return this.isr;
      case 0x024:
        return 0;
      case 0x0f0:
        return this.counterAt(now) % TWO32 | 0;
      case 0x0f4:
        return Math.floor(this.counterAt(now) / TWO32) | 0;
    }
    if (offset >= 0x100 && offset < 0x100 + 0x20 * NUM_TIMERS) {
      const t = this.timers[(offset - 0x100) >> 5];
      switch (offset & 0x1f) {
        case 0x00:
          return t.config | TN_PERIODIC_CAP | TN_SIZE_CAP;
        case 0x04:
          return ROUTE_CAP;
        case 0x08:
          return t.cmp % TWO32 | 0;
        case 0x0c:
          return Math.floor(t.cmp / TWO32) | 0;
        default:
          return 0; // FSB route registers: FSB delivery not supported
      }
    }
    return 0;
  }

  write32(offset: number, value: number): void {
    value >>>= 0;
    const now = this.ctx.clock.nowNs();
    switch (offset) {
      case 0x010: {
        const old = this.genConf;
        const cnt = this.counterAt(now);
        this.genConf = value & (CFG_ENABLE | CFG_LEGACY);
        if ((old ^ this.genConf) & CFG_ENABLE) {
          // Starting or halting the counter: freeze its value here and continue from it.
          this.counterBase = cnt;
          this.baseNs = now;
          for (let i = 0; i < NUM_TIMERS; i++) this.arm(i, now);
        }
        if ((old ^ this.genConf) & CFG_LEGACY) {
          for (let i = 0; i < 2; i++) if (this.timers[i].asserted) this.timers[i].asserted = false;
          this.onLegacyReplacement((this.genConf & CFG_LEGACY) !== 0);
        }
        return;
      }
      case 0x020: // GINTR_STA: write 1 to clear a level-triggered timer's status and line
        for (let i = 0; i < NUM_TIMERS; i++) {
          if (value & this.isr & (1 << i)) {
            this.isr &= ~(1 << i);
            if (this.timers[i].asserted) this.setOutput(i, false);
          }
        }
        return;
      case 0x0f0:
      case 0x0f4: {
        if (this.enabled) logGuestError('hpet', 'cntwrite', 'main counter written while the HPET is running (spec: undefined)');
        const cnt = this.counterAt(now);
        const lo = offset === 0x0f0 ? value : cnt % TWO32;
        const hi = offset === 0x0f4 ? value : Math.floor(cnt / TWO32);
        this.counterBase = hi * TWO32 + lo;
        this.baseNs = now;
        for (let i = 0; i < NUM_TIMERS; i++) this.arm(i, now);
        return;
      }
      case 0x000:
      case 0x004:
      case 0x014:
      case 0x024:
        return;
    }
    if (offset >= 0x100 && offset < 0x100 + 0x20 * NUM_TIMERS) {
      const i = (offset - 0x100) >> 5;
      const t = this.timers[i];
      switch (offset & 0x1f) {
        case 0x00: {
          const old = t.config;
          t.config = value & TN_WRITABLE;
          const route = (t.config >>> TN_ROUTE_SHIFT) & 0x1f;
          if (route && !(ROUTE_CAP & (1 << route))) {
            logGuestError('hpet', 'route', `HPET timer ${i} routed to unsupported interrupt ${route}`);
          }
          if (t.asserted && (!(t.config & TN_INT_ENB) || !(t.config & TN_LEVEL) || (old ^ t.config) & (0x1f << TN_ROUTE_SHIFT))) {
            this.setOutput(i, false);
          }
          if (t.config & TN_32BIT) {
            t.cmp %= TWO32;
            t.period %= TWO32;
          }
          this.arm(i, now);
          return;
        }
        case 0x04:
          return;
        case 0x08:
        case 0x0c: {
          // QEMU/spec semantics: in periodic mode a comparator write sets the period; with
          // Tn_VAL_SET_CNF it also sets the comparator itself (then VAL_SET clears).
          const hiPart = (offset & 0x1f) === 0x0c;
          const merge = (old: number) => (hiPart ? value * TWO32 + (old % TWO32) : Math.floor(old / TWO32) * TWO32 + value);
          const v32 = t.config & TN_32BIT;
          if (v32 && hiPart) return;
          if (!(t.config & TN_PERIODIC) || t.config & TN_SETVAL) t.cmp = merge(t.cmp);
          t.period = merge(t.period);
          t.config &= ~TN_SETVAL;
          this.arm(i, now);
          return;
        }
        default:
          return;
      }
    }
    logGuestError('hpet', `w${offset}`, `write to reserved HPET offset 0x${offset.toString(16)}`);
  }

  saveState(): ComponentState {
    return {
      genConf: this.genConf,
      isr: this.isr,
      counterBase: this.counterBase,
      baseNs: this.baseNs,
      timers: this.timers.map((t) => ({
        config: t.config, cmp: t.cmp, period: t.period, fireAt: t.fireAt === Infinity ? -1 : t.fireAt, asserted: t.asserted,
      })),
    };
  }

  loadState(s: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.genConf = s.genConf as number;
    this.isr = s.isr as number;
    this.counterBase = s.counterBase as number;
    this.baseNs = s.baseNs as number;
    const ts = s.timers as { [k: string]: number | boolean }[];
    ts.forEach((x, i) => {
      const t = this.timers[i];
      t.config = x.config as number;
      t.cmp = x.cmp as number;
      t.period = x.period as number;
      t.fireAt = (x.fireAt as number) < 0 ? Infinity : (x.fireAt as number);
      t.asserted = x.asserted as boolean;
    });
    this.onLegacyReplacement((this.genConf & CFG_LEGACY) !== 0);
  }
}
