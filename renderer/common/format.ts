import type { VmSummary } from '../../protocol/host-api';
import { OS_PRESETS } from '../../protocol/vm-config';

export const STATE_LABELS: Record<VmSummary['state'], string> = {
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  saving: 'Saving',
  stopping: 'Stopping',
  stopped: 'Powered Off',
  aborted: 'Aborted',
  inaccessible: 'Inaccessible',
};

export function osLabel(os: string | undefined): string {
  return os && os in OS_PRESETS ? OS_PRESETS[os as keyof typeof OS_PRESETS].label : 'Unknown';
}

export function mib(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} GiB` : `${n} MiB`;
}

export function isActive(state: VmSummary['state']): boolean {
  return state === 'starting' || state === 'running' || state === 'paused' || state === 'saving' || state === 'stopping';
}
