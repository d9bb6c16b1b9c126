// The VM process's link to its parent: Electron's parentPort (utility process) or the
// child_process IPC channel (browser mode, CLI, tests).
import type { FromVm } from '../../../protocol/vm-process';

export interface MessagePortLike {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  on(event: 'close', fn: () => void): void;
  start(): void;
}

export interface ParentLink {
  /** Under Electron, display traffic goes only over display ports: main stays off the data path. */
  relaysDisplay: boolean;
  /**
   * `delivered` runs once the message has left this process. What a process sent but had
   * not yet written when it exits is lost: a slow host (busy, or still reading megabytes of
   * frames) would then never see the last 'state' message.
   */
  send(m: FromVm, delivered?: () => void): void;
  onMessage(fn: (data: unknown, ports: MessagePortLike[]) => void): void;
}

/** Under Electron the VM process must not wait on a port that never confirms a write. */
const PARENT_PORT_SETTLE_MS = 50;

export function parentLink(): ParentLink {
  const pp = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', fn: (e: { data: unknown; ports: MessagePortLike[] }) => void): void } }).parentPort;
  if (pp) {
    return {
      relaysDisplay: false,
      send: (m, delivered) => {
        // postMessage hands the message to Chromium's IPC at once; it has no completion callback.
        pp.postMessage(m);
        if (delivered) setTimeout(delivered, PARENT_PORT_SETTLE_MS);
      },
      onMessage: (fn) => pp.on('message', (e) => fn(e.data, e.ports ?? [])),
    };
  }
  if (!process.send) {
    console.error('vm-process: must be started by the Boxwood host (no IPC channel)');
    process.exit(2);
  }
  return {
    relaysDisplay: true,
    // The callback runs when the write completed (or failed: the parent is gone, nobody to tell).
    send: (m, delivered) => void process.send!(m, () => delivered?.()),
    onMessage: (fn) => process.on('message', (d) => fn(d, [])),
  };
}
