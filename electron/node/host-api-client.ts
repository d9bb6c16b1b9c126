// A node-side client of a running host's API (used by the CLI): the same
// WebSocket protocol the browser UI speaks, authenticated with the bearer token.
import WebSocket from 'ws';
import type { HostEndpoint } from './host-endpoint';
import type { HostEvent } from '../../protocol/host-api';

export interface RemoteHost {
  call(method: string, params?: unknown): Promise<any>;
  onEvent(fn: (e: HostEvent) => void): void;
  close(): void;
}

export function connectHost(ep: HostEndpoint): Promise<RemoteHost> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${ep.port}/api`, { headers: { authorization: `Bearer ${ep.token}` } });
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const listeners: ((e: HostEvent) => void)[] = [];
    let next = 1;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (typeof m.id === 'number') {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(m.error));
      } else if (m.event) listeners.forEach((l) => l(m));
    });
    ws.on('close', () => pending.forEach((p) => p.reject(new Error('The Boxwood host closed the connection.'))));
    ws.on('error', (e) => reject(new Error(`Cannot reach the Boxwood host on port ${ep.port}: ${e.message}`)));
    ws.on('open', () =>
      resolve({
        call: (method, params = {}) =>
          new Promise((res, rej) => {
            const id = next++;
            pending.set(id, { resolve: res, reject: rej });
            ws.send(JSON.stringify({ id, method, params }));
          }),
        onEvent: (fn) => listeners.push(fn),
        close: () => ws.close(),
      }),
    );
  });
}
