// Start a host in this process: host services + the browser-mode server, recorded
// as this home's endpoint. Used by `boxwood serve`, headless `boxwood vm start`
// and the end-to-end tests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostService } from './host-service';
import { VmLibrary } from './library/vm-library';
import { nodeLauncher } from './vm-process/node-launcher';
import { startServer, type RunningServer } from './server/server';
import { writeEndpoint, removeEndpoint, readEndpoint } from './host-endpoint';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RENDERER_DIR = path.join(REPO_ROOT, 'dist', 'renderer');

export interface LocalHost {
  service: HostService;
  server: RunningServer;
  stop(): Promise<void>;
}

export async function startLocalHost(opts: { home: string; kind: 'serve' | 'headless'; port?: number; host?: string }): Promise<LocalHost> {
  const running = readEndpoint(opts.home);
  if (running) throw new Error(`Another Boxwood host (pid ${running.pid}, ${running.kind}) already manages ${opts.home}. Use it, or stop it first.`);
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    const { buildRenderer } = await import('../../scripts/build');
    await buildRenderer();
  }
  const { buildVmProcess } = await import('../../scripts/build');
  const vmProcess = process.env.BOXWOOD_TSX === '1' ? undefined : await buildVmProcess();
  const service = new HostService(new VmLibrary(opts.home), nodeLauncher(vmProcess));
  const server = await startServer({ service, staticDir: RENDERER_DIR, port: opts.port, host: opts.host });
  writeEndpoint(opts.home, { pid: process.pid, port: server.port, token: server.token, kind: opts.kind });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    service.shutdownAll();
    removeEndpoint(opts.home);
    await server.close();
  };
  return { service, server, stop };
}
