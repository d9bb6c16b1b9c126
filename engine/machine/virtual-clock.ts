// The machine's Clock. Two policies:
//  - deterministic: now = instructions retired × nsPerInstruction + time skipped while
//    the CPU was halted (HLT jumps to the next timer deadline). Same inputs → same run,
//    instruction for instruction, at any host speed.
//  - realtime: host wall-clock time (the host passes now(); performance.now by default),
//    offset so that a restored machine continues from its saved time.
import type { Clock } from './clock';
import type { ComponentState, Snapshottable } from '../common/snapshot';
import { StateVersionError } from '../common/snapshot';

export class VirtualClock implements Clock, Snapshottable {
  readonly stateId = 'clock';
  readonly stateVersion = 1;
  /** Nanoseconds skipped while halted (deterministic mode). */
  skippedNs = 0;
  /** Realtime: virtual ns = host ms × 1e6 + offsetNs. */
  private offsetNs: number;

  constructor(
    readonly deterministic: boolean,
    readonly nsPerInstruction: number,
    private readonly instructions: () => number,
    private readonly hostNowMs: () => number,
  ) {
    this.offsetNs = -hostNowMs() * 1e6;
  }

  nowNs(): number {
    if (this.deterministic) return this.instructions() * this.nsPerInstruction + this.skippedNs;
    return this.hostNowMs() * 1e6 + this.offsetNs;
  }

  /** Deterministic mode: move time forward without executing (the CPU is halted). */
  skipTo(ns: number): void {
    const now = this.nowNs();
    if (ns > now) {
      if (this.deterministic) this.skippedNs += ns - now;
      else this.offsetNs += ns - now;
    }
  }

  /** Instructions to execute until virtual time reaches ns (deterministic mode), at least 1. */
  instructionsUntil(ns: number): number {
    const d = ns - this.nowNs();
    if (!Number.isFinite(d)) return Infinity;
    return Math.max(1, Math.ceil(d / this.nsPerInstruction));
  }

  saveState(): ComponentState {
    return { skippedNs: this.skippedNs, nowNs: this.nowNs() };
  }

  loadState(state: ComponentState, version: number): void {
    if (version !== this.stateVersion) throw new StateVersionError(this.stateId, version, this.stateVersion);
    this.skippedNs = state.skippedNs as number;
    // Realtime: continue from the saved virtual time (the CPU's instruction count is restored separately).
    if (!this.deterministic) this.offsetNs = (state.nowNs as number) - this.hostNowMs() * 1e6;
  }
}
