// Guest boot tests: boot the reference images (../shared/guests, or BOXWOOD_GUESTS_DIR)
// in-process and wait for their markers. Prints one line per test and ends with
// `N passed, N failed, N skipped`.
//
//   node --import tsx test/guests/boot-guests.ts [filter…]
//
// Filters select tests whose name contains any of the words (e.g. `hello`, `seabios`).
// BOXWOOD_GUEST_TIMEOUT_SCALE multiplies every wall-clock timeout (slow or busy hosts).
// The engine is loaded as an esbuild bundle (cli/engine-loader.ts), as `boxwood run` does.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngine, type EngineModule } from '../../cli/engine-loader';
import { classifyImage, loadFirmwareImages, openImage } from '../../cli/host-images';
import { runSession, type SessionResult } from '../../cli/run-session';
import type { MachineConfig, FirmwareKind } from '../../engine/machine/machine-config';
import type { Machine } from '../../engine/machine/machine';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guests = process.env.BOXWOOD_GUESTS_DIR ?? path.resolve(root, '../shared/guests');
const scale = Number(process.env.BOXWOOD_GUEST_TIMEOUT_SCALE ?? 1) || 1;
const LINUX_APPEND = 'console=ttyS0,115200 console=tty0';

interface Outcome {
  ok: boolean;
  detail: string;
  seconds: number;
  instructions: number;
}

interface GuestTest {
  name: string;
  files: string[];
  run(engine: EngineModule): Promise<Outcome>;
}

function g(file: string): string {
  return path.join(guests, file);
}

/** The line of the QEMU reference serial log that starts with `prefix`. */
function referenceLine(prefix: string): string | null {
  try {
    const log = fs.readFileSync(g('linux-686.serial.log'), 'latin1');
    const line = log.split(/\r?\n/).find((l) => l.startsWith(prefix));
    return line ? line.trim() : null;
  } catch {
    return null;
  }
}

function linuxConfig(firmware: FirmwareKind, extra: Partial<MachineConfig> = {}): MachineConfig {
  return {
    memoryMiB: 128,
    firmware,
    firmwareImages: loadFirmwareImages(firmware, true),
    kernel: new Uint8Array(fs.readFileSync(g('linux-686.vmlinuz'))),
    initrd: new Uint8Array(fs.readFileSync(g('linux-686.initrd.gz'))),
    cmdline: LINUX_APPEND,
    deterministic: true,
    onTripleFault: 'stop',
    ...extra,
  };
}

function imageConfig(firmware: FirmwareKind, file: string, extra: Partial<MachineConfig> = {}): MachineConfig {
  let kind = classifyImage(g(file));
  if (kind === 'fda' && firmware === 'seabios') kind = 'hda'; // no floppy controller: SeaBIOS boots it from IDE
  return {
    memoryMiB: 128,
    firmware,
    firmwareImages: loadFirmwareImages(firmware, false),
    disks: { [kind]: openImage(g(file), kind) },
    deterministic: true,
    onTripleFault: 'stop',
    ...extra,
  };
}

function describeEnd(r: SessionResult): string {
  switch (r.end) {
    case 'timeout':
      return 'timeout';
    case 'triple-fault':
      return `triple fault: ${r.detail?.split('\n')[0]}`;
    case 'stopped':
      return `guest stopped (${r.detail})`;
    default:
      return r.end;
  }
}

function lastLines(text: string, n = 3): string {
  return text.split(/\r?\n/).filter((l) => l.trim()).slice(-n).join(' | ').slice(0, 300);
}

async function boot(engine: EngineModule, config: MachineConfig, opts: { serial?: RegExp; screen?: RegExp; timeoutSec: number }): Promise<SessionResult> {
  const m = new engine.Machine(config);
  return runSession(m, { untilSerial: opts.serial, untilScreen: opts.screen, timeoutSec: opts.timeoutSec * scale });
}

function outcome(r: SessionResult, ok: boolean, detail: string): Outcome {
  return { ok, detail, seconds: r.seconds, instructions: r.instructions };
}

