// A qcow2 copy of the shared Linux test guest's disk, converted by Boxwood, for the
// guest boot test ("boots from a Boxwood-converted qcow2"). The copy goes to a temp
// directory (never next to the read-only reference image).
//   import { makeGuestQcow2 } from '../storage/guest-image';
//   const disk = await makeGuestQcow2();          // → /tmp/boxwood-guest-…/linux-686.qcow2
// Run directly it converts, checks with qemu-img (when installed) and prints the path:
//   node --import tsx test/storage/guest-image.ts [SRC] [DST]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertDisk } from '../../electron/node/storage/disk-operations';
import { hasTool, run, tempDir } from './qemu-tools';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GUEST_RAW = path.resolve(root, '../shared/guests/linux-686.hdd.img');

/** Convert the guest disk (or `src`) to qcow2 at `dst` (default: a fresh temp dir). */
export async function makeGuestQcow2(src = GUEST_RAW, dst?: string): Promise<string> {
  if (!fs.existsSync(src)) throw new Error(`guest image ${src} not found`);
  const out = dst ?? path.join(tempDir('guest'), path.basename(src).replace(/\.hdd\.img$|\.img$/, '') + '.qcow2');
  await convertDisk(src, out, { format: 'qcow2', overwrite: true });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [src, dst] = process.argv.slice(2);
  makeGuestQcow2(src ?? GUEST_RAW, dst).then((out) => {
    let ok = true;
    if (hasTool('qemu-img')) {
      const c = run('qemu-img', ['check', out]);
      const cmp = run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', out, src ?? GUEST_RAW]);
      ok = c.status === 0 && cmp.status === 0;
      process.stdout.write(`qemu-img check: ${c.status === 0 ? 'clean' : `exit ${c.status}`}; compare: ${cmp.stdout.trim()}\n`);
    }
    process.stdout.write(`${out}\n${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed\n`);
    process.exitCode = ok ? 0 : 1;
  });
}
