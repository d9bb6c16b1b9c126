// Settings for an existing VM. Settings that need a powered-off machine are
// disabled while it runs, with the reason next to them.
import { useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import { LOCKED_WHILE_RUNNING, OS_PRESETS, OS_TYPES, BOOT_DEVICES, type VmConfig, type StorageAttachment, type OsType } from '../../protocol/vm-config';
import { Dialog, ErrorBanner } from '../common/Dialog';
import { isActive } from '../common/format';
import { MediumPicker } from '../media/MediumPicker';

const TABS = ['General', 'System', 'Storage', 'Display'] as const;
type Tab = (typeof TABS)[number];

export function SettingsDialog(props: { client: HostClient; vm: VmSummary; onClose: () => void }) {
  const orig = props.vm.config!;
  const [c, setC] = useState<VmConfig>(structuredClone(orig));
  // What the user saw when opening: only their edits are sent (vm.json may change meanwhile, e.g. a snapshot's new overlay).
  const [initial] = useState<VmConfig>(orig);
  const [tab, setTab] = useState<Tab>('General');
  const [error, setError] = useState<string | null>(null);
  const running = isActive(props.vm.state);
  const locked = (k: keyof typeof LOCKED_WHILE_RUNNING) => (running ? LOCKED_WHILE_RUNNING[k]! : null);
  const set = <K extends keyof VmConfig>(k: K, v: VmConfig[K]) => setC({ ...c, [k]: v });

  const save = async () => {
    setError(null);
    const changes: Record<string, unknown> = {};
    for (const k of ['name', 'osType', 'memoryMiB', 'firmware', 'bootOrder', 'storage', 'display', 'serial', 'notes'] as const) {
      // While running, storage changes only through Insert/Eject (vm.changeMedium), which records them itself.
      if (k === 'storage' && running) continue;
      if (JSON.stringify(c[k]) !== JSON.stringify(initial[k])) changes[k] = c[k];
    }
    try {
      if (Object.keys(changes).length) await props.client.call('vm.modify', { id: orig.id, changes });
      props.onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Dialog
      title={`${orig.name} — Settings`}
      onCancel={props.onClose}
      wide
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" onClick={() => void save()}>
            OK
          </button>
        </>
      }
    >
      <ErrorBanner message={error} />
      <div role="tablist" className="tabs">
        {TABS.map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" className="form">
        {tab === 'General' && (
          <>
            <label>
              Name
              <input value={c.name} onChange={(e) => set('name', e.target.value)} />
            </label>
            <label>
              Operating system
              <select value={c.osType} onChange={(e) => set('osType', e.target.value as OsType)}>
                {OS_TYPES.map((os) => (
                  <option key={os} value={os}>
                    {OS_PRESETS[os].label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Description
              <textarea value={c.notes} onChange={(e) => set('notes', e.target.value)} rows={4} />
            </label>
          </>
        )}
        {tab === 'System' && (
          <>
            <Locked reason={locked('memoryMiB')}>
              <label>
                Base memory (MiB)
                <input type="number" value={c.memoryMiB} disabled={running} onChange={(e) => set('memoryMiB', e.target.valueAsNumber)} />
              </label>
            </Locked>
            <Locked reason={locked('firmware')}>
              <label>
                Firmware
                <select value={c.firmware} disabled={running} onChange={(e) => set('firmware', e.target.value as VmConfig['firmware'])}>
                  <option value="builtin">Boxwood BIOS (built-in)</option>
                  <option value="seabios">SeaBIOS (system package)</option>
                </select>
              </label>
            </Locked>
            <Locked reason={locked('bootOrder')}>
              <label>
                First boot device
                <select
                  value={c.bootOrder[0]}
                  disabled={running}
                  onChange={(e) => {
                    const first = e.target.value as VmConfig['bootOrder'][number];
                    set('bootOrder', [first, ...BOOT_DEVICES.filter((d) => d !== first)]);
                  }}
                >
                  <option value="cdrom">Optical</option>
                  <option value="disk">Hard disk</option>
                  <option value="floppy">Floppy</option>
                </select>
              </label>
            </Locked>
          </>
        )}
        {tab === 'Storage' && <StorageEditor client={props.client} vmId={orig.id} storage={c.storage} running={running} onChange={(s) => set('storage', s)} />}
        {tab === 'Display' && (
          <Locked reason={locked('display')}>
            <label>
              Video memory (MiB)
              <input type="number" min={1} max={64} value={c.display.vramMiB} disabled={running} onChange={(e) => set('display', { vramMiB: e.target.valueAsNumber })} />
            </label>
          </Locked>
        )}
      </div>
    </Dialog>
  );
}

function Locked({ reason, children }: { reason: string | null; children: React.ReactNode }) {
  return (
    <div className="locked-field">
      {children}
      {reason && <p className="hint locked-reason">{reason}</p>}
    </div>
  );
}

function StorageEditor(props: { client: HostClient; vmId: string; storage: StorageAttachment[]; running: boolean; onChange: (s: StorageAttachment[]) => void }) {
  const update = (i: number, s: Partial<StorageAttachment>) => props.onChange(props.storage.map((x, j) => (j === i ? { ...x, ...s } : x)));
  return (
    <>
      <table className="storage-table">
        <thead>
          <tr>
            <th>Slot</th>
            <th>Type</th>
            <th>Image</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.storage.map((s, i) => (
            <tr key={i}>
              <td>
                {s.bus.toUpperCase()} {s.port}
              </td>
              <td>{s.kind}</td>
              <td>
                <MediumPicker client={props.client} vmId={props.vmId} slot={s} running={props.running} onChange={(path, format) => update(i, format ? { path, format } : { path })} />
              </td>
              <td>
                <button disabled={props.running} onClick={() => props.onChange(props.storage.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.running && <p className="hint">While the machine runs, only the optical drive’s image can change; power off to add or remove disks.</p>}
      <button
        disabled={props.running || props.storage.some((s) => s.bus === 'ide' && s.port === 1)}
        onClick={() => props.onChange([...props.storage, { bus: 'ide', port: 1, kind: 'disk', path: null, format: 'raw' }])}
      >
        Add hard disk (IDE primary slave)
      </button>
      <button
        disabled={props.running || props.storage.some((s) => s.bus === 'ide' && s.port === 2)}
        onClick={() => props.onChange([...props.storage, { bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' }])}
      >
        Add optical drive (IDE secondary master)
      </button>
    </>
  );
}
