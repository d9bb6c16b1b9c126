// `npm run bench:boot`: seconds and MIPS from power-on to each marker of each
// reference guest, with both firmwares, next to the QEMU TCG timings from the guests
// README. A benchmark, not a test: nothing here passes or fails.
//   node --import tsx bench/boot.ts [filter…]     (e.g. `hello`, `linux-direct`, `seabios`)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngine } from '../cli/engine-loader';
import { classifyImage, loadFirmwareImages, openImage } from '../cli/host-images';
import type { MachineConfig, FirmwareKind } from '../engine/machine/machine-config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const guests = path.resolve(root, '../shared/guests');
const g = (f: string) => path.join(guests, f);
const LIMIT_SEC = Number(process.env.BOXWOOD_BENCH_LIMIT_SEC ?? 900);

interface Marker {
  name: string;
  serial?: RegExp;
  screen?: RegExp;
  /** QEMU TCG seconds from the guests README, for comparison. */
  qemu: number | null;
}

interface Case {
  guest: string;
  config(firmware: FirmwareKind): MachineConfig;
  markers: Marker[];
}

const linuxMarkers = (qemu: [number, number, number]): Marker[] => [
  { name: 'GUEST-READY', serial: /GUEST-READY/, qemu: qemu[0] },
  { name: 'GUEST-WORKLOAD-DONE', serial: /GUEST-WORKLOAD-DONE/, qemu: qemu[1] },
  { name: 'prompt', serial: /guest# /, qemu: qemu[2] },
];

function image(firmware: FirmwareKind, file: string): MachineConfig {
  let kind = classifyImage(g(file));
  if (kind === 'fda' && firmware === 'seabios') kind = 'hda';
  return { memoryMiB: 128, firmware, firmwareImages: loadFirmwareImages(firmware, false), disks: { [kind]: openImage(g(file), kind) } };
}

const cases: Case[] = [
  { guest: 'hello', config: (f) => image(f, 'hello.img'), markers: [{ name: 'HELLO', serial: /HELLO/, qemu: 0.22 }] },
  {
    guest: 'linux-direct',
    config: (f) => ({
      memoryMiB: 128,
      firmware: f,
      firmwareImages: loadFirmwareImages(f, true),
      kernel: new Uint8Array(fs.readFileSync(g('linux-686.vmlinuz'))),
      initrd: new Uint8Array(fs.readFileSync(g('linux-686.initrd.gz'))),
      cmdline: 'console=ttyS0,115200 console=tty0',
    }),
    markers: [{ name: 'first kernel line', serial: /Linux version/, qemu: 2.12 }, ...linuxMarkers([5.4, 6.45, 6.49])],
  },
  { guest: 'linux-cd', config: (f) => image(f, 'linux-686.iso'), markers: [{ name: 'ISOLINUX', serial: /ISOLINUX/, qemu: 0.22 }, ...linuxMarkers([7.86, 8.97, NaN])] },
  { guest: 'linux-hdd', config: (f) => image(f, 'linux-686.hdd.img'), markers: [{ name: 'SYSLINUX', serial: /SYSLINUX/, qemu: 0.24 }, ...linuxMarkers([7.99, 9.21, NaN])] },
  { guest: 'memtest', config: (f) => image(f, 'memtest86+ia32.iso'), markers: [{ name: 'header', screen: /Memtest86\+ v6\.10/, qemu: 0.37 }, { name: 'Status: Testing', screen: /Status: Testing/, qemu: 3.42 }] },
];

const filters = process.argv.slice(2);
const engine = await loadEngine();
engine.setLogSink(() => {});
console.log('guest          firmware  marker                seconds    MIPS   QEMU TCG s');
for (const c of cases) {
  for (const firmware of ['builtin', 'seabios'] as FirmwareKind[]) {
    const label = `${c.guest} ${firmware}`;
    if (filters.length && !filters.some((f) => label.includes(f))) continue;
    let config: MachineConfig;
    try {
      config = c.config(firmware);
    } catch (e) {
      console.log(`${c.guest.padEnd(14)} ${firmware.padEnd(9)} cannot start: ${(e as Error).message}`);
      continue;
    }
    const m = new engine.Machine(config);
    let serial = '';
    m.events.on('serial-output', ({ port, data }) => {
      if (port === 0) serial = (serial + Buffer.from(data).toString('latin1')).slice(-65536);
    });
    const t0 = performance.now();
    let next = 0;
    let lastScreen = 0;
    while (next < c.markers.length) {
      const r = m.runSlice(500_000);
      const now = performance.now();
      const mk = c.markers[next];
      let hit = mk.serial ? mk.serial.test(serial) : false;
      if (mk.screen && now - lastScreen > 200) {
        lastScreen = now;
        hit = mk.screen.test(m.textScreen());
      }
      if (hit) {
        const secs = (now - t0) / 1000;
        const mips = m.cpu.instructionCount / 1e6 / secs;
        console.log(`${c.guest.padEnd(14)} ${firmware.padEnd(9)} ${mk.name.padEnd(20)} ${secs.toFixed(2).padStart(8)} ${mips.toFixed(1).padStart(7)}   ${mk.qemu === null || Number.isNaN(mk.qemu) ? '-' : mk.qemu}`);
        next++;
        continue;
      }
      if (r.reason === 'stopped' || (now - t0) / 1000 > LIMIT_SEC) {
        console.log(`${c.guest.padEnd(14)} ${firmware.padEnd(9)} ${mk.name.padEnd(20)} not reached (${r.reason === 'stopped' ? m.stopReason : `limit ${LIMIT_SEC} s`})`);
        break;
      }
      if (r.reason === 'idle') await new Promise((res) => setTimeout(res, 1));
    }
  }
}
