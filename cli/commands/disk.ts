// `boxwood disk create|info|resize|convert|clone|compact|delete`: image management on
// the node side (electron/node/storage/disk-operations.ts does the work).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliCommand } from '../command';
import { UsageError } from '../command';
import {
  CancelledError,
  checkDisk,
  cloneDisk,
  compactDisk,
  convertDisk,
  createDisk,
  deleteDisk,
  diskInfo,
  parseSize,
  resizeDisk,
  type TargetFormat,
} from '../../electron/node/storage/disk-operations';

const HELP = `usage: boxwood disk <subcommand> …

  create PATH --size 8G [--format qcow2|raw] [--backing FILE] [--cluster-size 64K]
                          new empty image (qcow2 by default); with --backing the size
                          defaults to the backing file's, and FILE is relative to PATH
  info PATH [--json]      format, virtual/actual size, backing chain, cluster size, flags
  check PATH              qcow2 metadata check; exit 0 clean, 3 leaked clusters only
                          (harmless; compact removes them), 2 corruption
  resize PATH --size S    grow an image (shrinking is refused)
  convert SRC DST --format qcow2|raw [--cluster-size 64K] [--overwrite]
                          convert raw/qcow2/VDI/VMDK/ISO to a standalone image
  clone SRC DST [--linked]
                          full copy, or a qcow2 overlay with SRC as its backing file
  compact PATH            rewrite without unused clusters (raw: make sparse)
  delete PATH             delete an image file (never its backing files)

Sizes take K, M, G, T suffixes (binary). Long operations show progress on a terminal
and stop cleanly on Ctrl-C, leaving no partial destination.`;

export const command: CliCommand = {
  name: 'disk',
  summary: 'create, inspect, resize, convert, clone, compact and delete disk images',
  run: async (args) => {
    try {
      return await runDisk(args);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`boxwood disk: ${e.message}\n${HELP}\n`);
        return 2;
      }
      if (e instanceof CancelledError) {
        process.stderr.write('boxwood disk: cancelled; nothing was written\n');
        return 130;
      }
      throw e;
    }
  },
};

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function formatArg(v: unknown): TargetFormat | undefined {
  if (v === undefined) return undefined;
  if (v !== 'qcow2' && v !== 'raw') throw new UsageError(`--format must be qcow2 or raw, not ${String(v)}`);
  return v;
}

function sizeArg(v: unknown, what = '--size'): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseSize(String(v));
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
}