/** A digest of a whole machine state (typed arrays by content, the rest as JSON). */
function stateHash(state: unknown): string {
  const h = createHash('sha256');
  const walk = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) {
      h.update(`<${v.constructor.name}:${v.byteLength}>`);
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else if (Array.isArray(v)) {
      h.update('[');
      v.forEach(walk);
      h.update(']');
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v).sort()) {
        h.update(`${k}:`);
        walk((v as Record<string, unknown>)[k]);
      }
    } else {
      h.update(JSON.stringify(v) ?? 'undefined');
    }
  };
  walk(state);
  return h.digest('hex');
}

const tests: GuestTest[] = [];

for (const firmware of ['builtin', 'seabios'] as FirmwareKind[]) {
  tests.push({
    name: `hello ${firmware}`,
    files: ['hello.img'],
    async run(engine) {
      const r = await boot(engine, imageConfig(firmware, 'hello.img'), { serial: /HELLO/, timeoutSec: 60 });
      if (r.end !== 'serial-match' && r.end !== 'stopped') return outcome(r, false, `serial HELLO not seen: ${describeEnd(r)}`);
      if (!/HELLO/.test(r.serial)) return outcome(r, false, 'serial HELLO not seen');
      const screen = r.machine.textScreen();
      if (!/HELLO/.test(screen)) return outcome(r, false, `VGA text has no HELLO: ${lastLines(screen)}`);
      return outcome(r, true, 'serial and VGA HELLO');
    },
  });
}

const workloadRef = referenceLine('GUEST-WORKLOAD-DONE');
/**
 * The whole life of the Linux guest with the built-in firmware: the workload, the device
 * probe (its GUEST-DEVICES line as QEMU prints it for the same hardware), then the guest's
 * own power-off through ACPI S5 (`boxwood.poweroff`), which must stop the machine.
 */
tests.push({
  name: 'linux-686 direct builtin (to power-off)',
  files: ['linux-686.vmlinuz', 'linux-686.initrd.gz', 'linux-686.serial.log'],
  async run(engine) {
    const r = await boot(engine, linuxConfig('builtin', { cmdline: `${LINUX_APPEND} boxwood.poweroff` }), { timeoutSec: 2400 });
    const line = (p: string) => r.serial.split(/\r?\n/).find((l) => l.startsWith(p))?.trim();
    if (r.end !== 'stopped' || !/ACPI S5/.test(r.detail ?? '')) return outcome(r, false, `the guest did not power off through ACPI S5: ${describeEnd(r)}; serial: ${lastLines(r.serial)}`);
    if (workloadRef && line('GUEST-WORKLOAD-DONE') !== workloadRef) return outcome(r, false, `"${line('GUEST-WORKLOAD-DONE')}" differs from QEMU's "${workloadRef}"`);
    const devices = line('GUEST-DEVICES');
    if (devices !== 'GUEST-DEVICES disks=sr0 virtio=none net=none') return outcome(r, false, `unexpected device line: ${devices}`);
    if (!line('GUEST-POWEROFF')) return outcome(r, false, 'no GUEST-POWEROFF line before the power-off');
    return outcome(r, true, `${devices}; GUEST-POWEROFF; machine stopped (${r.detail})`);
  },
});

for (const firmware of ['seabios'] as FirmwareKind[]) {
  tests.push({
    name: `linux-686 direct ${firmware}`,
    files: ['linux-686.vmlinuz', 'linux-686.initrd.gz', 'linux-686.serial.log'],
    async run(engine) {
      const r = await boot(engine, linuxConfig(firmware), { serial: /GUEST-WORKLOAD-DONE[^\n]*\n/, timeoutSec: 1800 });
      if (r.end !== 'serial-match') return outcome(r, false, `${describeEnd(r)}; serial: ${lastLines(r.serial)}; screen: ${lastLines(r.machine.textScreen())}`);
      const line = r.serial.split(/\r?\n/).find((l) => l.startsWith('GUEST-WORKLOAD-DONE'))!.trim();
      if (!/GUEST-READY/.test(r.serial)) return outcome(r, false, 'GUEST-READY missing before the workload line');
      if (workloadRef && line !== workloadRef) return outcome(r, false, `"${line}" differs from QEMU's "${workloadRef}"`);
      return outcome(r, true, line);
    },
  });
}

