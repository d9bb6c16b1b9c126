// The 8259A programmable interrupt controller pair of the PC/AT: master at 0x20/0x21
// (vectors for IRQ 0-7), slave at 0xA0/0xA1 cascaded on master IRQ 2 (IRQ 8-15), and
// the ELCR edge/level registers at 0x4D0/0x4D1 (PIIX). The pair is the CPU's
// InterruptSource on machines without a local APIC, and the ExtINT source behind it
// otherwise. Semantics follow the Intel 8259A datasheet (priority rotation, special
// mask, poll, auto-EOI, special fully nested mode).
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';
import { logGuestError } from '../common/log';
import type { InterruptSource, IrqLine } from '../machine/interrupts';
import type { IoBus } from '../machine/io-bus';

/** One 8259A. Registers are kept as plain numbers so saving is a field copy. */
class Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Input levels seen last, for edge detection. */
  lastLevel = 0;
  /** The IRQ with the highest priority is (lowestPriority + 1) & 7. */
  priorityAdd = 0;
  vectorBase = 0;
  /** Which ICW the next data-port write is (0 = none: the write is OCW1, the IMR). */
  initStep = 0;
  needIcw4 = false;
  single = false;
  levelTriggeredAll = false; // ICW1 LTIM
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  /** ELCR: per-input level sensitivity (bits 0,1,2 of the master and 0,5 of the slave are fixed 0). */
  elcr = 0;
  elcrMask: number;

  constructor(readonly master: boolean) {
    this.elcrMask = master ? 0xf8 : 0xde;
  }

  isLevel(irq: number): boolean {
    return this.levelTriggeredAll || ((this.elcr >> irq) & 1) === 1;
  }

  setInput(irq: number, level: boolean): void {
    const mask = 1 << irq;
    if (this.isLevel(irq)) {
      if (level) this.irr |= mask;
      else this.irr &= ~mask;
    } else if (level && !(this.lastLevel & mask)) {
      this.irr |= mask;
    }
    if (level) this.lastLevel |= mask;
    else this.lastLevel &= ~mask;
  }

  /** Highest-priority set bit of mask, as a priority (0 = highest), 8 when none. */
  priorityOf(mask: number): number {
    if ((mask & 0xff) === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IRQ this chip would signal now, or -1. */
  pendingIrq(): number {
    const p = this.priorityOf(this.irr & ~this.imr);
    if (p === 8) return -1;
    let inService = this.isr;
    // Special mask mode: masked in-service levels do not block lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested: the master lets a higher-priority slave interrupt through
    // although the cascade input is in service.
    if (this.specialFullyNested && this.master) inService &= ~(1 << 2);
    const cur = this.priorityOf(inService);
    return p < cur ? (p + this.priorityAdd) & 7 : -1;
  }

  /** INTA on this chip for irq. */
  acknowledge(irq: number): void {
    const mask = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= mask;
    }
    // Edge inputs are consumed; a level input stays requested while high.
    if (!this.isLevel(irq)) this.irr &= ~mask;
  }

  reset(): void {
    this.irr = this.isr = this.imr = this.lastLevel = 0;
    this.priorityAdd = this.vectorBase = this.initStep = 0;
    this.needIcw4 = this.single = this.levelTriggeredAll = this.autoEoi = false;
    this.rotateOnAutoEoi = this.specialFullyNested = this.specialMask = false;
    this.readIsr = this.poll = false;
    this.elcr = 0;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1: start initialisation. IMR, ISR, priorities and modes are cleared; the
      // edge detector is reset so a level already high needs a new edge (datasheet).
      this.initStep = 2;
      this.needIcw4 = (v & 1) !== 0;
      this.single = (v & 2) !== 0;
      this.levelTriggeredAll = (v & 8) !== 0;
      this.imr = this.isr = 0;
      this.irr = 0;
      this.lastLevel = 0;
      this.priorityAdd = 0;
      this.specialMask = false;
      this.readIsr = false;
      this.poll = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      this.specialFullyNested = false;
      if (v & 4) logGuestError('pic', 'adi', '8259A: call address interval 4 (MCS-80 mode) is not supported');
      return;
    }
    if (v & 0x08) {
      // OCW3
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 1) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2
    const cmd = v >> 5;
    switch (cmd) {
      case 0: // clear rotate in auto-EOI
      case 4: // set rotate in auto-EOI
        this.rotateOnAutoEoi = cmd === 4;
        break;
      case 1: // non-specific EOI
      case 5: {
        // rotate on non-specific EOI
        const p = this.priorityOf(this.isr);
        if (p !== 8) {
          const irq = (p + this.priorityAdd) & 7;
          this.isr &= ~(1 << irq);
          if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
        }
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << (v & 7));
        break;
      case 6: // set priority: v&7 becomes the lowest
        this.priorityAdd = ((v & 7) + 1) & 7;
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << (v & 7));
        this.priorityAdd = ((v & 7) + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2: // ICW2
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        break;
      case 3: // ICW3: cascade wiring is fixed on the PC
        this.initStep = this.needIcw4 ? 4 : 0;
        break;
      case 4: // ICW4
        this.autoEoi = (v & 2) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        if (!(v & 1)) logGuestError('pic', 'mcs80', '8259A: ICW4 selects MCS-80/85 mode; treated as 8086 mode');
        this.initStep = 0;
        break;
      default:
        this.imr = v;
        break;
    }
  }

  save(): ComponentState {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lastLevel: this.lastLevel, priorityAdd: this.priorityAdd,
      vectorBase: this.vectorBase, initStep: this.initStep, needIcw4: this.needIcw4, single: this.single,
      levelTriggeredAll: this.levelTriggeredAll, autoEoi: this.autoEoi, rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested, specialMask: this.specialMask, readIsr: this.readIsr,
      poll: this.poll, elcr: this.elcr,
    };
  }

  load(s: ComponentState): void {
    Object.assign(this, s);
  }
}

