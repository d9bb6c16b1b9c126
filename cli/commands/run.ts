// `boxwood run`: boot images in this process (no VM library needed) and stop on a
// serial/screen pattern, a timeout or the guest stopping. Ends with one summary line
// `instructions=N seconds=S mips=M`.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEngine } from '../engine-loader';
import type { MachineConfig, BootDevice, FirmwareKind } from '../../engine/machine/machine-config';
import type { BlockDevice } from '../../engine/storage/block-device';
import type { CliCommand } from '../command';
import { UsageError } from '../command';
import { ImageError, classifyImage, loadFirmwareImages, openImage, readFileOrThrow } from '../host-images';
import { runSession } from '../run-session';
import { encodePng } from '../png';
import type { Machine } from '../../engine/machine/machine';

const HELP = `usage: boxwood run [image…] [options]

  image…                 bare images, recognised by content (ISO 9660 → CD, MBR/size → hard disk,
                         floppy sizes and 512-byte boot sectors → floppy)
  --cdrom F  --hda F  --hdb F  --fda F
  --kernel F [--initrd F] [--append S]   direct Linux boot
  --memory MiB           RAM (default 128)
  --firmware builtin|seabios             (default builtin)
  --chipset pc|isapc     (default pc)
  --boot ORDER           letters a (floppy), c (disk), d (CD), e.g. dc
  --serial stdio|file:PATH|none          COM1 (default stdio)
  --screen-text PATH     write the final VGA text screen
  --screenshot PATH.png  write the final screen as PNG
  --until-serial REGEX   succeed when COM1 output matches
  --until-screen REGEX   succeed when the VGA text screen matches
  --timeout SEC          wall-clock limit (non-zero exit when an --until pattern was not seen)
  --deterministic        instruction-count time (reproducible runs)
  --debugcon PATH        write port 0xE9/0x402 output (SeaBIOS log) to a file (- = stderr)
  --log                  print engine diagnostics to stderr`;

export const command: CliCommand = {
  name: 'run',
  summary: 'boot images in this process (headless) until a pattern, timeout or power-off',
  run: runCommand,
};

async function runCommand(args: string[]): Promise<number> {
  try {
    return await runInner(args);
  } catch (e) {
    // Even a run that never started ends with the summary line scripts look for.
    const summary = 'instructions=0 seconds=0.00 mips=0.0\n';
    if (e instanceof UsageError) {
      process.stderr.write(`boxwood run: ${e.message}\n${HELP}\n`);
      process.stdout.write(summary);
      return 2;
    }
    if (e instanceof ImageError) {
      process.stderr.write(`boxwood run: ${e.message}\n`);
      process.stdout.write(summary);
      return 66;
    }
    process.stderr.write(`boxwood run: ${(e as Error).message}\n`);
    process.stdout.write(summary);
    return 1;
  }
}

function compile(re: string | undefined, what: string): RegExp | undefined {
  if (re === undefined) return undefined;
  try {
    return new RegExp(re);
  } catch (e) {
    throw new UsageError(`${what}: invalid regular expression: ${(e as Error).message}`);
  }
}

