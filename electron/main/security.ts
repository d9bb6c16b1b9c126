// Secure defaults for every window: isolated, sandboxed renderers without Node, a
// strict CSP, the UI served from app://boxwood (never file://), no navigation away
// and no window.open except our own display windows.
import { app, protocol, net, session, type WebContents, type IpcMainInvokeEvent, type IpcMainEvent } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../node/server/static-files';

export const APP_ORIGIN = 'app://boxwood';

export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serve dist/renderer under app://boxwood/ with the CSP header. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle('app', async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'boxwood') return new Response('not found', { status: 404 });
    const file = path.resolve(rendererDir, '.' + decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(path.resolve(rendererDir) + path.sep)) return new Response('forbidden', { status: 403 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
    return new Response(res.body, { status: res.status, headers });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, cb) => cb(permission === 'fullscreen' || permission === 'pointerLock' || permission === 'clipboard-sanitized-write'));
}

export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (e, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) e.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** IPC is only accepted from our own pages. */
export function senderOk(event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith(APP_ORIGIN + '/');
}

export const webPreferences = (preload: string) => ({
  preload,
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  webSecurity: true,
  spellcheck: false,
});

export { app };
