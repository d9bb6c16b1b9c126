import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import WebSocket from 'ws';
import { startServer, type RunningServer } from './server';
import { HostService } from '../host-service';
import { VmLibrary } from '../library/vm-library';
import type { VmProcessLauncher } from '../vm-process/channel';

// These tests pin the transport: auth, host checks, request validation. No VM is
// started here, so the launcher refuses to be used.
const noLaunch: VmProcessLauncher = () => {
  throw new Error('no VM processes in transport tests');
};

let home: string;
let srv: RunningServer;

function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: srv.port, path: p, headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function api(token: string | null): Promise<{ ws: WebSocket; call: (method: string, params?: unknown) => Promise<any> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    let next = 1;
    const pending = new Map<number, (r: any) => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if ('id' in m) pending.get(m.id)?.(m);
    });
    ws.on('open', () =>
      resolve({
        ws,
        call: (method, params = {}) =>
          new Promise((res) => {
            const id = next++;
            pending.set(id, res);
            ws.send(JSON.stringify({ id, method, params }));
          }),
      }),
    );
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'bw-srv-'));
  const ui = path.join(home, 'ui');
  mkdirSync(ui);
  writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Boxwood</title>');
  srv = await startServer({ service: new HostService(new VmLibrary(path.join(home, 'lib')), noLaunch), staticDir: ui });
});
afterAll(async () => {
  await srv.close();
  rmSync(home, { recursive: true, force: true });
});

describe('browser-mode server', () => {
  it('binds loopback and prints a token URL', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(srv.openUrl).toContain(`?token=${srv.token}`);
  });

  it('refuses requests without the token', async () => {
    const r = await get('/');
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/access token/);
  });

  it('refuses a wrong token and a foreign Host header', async () => {
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get(`/?token=${srv.token}`, { host: 'evil.example:80' })).status).toBe(421);
  });

  it('trades the URL token for an HttpOnly SameSite cookie, then serves the UI with a CSP', async () => {
    const r = await get(`/?token=${srv.token}`);
    expect(r.status).toBe(302);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await get('/', { cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.body).toContain('<title>Boxwood</title>');
  });

  it('rejects a WebSocket without the token', async () => {
    await expect(api(null)).rejects.toThrow();
  });

  it('rejects a cross-site WebSocket origin even with the cookie', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api`, { headers: { authorization: `Bearer ${srv.token}`, origin: 'http://evil.example' } });
        ws.on('open', resolve);
        ws.on('error', reject);
        ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
    ).rejects.toThrow();
  });

  it('serves validated API calls and explains bad ones', async () => {
    const { ws, call } = await api(srv.token);
    const created = await call('vm.create', { name: 'Test VM', osType: 'linux', memoryMiB: 128 });
    expect(created.ok).toBe(true);
    expect(created.result.config.name).toBe('Test VM');
    const list = await call('vm.list');
    expect(list.result.map((v: any) => v.config?.name)).toContain('Test VM');
    const dup = await call('vm.create', { name: 'test vm', osType: 'linux', memoryMiB: 128 });
    expect(dup).toMatchObject({ ok: false });
    expect(dup.error).toMatch(/already exists/);
    const bad = await call('vm.start', { id: 42 });
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/Invalid vm.start request/);
    const unknown = await call('rm -rf', {});
    expect(unknown.error).toMatch(/Unknown request/);
    ws.send('not json at all');
    ws.close();
  });
});