export class Pic implements InterruptSource, Snapshottable {
  readonly stateId = 'pic';
  readonly stateVersion = 1;
  private readonly chips = [new Chip(true), new Chip(false)];
  /** Current level of each of the 16 inputs as driven by devices (for ELCR changes). */
  private inputLevels = 0;
  /** Called whenever INTR may have changed (the local APIC's LINT0 follows it). */
  onIntrChange: (asserted: boolean) => void = () => {};
  private intr = false;

  constructor(io: IoBus) {
    for (const [i, base] of [0x20, 0xa0].entries()) {
      const chip = this.chips[i];
      io.register(base, 1, {
        read8: () => this.readCommandPort(chip),
        write8: (_p, v) => {
          chip.writeCommand(v);
          this.update();
        },
      });
      io.register(base + 1, 1, {
        read8: () => (chip.poll ? this.pollRead(chip) : chip.imr),
        write8: (_p, v) => {
          chip.writeData(v);
          this.update();
        },
      });
      io.register(0x4d0 + i, 1, {
        read8: () => chip.elcr,
        write8: (_p, v) => {
          chip.elcr = v & chip.elcrMask;
          // Re-evaluate the inputs under the new sensitivity.
          for (let irq = 0; irq < 8; irq++) {
            if (chip.isLevel(irq)) chip.setInput(irq, ((this.inputLevels >> (i * 8 + irq)) & 1) === 1);
          }
          this.update();
        },
      });
    }
  }

  /** The line for ISA IRQ n (0-15). */
  line(n: number): IrqLine {
    return { raise: () => this.setIrq(n, true), lower: () => this.setIrq(n, false) };
  }

  setIrq(n: number, level: boolean): void {
    const bit = 1 << n;
    this.inputLevels = level ? this.inputLevels | bit : this.inputLevels & ~bit;
    this.chips[n >> 3].setInput(n & 7, level);
    this.update();
  }

  hasInterrupt(): boolean {
    return this.intr;
  }

  acknowledge(): number {
    const [master, slave] = this.chips;
    let vector: number;
    const irq = master.pendingIrq();
    if (irq >= 0) {
      master.acknowledge(irq);
      if (irq === 2) {
        let irq2 = slave.pendingIrq();
        if (irq2 >= 0) slave.acknowledge(irq2);
        else irq2 = 7; // spurious IRQ 15
        vector = slave.vectorBase + irq2;
      } else {
        vector = master.vectorBase + irq;
      }
    } else {
      vector = master.vectorBase + 7; // spurious IRQ 7
    }
    this.update();
    return vector;
  }

  /** Both ELCRs as one 16-bit mask (bit n = ISA IRQ n is level triggered). */
  get elcr(): number {
    return this.chips[0].elcr | (this.chips[1].elcr << 8);
  }

  reset(): void {
    for (const c of this.chips) c.reset();
    this.inputLevels = 0;
    this.update();
  }

  private readCommandPort(chip: Chip): number {
    if (chip.poll) return this.pollRead(chip);
    return chip.readIsr ? chip.isr : chip.irr;
  }

  /** Poll command: the read acts as an INTA on this chip and returns 0x80|irq, or 0. */
  private pollRead(chip: Chip): number {
    chip.poll = false;
    const irq = chip.pendingIrq();
    if (irq < 0) return 0;
    chip.acknowledge(irq);
    this.update();
    return 0x80 | irq;
  }

  private update(): void {
    const [master, slave] = this.chips;
    // The slave's INT output drives master input 2. Treated as a level (not through the
    // edge detector) so a second slave request right after an INTA is not lost.
    if (slave.pendingIrq() >= 0) master.irr |= 4;
    else master.irr &= ~4;
    const intr = master.pendingIrq() >= 0;
    if (intr !== this.intr) {
      this.intr = intr;
      this.onIntrChange(intr);
    }
  }

  saveState(): ComponentState {
    return { master: this.chips[0].save(), slave: this.chips[1].save(), inputLevels: this.inputLevels };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.chips[0].load(state.master as ComponentState);
    this.chips[1].load(state.slave as ComponentState);
    this.inputLevels = state.inputLevels as number;
    this.intr = this.chips[0].pendingIrq() >= 0;
    this.onIntrChange(this.intr);
  }
}
