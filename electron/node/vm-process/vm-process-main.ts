// Entry point of a VM process: one per running VM, started by the host with
// child_process.fork (browser mode, CLI) or Electron's utilityProcess.fork. It
// runs the engine, and speaks protocol/vm-process.ts to its parent and (under
// Electron) over MessagePorts straight to display windows. Everything received is
// validated; any failure is reported as 'fatal' before the process exits non-zero,
// so the host can show the VM as Aborted with the reason.
import { parseMessage, toVmSchema, HOST_ONLY_TO_VM, type FromVm, type ToVm } from '../../../protocol/vm-process';
import { EngineRunner } from './engine-runner';
import { SerialBacklog } from './serial-backlog';

interface ParentLink {
  /** Under Electron, display traffic goes only over display ports: main stays off the data path. */
  relaysDisplay: boolean;
  send(m: FromVm): void;
  onMessage(fn: (data: unknown, ports: MessagePortLike[]) => void): void;
}

export interface MessagePortLike {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  on(event: 'close', fn: () => void): void;
  start(): void;
}

function parentLink(): ParentLink {
  const pp = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', fn: (e: { data: unknown; ports: MessagePortLike[] }) => void): void } }).parentPort;
  if (pp) {
    return { relaysDisplay: false, send: (m) => pp.postMessage(m), onMessage: (fn) => pp.on('message', (e) => fn(e.data, e.ports ?? [])) };
  }
  if (!process.send) {
    console.error('vm-process: must be started by the Boxwood host (no IPC channel)');
    process.exit(2);
  }
  return { relaysDisplay: true, send: (m) => process.send!(m), onMessage: (fn) => process.on('message', (d) => fn(d, [])) };
}

const parent = parentLink();
const displays = new Set<MessagePortLike>();
let runner: EngineRunner | null = null;

const DISPLAY_ONLY = new Set<FromVm['type']>(['frame', 'text-screen', 'serial-output', 'display-mode', 'activity', 'screenshot']);
// (thumbnails go to the host: it stores them for the VM list)

// Under Electron, displays attach here directly: they get the backlog from this process.
const backlog = new SerialBacklog();

const emit = (m: FromVm) => {
  if (m.type === 'serial-output' && !parent.relaysDisplay) backlog.add(m.port, m.data);
  if (parent.relaysDisplay || !DISPLAY_ONLY.has(m.type)) parent.send(m);
  for (const p of displays) p.postMessage(m);
};

function fatal(message: string): never {
  try {
    emit({ type: 'fatal', message: message.slice(0, 16000) });
  } finally {
    // Give the IPC channel a moment to deliver the reason.
    setTimeout(() => process.exit(1), 50);
  }
  throw new Error(message);
}

process.on('uncaughtException', (e) => fatal(`internal error in the VM process: ${e.stack ?? e.message}`));

function handle(raw: unknown, fromDisplay: boolean): void {
  const parsed = parseMessage(toVmSchema, raw);
  if (!parsed.ok) {
    emit({ type: 'log', level: 'warn', source: 'vm-process', message: `ignored ${parsed.error}` });
    return;
  }
  const m: ToVm = parsed.value;
  if (fromDisplay && HOST_ONLY_TO_VM.has(m.type)) return;
  if (m.type === 'boot') {
    if (runner) return;
    try {
      runner = new EngineRunner(m.config, m.vmDir, emit, m.restoreStateFile);
    } catch (e) {
      fatal((e as Error).message);
    }
    runner.start();
    return;
  }
  runner?.command(m);
}

parent.onMessage((data, ports) => {
  const d = data as { type?: unknown };
  if (d?.type === 'attach-display' && ports[0]) {
    const port = ports[0];
    displays.add(port);
    port.on('message', (e) => handle(e.data, true));
    port.on('close', () => displays.delete(port));
    port.start();
    for (const { port: p, data } of backlog.replay()) port.postMessage({ type: 'serial-output', port: p, data });
    runner?.command({ type: 'refresh' });
    return;
  }
  handle(data, false);
});
