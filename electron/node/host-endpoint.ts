// One host per Boxwood home: the Electron app, `boxwood serve` or a headless
// `boxwood vm start` records where its API listens in <home>/host.json (mode 0600,
// it holds the token). Other CLI invocations find it there and send their requests
// to it, so every command works on the same VM processes.
import { readFileSync, rmSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file';

const endpointSchema = z.object({ pid: z.number().int().positive(), port: z.number().int().min(1).max(65535), token: z.string().min(16), kind: z.enum(['electron', 'serve', 'headless']) });
export type HostEndpoint = z.infer<typeof endpointSchema>;

const file = (home: string) => path.join(home, 'host.json');

export function writeEndpoint(home: string, ep: HostEndpoint): void {
  writeFileAtomic(file(home), JSON.stringify(ep));
  chmodSync(file(home), 0o600);
}

/** The running host for this home, or null (none, stale file from a dead process, or unreadable). */
export function readEndpoint(home: string): HostEndpoint | null {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file(home), 'utf8'));
  } catch {
    return null;
  }
  const r = endpointSchema.safeParse(data);
  if (!r.success || !processAlive(r.data.pid)) return null;
  return r.data;
}

export function removeEndpoint(home: string, pid = process.pid): void {
  const ep = readEndpoint(home);
  if (!ep || ep.pid === pid) rmSync(file(home), { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
