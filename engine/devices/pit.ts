// Intel 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz.
// Channel 0 drives ISA IRQ 0, channel 1 is the (unused) refresh timer, channel 2 feeds
// the speaker and is gated/read through port 0x61 (system-control.ts) — the path
// Linux and memtest use to calibrate the TSC. Counters are not ticked: each channel
// stores when its count was loaded and derives count and OUT from the virtual clock,
// so reads inside tight polling loops see time advance instruction by instruction.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { Clock, TimedDevice } from '../machine/clock';
import type { DeviceContext } from './device-context';
import type { IrqLine } from '../machine/interrupts';

export const PIT_HZ = 1193182;
const NS_PER_S = 1e9;

/** Access modes of the control word (RW bits). */
const enum Rw {
  Latch = 0,
  Lsb = 1,
  Msb = 2,
  Word = 3,
}

class Channel {
  mode = 0;
  rw = Rw.Word;
  bcd = false;
  /** Reload value in ticks (1..0x10000). */
  count = 0x10000;
  /** Virtual time the current count started (ns); NaN while waiting for a count or a gate trigger. */
  loadTime = NaN;
  gate = false;
  /** A control word was written and no count loaded yet (status bit 6). */
  nullCount = true;
  /** Partial write/read state of Word accesses. */
  writeHigh = false;
  readHigh = false;
  writeLatch = 0;
  latched = false;
  latchValue = 0;
  latchHigh = false;
  statusLatched = false;
  statusLatch = 0;
  /** Periods (modes 2/3) or terminal counts (0/1/4/5) already signalled on OUT → IRQ. */
  signalled = 0;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  ticks(now: number): number {
    if (Number.isNaN(this.loadTime)) return -1;
    return Math.floor(((now - this.loadTime) * PIT_HZ) / NS_PER_S);
  }

  /** Counter value as the guest reads it. */
  value(now: number): number {
    const d = this.ticks(now);
    if (d < 0) return this.count & 0xffff;
    let v: number;
    switch (this.mode) {
      case 2:
        v = this.count - (d % this.count);
        break;
      case 3:
        // Decrements by two each clock, twice per period.
        v = this.count - ((2 * d) % this.count);
        break;
      default:
        // Modes 0,1,4,5 wrap through 0xFFFF after terminal count.
        v = (this.count - d) % 0x10000;
        if (v < 0) v += 0x10000;
        break;
    }
    v &= 0xffff;
    return this.bcd ? toBcd(v) : v;
  }

  /** Level of the OUT pin. */
  out(now: number): boolean {
    const d = this.ticks(now);
    switch (this.mode) {
      case 0: // out low until terminal count
        return d >= this.count;
      case 1: // one-shot: low while counting after the gate trigger
        return d < 0 || d >= this.count;
      case 2: // low for one clock before reload
        return d < 0 || !this.gate || d % this.count !== this.count - 1;
      case 3: // square wave: high for the first half
        return d < 0 || !this.gate || d % this.count < (this.count + 1) >> 1;
      default: // 4,5: strobe low for one clock at terminal count
        return d !== this.count;
    }
  }

  /** Virtual time of the next rising edge of OUT (the IRQ 0 event), or Infinity. */
  nextEdge(now: number): number {
    const d = this.ticks(now);
    if (d < 0) return Infinity;
    let t: number;
    switch (this.mode) {
      case 2:
      case 3:
        if (!this.gate) return Infinity;
        t = (Math.floor(d / this.count) + 1) * this.count;
        break;
      default:
        if (this.signalled > 0) return Infinity;
        t = this.count + (this.mode >= 4 ? 1 : 0);
        if (d >= t) return now; // overdue, deliver at once
        break;
    }
    let ns = this.loadTime + Math.ceil((t * NS_PER_S) / PIT_HZ);
    if (this.ticks(ns) < t) ns += 1;
    return ns;
  }

  save(): ComponentState {
    const s: ComponentState = {};
    for (const [k, v] of Object.entries(this)) s[k] = Number.isNaN(v) ? 'NaN' : (v as number | boolean);
    return s;
  }

  load(s: ComponentState): void {
    for (const [k, v] of Object.entries(s)) (this as unknown as Record<string, unknown>)[k] = v === 'NaN' ? NaN : v;
  }
}

function toBcd(v: number): number {
  v %= 10000;
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 | (Math.floor(v / 1000) % 10) << 12;
}

function fromBcd(v: number): number {
  return (v & 15) + ((v >> 4) & 15) * 10 + ((v >> 8) & 15) * 100 + ((v >> 12) & 15) * 1000;
}

export class Pit implements TimedDevice, Snapshottable {
  readonly stateId = 'pit';
  readonly stateVersion = 1;
  /** Channel 0 and 1 gates are tied high on the PC; channel 2's comes from port 0x61. */
  private readonly ch = [new Channel(true), new Channel(true), new Channel(false)];
  private readonly clock: Clock;
  private readonly irq: IrqLine;

  constructor(ctx: DeviceContext) {
    this.clock = ctx.clock;
    this.irq = ctx.isaIrq(0);
    ctx.io.register(0x40, 3, {
      read8: (p) => this.readCounter(this.ch[p - 0x40]),
      write8: (p, v) => this.writeCounter(this.ch[p - 0x40], v),
    });
    ctx.io.register(0x43, 1, { read8: () => 0xff, write8: (_p, v) => this.writeControl(v) });
    ctx.addTimer(this);
  }

