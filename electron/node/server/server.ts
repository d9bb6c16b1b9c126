// `boxwood serve`: the host services over HTTP + WebSocket for the React UI in a
// browser. Loopback only by default, token-protected, and every message validated
// exactly as over Electron IPC (HostService.call / toVmSchema).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { HostService } from '../host-service';
import { tokenFromRequest, tokensEqual, hostAllowed, originAllowed, COOKIE_NAME, newToken } from './auth';
import { serveStatic } from './static-files';
import { hostRequestEnvelope, type HostReply } from '../../../protocol/host-api';
import { parseMessage, toVmSchema, HOST_ONLY_TO_VM } from '../../../protocol/vm-process';
import { encodeBinary, toJsonSafe } from '../../../protocol/display-wire';

export interface ServerOptions {
  service: HostService;
  staticDir: string;
  host?: string;
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open, with the token. */
  openUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? newToken();
  const host = opts.host ?? '127.0.0.1';
  let port = 0;

  const authorized = (req: http.IncomingMessage) => {
    const t = tokenFromRequest(req);
    return t !== null && tokensEqual(t, token);
  };

  const server = http.createServer((req, res) => {
    if (!hostAllowed(req, port)) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end('Boxwood only answers requests addressed to 127.0.0.1 or localhost.');
      return;
    }
    if (!authorized(req)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('This Boxwood server needs its access token. Open the URL that `boxwood serve` printed (it ends in ?token=…).');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.has('token')) {
      // Trade the token in the URL for a cookie, so it leaves the address bar and history.
      res.writeHead(302, {
        'set-cookie': `${COOKIE_NAME}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname,
      });
      res.end();
      return;
    }
    serveStatic(opts.staticDir, url.pathname, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if (!hostAllowed(req, port) || !originAllowed(req, port) || !authorized(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\nBoxwood: missing or wrong access token.\r\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (url.pathname === '/api') apiConnection(ws, opts.service);
      else if (url.pathname.startsWith('/display/')) displayConnection(ws, opts.service, decodeURIComponent(url.pathname.slice(9)));
      else ws.close(4404, 'unknown endpoint');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    openUrl: `${url}?token=${token}`,
    token,
    port,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Request/response + pushed events, one JSON object per message. */
function apiConnection(ws: WebSocket, service: HostService): void {
  const off = service.events.on('event', (e) => ws.send(JSON.stringify(e)));
  ws.on('close', off);
  ws.on('message', async (data: RawData, isBinary: boolean) => {
    let id = -1;
    try {
      if (isBinary) throw new Error('binary messages are not accepted on /api');
      const env = hostRequestEnvelope.safeParse(JSON.parse(data.toString()));
      if (!env.success) throw new Error('malformed request envelope');
      id = env.data.id;
      const result = await service.call(env.data.method, env.data.params);
      reply(ws, { id, ok: true, result });
    } catch (e) {
      reply(ws, { id, ok: false, error: (e as Error).message });
    }
  });
}

function reply(ws: WebSocket, r: HostReply): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(r));
}

/** Screen, serial and input for one running VM. */
function displayConnection(ws: WebSocket, service: HostService, vmId: string): void {
  let session;
  try {
    session = service.runningSession(vmId);
  } catch (e) {
    ws.close(4409, (e as Error).message);
    return;
  }
  const detach = session.attachDisplay((m) => {
    if (ws.readyState !== ws.OPEN) return;
    const bin = encodeBinary(m);
    if (bin) ws.send(bin);
    else ws.send(JSON.stringify(toJsonSafe(m)));
  });
  ws.on('close', detach);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    let raw: unknown;
    try {
      if (isBinary) throw new Error('binary input is not accepted');
      raw = JSON.parse(data.toString());
      // Serial input travels as text over JSON; the VM protocol carries bytes.
      const r = raw as { type?: unknown; text?: unknown; port?: unknown };
      if (r?.type === 'serial-input' && typeof r.text === 'string') raw = { type: 'serial-input', port: r.port, data: new TextEncoder().encode(r.text) };
    } catch (e) {
      ws.send(JSON.stringify({ type: 'error', error: (e as Error).message }));
      return;
    }
    const parsed = parseMessage(toVmSchema, raw);
    if (!parsed.ok || HOST_ONLY_TO_VM.has(parsed.value.type)) {
      ws.send(JSON.stringify({ type: 'error', error: parsed.ok ? `${parsed.value.type} is not a display message` : parsed.error }));
      return;
    }
    session.send(parsed.value);
  });
}
