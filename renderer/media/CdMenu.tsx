// The display window's optical drive control (VirtualBox's Devices → Optical Drives):
// shows the disc in the drive, ejects it, or inserts an ISO from the media list or by
// path — live while the VM runs (host `vm.changeMedium`), recorded in vm.json always.
import { useEffect, useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import type { Medium } from '../../protocol/media';
import { Dialog, ErrorBanner } from '../common/Dialog';

const OTHER = '\u0000other';
const EJECT = '\u0000eject';

export function CdMenu({ client, vm, onError }: { client: HostClient; vm: VmSummary | null; onError: (message: string | null) => void }) {
  const [isos, setIsos] = useState<Medium[]>([]);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const load = () => {
    Promise.resolve(client.call('media.list', {})).then((l: Medium[] | null) => Array.isArray(l) && setIsos(l.filter((m) => m.kind === 'iso' && !m.problem)), () => {});
  };
  // Reload when the drive's content changes (the inserted ISO joins the list).
  const inDrive = vm?.config?.storage.find((s) => s.kind === 'cdrom')?.path ?? null;
  useEffect(load, [client, inDrive]);
  const cfg = vm?.config;
  if (!vm || !cfg) return null;
  const drive = cfg.storage.find((s) => s.kind === 'cdrom' && s.bus === 'ide');
  const current = drive?.path ?? null;
  const name = current ? current.replace(/^.*[\\/]/, '') : 'empty';

  const change = async (path: string | null) => {
    onError(null);
    setBusy(true);
    try {
      await client.call('vm.changeMedium', { id: vm.id, path });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <select
        aria-label="Optical drive"
        value=""
        disabled={busy || vm.state === 'inaccessible'}
        onFocus={load}
        onMouseDown={load}
        onChange={(e) => {
          const v = e.target.value;
          if (!v) return;
          if (v === OTHER) setAsking(true);
          else void change(v === EJECT ? null : v).catch((err) => onError((err as Error).message));
        }}
        title={current ?? 'No disc in the optical drive'}
      >
        <option value="">CD: {name}</option>
        {current && <option value={EJECT}>Eject {name}</option>}
        {isos
          .filter((m) => m.path !== current)
          .map((m) => (
            <option key={m.path} value={m.path}>
              Insert {m.name}
            </option>
          ))}
        <option value={OTHER}>Insert other ISO…</option>
      </select>
      {asking && <InsertIsoDialog onCancel={() => setAsking(false)} onInsert={async (p) => (await change(p), setAsking(false))} />}
    </>
  );
}

function InsertIsoDialog({ onCancel, onInsert }: { onCancel: () => void; onInsert: (path: string) => Promise<void> }) {
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const bad = !path.trim() ? 'Enter the path of an ISO image.' : !path.trim().startsWith('/') ? 'Enter a full path, starting with /.' : null;
  const submit = () => {
    if (bad) return;
    setError(null);
    onInsert(path.trim()).catch((e) => setError((e as Error).message));
  };
  return (
    <Dialog
      title="Insert ISO image"
      onCancel={onCancel}
      footer={
        <>
          <button onClick={onCancel}>Cancel</button>
          <button className="primary" disabled={!!bad} onClick={submit}>
            Insert
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <ErrorBanner message={error} />
        <label>
          ISO image
          <input value={path} placeholder="/path/to/disc.iso" onChange={(e) => setPath(e.target.value)} />
        </label>
        {path && bad && (
          <p className="field-error" role="alert">
            {bad}
          </p>
        )}
      </form>
    </Dialog>
  );
}
