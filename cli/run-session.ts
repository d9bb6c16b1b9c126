// Runs one machine in this process until a serial/screen pattern shows up, the guest
// stops, or a wall-clock timeout: the engine of `boxwood run` and of the guest boot tests.
import type { Machine } from '../engine/machine/machine';

export interface SessionOptions {
  untilSerial?: RegExp;
  untilScreen?: RegExp;
  /** Wall-clock limit in seconds (default: none). */
  timeoutSec?: number;
  /** Serial bytes from COM1, as they come. */
  onSerial?: (data: Uint8Array) => void;
  /** Called between slices; return true to stop (e.g. a snapshot was taken). */
  onSlice?: (m: Machine) => boolean | void;
  /** Hand control to the event loop every this many ms (stdin, signals). Default 25. */
  yieldEveryMs?: number;
  /** Stop request from outside (Ctrl-C). */
  abort?: { aborted: boolean };
}

export type SessionEnd = 'serial-match' | 'screen-match' | 'timeout' | 'stopped' | 'triple-fault' | 'aborted' | 'idle' | 'callback';

export interface SessionResult {
  end: SessionEnd;
  machine: Machine;
  /** Everything COM1 printed (latin1). */
  serial: string;
  instructions: number;
  seconds: number;
  detail?: string;
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `m` (built from cli/engine-loader.ts's Machine) until one of the end conditions. */
export async function runSession(m: Machine, opts: SessionOptions): Promise<SessionResult> {
  let serial = '';
  let serialTail = '';
  m.events.on('serial-output', ({ port, data }) => {
    if (port !== 0) return;
    const s = Buffer.from(data).toString('latin1');
    serial += s;
    serialTail = (serialTail + s).slice(-65536);
    opts.onSerial?.(data);
  });
  const startInstr = m.cpu.instructionCount;
  const t0 = performance.now();
  const deadline = opts.timeoutSec !== undefined ? t0 + opts.timeoutSec * 1000 : Infinity;
  const yieldMs = opts.yieldEveryMs ?? 25;
  let lastYield = t0;
  let lastScreenCheck = 0;
  let end: SessionEnd;
  let detail: string | undefined;
  const finish = () => ({ end, machine: m, serial, instructions: m.cpu.instructionCount - startInstr, seconds: (performance.now() - t0) / 1000, detail });

  for (;;) {
    const r = m.runSlice(500_000);
    if (opts.untilSerial && opts.untilSerial.test(serialTail)) {
      end = 'serial-match';
      break;
    }
    const now = performance.now();
    // The text screen is cheap to read but not free: check it at most every 50 ms, and at the end.
    if (opts.untilScreen && (now - lastScreenCheck > 50 || r.reason !== 'budget')) {
      lastScreenCheck = now;
      if (opts.untilScreen.test(m.textScreen())) {
        end = 'screen-match';
        break;
      }
    }
    if (opts.onSlice?.(m)) {
      end = 'callback';
      break;
    }
    if (r.reason === 'stopped') {
      if (m.lastShutdown && m.stopReason?.startsWith('CPU shutdown')) {
        end = 'triple-fault';
        detail = `${m.lastShutdown.reason}\n${m.lastShutdown.registers}`;
      } else {
        end = 'stopped';
        detail = m.stopReason ?? undefined;
      }
      if (opts.untilScreen?.test(m.textScreen())) end = 'screen-match';
      break;
    }
    if (opts.abort?.aborted) {
      end = 'aborted';
      break;
    }
    if (now >= deadline) {
      end = 'timeout';
      break;
    }
    if (r.reason === 'idle') {
      // Realtime: sleep until the next timer; deterministic idle means only host input can wake it.
      const waitMs = r.waitNs === undefined || r.waitNs === Infinity ? 10 : Math.min(10, r.waitNs / 1e6);
      await sleep(Math.max(0, waitMs));
      lastYield = performance.now();
      continue;
    }
    if (now - lastYield >= yieldMs) {
      await tick();
      lastYield = performance.now();
    }
  }
  return finish();
}
