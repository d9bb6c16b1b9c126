// The child_process launcher reports a VM process's end once, as it really ended. A
// process SIGKILLed while the host keeps sending to it makes those sends fail (EPIPE)
// before 'exit' arrives; that must not be taken for a failed spawn (the session would then
// say "killed (spawn-error)" instead of "killed (SIGKILL)").
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeLauncher } from './node-launcher';
import type { ToVm } from '../../../protocol/vm-process';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-launcher-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in VM process: answers every message, so the IPC pipe is busy in both directions. */
const entry = path.join(dir, 'echo-child.mjs');
fs.writeFileSync(entry, "process.on('message', (m) => process.send(m)); process.send({ type: 'up' });\n");

describe('nodeLauncher', () => {
  it('reports a SIGKILL once, as SIGKILL, even while sends to the dead process fail', async () => {
    for (let round = 0; round < 5; round++) {
      const channel = nodeLauncher(entry)(`vm-${round}`);
      const ends: [number | null, string | null][] = [];
      const ended = new Promise<void>((resolve) =>
        channel.onExit((code, signal) => {
          ends.push([code, signal]);
          resolve();
        }),
      );
      await new Promise<void>((resolve) => channel.onMessage(() => resolve()));
      process.kill(channel.pid!, 'SIGKILL');
      // Keep sending until the end is reported (and a little after): every send that
      // reaches the dead pipe fails.
      let sending = true;
      const pump = () => {
        channel.send({ type: 'refresh' } as ToVm);
        if (sending) setImmediate(pump);
      };
      pump();
      await ended;
      await new Promise((r) => setTimeout(r, 50));
      sending = false;
      expect(ends).toEqual([[null, 'SIGKILL']]);
    }
  });

  it('reports a process that cannot start as a spawn error', async () => {
    const channel = nodeLauncher(path.join(dir, 'missing-entry.mjs'))('vm-missing');
    const end = await new Promise<[number | null, string | null]>((resolve) => channel.onExit((code, signal) => resolve([code, signal])));
    // node itself starts and exits non-zero when the entry is missing; either way, one end.
    expect(end[0] === 1 || end[1] === 'spawn-error').toBe(true);
  });
});
