// Launch a VM process with child_process.fork (browser mode, CLI, tests). The
// process runs vm-process-main.ts through tsx; 'advanced' serialization carries
// Uint8Array frames and serial bytes without base64.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VmProcessChannel, VmProcessLauncher } from './channel';

const here = path.dirname(fileURLToPath(import.meta.url));
export const VM_PROCESS_ENTRY = path.join(here, 'vm-process-main.ts');
/** tsx's loader by absolute URL: the child may start in any working directory. */
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * `entry` is the bundled VM process (dist/vm-process.cjs, what the app runs) or, for
 * debugging with stack traces into the sources, the .ts entry run through tsx.
 */
export function nodeLauncher(entry = VM_PROCESS_ENTRY): VmProcessLauncher {
  return (vmId) => {
    const child = fork(entry, ['--vm', vmId], {
      execArgv: entry.endsWith('.ts') ? ['--import', TSX_LOADER] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    child.on('exit', (code, signal) => {
      exited = true;
      for (const l of exitListeners) l(code, signal);
    });
    // A failed spawn emits 'error' and may never emit 'exit'.
    child.on('error', () => {
      if (!exited) {
        exited = true;
        for (const l of exitListeners) l(null, 'spawn-error');
      }
    });
    const channel: VmProcessChannel = {
      pid: child.pid,
      send(message) {
        if (child.connected) child.send(message);
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      onStderr(listener) {
        let pending = '';
        child.stderr?.setEncoding('utf8');
        child.stderr?.on('data', (chunk: string) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) listener(line);
        });
      },
      kill() {
        if (!exited) child.kill('SIGKILL');
      },
    };
    return channel;
  };
}
