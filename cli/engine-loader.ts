// Loads the emulator engine for in-process runs (`boxwood run`, guest boot tests) as one
// esbuild bundle instead of through tsx's per-file transform. Under tsx every constant
// imported from another module (EFLAGS bits, register and segment indices, const enums)
// is read through a getter and the interpreter runs about 5× slower; a bundle inlines
// them. Building takes a fraction of a second and happens in memory (imported from a
// data: URL). BOXWOOD_TSX=1 loads the sources directly instead (stack traces into .ts).
//
// The bundle is a second copy of the engine modules: use only what this module returns
// (Machine, setLogSink) for machines it builds.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type EngineModule = typeof import('../engine/machine/machine') & { setLogSink: typeof import('../engine/common/log').setLogSink };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let cached: Promise<EngineModule> | null = null;

export function loadEngine(): Promise<EngineModule> {
  cached ??= load();
  return cached;
}

async function load(): Promise<EngineModule> {
  if (process.env.BOXWOOD_TSX === '1') {
    const [machine, log] = await Promise.all([import('../engine/machine/machine'), import('../engine/common/log')]);
    return { ...machine, setLogSink: log.setLogSink };
  }
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    stdin: {
      contents: "export * from './engine/machine/machine'; export { setLogSink } from './engine/common/log';",
      resolveDir: root,
      sourcefile: 'boxwood-engine-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    write: false,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    logLevel: 'error',
  });
  const code = out.outputFiles[0].text;
  return (await import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'))) as EngineModule;
}
