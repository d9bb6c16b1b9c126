// The selected machine's panes in the manager: Details and Snapshots (VirtualBox's
// Machine Tools), as ARIA tabs. Arrow keys switch tabs.
import { useState, type ReactNode } from 'react';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import { SnapshotTree } from './SnapshotTree';

type Pane = 'details' | 'snapshots';

export function MachineTabs({ client, vm, details, onCloned }: { client: HostClient; vm: VmSummary; details: ReactNode; onCloned?: (vmId: string) => void }) {
  const [pane, setPane] = useState<Pane>('details');
  const snapshotsUsable = vm.state !== 'inaccessible';
  const active: Pane = snapshotsUsable ? pane : 'details';
  const count = vm.snapshotCount ?? 0;
  const tab = (p: Pane, label: string, disabled = false) => (
    <button
      role="tab"
      id={`machine-tab-${p}`}
      aria-selected={active === p}
      aria-controls={`machine-pane-${p}`}
      tabIndex={active === p ? 0 : -1}
      disabled={disabled}
      onClick={() => setPane(p)}
      onKeyDown={(e) => {
        if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          e.preventDefault();
          e.stopPropagation();
          const next = active === 'details' && snapshotsUsable ? 'snapshots' : 'details';
          setPane(next);
          document.getElementById(`machine-tab-${next}`)?.focus();
        } else if (e.key === 'Enter' || e.key === ' ') e.stopPropagation(); // activate the tab, not the manager's Enter = start
      }}
    >
      {label}
    </button>
  );
  return (
    <>
      <div role="tablist" aria-label="Machine tools" className="machine-tabs">
        {tab('details', 'Details')}
        {tab('snapshots', count ? `Snapshots (${count})` : 'Snapshots', !snapshotsUsable)}
      </div>
      <div role="tabpanel" id={`machine-pane-${active}`} aria-labelledby={`machine-tab-${active}`}>
        {active === 'details' ? details : <SnapshotTree client={client} vm={vm} onCloned={onCloned} />}
      </div>
    </>
  );
}
