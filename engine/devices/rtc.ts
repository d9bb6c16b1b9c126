// Motorola MC146818 real-time clock and the PC/AT CMOS RAM (ports 0x70/0x71, IRQ 8).
// Time-of-day comes from the virtual clock plus a configurable start date, so a
// deterministic run sees the same dates every time. Port 0x70 bit 7 is the NMI mask.
// Registers 0x0E-0x7F are battery-backed RAM; the machine fills in the layout the
// BIOSes read (memory sizes, equipment, disks, boot order, century) — see cmos-layout
// helpers in machine-config.ts.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { Clock, TimedDevice } from '../machine/clock';
import type { IrqLine } from '../machine/interrupts';
import type { DeviceContext } from './device-context';

export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const CMOS_CENTURY = 0x32;

const REG_A_UIP = 0x80;
const REG_B_SET = 0x80;
const REG_B_PIE = 0x40;
const REG_B_AIE = 0x20;
const REG_B_UIE = 0x10;
const REG_B_BINARY = 0x04;
const REG_B_24H = 0x02;
const REG_C_IRQF = 0x80;
const REG_C_PF = 0x40;
const REG_C_AF = 0x20;
const REG_C_UF = 0x10;
/** The update cycle takes 1984 µs after UIP rises 244 µs earlier; we show UIP for the 244 µs before each second. */
const UIP_NS = 244_000;

const NS_PER_S = 1e9;

export interface RtcOptions {
  /** Wall-clock date at virtual time 0, in ms since the Unix epoch (UTC). */
  startDateMs: number;
}

export class Rtc implements TimedDevice, Snapshottable {
  readonly stateId = 'rtc';
  readonly stateVersion = 1;
  /** CMOS bytes; the time registers 0-9 are computed on read and only stored while SET is on. */
  readonly cmos = new Uint8Array(128);
  private index = 0;
  nmiMasked = true;
  /** RTC time (s since epoch, fractional) = baseSeconds + nowNs / 1e9. */
  private baseSeconds: number;
  /** Virtual time up to which periodic/update/alarm flags have been computed. */
  private lastCheckNs = 0;
  private irqHigh = false;
  private readonly clock: Clock;
  private readonly irq: IrqLine;