async function runInner(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        cdrom: { type: 'string' },
        hda: { type: 'string' },
        hdb: { type: 'string' },
        fda: { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        append: { type: 'string' },
        memory: { type: 'string' },
        firmware: { type: 'string' },
        chipset: { type: 'string' },
        boot: { type: 'string' },
        serial: { type: 'string' },
        'screen-text': { type: 'string' },
        screenshot: { type: 'string' },
        'until-serial': { type: 'string' },
        'until-screen': { type: 'string' },
        timeout: { type: 'string' },
        deterministic: { type: 'boolean' },
        debugcon: { type: 'string' },
        log: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const firmware = (o.firmware ?? 'builtin') as FirmwareKind;
  if (firmware !== 'builtin' && firmware !== 'seabios') throw new UsageError(`--firmware must be builtin or seabios`);
  const chipset = (o.chipset ?? 'pc') as 'pc' | 'isapc';
  if (chipset !== 'pc' && chipset !== 'isapc') throw new UsageError('--chipset must be pc or isapc');
  const memoryMiB = o.memory === undefined ? 128 : Number(o.memory);
  if (!Number.isInteger(memoryMiB) || memoryMiB < 1 || memoryMiB > 3584) throw new UsageError('--memory must be an integer number of MiB (1..3584)');
  const timeoutSec = o.timeout === undefined ? undefined : Number(o.timeout);
  if (timeoutSec !== undefined && !(timeoutSec > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  const untilSerial = compile(o['until-serial'], '--until-serial');
  const untilScreen = compile(o['until-screen'], '--until-screen');
  if (o.initrd && !o.kernel) throw new UsageError('--initrd needs --kernel');

  // Drives: explicit options first, then bare images by content.
  const files: { fda?: string; hda?: string; hdb?: string; cdrom?: string } = { fda: o.fda, hda: o.hda, hdb: o.hdb, cdrom: o.cdrom };
  for (const img of parsed.positionals) {
    let kind: 'fda' | 'hda' | 'cdrom' = classifyImage(img);
    // SeaBIOS reaches floppies only through a floppy controller, which Boxwood does not
    // model: a boot-sector-sized image goes on the IDE disk there (QEMU boots hello.img either way).
    if (kind === 'fda' && firmware === 'seabios') kind = 'hda';
    const slot: keyof typeof files = kind === 'hda' && files.hda ? 'hdb' : kind;
    if (files[slot]) throw new UsageError(`more than one image for ${slot} (${files[slot]} and ${img})`);
    files[slot] = img;
  }
  const disks: MachineConfig['disks'] = {};
  for (const [slot, file] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
    if (file) disks[slot] = openImage(file, slot === 'cdrom' ? 'cdrom' : slot === 'fda' ? 'fda' : 'hda') as BlockDevice;
  }
  const kernel = o.kernel ? readFileOrThrow(o.kernel, 'kernel') : undefined;
  const initrd = o.initrd ? readFileOrThrow(o.initrd, 'initrd') : undefined;
  if (!kernel && !disks.fda && !disks.hda && !disks.hdb && !disks.cdrom) throw new UsageError('nothing to boot: give an image, --cdrom/--hda/--fda or --kernel');

  let bootOrder: BootDevice[] | undefined;
  if (o.boot) {
    const map: Record<string, BootDevice> = { a: 'floppy', c: 'hd', d: 'cdrom' };
    bootOrder = [...o.boot].map((ch) => {
      if (!map[ch]) throw new UsageError(`--boot: unknown device letter "${ch}" (use a, c, d)`);
      return map[ch];
    });
  }

  const config: MachineConfig = {
    memoryMiB,
    firmware,
    firmwareImages: loadFirmwareImages(firmware, !!kernel),
    disks,
    bootOrder,
    kernel,
    initrd,
    cmdline: o.append ?? '',
    deterministic: !!o.deterministic,
    chipset,
    onTripleFault: 'stop',
  };

  // Serial sink.
  const serialOpt = o.serial ?? 'stdio';
  let serialFd: number | null = null;
  if (serialOpt === 'stdio') serialFd = 1;
  else if (serialOpt.startsWith('file:')) serialFd = fs.openSync(serialOpt.slice(5), 'w');
  else if (serialOpt !== 'none') throw new UsageError('--serial must be stdio, file:PATH or none');

  let debugFd: number | null = null;
  if (o.debugcon) debugFd = o.debugcon === '-' ? 2 : fs.openSync(o.debugcon, 'w');
  const engine = await loadEngine();
  if (o.log) engine.setLogSink((level, source, message) => process.stderr.write(`[${level}] ${source}: ${message}\n`));

  const abort = { aborted: false };
  const onSigint = () => {
    if (abort.aborted) process.exit(130);
    abort.aborted = true;
  };
  process.on('SIGINT', onSigint);

  let machine: Machine | null = null;
  // Host → COM1 when the serial port is the terminal.
  const onStdin = (d: Buffer) => machine?.serialInput(0, d);
  if (serialOpt === 'stdio') process.stdin.on('data', onStdin);

  let result;
  try {
    machine = new engine.Machine(config);
    if (debugFd !== null) {
      const fd = debugFd;
      machine.events.on('debug-output', (d) => fs.writeSync(fd, d));
    }
    result = await runSession(machine, {
      untilSerial,
      untilScreen,
      timeoutSec,
      abort,
      onSerial: serialFd === null ? undefined : (d) => fs.writeSync(serialFd!, d),
    });
  } finally {
    process.off('SIGINT', onSigint);
    if (serialOpt === 'stdio') {
      // Release stdin so a parent's open pipe does not keep this process alive.
      process.stdin.off('data', onStdin);
      process.stdin.destroy();
    }
    if (serialFd !== null && serialFd > 2) fs.closeSync(serialFd);
    if (debugFd !== null && debugFd > 2) fs.closeSync(debugFd);
  }

  const m = result.machine;
  if (o['screen-text']) fs.writeFileSync(o['screen-text'], m.textScreen() + '\n');
  if (o.screenshot) writeScreenshot(m, o.screenshot);

  let code = 0;
  const waiting = !!(untilSerial || untilScreen);
  switch (result.end) {
    case 'serial-match':
    case 'screen-match':
      break;
    case 'timeout':
      if (waiting) {
        process.stderr.write(`boxwood run: timeout after ${timeoutSec} s: ${describePatterns(untilSerial, untilScreen)} not seen\n`);
        code = 1;
      }
      break;
    case 'triple-fault':
      process.stderr.write(`boxwood run: the guest triple-faulted (CPU shutdown): ${result.detail}\n`);
      code = 3;
      break;
    case 'stopped':
    case 'idle':
      if (waiting) {
        process.stderr.write(`boxwood run: the guest stopped (${result.detail ?? result.end}) before ${describePatterns(untilSerial, untilScreen)} appeared\n`);
        code = 1;
      }
      break;
    case 'aborted':
      process.stderr.write('boxwood run: interrupted\n');
      code = 130;
      break;
    default:
      break;
  }
  const mips = result.seconds > 0 ? result.instructions / result.seconds / 1e6 : 0;
  process.stdout.write(`${serialFd === 1 && !result.serial.endsWith('\n') && result.serial.length ? '\n' : ''}instructions=${result.instructions} seconds=${result.seconds.toFixed(2)} mips=${mips.toFixed(1)}\n`);
  return code;
}

function describePatterns(s?: RegExp, v?: RegExp): string {
  return [s && `serial /${s.source}/`, v && `screen /${v.source}/`].filter(Boolean).join(' or ');
}

function writeScreenshot(m: Machine, file: string): void {
  const mode = m.vga.updateDisplayMode();
  const width = Math.max(1, mode.width);
  const height = Math.max(1, mode.height);
  const target = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  m.vga.render(target);
  fs.writeFileSync(file, encodePng(width, height, target.data));
}
