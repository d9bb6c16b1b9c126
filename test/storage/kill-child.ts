// Runs a storm's child process and kills it with SIGKILL at a chosen moment: once its
// output satisfies `armed` (default: the child's READY line), after `delayMs` (Infinity:
// never; it may finish first). Shared by the disk and snapshot kill -9 storms, with
// their other common helpers.
import { spawn } from 'node:child_process';
import { openDiskImage } from '../../electron/node/storage/open-image';

export interface KilledChild {
  /** Everything the child wrote to stdout before it exited or died. */
  out: string;
  err: string;
  /** Whether it died of SIGKILL (ours, or the 60 s guard's). */
  killed: boolean;
}

export function runAndKill(argv: string[], cwd: string, delayMs: number, armed = (out: string) => out.includes('READY\n')): Promise<KilledChild> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    let killed = false;
    const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && delayMs !== Infinity && armed(out))
        timer = setTimeout(() => {
          killed = proc.kill('SIGKILL');
        }, delayMs);
    });
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    // 'close', not 'exit': every line the child wrote before it died is read.
    proc.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const died = killed || signal === 'SIGKILL';
      if (!died && code !== 0) {
        const why = err.split('\n').find((l) => /^\w*Error: /.test(l)) ?? err.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`the child exited ${code}: ${why.trim()}`));
      } else resolve({ out, err, killed: died });
    });
  });
}

/** `--trials N` or STORM_TRIALS, else `fallback`. */
export function argTrials(fallback: number): number {
  const i = process.argv.indexOf('--trials');
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env.STORM_TRIALS ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error('--trials needs a positive integer');
  return v;
}

/** A whole image's guest-visible bytes, through Boxwood's own image layer. */
export function readAll(file: string): Uint8Array {
  const img = openDiskImage(file);
  try {
    const out = new Uint8Array(img.size);
    img.read(0, out, 0, img.size);
    return out;
  } finally {
    img.close();
  }
}