/**
 * The CD and hard-disk boot paths: the firmware boots the image's loader (El Torito
 * no-emulation / MBR + syslinux), which reads the kernel and initrd through int 13h.
 * With the built-in firmware the boot goes on to the workload line. With SeaBIOS (the
 * second firmware, there to prove our IDE/ATAPI devices behave as QEMU's do for a
 * firmware we did not write) it ends once the kernel has unpacked the initrd that
 * SeaBIOS's disk driver read: a gzip CRC error there would say "Initramfs unpacking
 * failed". From that point on the guest is the same kernel on the same devices as in
 * "linux-686 direct seabios", which runs on to the workload; running it twice more would
 * cost about 8 minutes of CI for no new code path.
 */
const untilWorkload = { end: /GUEST-WORKLOAD-DONE[^\n]*\n/, what: (serial: string) => serial.split(/\r?\n/).find((l) => l.startsWith('GUEST-WORKLOAD-DONE'))!.trim() };
const untilInitrd = { end: /Freeing initrd memory[^\n]*\n/, what: (serial: string) => `kernel unpacked the initrd: ${serial.split(/\r?\n/).find((l) => l.includes('Freeing initrd memory'))!.trim()}` };
for (const firmware of ['builtin', 'seabios'] as FirmwareKind[]) {
  const until = firmware === 'builtin' ? untilWorkload : untilInitrd;
  const diskBoot = (medium: 'cd' | 'hdd', file: string, banner: RegExp, extra: Partial<MachineConfig>): GuestTest => ({
    name: `linux-686 ${medium} ${firmware}`,
    files: [file],
    async run(engine) {
      const r = await boot(engine, imageConfig(firmware, file, extra), { serial: until.end, timeoutSec: 1800 });
      if (r.end !== 'serial-match') return outcome(r, false, `${describeEnd(r)}; serial: ${lastLines(r.serial)}; screen: ${lastLines(r.machine.textScreen())}`);
      if (!banner.test(r.serial)) return outcome(r, false, `no ${banner.source} banner on serial`);
      if (/Initramfs unpacking failed/.test(r.serial)) return outcome(r, false, 'the kernel could not unpack the initrd the loader read');
      return outcome(r, true, until.what(r.serial));
    },
  });
  tests.push(diskBoot('cd', 'linux-686.iso', /ISOLINUX/, { bootOrder: ['cdrom', 'hd', 'floppy'] }));
  tests.push(diskBoot('hdd', 'linux-686.hdd.img', /SYSLINUX/, {}));
  tests.push({
    name: `memtest ${firmware}`,
    files: ['memtest86+ia32.iso'],
    async run(engine) {
      const r = await boot(engine, imageConfig(firmware, 'memtest86+ia32.iso', { bootOrder: ['cdrom', 'hd', 'floppy'] }), { screen: /Status: Testing/, timeoutSec: 600 });
      if (r.end !== 'screen-match') return outcome(r, false, `${describeEnd(r)}; screen: ${lastLines(r.machine.textScreen())}`);
      return outcome(r, true, 'Status: Testing');
    },
  });
}

/**
 * Deterministic save/restore in the middle of a Linux boot: an uninterrupted run to
 * `total` instructions must print exactly what a run saved at `saveAt` (inside the running
 * kernel), restored into a fresh machine and continued prints — and end in the same state.
 */
