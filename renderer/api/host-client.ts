// The renderer's only door to the host. In browser mode it speaks WebSocket to
// `boxwood serve` (same origin, cookie-authenticated); in Electron the preload
// script exposes the same shape as window.boxwood. No Node imports here.
import type { HostEvent, HostMethod, HostParams } from '../../protocol/host-api';
import { decodeBinary } from '../../protocol/display-wire';
import type { FromVm } from '../../protocol/vm-process';
import { electronHostClient } from './electron-client';

export type DisplayMessage = FromVm | { type: 'error'; error: string } | { type: 'screenshot'; pngBase64: string };

export interface DisplayConnection {
  onMessage(fn: (m: DisplayMessage) => void): void;
  onClose(fn: (reason: string) => void): void;
  send(message: Record<string, unknown>): void;
  close(): void;
}

export interface HostClient {
  call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<any>;
  onEvent(fn: (e: HostEvent) => void): () => void;
  openDisplay(vmId: string): DisplayConnection;
  onConnectionChange(fn: (connected: boolean) => void): void;
}

export class HostCallError extends Error {}

export function browserHostClient(base = location): HostClient {
  const wsBase = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}`;
  let socket: WebSocket | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(e: HostEvent) => void>();
  const connListeners = new Set<(c: boolean) => void>();
  let ready: Promise<WebSocket> | null = null;

  const connect = (): Promise<WebSocket> => {
    if (ready) return ready;
    ready = new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/api`);
      ws.onopen = () => {
        socket = ws;
        connListeners.forEach((f) => f(true));
        resolve(ws);
      };
      ws.onerror = () => reject(new HostCallError('Cannot reach the Boxwood host. Is `boxwood serve` still running?'));
      ws.onclose = () => {
        socket = null;
        ready = null;
        connListeners.forEach((f) => f(false));
        for (const p of pending.values()) p.reject(new HostCallError('The connection to the Boxwood host was lost.'));
        pending.clear();
      };
      ws.onmessage = (ev) => {
        const m = JSON.parse(String(ev.data));
        if (typeof m.id === 'number') {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (!p) return;
          if (m.ok) p.resolve(m.result);
          else p.reject(new HostCallError(m.error));
        } else if (m.event) listeners.forEach((f) => f(m as HostEvent));
      };
    });
    return ready;
  };

  return {
    async call(method, params) {
      const ws = socket ?? (await connect());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    onEvent(fn) {
      listeners.add(fn);
      void connect().catch(() => {});
      return () => listeners.delete(fn);
    },
    onConnectionChange(fn) {
      connListeners.add(fn);
    },
    openDisplay(vmId) {
      const ws = new WebSocket(`${wsBase}/display/${encodeURIComponent(vmId)}`);
      ws.binaryType = 'arraybuffer';
      const queue: string[] = [];
      let onMsg: (m: DisplayMessage) => void = () => {};
      let onClose: (r: string) => void = () => {};
      ws.onopen = () => queue.splice(0).forEach((q) => ws.send(q));
      ws.onmessage = (ev) => {
        if (ev.data instanceof ArrayBuffer) {
          const m = decodeBinary(new Uint8Array(ev.data));
          if (m) onMsg(m);
        } else onMsg(JSON.parse(String(ev.data)));
      };
      ws.onclose = (ev) => onClose(ev.reason || 'The display connection closed.');
      return {
        onMessage: (fn) => (onMsg = fn),
        onClose: (fn) => (onClose = fn),
        send: (message) => {
          const s = JSON.stringify(message);
          if (ws.readyState === WebSocket.OPEN) ws.send(s);
          else queue.push(s);
        },
        close: () => ws.close(),
      };
    },
  };
}

let client: HostClient | null = null;

/** Electron (preload bridge present) or browser mode (WebSocket to `boxwood serve`). */
export function hostClient(): HostClient {
  client ??= window.boxwoodIpc ? electronHostClient(window.boxwoodIpc) : browserHostClient();
  return client;
}

/** Electron application-menu commands (VirtualBox-style menus); none in browser mode. */
export function onMenuCommand(fn: (command: { kind: 'manager' | 'vm'; action: string }) => void): void {
  window.boxwoodIpc?.onMenu(fn);
}
