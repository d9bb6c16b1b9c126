// VM processes under Electron: utilityProcess.fork, so each VM runs in its own
// sandboxed Node process managed by Chromium's process model. Same channel shape
// as the child_process launcher used in browser mode.
import { utilityProcess, type MessagePortMain } from 'electron';
import type { VmProcessChannel, VmProcessLauncher } from '../node/vm-process/channel';

export interface UtilityChannel extends VmProcessChannel {
  /** Hand a display port to the VM process (renderer ↔ VM, main stays off the data path). */
  attachDisplayPort(port: MessagePortMain): void;
}

export function utilityLauncher(entry: string, created: (vmId: string, ch: UtilityChannel) => void): VmProcessLauncher {
  return (vmId) => {
    const child = utilityProcess.fork(entry, ['--vm', vmId], { serviceName: `Boxwood VM ${vmId}`, stdio: 'pipe' });
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    child.on('exit', (code) => {
      exited = true;
      for (const l of exitListeners) l(code, null);
    });
    const ch: UtilityChannel = {
      get pid() {
        return child.pid;
      },
      send: (m) => child.postMessage(m),
      onMessage: (l) => child.on('message', l),
      onExit: (l) => exitListeners.push(l),
      onStderr: (l) => {
        let pending = '';
        child.stderr?.setEncoding('utf8');
        child.stderr?.on('data', (c: string) => {
          pending += c;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          lines.forEach(l);
        });
      },
      kill: () => {
        if (!exited) child.kill();
      },
      attachDisplayPort: (port) => child.postMessage({ type: 'attach-display' }, [port]),
    };
    created(vmId, ch);
    return ch;
  };
}