tests.push({
  name: 'linux-686 save-restore deterministic builtin',
  files: ['linux-686.vmlinuz', 'linux-686.initrd.gz'],
  async run(engine) {
    // Saved once the kernel runs (its first line comes after about 2.4 G instructions of
    // firmware, setup and decompression), compared 300 M instructions later.
    const saveAt = Number(process.env.BOXWOOD_SAVE_RESTORE_AT ?? 2.6e9);
    const total = Number(process.env.BOXWOOD_SAVE_RESTORE_INSTRUCTIONS ?? saveAt + 300e6);
    const t0 = performance.now();
    const quantum = engine.SLICE_QUANTUM;
    // Stop at the first internal slice boundary at or after `target`: runSlice(1) returns
    // after one internal slice, and those boundaries depend only on machine state.
    const runTo = async (m: Machine, target: number, out: { serial: string }): Promise<string | null> => {
      const off = m.events.on('serial-output', ({ port, data }) => {
        if (port === 0) out.serial += Buffer.from(data).toString('latin1');
      });
      try {
        let lastYield = performance.now();
        while (m.cpu.instructionCount < target) {
          const r = m.runSlice(m.cpu.instructionCount < target - 2 * quantum ? 1_000_000 : 1);
          if (r.reason === 'stopped' || (r.reason === 'idle' && r.waitNs === Infinity)) return `${r.reason}: ${m.stopReason ?? ''}`;
          if (performance.now() - t0 > 1800e3 * scale) return 'timeout';
          if (performance.now() - lastYield > 100) {
            await new Promise((res) => setImmediate(res));
            lastYield = performance.now();
          }
        }
        return null;
      } finally {
        off();
      }
    };
    // One machine runs straight through to `total`; on the way, at `saveAt`, its state is
    // saved without stopping it (as a live snapshot does), so it is the uninterrupted run.
    // The saved state goes into a fresh machine, which runs on to `total`. (Booting a second
    // machine up to `saveAt` instead would cost another 2.6 G instructions for nothing.)
    const a = new engine.Machine(linuxConfig('builtin'));
    const outA = { serial: '' };
    let c: Machine | null = null;
    const res = () => ({ ok: false, detail: '', seconds: (performance.now() - t0) / 1000, instructions: a.cpu.instructionCount + (c ? c.cpu.instructionCount - saveAt : 0) });
    const errSave = await runTo(a, saveAt, outA);
    if (errSave) return { ...res(), detail: `the run ended before the save point: ${errSave}` };
    const savedSerialBytes = outA.serial.length;
    const state = structuredClone(a.saveState());
    const errA = await runTo(a, total, outA);
    if (errA) return { ...res(), detail: `uninterrupted run ended early: ${errA}` };
    c = engine.Machine.restore(linuxConfig('builtin'), state);
    const outB = { serial: outA.serial.slice(0, savedSerialBytes) };
    const errC = await runTo(c, total, outB);
    if (errC) return { ...res(), detail: `the restored run ended early: ${errC}` };
    if (outB.serial !== outA.serial) return { ...res(), detail: `serial differs after restore (${outA.serial.length} vs ${outB.serial.length} bytes)` };
    if (c.cpu.instructionCount !== a.cpu.instructionCount || c.cpu.eip !== a.cpu.eip || c.clock.nowNs() !== a.clock.nowNs()) {
      return { ...res(), detail: `CPU state differs: ${a.cpu.instructionCount}@${a.cpu.eip.toString(16)} vs ${c.cpu.instructionCount}@${c.cpu.eip.toString(16)}` };
    }
    // Everything else too: RAM, every device, the screen.
    const ha = stateHash(a.saveState());
    const hc = stateHash(c.saveState());
    if (ha !== hc) return { ...res(), detail: 'machine state (RAM/devices) differs after restore' };
    if (a.textScreen() !== c.textScreen()) return { ...res(), detail: 'VGA text differs after restore' };
    if (!/\[\s*\d+\.\d+\]/.test(outB.serial.slice(0, savedSerialBytes) )) return { ...res(), detail: `the save point (${saveAt} instructions) is not inside the running kernel: no kernel line on serial before it` };
    const where = `saved after ${savedSerialBytes} serial bytes (last: ${lastLines(outB.serial.slice(0, savedSerialBytes), 1)}), compared at ${outA.serial.length} bytes (last: ${lastLines(outA.serial, 1)})`;
    return { ...res(), ok: true, detail: `identical serial, screen and machine state (sha256 ${ha.slice(0, 12)}) at ${a.cpu.instructionCount} instructions; ${where}` };
  },
});

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const selected = tests.filter((t) => !filters.length || filters.some((f) => t.name.includes(f)));
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const engine = await loadEngine();
  for (const t of selected) {
    const missing = t.files.filter((f) => !fs.existsSync(g(f)));
    if (missing.length) {
      console.log(`SKIP ${t.name}: missing ${missing.join(', ')} in ${guests}`);
      skipped++;
      continue;
    }
    let o: Outcome;
    try {
      o = await t.run(engine);
    } catch (e) {
      o = { ok: false, detail: `error: ${(e as Error).stack ?? e}`, seconds: 0, instructions: 0 };
    }
    const stats = `seconds=${o.seconds.toFixed(1)} instructions=${o.instructions} mips=${o.seconds > 0 ? (o.instructions / o.seconds / 1e6).toFixed(1) : '0'}`;
    console.log(`${o.ok ? 'PASS' : 'FAIL'} ${t.name}: ${o.detail} (${stats})`);
    if (o.ok) passed++;
    else failed++;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
