// Entry point of a VM process: one per running VM, started by the host with
// child_process.fork (browser mode, CLI) or Electron's utilityProcess.fork. It
// runs the engine, and speaks protocol/vm-process.ts to its parent and (under
// Electron) over MessagePorts straight to display windows. Everything received is
// validated; any failure is reported as 'fatal' before the process exits non-zero,
// so the host can show the VM as Aborted with the reason.
import { parseMessage, toVmSchema, HOST_ONLY_TO_VM, type FromVm, type ToVm } from '../../../protocol/vm-process';
import { EngineRunner, EXIT_FALLBACK_MS } from './engine-runner';
import { SerialBacklog } from './serial-backlog';
import { parentLink, type MessagePortLike } from './parent-link';

const parent = parentLink();
const displays = new Set<MessagePortLike>();
let runner: EngineRunner | null = null;

const DISPLAY_ONLY = new Set<FromVm['type']>(['frame', 'text-screen', 'serial-output', 'display-mode', 'activity', 'screenshot']);
// (thumbnails go to the host: it stores them for the VM list)

// Under Electron, displays attach here directly: they get the backlog from this process.
const backlog = new SerialBacklog();

/** `delivered`: see ParentLink.send (the runner exits only after its last message left). */
const emit = (m: FromVm, delivered?: () => void) => {
  if (m.type === 'serial-output' && !parent.relaysDisplay) backlog.add(m.port, m.data);
  for (const p of displays) p.postMessage(m);
  if (parent.relaysDisplay || !DISPLAY_ONLY.has(m.type)) parent.send(m, delivered);
  else if (delivered) setImmediate(delivered);
};

function fatal(message: string): never {
  try {
    // Exit once the reason has left (or after a while, should the parent not read at all).
    emit({ type: 'fatal', message: message.slice(0, 16000) }, () => process.exit(1));
  } finally {
    setTimeout(() => process.exit(1), EXIT_FALLBACK_MS);
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
