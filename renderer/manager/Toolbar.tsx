import type { VmSummary } from '../../protocol/host-api';
import { isActive } from '../common/format';

export type ToolbarAction = 'new' | 'settings' | 'start' | 'show' | 'pause' | 'resume' | 'reset' | 'acpi' | 'poweroff' | 'delete' | 'media' | 'clone';

export function Toolbar({ vm, onAction }: { vm: VmSummary | null; onAction: (a: ToolbarAction) => void }) {
  const state = vm?.state;
  const active = !!state && isActive(state);
  const usable = !!vm && state !== 'inaccessible';
  const button = (action: ToolbarAction, label: string, enabled: boolean, title: string) => (
    <button key={action} onClick={() => onAction(action)} disabled={!enabled} title={title}>
      {label}
    </button>
  );
  return (
    <nav className="toolbar" aria-label="Machine actions">
      {button('new', 'New', true, 'Create a new virtual machine (Ctrl+N)')}
      {button('settings', 'Settings', usable, 'Change this machine’s settings (Ctrl+S)')}
      {active ? button('show', 'Show', true, 'Open the machine’s display (Enter)') : button('start', 'Start', usable, 'Power on (Enter)')}
      {state === 'paused' ? button('resume', 'Resume', true, 'Continue running') : button('pause', 'Pause', state === 'running', 'Pause execution')}
      {button('reset', 'Reset', state === 'running' || state === 'paused', 'Hard reset, like the reset button')}
      {button('acpi', 'ACPI Shutdown', state === 'running', 'Press the power button: the guest shuts down')}
      {button('poweroff', 'Power Off', active, 'Pull the plug (unsaved guest data is lost)')}
      {button('clone', 'Clone…', usable, 'A new machine copied from this one or from one of its snapshots')}
      {button('delete', 'Delete', !!vm && !active, 'Remove the machine (Delete)')}
      {button('media', 'Media', true, 'Media Manager: hard disks and optical discs (Ctrl+D)')}
    </nav>
  );
}