function need(positionals: string[], n: number, names: string): string[] {
  if (positionals.length !== n) throw new UsageError(`expected ${names}`);
  return positionals;
}

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(v < 10 ? 2 : 1) : v} ${units[i]}`;
}

/** Progress on stderr when it is a terminal; Ctrl-C aborts the operation cleanly. */
function progressAndCancel(what: string): { onProgress: (d: number, t: number) => void; signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    signal: ac.signal,
    onProgress: (d, t) => {
      const pct = t ? Math.floor((d / t) * 100) : 100;
      if (tty && pct !== last) process.stderr.write(`\r${what}: ${pct}%`);
      last = pct;
    },
    done: () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      if (tty && last >= 0) process.stderr.write('\n');
    },
  };
}

async function runDisk(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP + '\n');
    return sub ? 0 : 2;
  }
  switch (sub) {
    case 'create': {
      const { values, positionals } = parse(rest, {
        size: { type: 'string' },
        format: { type: 'string' },
        backing: { type: 'string' },
        'cluster-size': { type: 'string' },
      });
      const [p] = need(positionals, 1, 'PATH');
      const size = sizeArg(values.size);
      if (size === undefined && !values.backing) throw new UsageError('--size is required (or --backing)');
      await createDisk(p, {
        size,
        format: formatArg(values.format),
        backing: values.backing as string | undefined,
        clusterSize: sizeArg(values['cluster-size'], '--cluster-size'),
      });
      process.stdout.write(`created ${p}\n`);
      return 0;
    }
    case 'info': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      const [p] = need(positionals, 1, 'PATH');
      const i = diskInfo(p);
      if (values.json) {
        process.stdout.write(JSON.stringify(i, null, 2) + '\n');
        return 0;
      }
      const lines = [
        `image: ${i.path}`,
        `format: ${i.format}`,
        `virtual size: ${human(i.virtualSize)} (${i.virtualSize} bytes)`,
        `actual size: ${human(i.actualSize)}`,
      ];
      if (i.clusterSize) lines.push(`cluster size: ${i.clusterSize}`);
      if (i.qcow2Version) lines.push(`qcow2 version: ${i.qcow2Version}`, `refcount bits: ${i.refcountBits}`);
      if (i.backingFile) lines.push(`backing file: ${i.backingFile}`);
      if (i.chain.length > 1) lines.push(`backing chain: ${i.chain.map((c) => `${c.path} (${c.format})`).join(' -> ')}`);
      if (i.dirty !== undefined) lines.push(`dirty: ${i.dirty}`, `corrupt: ${i.corrupt}`);
      if (i.snapshots) lines.push(`internal snapshots: ${i.snapshots}`);
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    }
    case 'check': {
      const { positionals } = parse(rest, {});
      const [p] = need(positionals, 1, 'PATH');
      const c = checkDisk(p);
      for (const e of c.errors.slice(0, 20)) process.stdout.write(`ERROR ${e}\n`);
      if (c.errors.length > 20) process.stdout.write(`… ${c.errors.length - 20} more errors\n`);
      if (c.leaks) process.stdout.write(`${c.leaks} leaked clusters (wasted space only; \`boxwood disk compact\` removes them)\n`);
      if (!c.errors.length && !c.leaks) process.stdout.write(`No errors were found on ${p} (${c.allocated} clusters in use)\n`);
      return c.errors.length ? 2 : c.leaks ? 3 : 0;
    }
    case 'resize': {
      const { values, positionals } = parse(rest, { size: { type: 'string' } });
      const [p] = need(positionals, 1, 'PATH');
      const size = sizeArg(values.size);
      if (size === undefined) throw new UsageError('--size is required');
      resizeDisk(p, size);
      process.stdout.write(`resized ${p} to ${human(size)}\n`);
      return 0;
    }
    case 'convert': {
      const { values, positionals } = parse(rest, { format: { type: 'string' }, 'cluster-size': { type: 'string' }, overwrite: { type: 'boolean' } });
      const [src, dst] = need(positionals, 2, 'SRC DST');
      const format = formatArg(values.format);
      if (!format) throw new UsageError('--format qcow2|raw is required');
      const pc = progressAndCancel('converting');
      try {
        await convertDisk(src, dst, { format, clusterSize: sizeArg(values['cluster-size'], '--cluster-size'), overwrite: !!values.overwrite, ...pc });
      } finally {
        pc.done();
      }
      process.stdout.write(`converted ${src} -> ${dst} (${format})\n`);
      return 0;
    }
    case 'clone': {
      const { values, positionals } = parse(rest, { linked: { type: 'boolean' } });
      const [src, dst] = need(positionals, 2, 'SRC DST');
      const pc = progressAndCancel('cloning');
      try {
        await cloneDisk(src, dst, { linked: !!values.linked, ...pc });
      } finally {
        pc.done();
      }
      process.stdout.write(`cloned ${src} -> ${dst}${values.linked ? ' (linked)' : ''}\n`);
      return 0;
    }
    case 'compact': {
      const { positionals } = parse(rest, {});
      const [p] = need(positionals, 1, 'PATH');
      const pc = progressAndCancel('compacting');
      let r;
      try {
        r = await compactDisk(p, pc);
      } finally {
        pc.done();
      }
      process.stdout.write(`compacted ${p}: ${human(r.before)} -> ${human(r.after)}\n`);
      return 0;
    }
    case 'delete': {
      const { positionals } = parse(rest, {});
      const [p] = need(positionals, 1, 'PATH');
      deleteDisk(p);
      process.stdout.write(`deleted ${p}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}"`);
  }
}
