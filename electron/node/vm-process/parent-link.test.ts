// A VM process that ends must not lose its last messages: it exits only once they have
// left (ParentLink.send's `delivered`), and the launcher reports the end only after the
// host has read them. A VM process that exited 50 ms after its final 'state' lost it
// behind a few megabytes of frames whenever the host was busy, and the machine the
// guest had powered off showed as Aborted ("exited with code 0").
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeLauncher } from './node-launcher';
import type { ToVm } from '../../../protocol/vm-process';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-parent-link-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in VM process: on the host's word, 4 MiB of frame, then its end, then exit. */
const entry = path.join(dir, 'ending-vm.ts');
fs.writeFileSync(
  entry,
  `import { parentLink } from ${JSON.stringify(path.join(here, 'parent-link.ts'))};
const link = parentLink();
link.onMessage(() => {
  link.send({ type: 'frame', x: 0, y: 0, width: 1024, height: 1024, rgba: new Uint8Array(4 << 20) });
  link.send({ type: 'state', state: 'stopped', reason: 'power-off' }, () => process.exit(0));
});
link.send({ type: 'state', state: 'running' });
`,
);

describe('ParentLink and nodeLauncher', () => {
  it('deliver the last messages of a process that exits while the host is busy', async () => {
    const channel = nodeLauncher(entry)('vm-ending');
    const got: string[] = [];
    let up!: () => void;
    const running = new Promise<void>((r) => (up = r));
    channel.onMessage((raw) => {
      const m = raw as { type: string; state?: string };
      got.push(m.state ? `${m.type}:${m.state}` : m.type);
      if (m.state === 'running') up();
    });
    const ended = new Promise<[number | null, string | null]>((resolve) => channel.onExit((code, signal) => resolve([code, signal])));
    await running;
    channel.send({ type: 'refresh' } as ToVm);
    // The host is busy (a long turn of its own) while the VM process sends and ends.
    const until = Date.now() + 1500;
    while (Date.now() < until);
    const [code, signal] = await ended;
    got.push(`end:${code ?? signal}`);
    expect(got).toEqual(['state:running', 'frame', 'state:stopped', 'end:0']);
  }, 30_000);
});
