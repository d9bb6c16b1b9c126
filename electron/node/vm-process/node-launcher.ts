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
    const gone = (code: number | null, signal: string | null) => {
      if (exited) return; // 'close' after an 'error' (or the reverse) is one ending, reported once
      exited = true;
      for (const l of exitListeners) l(code, signal);
    };
    // 'close', not 'exit': 'exit' can come while messages the process sent just before it
    // ended are still unread in the IPC pipe (its final 'state', say); 'close' comes once
    // the pipe is drained, so the session sees them first.
    child.on('close', gone);
    // 'error' also fires when a kill or an IPC send fails; only a process that never
    // started (no pid) ends here: a live one still reports its real end through 'close'.
    child.on('error', () => {
      if (child.pid === undefined) gone(null, 'spawn-error');
    });
    const channel: VmProcessChannel = {
      pid: child.pid,
      send(message) {
        // A process killed a moment ago may still look connected: the send then fails
        // (EPIPE) and its callback swallows that, so it is not taken for a spawn error;
        // 'close' reports the real end (e.g. SIGKILL) right after.
        if (child.connected) child.send(message, (e) => void e);
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
