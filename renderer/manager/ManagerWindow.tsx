// The VirtualBox-style manager: toolbar, VM list, details pane, host information.
import { useCallback, useEffect, useRef, useState } from 'react';
import { onMenuCommand, type HostClient } from '../api/host-client';
import type { HostInfo, VmSummary } from '../../protocol/host-api';
import { Toolbar, type ToolbarAction } from './Toolbar';
import { VmList } from './VmList';
import { DetailsPane } from './DetailsPane';
import { HostInfoPanel } from './HostInfoPanel';
import { NewVmWizard } from '../wizard/NewVmWizard';
import { SettingsDialog } from '../settings/SettingsDialog';
import { DeleteVmDialog } from './DeleteVmDialog';
import { MediaManager } from '../media/MediaManager';
import { MachineTabs } from '../snapshots/MachineTabs';
import { CloneVmDialog } from '../snapshots/CloneVmDialog';
import { ErrorBanner } from '../common/Dialog';
import { isActive } from '../common/format';

type Modal = null | 'new' | 'settings' | 'delete' | 'media' | 'clone';

export function ManagerWindow({ client }: { client: HostClient }) {
  const [vms, setVms] = useState<VmSummary[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [host, setHost] = useState<HostInfo | null>(null);
  const [modal, setModal] = useState<Modal>(null);
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(true);

  const refresh = useCallback(async () => {
    try {
      const list: VmSummary[] = await client.call('vm.list', {});
      setVms(list);
      setSelected((s) => (s && list.some((v) => v.id === s) ? s : (list[0]?.id ?? null)));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client]);

  useEffect(() => {
    void refresh();
    client.call('host.info', {}).then(setHost, (e) => setError(e.message));
    client.onConnectionChange(setConnected);
    return client.onEvent((e) => {
      if (e.event === 'vm.changed') setVms((list) => (list.some((v) => v.id === e.vm.id) ? list.map((v) => (v.id === e.vm.id ? e.vm : v)) : [...list, e.vm]));
      else if (e.event === 'vm.removed') setVms((list) => list.filter((v) => v.id !== e.id));
    });
  }, [client, refresh]);

  const vm = vms.find((v) => v.id === selected) ?? null;

  const run = async (action: ToolbarAction) => {
    setError(null);
    if (action === 'new') return setModal('new');
    if (action === 'media') return setModal('media');
    if (!vm) return;
    if (action === 'settings') return setModal('settings');
    if (action === 'delete') return setModal('delete');
    if (action === 'clone') return setModal('clone');
    if (action === 'show') return openDisplay(vm.id);
    const method = ({ start: 'vm.start', pause: 'vm.pause', resume: 'vm.resume', reset: 'vm.reset', acpi: 'vm.acpiShutdown', poweroff: 'vm.powerOff' } as const)[action];
    try {
      await client.call(method, { id: vm.id });
      if (action === 'start') openDisplay(vm.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const runRef = useRef(run);
  runRef.current = run;
  useEffect(() => onMenuCommand((c) => c.kind === 'manager' && void runRef.current(c.action as ToolbarAction)), []);

  // Keyboard shortcuts like VirtualBox's manager (Ctrl+N new, Ctrl+S settings, Enter start/show, Delete).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (modal || (e.target as HTMLElement).closest('input, textarea, select')) return;
      if (e.ctrlKey && e.key.toLowerCase() === 'n') (e.preventDefault(), void run('new'));
      else if (e.ctrlKey && e.key.toLowerCase() === 's') (e.preventDefault(), void run('settings'));
      else if (e.ctrlKey && e.key.toLowerCase() === 'd') (e.preventDefault(), void run('media'));
      else if (e.key === 'Enter' && vm) void run(isActive(vm.state) ? 'show' : 'start');
      else if (e.key === 'Delete' && vm && !isActive(vm.state)) void run('delete');
      else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        const i = vms.findIndex((v) => v.id === selected);
        const next = vms[Math.max(0, Math.min(vms.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
        if (next) setSelected(next.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div className="manager">
      <Toolbar vm={vm} onAction={run} />
      {!connected && (
        <div className="error-banner" role="alert">
          Lost the connection to the Boxwood host. Restart <code>boxwood serve</code> and reload this page.
        </div>
      )}
      <ErrorBanner message={error} />
      <div className="manager-body">
        <VmList vms={vms} selected={selected} onSelect={setSelected} onOpen={(id) => openDisplay(id)} />
        <main className="details">
          {vm ? <MachineTabs client={client} vm={vm} details={<DetailsPane vm={vm} />} onCloned={setSelected} /> : <EmptyLibrary onNew={() => setModal('new')} />}
          <HostInfoPanel host={host} />
        </main>
      </div>
      {modal === 'new' && (
        <NewVmWizard
          client={client}
          host={host}
          onCancel={() => setModal(null)}
          onCreated={(v) => {
            setModal(null);
            setVms((list) => (list.some((x) => x.id === v.id) ? list : [...list, v]));
            setSelected(v.id);
          }}
        />
      )}
      {modal === 'media' && <MediaManager client={client} onClose={() => setModal(null)} />}
      {modal === 'clone' && vm && (
        <CloneVmDialog
          client={client}
          vm={vm}
          onCancel={() => setModal(null)}
          onCloned={(id) => {
            setModal(null);
            setSelected(id);
          }}
        />
      )}
      {modal === 'settings' && vm?.config && <SettingsDialog client={client} vm={vm} onClose={() => setModal(null)} />}
      {modal === 'delete' && vm && (
        <DeleteVmDialog
          vm={vm}
          onCancel={() => setModal(null)}
          onDelete={async (deleteFiles) => {
            try {
              await client.call('vm.delete', { id: vm.id, deleteFiles });
              setModal(null);
              await refresh();
            } catch (e) {
              setError((e as Error).message);
              setModal(null);
            }
          }}
        />
      )}
    </div>
  );
}

function EmptyLibrary({ onNew }: { onNew: () => void }) {
  return (
    <section className="empty-library">
      <h2>Welcome to Boxwood</h2>
      <p>You have no virtual machines yet. Create one to boot an operating system from an ISO image or a disk.</p>
      <button className="primary" onClick={onNew}>
        New virtual machine…
      </button>
    </section>
  );
}

export function openDisplay(vmId: string): void {
  // Electron: the main process opens (or focuses) the VM's own window.
  if (window.boxwoodIpc) return window.boxwoodIpc.openDisplay(vmId);
  const url = `${location.pathname}#/display/${vmId}`;
  const w = window.open(url, `boxwood-display-${vmId}`, 'width=900,height=720');
  if (!w) location.hash = `#/display/${vmId}`;
}
