// HostClient over the Electron preload bridge. Display traffic flows over a
// MessagePort straight to the VM's utility process (main only brokers the port).
import type { DisplayConnection, DisplayMessage, HostClient } from './host-client';

export interface BoxwoodIpc {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(fn: (e: unknown) => void): () => void;
  attachDisplay(vmId: string): void;
  openDisplay(vmId: string): void;
  onMenu(fn: (command: { kind: 'manager' | 'vm'; action: string }) => void): void;
}

declare global {
  interface Window {
    boxwoodIpc?: BoxwoodIpc;
  }
}

export function electronHostClient(ipc: BoxwoodIpc): HostClient {
  return {
    call: (method, params) =>
      ipc.call(method, params).catch((e: Error) => {
        // Electron prefixes remote errors; show the user only our message.
        throw new Error(e.message.replace(/^Error invoking remote method '[^']+': (Error: )?/, ''));
      }) as Promise<any>,
    onEvent: (fn) => ipc.onEvent(fn as (e: unknown) => void),
    onConnectionChange: () => {},
    openDisplay(vmId): DisplayConnection {
      let port: MessagePort | null = null;
      const queue: unknown[] = [];
      let onMsg: (m: DisplayMessage) => void = () => {};
      let onClose: (r: string) => void = () => {};
      const onWindowMessage = (ev: MessageEvent) => {
        if (ev.source !== window) return;
        if (ev.data?.boxwoodDisplayPort === vmId && ev.ports[0]) {
          port = ev.ports[0];
          port.onmessage = (e) => onMsg(e.data as DisplayMessage);
          port.start();
          queue.splice(0).forEach((q) => port!.postMessage(q));
        } else if (ev.data?.boxwoodDisplayError === vmId) onClose(ev.data.error);
      };
      window.addEventListener('message', onWindowMessage);
      ipc.attachDisplay(vmId);
      const toVm = (m: Record<string, unknown>) => (m.type === 'serial-input' && typeof m.text === 'string' ? { type: 'serial-input', port: m.port, data: new TextEncoder().encode(m.text) } : m);
      return {
        onMessage: (fn) => (onMsg = fn),
        onClose: (fn) => (onClose = fn),
        send: (m) => (port ? port.postMessage(toVm(m)) : queue.push(toVm(m))),
        close: () => {
          window.removeEventListener('message', onWindowMessage);
          port?.close();
        },
      };
    },
  };
}