  constructor(ctx: DeviceContext, opts: RtcOptions) {
    this.clock = ctx.clock;
    this.irq = ctx.isaIrq(8);
    this.baseSeconds = opts.startDateMs / 1000;
    this.cmos[RTC_REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[RTC_REG_B] = REG_B_24H;
    this.cmos[RTC_REG_D] = 0x80; // valid RAM and time
    ctx.io.register(0x70, 1, {
      write8: (_p, v) => {
        this.index = v & 0x7f;
        this.nmiMasked = (v & 0x80) !== 0;
      },
      // Reading the index port is undefined on real chipsets; PIIX returns the index.
      read8: () => this.index,
    });
    ctx.io.register(0x71, 1, { read8: () => this.read(this.index), write8: (_p, v) => this.write(this.index, v) });
    ctx.addTimer(this);
  }

  /** Time as seen by the RTC now, in seconds since the epoch. */
  private seconds(now = this.clock.nowNs()): number {
    return this.baseSeconds + now / NS_PER_S;
  }

  private toReg(v: number): number {
    return this.cmos[RTC_REG_B] & REG_B_BINARY ? v : ((v / 10) | 0) * 16 + (v % 10);
  }

  private fromReg(v: number): number {
    return this.cmos[RTC_REG_B] & REG_B_BINARY ? v : (v >> 4) * 10 + (v & 15);
  }

  private hourToReg(h: number): number {
    if (this.cmos[RTC_REG_B] & REG_B_24H) return this.toReg(h);
    const pm = h >= 12;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.toReg(h12) | (pm ? 0x80 : 0);
  }

  private hourFromReg(v: number): number {
    if (this.cmos[RTC_REG_B] & REG_B_24H) return this.fromReg(v);
    const h = this.fromReg(v & 0x7f) % 12;
    return v & 0x80 ? h + 12 : h;
  }

  /** Fill cmos[0..9] from a time. */
  private storeTime(sec: number): void {
    const d = new Date(Math.floor(sec) * 1000);
    const c = this.cmos;
    c[RTC_SECONDS] = this.toReg(d.getUTCSeconds());
    c[RTC_MINUTES] = this.toReg(d.getUTCMinutes());
    c[RTC_HOURS] = this.hourToReg(d.getUTCHours());
    c[RTC_DAY_OF_WEEK] = this.toReg(d.getUTCDay() + 1);
    c[RTC_DAY_OF_MONTH] = this.toReg(d.getUTCDate());
    c[RTC_MONTH] = this.toReg(d.getUTCMonth() + 1);
    c[RTC_YEAR] = this.toReg(d.getUTCFullYear() % 100);
    c[CMOS_CENTURY] = this.toReg(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The time cmos[0..9] describe. */
  private registersTime(): number {
    const c = this.cmos;
    const year = this.fromReg(c[CMOS_CENTURY]) * 100 + this.fromReg(c[RTC_YEAR]);
    return (
      Date.UTC(year, this.fromReg(c[RTC_MONTH]) - 1, this.fromReg(c[RTC_DAY_OF_MONTH]), this.hourFromReg(c[RTC_HOURS]), this.fromReg(c[RTC_MINUTES]), this.fromReg(c[RTC_SECONDS])) /
      1000
    );
  }

  private get frozen(): boolean {
    return (this.cmos[RTC_REG_B] & REG_B_SET) !== 0;
  }

  read(index: number): number {
    index &= 0x7f;
    if (index <= RTC_YEAR || index === CMOS_CENTURY) {
      const isAlarm = index === RTC_SECONDS_ALARM || index === RTC_MINUTES_ALARM || index === RTC_HOURS_ALARM;
      if (!isAlarm && !this.frozen) this.storeTime(this.seconds());
      return this.cmos[index];
    }
    switch (index) {
      case RTC_REG_A: {
        const s = this.seconds();
        const frac = s - Math.floor(s);
        const uip = !this.frozen && frac >= 1 - UIP_NS / NS_PER_S;
        return (this.cmos[RTC_REG_A] & 0x7f) | (uip ? REG_A_UIP : 0);
      }
      case RTC_REG_C: {
        this.check(this.clock.nowNs());
        const v = this.cmos[RTC_REG_C];
        this.cmos[RTC_REG_C] = 0;
        this.setIrq(false);
        return v;
      }
      default:
        return this.cmos[index];
    }
  }

  write(index: number, v: number): void {
    index &= 0x7f;
    const now = this.clock.nowNs();
    if (index <= RTC_YEAR || index === CMOS_CENTURY) {
      if (index & 1 && index < RTC_DAY_OF_WEEK) {
        this.cmos[index] = v; // alarm registers
        return;
      }
      // Edit the time: start from the current registers, change one, re-derive the offset.
      const frac = this.seconds(now) % 1;
      if (!this.frozen) this.storeTime(this.seconds(now));
      this.cmos[index] = v;
      if (!this.frozen) this.baseSeconds = this.registersTime() + frac - now / NS_PER_S;
      return;
    }
    switch (index) {
      case RTC_REG_A:
        this.check(now);
        this.cmos[RTC_REG_A] = v & 0x7f;
        break;
      case RTC_REG_B: {
        this.check(now);
        const wasFrozen = this.frozen;
        if (!wasFrozen && v & REG_B_SET) this.storeTime(this.seconds(now));
        // Changing the data mode does not convert stored registers on the real chip; we
        // store time on read, so only frozen registers need care.
        this.cmos[RTC_REG_B] = v & (v & REG_B_SET ? ~REG_B_UIE : 0xff);
        if (wasFrozen && !(v & REG_B_SET)) this.baseSeconds = this.registersTime() - now / NS_PER_S;
        this.updateIrq();
        break;
      }
      case RTC_REG_C:
      case RTC_REG_D:
        break; // read-only
      default:
        this.cmos[index] = v;
    }
  }

  /** Periodic interrupt period in ns, or 0 when off. */
  private periodNs(): number {
    const rs = this.cmos[RTC_REG_A] & 15;
    const dv = (this.cmos[RTC_REG_A] >> 4) & 7;
    if (rs === 0 || dv !== 2) return 0;
    const div = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
    return (div * NS_PER_S) / 32768;
  }

  /** Set the flags for everything that happened between the last check and now. */
  private check(now: number): void {
    const last = this.lastCheckNs;
    if (now <= last) return;
    this.lastCheckNs = now;
    const period = this.periodNs();
    if (period && Math.floor(now / period) > Math.floor(last / period)) this.cmos[RTC_REG_C] |= REG_C_PF;
    if (!this.frozen && Math.floor(this.seconds(now)) > Math.floor(this.seconds(last))) {
      this.cmos[RTC_REG_C] |= REG_C_UF;
      const c = this.cmos;
      this.storeTime(this.seconds(now));
      // Alarm: a register value 0xC0-0xFF is "don't care".
      const match = (alarm: number, cur: number) => (alarm & 0xc0) === 0xc0 || alarm === cur;
      if (match(c[RTC_SECONDS_ALARM], c[RTC_SECONDS]) && match(c[RTC_MINUTES_ALARM], c[RTC_MINUTES]) && match(c[RTC_HOURS_ALARM], c[RTC_HOURS])) {
        c[RTC_REG_C] |= REG_C_AF;
      }
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    const pending = this.cmos[RTC_REG_C] & this.cmos[RTC_REG_B] & (REG_C_PF | REG_C_AF | REG_C_UF);
    if (pending) this.cmos[RTC_REG_C] |= REG_C_IRQF;
    this.setIrq(pending !== 0);
  }

  private setIrq(high: boolean): void {
    if (high === this.irqHigh) return;
    this.irqHigh = high;
    if (high) this.irq.raise();
    else this.irq.lower();
  }

  advance(now: number): number {
    this.check(now);
    const b = this.cmos[RTC_REG_B];
    let next = Infinity;
    const period = this.periodNs();
    if (b & REG_B_PIE && period) next = (Math.floor(now / period) + 1) * period;
    if (b & (REG_B_UIE | REG_B_AIE) && !this.frozen) {
      const s = this.seconds(now);
      next = Math.min(next, Math.ceil((Math.floor(s) + 1 - this.baseSeconds) * NS_PER_S));
    }
    return next;
  }

  reset(): void {
    // Reset clears the interrupt enables and flags; time and RAM survive (battery-backed).
    this.cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | 0x08);
    this.cmos[RTC_REG_C] = 0;
    this.setIrq(false);
  }

  /** Recompute the checksum over 0x10-0x2D into 0x2E/0x2F (after the machine fills the layout). */
  updateChecksum(): void {
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i];
    this.cmos[0x2e] = (sum >> 8) & 0xff;
    this.cmos[0x2f] = sum & 0xff;
  }

  saveState(): ComponentState {
    return {
      cmos: this.cmos.slice(),
      index: this.index,
      nmiMasked: this.nmiMasked,
      baseSeconds: this.baseSeconds,
      lastCheckNs: this.lastCheckNs,
      irqHigh: this.irqHigh,
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.cmos.set(state.cmos as Uint8Array);
    this.index = state.index as number;
    this.nmiMasked = state.nmiMasked as boolean;
    this.baseSeconds = state.baseSeconds as number;
    this.lastCheckNs = state.lastCheckNs as number;
    this.irqHigh = state.irqHigh as boolean;
  }
}
