// `npm run bench:snapshot`: seconds to take and to restore a snapshot of a running
// 256 MiB guest, through the host API and a real VM process (as the app does it):
//   take      snapshot.take of the running VM (freeze, flush, state file, overlays, commit, thaw)
//   restore   snapshot.restore of the powered-off VM (new overlays, commit)
//   resume    vm.start until the VM process runs the restored machine (state file read + restore)
// then checks that the guest continues where it was (no cold boot). A benchmark: it
// prints figures, nothing is timed against a limit.
//   node --import tsx bench/snapshot.ts [linux|ticker]
//     linux   (default) Debian's i386 kernel + initramfs by direct boot, snapshot at the shell prompt
//     ticker  the 512-byte counting boot sector of the snapshot tests (seconds, no OS)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostService } from '../electron/node/host-service';
import { VmLibrary } from '../electron/node/library/vm-library';
import { nodeLauncher } from '../electron/node/vm-process/node-launcher';
import { openDiskImage } from '../electron/node/storage/open-image';
import { tickerBootSector } from '../electron/node/snapshots/ticker-guest';
import { resolveIn } from '../electron/node/snapshots/snapshot-store';
import type { VmSummary } from '../protocol/host-api';
import type { Snapshot } from '../protocol/snapshots';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const guests = path.resolve(root, '../shared/guests');
// Other arguments (filters `npm run bench` passes to every benchmark) are ignored.
const guest = process.argv.slice(2).includes('ticker') ? 'ticker' : 'linux';
const MEMORY_MIB = 256;
const BOOT_LIMIT_MS = Number(process.env.BOXWOOD_BENCH_LIMIT_SEC ?? 600) * 1000;

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'boxwood-bench-snapshot-'));
const host = new HostService(new VmLibrary(home), nodeLauncher());
let serial = '';
const sec = (ms: number) => (ms / 1000).toFixed(2).padStart(7);

async function until<T>(what: string, fn: () => T | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; serial tail: ${JSON.stringify(serial.slice(-300))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function attach(id: string): void {
  serial = '';
  host.runningSession(id).attachDisplay((m) => {
    if (m.type === 'serial-output' && m.port === 0) serial += Buffer.from(m.data).toString('latin1');
  });
}

const state = async (id: string) => ((await host.call('vm.get', { id })) as VmSummary).state;
const tickerCounts = () => [...serial.matchAll(/T([0-9A-F]{4})\n/g)].map((m) => parseInt(m[1], 16));

async function stop(id: string): Promise<void> {
  await host.call('vm.powerOff', { id });
  await until('the VM process to exit', () => !host.isRunning(id), 15_000);
}

/** Type a command on the serial console and wait for its output. */
async function shell(id: string, marker: string): Promise<number> {
  const t0 = performance.now();
  host.runningSession(id).send({ type: 'serial-input', port: 0, data: new TextEncoder().encode(`echo ${marker.slice(0, 4)}''${marker.slice(4)}\n`) });
  await until(`the shell to answer ${marker}`, () => serial.includes(marker), 60_000);
  return performance.now() - t0;
}

try {
  const vm = (await host.call('vm.create', {
    name: 'Bench',
    osType: 'linux',
    memoryMiB: MEMORY_MIB,
    bootOrder: ['disk'],
    newDisk: { sizeMiB: 64, format: 'qcow2' },
    kernel: guest === 'linux' ? { path: path.join(guests, 'linux-686.vmlinuz'), initrd: path.join(guests, 'linux-686.initrd.gz'), cmdline: 'console=ttyS0,115200' } : undefined,
  })) as VmSummary;
  const id = vm.id;
  if (guest === 'ticker') {
    const img = openDiskImage(resolveIn(vm.folder, vm.config!.storage[0].path!), { writable: true });
    img.write(0, tickerBootSector());
    img.close();
  }

  let t = performance.now();
  await host.call('vm.start', { id });
  attach(id);
  if (guest === 'linux') await until('the shell prompt', () => serial.includes('guest# '), BOOT_LIMIT_MS);
  else await until('the guest counting', () => tickerCounts().length >= 3, 60_000);
  const bootMs = performance.now() - t;

  t = performance.now();
  const snap = (await host.call('snapshot.take', { id, name: 'bench' })) as Snapshot;
  const takeMs = performance.now() - t;
  const stateBytes = fs.statSync(resolveIn(vm.folder, snap.stateFile!)).size;
  // Still running after the snapshot, on the new overlay.
  let afterTake: string;
  if (guest === 'linux') afterTake = `shell answers in ${sec(await shell(id, 'after-take-ok')).trim()} s`;
  else {
    const n = tickerCounts().length;
    await until('counting after the snapshot', () => tickerCounts().length >= n + 2, 10_000);
    afterTake = `count goes on (${tickerCounts().at(-1)})`;
  }
  if ((await state(id)) !== 'running') throw new Error('the VM is not running after the snapshot');
  await stop(id);

  t = performance.now();
  await host.call('snapshot.restore', { id, snapshotId: snap.id });
  const restoreMs = performance.now() - t;

  t = performance.now();
  await host.call('vm.start', { id });
  attach(id);
  await until('the restored VM to run', () => host.sessions.get(id)?.state === 'running', 120_000);
  const resumeMs = performance.now() - t;
  let verified: string;
  if (guest === 'linux') {
    const answer = await shell(id, 'resumed-ok');
    if (serial.includes('Linux version')) throw new Error('the restored VM booted cold');
    verified = `shell answers in ${sec(answer).trim()} s, no cold boot`;
  } else {
    const counts = await until('the restored guest counting', () => tickerCounts().length >= 2 && tickerCounts(), 10_000);
    const frozen = openDiskImage(resolveIn(vm.folder, snap.disks['ide-0']));
    const b = new Uint8Array(512);
    frozen.read(512, b, 0, 512);
    frozen.close();
    const k = b[3] | (b[4] << 8);
    if (counts[0] < k || counts[0] > k + 1) throw new Error(`the restored guest counts from ${counts[0]}, the snapshot was at ${k}`);
    verified = `count continues at ${counts[0]} (snapshot at ${k})`;
  }
  await stop(id);

  console.log(`guest: ${guest}, ${MEMORY_MIB} MiB RAM, 64 MiB qcow2 disk (VM process through tsx)`);
  console.log('step                         seconds');
  console.log(`boot to ${guest === 'linux' ? 'shell prompt ' : 'counting     '}         ${sec(bootMs)}`);
  console.log(`take (running)               ${sec(takeMs)}   state file ${(stateBytes / 2 ** 20).toFixed(1)} MiB; after: ${afterTake}`);
  console.log(`restore (powered off)        ${sec(restoreMs)}`);
  console.log(`resume (start → running)     ${sec(resumeMs)}   ${verified}`);
} finally {
  host.shutdownAll();
  await new Promise((r) => setTimeout(r, 200));
  fs.rmSync(home, { recursive: true, force: true });
}
