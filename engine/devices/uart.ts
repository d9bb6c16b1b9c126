// National Semiconductor 16550A UART (COM1 0x3F8/IRQ 4, COM2 0x2F8/IRQ 3).
// Transmission is instantaneous (THR empties at once, like QEMU without flow control);
// output bytes are batched and emitted as 'serial-output' when the machine flushes.
// Input from the host is queued without loss and fed into the 16-byte receive FIFO as
// the guest drains it, with trigger-level and character-timeout interrupts.
// Linux's 8250 autodetection needs the FIFO bits in IIR and a working scratch register.
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import type { Clock, TimedDevice } from '../machine/clock';
import type { IrqLine } from '../machine/interrupts';
import type { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';
import type { DeviceContext } from './device-context';

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MSI = 0x08;

const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_TIMEOUT = 0x0c;
const IIR_THRE = 0x02;
const IIR_MSI = 0x00;
const IIR_FIFO = 0xc0;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const FIFO_SIZE = 16;
const TRIGGER = [1, 4, 8, 14];
/** Base clock: 1.8432 MHz / 16 = 115200 baud at divisor 1. */
const BASE_BAUD = 115200;

export const COM_PORTS = [
  { base: 0x3f8, irq: 4 },
  { base: 0x2f8, irq: 3 },
  { base: 0x3e8, irq: 4 },
  { base: 0x2e8, irq: 3 },
];

export class Uart implements TimedDevice, Snapshottable {
  readonly stateId: string;
  readonly stateVersion = 1;
  private ier = 0;
  private lcr = 0x03;
  private mcr = 0;
  private lsr = LSR_THRE | LSR_TEMT;
  /** MSR input lines (bits 4-7) as driven by the host side: DCD, DSR, CTS asserted by default. */
  private msrLines = 0xb0;
  private msrDelta = 0;
  private scr = 0;
  private divisor = 12; // 9600 baud until the guest programs it
  private fcr = 0;
  private rx: number[] = [];
  /** Host input waiting for room in the receive FIFO. */
  private hostQueue: number[] = [];
  /** THRE interrupt pending (cleared by an IIR read that reports it or a THR write). */
  private threPending = true;
  /** Receive character-timeout deadline (ns), Infinity when not armed. */
  private timeoutAt = Infinity;
  private timeoutPending = false;
  private irqHigh = false;
  private out: number[] = [];
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly events: Emitter<MachineEvents>;
  private readonly requestYield: () => void;

  constructor(
    ctx: DeviceContext,
    readonly index: number,
  ) {
    this.stateId = `uart${index}`;
    this.clock = ctx.clock;
    this.events = ctx.events;
    this.requestYield = ctx.requestYield;
    const { base, irq } = COM_PORTS[index];
    this.irq = ctx.isaIrq(irq);
    ctx.io.register(base, 8, { read8: (p) => this.read(p - base), write8: (p, v) => this.write(p - base, v) });
    ctx.addTimer(this);
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & 1) !== 0;
  }

  /** Time to shift one character at the programmed rate (10 bits), in ns. */
  private charTimeNs(): number {
    return (10 * NS(1) * this.divisor) / BASE_BAUD;
  }

  /** Host → guest bytes (a terminal, a test harness). Never dropped. */
  receive(data: Uint8Array | number[]): void {
    for (const b of data) this.hostQueue.push(b & 0xff);
    this.fillRx();
  }

  /** Bytes queued by the host and not yet read by the guest. */
  get pendingInput(): number {
    return this.hostQueue.length + this.rx.length;
  }

  /** Emit batched output. The machine calls this after each slice. */
  flush(): void {
    if (this.out.length === 0) return;
    const data = Uint8Array.from(this.out);
    this.out = [];
    this.events.emit('serial-output', { port: this.index, data });
  }

  private fillRx(): void {
    if (this.mcr & MCR_LOOP) return; // input is disconnected in loopback
    const cap = this.fifoEnabled ? FIFO_SIZE : 1;
    let added = false;
    while (this.hostQueue.length && this.rx.length < cap) {
      this.rx.push(this.hostQueue.shift()!);
      added = true;
    }
    if (added) this.received();
  }

  private pushRx(b: number): void {
    const cap = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.rx.length >= cap) {
      this.lsr |= LSR_OE;
      if (!this.fifoEnabled) this.rx[0] = b;
    } else {
      this.rx.push(b);
    }
    this.received();
  }

  private received(): void {
    this.lsr |= LSR_DR;
    this.timeoutPending = false;
    this.timeoutAt = this.fifoEnabled ? this.clock.nowNs() + 4 * this.charTimeNs() : Infinity;
    this.updateIrq();
    this.requestYield();
  }

  private rdaCondition(): boolean {
    if (!this.rx.length) return false;
    if (!this.fifoEnabled) return true;
    return this.rx.length >= TRIGGER[this.fcr >> 6];
  }

  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLS && this.lsr & (LSR_OE | LSR_BI | 0x0c)) return IIR_RLS;
    if (ier & IER_RDA && this.rdaCondition()) return IIR_RDA;
    if (ier & IER_RDA && this.timeoutPending && this.rx.length) return IIR_TIMEOUT;
    if (ier & IER_THRE && this.threPending && this.lsr & LSR_THRE) return IIR_THRE;
    if (ier & IER_MSI && this.msrDelta) return IIR_MSI;
    return IIR_NONE;
  }

  private updateIrq(): void {
    // QEMU does not gate the IRQ with MCR.OUT2, and guests do not rely on the gating.
    const high = this.interruptId() !== IIR_NONE;
    if (high === this.irqHigh) return;
    this.irqHigh = high;
    if (high) this.irq.raise();
    else this.irq.lower();
  }

  private msr(): number {
    let lines = this.msrLines;
    if (this.mcr & MCR_LOOP) {
      const m = this.mcr;
      lines = (m & MCR_RTS ? 0x10 : 0) | (m & MCR_DTR ? 0x20 : 0) | (m & MCR_OUT1 ? 0x40 : 0) | (m & MCR_OUT2 ? 0x80 : 0);
    }
    return lines | this.msrDelta;
  }

  read(reg: number): number {
    switch (reg) {
      case 0: {
        if (this.lcr & 0x80) return this.divisor & 0xff;
        const b = this.rx.length ? this.rx.shift()! : 0;
        this.timeoutPending = false;
        this.fillRx();
        if (!this.rx.length) {
          this.lsr &= ~LSR_DR;
          this.timeoutAt = Infinity;
        } else if (this.fifoEnabled) {
          this.timeoutAt = this.clock.nowNs() + 4 * this.charTimeNs();
        }
        this.updateIrq();
        return b;
      }
      case 1:
        return this.lcr & 0x80 ? this.divisor >> 8 : this.ier;
      case 2: {
        const id = this.interruptId();
        if (id === IIR_THRE) this.threPending = false;
        this.updateIrq();
        return id | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = this.lsr | (this.fifoEnabled && this.rx.length && this.lsr & 0x1e ? 0x80 : 0);
        this.lsr &= ~(LSR_OE | LSR_BI | 0x0c);
        this.updateIrq();
        return v;
      }
      case 6: {
        const v = this.msr();
        this.msrDelta = 0;
        this.updateIrq();
        return v;
      }
      default:
        return this.scr;
    }
  }

  write(reg: number, v: number): void {
    switch (reg) {
      case 0:
        if (this.lcr & 0x80) {
          this.divisor = (this.divisor & 0xff00) | v;
          return;
        }
        if (this.mcr & MCR_LOOP) {
          this.pushRx(v);
        } else {
          this.out.push(v);
          if (this.out.length >= 4096) this.flush();
          if (v === 0x0a) this.requestYield();
        }
        // Transmitted instantly: THR and the shift register are empty again.
        this.lsr |= LSR_THRE | LSR_TEMT;
        this.threPending = true;
        this.updateIrq();
        return;
      case 1:
        if (this.lcr & 0x80) {
          this.divisor = (this.divisor & 0xff) | (v << 8);
          return;
        }
        {
          const before = this.ier;
          this.ier = v & 0x0f;
          // Enabling THRE with the holder empty raises the interrupt at once (Linux checks this).
          if (!(before & IER_THRE) && this.ier & IER_THRE && this.lsr & LSR_THRE) this.threPending = true;
          this.updateIrq();
        }
        return;
      case 2: {
        const wasEnabled = this.fifoEnabled;
        // Changing the enable bit clears both FIFOs.
        if (v & 0x02 || (v & 1) !== (this.fcr & 1)) {
          this.rx = [];
          this.lsr &= ~LSR_DR;
          this.timeoutAt = Infinity;
          this.timeoutPending = false;
        }
        this.fcr = v & 0xc9;
        if (!wasEnabled && this.fifoEnabled) this.fillRx();
        this.updateIrq();
        return;
      }
      case 3:
        this.lcr = v;
        return;
      case 4: {
        const old = this.msr() & 0xf0;
        this.mcr = v & 0x1f;
        const now = this.msr() & 0xf0;
        // Delta bits: CTS, DSR, DCD changes; RI trailing edge.
        const changed = old ^ now;
        this.msrDelta |= ((changed & 0x10) >> 4) | ((changed & 0x20) >> 4) | ((changed & 0x80) >> 4) | (old & 0x40 && !(now & 0x40) ? 0x04 : 0);
        if (!(this.mcr & MCR_LOOP)) this.fillRx();
        this.updateIrq();
        return;
      }
      case 5:
        return; // LSR is read-only (factory test only)
      case 6:
        return;
      default:
        this.scr = v;
    }
  }

  advance(now: number): number {
    if (now >= this.timeoutAt) {
      this.timeoutAt = Infinity;
      if (this.rx.length) {
        this.timeoutPending = true;
        this.updateIrq();
      }
    }
    this.flush();
    return this.timeoutAt;
  }

  reset(): void {
    this.ier = 0;
    this.lcr = 0x03;
    this.mcr = 0;
    this.lsr = LSR_THRE | LSR_TEMT;
    this.msrDelta = 0;
    this.fcr = 0;
    this.rx = [];
    this.threPending = true;
    this.timeoutAt = Infinity;
    this.timeoutPending = false;
    this.updateIrq();
  }

  saveState(): ComponentState {
    return {
      ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr, msrLines: this.msrLines, msrDelta: this.msrDelta,
      scr: this.scr, divisor: this.divisor, fcr: this.fcr, rx: this.rx.slice(), hostQueue: this.hostQueue.slice(),
      threPending: this.threPending, timeoutAt: Number.isFinite(this.timeoutAt) ? this.timeoutAt : -1,
      timeoutPending: this.timeoutPending, irqHigh: this.irqHigh,
    };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    const s = state as Record<string, never>;
    this.ier = s.ier;
    this.lcr = s.lcr;
    this.mcr = s.mcr;
    this.lsr = s.lsr;
    this.msrLines = s.msrLines;
    this.msrDelta = s.msrDelta;
    this.scr = s.scr;
    this.divisor = s.divisor;
    this.fcr = s.fcr;
    this.rx = [...(s.rx as number[])];
    this.hostQueue = [...(s.hostQueue as number[])];
    this.threPending = s.threPending;
    this.timeoutAt = s.timeoutAt === -1 ? Infinity : s.timeoutAt;
    this.timeoutPending = s.timeoutPending;
    this.irqHigh = s.irqHigh;
  }
}

/** Seconds → ns, spelled out so the char-time formula reads naturally. */
function NS(seconds: number): number {
  return seconds * 1e9;
}
