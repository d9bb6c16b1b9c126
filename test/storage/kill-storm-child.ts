// The process the kill -9 storm kills. Modes:
//   write IMAGE SEED FLUSH_EVERY  — deterministic random guest-like writes (see
//       stormWrites), flushing every FLUSH_EVERY writes and reporting `F <seq>` on
//       stdout *after* each flush returned (written synchronously, so a report always
//       means the flush completed);
//   convert SRC DST               — a disk conversion to qcow2, printing `P <bytes done>`;
//   compact IMAGE                 — a compaction (temp file + rename), same progress lines;
//   merge OVERLAY                 — drop the overlay's backing layer (snapshot delete).
// Prints `READY` once the image is open / the conversion starts.
import fs from 'node:fs';
import { openDiskImage } from '../../electron/node/storage/open-image';
import { compactDisk, convertDisk, mergeBackingIntoOverlay } from '../../electron/node/storage/disk-operations';
import { stormWrites } from './kill-storm-writes';

const say = (s: string) => fs.writeSync(1, s + '\n');

async function main(): Promise<void> {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'write') {
    const img = openDiskImage(a, { writable: true });
    const flushEvery = Number(c);
    say('READY');
    const gen = stormWrites(Number(b), img.size);
    for (;;) {
      const w = gen.next();
      img.write(w.offset, w.data);
      if (w.seq % flushEvery === 0) {
        img.flush();
        say(`F ${w.seq}`);
      }
    }
  } else if (mode === 'convert') {
    say('READY');
    // Progress lines let the parent kill at a chosen point of the copy.
    await convertDisk(a, b, { format: 'qcow2', onProgress: (done) => say(`P ${done}`) });
    say('DONE');
  } else if (mode === 'merge') {
    say('READY');
    await mergeBackingIntoOverlay(a, { onProgress: (done) => say(`P ${done}`) });
    say('DONE');
  } else if (mode === 'compact') {
    say('READY');
    await compactDisk(a, { onProgress: (done) => say(`P ${done}`) });
    say('DONE');
  } else throw new Error(`unknown mode ${mode}`);
}

void main();