  /** Port 0x61 bit 0. */
  setGate2(level: boolean): void {
    const c = this.ch[2];
    if (level === c.gate) return;
    c.gate = level;
    // A rising gate (re)starts modes 1, 2, 3 and 5; modes 0 and 4 keep counting (as QEMU).
    if (level && (c.mode === 1 || c.mode === 5 || c.mode === 2 || c.mode === 3) && !c.nullCount) {
      c.loadTime = this.clock.nowNs();
      c.signalled = 0;
    }
  }

  get gate2(): boolean {
    return this.ch[2].gate;
  }

  /** Port 0x61 bit 5. */
  out2(): boolean {
    return this.ch[2].out(this.clock.nowNs());
  }

  /** For tests and debugging: channel n's current count, mode and OUT. */
  peek(n: number): { count: number; mode: number; out: boolean } {
    const now = this.clock.nowNs();
    const c = this.ch[n];
    return { count: c.value(now), mode: c.mode, out: c.out(now) };
  }

  advance(now: number): number {
    const c = this.ch[0];
    const d = c.ticks(now);
    if (d >= 0) {
      if (c.mode === 2 || c.mode === 3) {
        const periods = c.gate ? Math.floor(d / c.count) : c.signalled;
        if (periods > c.signalled) {
          c.signalled = periods;
          this.pulse();
        }
      } else if (c.signalled === 0) {
        const t = c.count + (c.mode >= 4 ? 1 : 0);
        if (d >= t && !(c.mode === 1 && d < 0)) {
          c.signalled = 1;
          // Mode 0/1: OUT rises and stays high until reprogrammed; 4/5: a strobe.
          if (c.mode <= 1) this.irq.raise();
          else this.pulse();
        }
      }
    }
    return c.nextEdge(now);
  }

  private pulse(): void {
    this.irq.raise();
    this.irq.lower();
  }

  private writeControl(v: number): void {
    const sel = v >> 6;
    if (sel === 3) {
      // Read-back: bit 5 clear = latch counts, bit 4 clear = latch status; bits 1-3 select.
      const now = this.clock.nowNs();
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        const c = this.ch[i];
        if (!(v & 0x20) && !c.latched) this.latchCount(c, now);
        if (!(v & 0x10) && !c.statusLatched) {
          c.statusLatched = true;
          c.statusLatch = (c.out(now) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.rw << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
        }
      }
      return;
    }
    const c = this.ch[sel];
    const rw = (v >> 4) & 3;
    if (rw === Rw.Latch) {
      if (!c.latched) this.latchCount(c, this.clock.nowNs());
      return;
    }
    c.rw = rw;
    let mode = (v >> 1) & 7;
    if (mode > 5) mode -= 4; // 6 and 7 alias 2 and 3
    c.mode = mode;
    c.bcd = (v & 1) !== 0;
    c.nullCount = true;
    c.writeHigh = c.readHigh = false;
    c.latched = c.statusLatched = false;
    c.loadTime = NaN; // counting stops until the new count arrives
    c.signalled = 0;
    if (sel === 0) this.irq.lower(); // mode 0 OUT goes low on a control write; others high without an edge
  }

  private latchCount(c: Channel, now: number): void {
    c.latched = true;
    c.latchHigh = false;
    c.latchValue = c.value(now);
  }

  private writeCounter(c: Channel, v: number): void {
    let value: number;
    switch (c.rw) {
      case Rw.Lsb:
        value = v;
        break;
      case Rw.Msb:
        value = v << 8;
        break;
      default:
        if (!c.writeHigh) {
          c.writeLatch = v;
          c.writeHigh = true;
          // Mode 0: writing the first byte stops the count (datasheet).
          if (c.mode === 0) c.loadTime = NaN;
          return;
        }
        c.writeHigh = false;
        value = c.writeLatch | (v << 8);
        break;
    }
    if (c.bcd) value = fromBcd(value);
    if (value === 0) value = c.bcd ? 10000 : 0x10000;
    // Modes 2 and 3 divide by at least 2; a count of 1 would be an endless interrupt storm.
    if ((c.mode === 2 || c.mode === 3) && value === 1) value = 2;
    c.count = value;
    c.nullCount = false;
    c.signalled = 0;
    const isCh0 = c === this.ch[0];
    // Modes 1 and 5 wait for a gate rising edge; others start now. Modes 2/3 reprogrammed
    // while running would wait for the period end; starting at once is close enough.
    if (c.mode === 1 || c.mode === 5) {
      if (!(c.gate && c !== this.ch[2])) c.loadTime = NaN;
      else c.loadTime = this.clock.nowNs();
    } else {
      c.loadTime = this.clock.nowNs();
    }
    if (isCh0 && c.mode === 0) this.irq.lower();
  }

  private readCounter(c: Channel): number {
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.statusLatch;
    }
    if (c.latched) {
      const b = c.latchHigh ? c.latchValue >> 8 : c.latchValue & 0xff;
      if (c.rw !== Rw.Word || c.latchHigh) c.latched = false;
      else c.latchHigh = true;
      if (c.rw === Rw.Msb) return c.latchValue >> 8;
      return b;
    }
    const v = c.value(this.clock.nowNs());
    switch (c.rw) {
      case Rw.Lsb:
        return v & 0xff;
      case Rw.Msb:
        return v >> 8;
      default: {
        const high = c.readHigh;
        c.readHigh = !high;
        return high ? v >> 8 : v & 0xff;
      }
    }
  }

  reset(): void {
    for (let i = 0; i < 3; i++) {
      const gate = this.ch[i].gate;
      this.ch[i] = new Channel(i < 2 ? true : gate);
    }
    this.irq.lower();
  }

  saveState(): ComponentState {
    return { channels: this.ch.map((c) => c.save()) };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    (state.channels as ComponentState[]).forEach((s, i) => this.ch[i].load(s));
  }
}
