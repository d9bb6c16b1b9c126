// Choosing the image of one storage slot in VM Settings: type a path or pick from the
// Media Manager's list. While the VM runs, disks stay locked, but the optical drive
// can be ejected or loaded at once (host `vm.changeMedium`, applied live and recorded).
import { useEffect, useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { StorageAttachment } from '../../protocol/vm-config';
import type { Medium } from '../../protocol/media';

export function MediumPicker(props: { client: HostClient; vmId: string; slot: StorageAttachment; running: boolean; onChange: (path: string | null, format?: 'raw' | 'qcow2' | 'iso') => void }) {
  const { slot, running } = props;
  const isCd = slot.kind === 'cdrom';
  const where = `${slot.bus} ${slot.port}`;
  const [media, setMedia] = useState<Medium[]>([]);
  const [draft, setDraft] = useState(slot.path ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const live = running && isCd;
  const locked = running && !isCd;

  useEffect(() => {
    let alive = true;
    Promise.resolve(props.client.call('media.list', {}))
      .then((list: Medium[] | null) => alive && Array.isArray(list) && setMedia(list))
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, [props.client]);
  useEffect(() => setDraft(slot.path ?? ''), [slot.path]);

  // VDI/VMDK disks are read-only in Boxwood: they are offered once converted (Media Manager → Convert).
  const choices = media.filter((m) => !m.problem && (isCd ? m.kind === 'iso' : m.kind === 'disk' && (m.format === 'raw' || m.format === 'qcow2')));
  const formatOf = (p: string | null) => {
    const f = media.find((m) => m.path === p)?.format;
    return isCd ? 'iso' : f === 'raw' || f === 'qcow2' ? f : undefined;
  };

  /** Running VM: change the CD now. Stopped: just edit the settings (saved with OK). */
  const apply = async (path: string | null) => {
    setError(null);
    if (!live) return props.onChange(path, formatOf(path));
    setBusy(true);
    try {
      await props.client.call('vm.changeMedium', { id: props.vmId, path });
      props.onChange(path, formatOf(path));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="medium-picker" style={{ flexWrap: error ? 'wrap' : undefined }}>
      <input
        aria-label={`Image for ${where}`}
        value={live ? draft : (slot.path ?? '')}
        placeholder="Empty"
        disabled={locked || busy}
        onChange={(e) => (live ? setDraft(e.target.value) : props.onChange(e.target.value || null))}
      />
      <select aria-label={`Choose medium for ${where}`} value="" disabled={locked || busy} onChange={(e) => e.target.value && void apply(e.target.value)}>
        <option value="">{choices.length ? 'From media list…' : isCd ? 'No ISOs listed' : 'No disks listed'}</option>
        {choices.map((m) => (
          <option key={m.path} value={m.path} title={m.path}>
            {m.name}
          </option>
        ))}
      </select>
      {live && (
        <button disabled={busy || !draft.trim() || draft.trim() === slot.path} onClick={() => void apply(draft.trim())}>
          Insert
        </button>
      )}
      {isCd && (
        <button disabled={busy || !slot.path} onClick={() => void apply(null)}>
          Eject
        </button>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
