// How the host reaches one VM process. Two launchers implement it: child_process
// (browser mode, CLI, tests) and Electron's utilityProcess (electron/main). The
// host validates everything that comes back (fromVmSchema): a VM process is
// untrusted in the sense that it may crash or be killed at any moment.
import type { ToVm } from '../../../protocol/vm-process';

export interface VmProcessChannel {
  readonly pid: number | undefined;
  send(message: ToVm): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** Called once when the process is gone, for whatever reason (signal 'spawn-error': it never started). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Lines the process wrote to stderr (crash traces end up here). */
  onStderr(listener: (line: string) => void): void;
  kill(): void;
}

export type VmProcessLauncher = (vmId: string) => VmProcessChannel;
