// Builds what the app runs: the renderer (vite) and, for Electron, bundles of the
// main process, the preload script and the VM process entry (esbuild, CommonJS).
import { build as viteBuild } from 'vite';
import { build as esbuild } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../electron/node/atomic-file';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

/**
 * Set by `npm test` (scripts/test-all.ts) once it has built everything, before it starts
 * suites in parallel: a suite rebuilding dist/ would empty dist/renderer under the feet of
 * a browser test running in the other lane ("The Boxwood UI is not built").
 */
export const PREBUILT_ENV = 'BOXWOOD_PREBUILT';
const prebuilt = () => process.env[PREBUILT_ENV] === '1';

export async function buildRenderer(): Promise<void> {
  if (prebuilt()) return;
  await viteBuild({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
}

const nodeBundle = { bundle: true, platform: 'node' as const, format: 'cjs' as const, target: 'node20', sourcemap: true, logLevel: 'warning' as const, external: ['electron'] };
export const VM_PROCESS_BUNDLE = path.join(dist, 'vm-process.cjs');

/**
 * The VM process as one bundle. Both launchers run it (utilityProcess and
 * child_process): bundled, the engine's cross-module constants are inlined, which
 * makes the interpreter several times faster than running the sources through tsx.
 */
export async function buildVmProcess(): Promise<string> {
  if (prebuilt()) return VM_PROCESS_BUNDLE;
  // Written atomically: another host (a parallel test lane, a running `boxwood serve`) may
  // be starting a VM process from this very file while it is rebuilt.
  const out = await esbuild({ ...nodeBundle, entryPoints: [path.join(root, 'electron/node/vm-process/vm-process-main.ts')], outfile: VM_PROCESS_BUNDLE, write: false });
  for (const f of out.outputFiles) writeFileAtomic(f.path, f.contents);
  return VM_PROCESS_BUNDLE;
}

export async function buildElectron(): Promise<void> {
  if (prebuilt()) return;
  await esbuild({ ...nodeBundle, entryPoints: [path.join(root, 'electron/main/main.ts')], outfile: path.join(dist, 'electron/main.cjs') });
  await esbuild({ ...nodeBundle, entryPoints: [path.join(root, 'electron/preload/preload.ts')], outfile: path.join(dist, 'electron/preload.cjs') });
  await buildVmProcess();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'all';
  if (what === 'all' || what === 'renderer') await buildRenderer();
  if (what === 'all' || what === 'electron') await buildElectron();
  console.log(`built ${what} into ${path.relative(root, dist)}/`);
}
