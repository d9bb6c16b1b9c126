// One running VM as the host sees it: its process, its run state, the last log
// lines (shown when it aborts) and the displays attached to it.
import { parseMessage, fromVmSchema, type FromVm, type ToVm, type VmRunState } from '../../../protocol/vm-process';
import type { VmConfig } from '../../../protocol/vm-config';
import type { VmProcessChannel, VmProcessLauncher } from './channel';
import { VM_PROCESS_PROTOCOL_VERSION } from '../../../protocol/vm-process';
import { SerialBacklog } from './serial-backlog';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file';

export const THUMBNAIL_FILE = 'thumbnail.png';

const LOG_LINES_KEPT = 40;

export type DisplayListener = (message: FromVm) => void;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class VmSession {
  state: VmRunState = 'starting';
  problem: string | undefined;
  readonly log: string[] = [];
  private channel: VmProcessChannel | null = null;
  private readonly displays = new Set<DisplayListener>();
  /** Latest full-state messages, replayed to a display that attaches later. */
  private lastMode: FromVm | null = null;
  private lastText: FromVm | null = null;
  private serial = new SerialBacklog();
  private stopRequested = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, { resolve: (bytes: number | undefined) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly config: VmConfig,
    readonly folder: string,
    private readonly onStateChange: (session: VmSession) => void,
  ) {}

  /** restoreStateFile: resume a saved machine (online snapshot) instead of a cold boot. */
  start(launch: VmProcessLauncher, restoreStateFile?: string): void {
    this.stopRequested = false;
    this.problem = undefined;
    this.setState('starting');
    this.serial = new SerialBacklog();
    this.lastMode = this.lastText = null;
    const ch = launch(this.config.id);
    this.channel = ch;
    ch.onStderr((line) => this.addLog(`[stderr] ${line}`));
    ch.onMessage((raw) => this.receive(raw));
    ch.onExit((code, signal) => this.exited(code, signal));
    ch.send({ type: 'boot', protocol: VM_PROCESS_PROTOCOL_VERSION, vmDir: this.folder, config: this.config, ...(restoreStateFile ? { restoreStateFile } : {}) });
  }

  send(message: ToVm): void {
    if (message.type === 'power-off') this.stopRequested = true;
    this.channel?.send(message);
  }

  /**
   * Send a request the VM process answers with a 'reply' (snapshot-*); resolves with the
   * reply's byte count, rejects with its error, when the process exits, or after timeoutMs.
   */
  request(message: DistributiveOmit<Extract<ToVm, { requestId: number }>, 'requestId'>, timeoutMs = 60_000): Promise<number | undefined> {
    const ch = this.channel;
    if (!ch) return Promise.reject(new Error('The machine is not running.'));
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`The VM process did not answer ${message.type} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      ch.send({ ...message, requestId } as ToVm);
    });
  }

  /** Hard kill (power off when the process does not answer, or tests). */
  kill(): void {
    this.channel?.kill();
  }

  get pid(): number | undefined {
    return this.channel?.pid;
  }

  get alive(): boolean {
    return this.channel !== null;
  }

  attachDisplay(listener: DisplayListener): () => void {
    this.displays.add(listener);
    if (this.lastMode) listener(this.lastMode);
    if (this.lastText) listener(this.lastText);
    for (const { port, data } of this.serial.replay()) listener({ type: 'serial-output', port, data });
    this.channel?.send({ type: 'refresh' });
    return () => this.displays.delete(listener);
  }

  private receive(raw: unknown): void {
    const parsed = parseMessage(fromVmSchema, raw);
    if (!parsed.ok) {
      // A VM process speaking garbage is broken: say so, stop it, keep the app alive.
      this.addLog(`host: ${parsed.error}`);
      this.problem = `The VM process sent an invalid message (${parsed.error}).`;
      this.channel?.kill();
      return;
    }
    const m = parsed.value;
    switch (m.type) {
      case 'state':
        if (m.reason) this.addLog(`state ${m.state}: ${m.reason}`);
        if (m.state === 'stopped') this.stopRequested = true;
        this.setState(m.state);
        break;
      case 'log':
        this.addLog(`[${m.level}] ${m.source}: ${m.message}`);
        break;
      case 'fatal':
        this.addLog(`fatal: ${m.message}`);
        this.problem = m.message;
        break;
      case 'display-mode':
        this.lastMode = m;
        break;
      case 'text-screen':
        this.lastText = m;
        break;
      case 'serial-output':
        this.serial.add(m.port, m.data);
        break;
      case 'reply': {
        const p = this.pending.get(m.requestId);
        if (!p) return;
        this.pending.delete(m.requestId);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.bytes);
        else p.reject(new Error(m.error ?? 'the VM process refused the request'));
        return;
      }
      case 'thumbnail':
        // Kept beside vm.json so the list shows the last screen after the VM stops.
        try {
          writeFileAtomic(path.join(this.folder, THUMBNAIL_FILE), m.png);
          this.onStateChange(this);
        } catch (e) {
          this.addLog(`host: could not save the thumbnail: ${(e as Error).message}`);
        }
        return;
    }
    for (const d of this.displays) d(m);
  }

  private exited(code: number | null, signal: string | null): void {
    this.channel = null;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('The VM process exited before answering.'));
    }
    this.pending.clear();
    // A VM process exits 0 only once it stopped the machine (Power Off, the guest's ACPI S5):
    // a clean stop even if its last 'state' message did not arrive first (Electron's
    // utilityProcess reports 'exit' without waiting for parentPort messages).
    if (this.problem === undefined && (code === 0 || (this.stopRequested && signal === 'SIGKILL'))) {
      this.setState('stopped');
      return;
    }
    const how = signal === 'spawn-error' ? 'could not be started' : signal ? `was killed (${signal})` : `exited with code ${code}`;
    this.addLog(`host: the VM process ${how}`);
    this.problem ??= `The VM process ${how}.`;
    this.setState('aborted');
  }

  private setState(state: VmRunState): void {
    this.state = state;
    this.onStateChange(this);
    for (const d of this.displays) d({ type: 'state', state, reason: this.problem });
  }

  private addLog(line: string): void {
    this.log.push(line);
    if (this.log.length > LOG_LINES_KEPT) this.log.splice(0, this.log.length - LOG_LINES_KEPT);
  }
}
