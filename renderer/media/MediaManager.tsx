// The Media Manager (like VirtualBox's Virtual Media Manager): every hard disk and
// optical disc the library knows, with create / add / copy / resize / convert /
// compact / release / remove / delete. Long operations run as host tasks whose
// progress arrives as `task.progress` events, each shown with a Cancel button.
import { useCallback, useEffect, useState } from 'react';
import type { HostClient } from '../api/host-client';
import { formatBytes, type Medium, type MediumKind, type TaskProgress } from '../../protocol/media';
import { Dialog, ErrorBanner } from '../common/Dialog';
import { CompactConfirm, ConfirmDialog, CopyDialog, CreateDialog, AddDialog, ResizeDialog } from './MediaForms';

const TABS: { kind: MediumKind; label: string }[] = [
  { kind: 'disk', label: 'Hard disks' },
  { kind: 'iso', label: 'Optical disks' },
];

type Form = null | 'create' | 'add' | 'copy' | 'convert' | 'resize' | 'compact' | 'release' | 'remove' | 'delete';

export function MediaManager({ client, onClose }: { client: HostClient; onClose: () => void }) {
  const [media, setMedia] = useState<Medium[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [kind, setKind] = useState<MediumKind>('disk');
  const [selected, setSelected] = useState<string | null>(null);
  const [tasks, setTasks] = useState<TaskProgress[]>([]);
  const [form, setForm] = useState<Form>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setMedia(await client.call('media.list', {}));
      setLoaded(true);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client]);

  useEffect(() => {
    void refresh();
    client.call('task.list', {}).then((t: TaskProgress[]) => setTasks((cur) => (cur.length ? cur : t.filter((x) => !x.done))), () => {});
    return client.onEvent((e) => {
      if (e.event === 'task.progress') {
        const { event: _event, ...p } = e;
        setTasks((cur) => (cur.some((t) => t.taskId === p.taskId) ? cur.map((t) => (t.taskId === p.taskId ? p : t)) : [...cur, p]));
        if (p.done) void refresh();
      } else if (e.event === 'vm.changed' || e.event === 'vm.removed') void refresh();
    });
  }, [client, refresh]);

  const shown = media.filter((m) => m.kind === kind);
  const medium = shown.find((m) => m.path === selected) ?? null;
  const attached = !!medium?.attachedTo.length;
  const inUse = !!medium?.attachedTo.some((a) => a.running);

  /** Run a request from a form; the form shows the error itself when this throws. */
  const act = async (method: string, params: Record<string, unknown>, message?: (r: any) => string | null) => {
    setError(null);
    setNotice(null);
    const r = await client.call(method as never, params as never);
    if (r && typeof r === 'object' && 'taskId' in r) setTasks((cur) => [...cur.filter((t) => t.taskId !== r.taskId), { taskId: r.taskId, label: 'Starting…', fraction: 0 }]);
    if (r && typeof r === 'object' && 'path' in r && typeof r.path === 'string') {
      setKind(r.kind);
      setSelected(r.path);
    }
    setNotice(message?.(r) ?? null);
    setForm(null);
    await refresh();
  };

  const cancelTask = (taskId: string) => client.call('task.cancel', { taskId }).catch((e) => setError((e as Error).message));

  const button = (f: Form, label: string, enabled: boolean, title: string) => (
    <button onClick={() => setForm(f)} disabled={!enabled} title={title}>
      {label}
    </button>
  );

  return (
    <Dialog title="Media Manager" onCancel={() => form === null && onClose()} wide footer={<button onClick={onClose}>Close</button>}>
      <div className="media-manager">
        <div role="toolbar" aria-label="Media actions" className="media-actions">
          {button('create', 'Create…', kind === 'disk', 'Create a new hard disk image')}
          {button('add', 'Add…', true, 'Add an existing image file to the list')}
          {button('copy', 'Copy…', !!medium && !medium.problem, 'Copy the selected medium to a new file')}
          {button('resize', 'Resize…', !!medium && kind === 'disk' && !medium.problem && !inUse, inUse ? 'Power off the machine using it first' : 'Grow the virtual size')}
          {button('convert', 'Convert…', !!medium && kind === 'disk' && !medium.problem, 'Write the disk in another format (raw ↔ qcow2, import VDI/VMDK)')}
          {button('compact', 'Compact', !!medium && kind === 'disk' && !medium.problem && !inUse, 'Give unused space back to the host')}
          {button('release', 'Release', attached, 'Detach from every powered-off machine')}
          {button('remove', 'Remove', !!medium && medium.registered && !attached, attached ? 'Release it first' : 'Forget this medium (the file stays)')}
          {button('delete', 'Delete', !!medium && !attached, attached ? 'Release it first' : 'Delete the file from the disk')}
        </div>
        <ErrorBanner message={error} />
        {notice && (
          <p className="hint" role="status">
            {notice}
          </p>
        )}
        <div role="tablist" className="tabs">
          {TABS.map((t) => (
            <button
              key={t.kind}
              role="tab"
              aria-selected={kind === t.kind}
              onClick={() => {
                setKind(t.kind);
                setSelected(null);
              }}
            >
              {t.label} ({media.filter((m) => m.kind === t.kind).length})
            </button>
          ))}
        </div>
        <div role="tabpanel" aria-label={TABS.find((t) => t.kind === kind)!.label}>
          <table className="media-table" aria-label={TABS.find((t) => t.kind === kind)!.label}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Virtual size</th>
                <th scope="col">Actual size</th>
                <th scope="col">Format</th>
                <th scope="col">Attached to</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => (
                <tr
                  key={m.path}
                  aria-selected={m.path === selected}
                  tabIndex={0}
                  className={m.path === selected ? 'selected' : undefined}
                  onClick={() => setSelected(m.path)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') setSelected(m.path);
                  }}
                  title={m.path}
                >
                  <td>
                    {m.problem && <span aria-label="Problem">⚠ </span>}
                    {m.name}
                  </td>
                  <td>{m.problem ? '—' : formatBytes(m.virtualSize)}</td>
                  <td>{formatBytes(m.actualSize)}</td>
                  <td>{m.format}</td>
                  <td>{m.attachedTo.length ? m.attachedTo.map((a) => `${a.vmName} (${a.slot})`).join(', ') : 'Not attached'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {loaded && !shown.length && <p className="hint">{kind === 'disk' ? 'No hard disks yet. Create one, or add an existing image.' : 'No optical discs yet. Add an ISO image.'}</p>}
        </div>
        {medium && <MediumDetails medium={medium} />}
        {tasks.length > 0 && (
          <section aria-label="Operations" className="media-tasks">
            {tasks.map((t) => (
              <TaskRow key={t.taskId} task={t} onCancel={() => void cancelTask(t.taskId)} onDismiss={() => setTasks((cur) => cur.filter((x) => x.taskId !== t.taskId))} />
            ))}
          </section>
        )}
      </div>
      {form === 'create' && <CreateDialog onCancel={() => setForm(null)} onSubmit={(p) => act('media.create', p)} />}
      {form === 'add' && <AddDialog kind={kind} onCancel={() => setForm(null)} onSubmit={(p) => act('media.add', p)} />}
      {(form === 'copy' || form === 'convert') && medium && (
        <CopyDialog medium={medium} convert={form === 'convert'} onCancel={() => setForm(null)} onSubmit={(p) => act(form === 'convert' ? 'media.convert' : 'media.copy', p)} />
      )}
      {form === 'resize' && medium && <ResizeDialog medium={medium} onCancel={() => setForm(null)} onSubmit={(newSize) => act('media.resize', { path: medium.path, newSize })} />}
      {form === 'compact' && medium && <CompactConfirm medium={medium} onCancel={() => setForm(null)} onConfirm={() => act('media.compact', { path: medium.path })} />}
      {form === 'release' && medium && (
        <ConfirmDialog
          title="Release medium"
          action="Release"
          onCancel={() => setForm(null)}
          onConfirm={() =>
            act('media.release', { path: medium.path }, (r: { released: string[]; stillAttached: string[] }) =>
              [r.released.length ? `Released from ${r.released.join(', ')}.` : '', r.stillAttached.length ? `Still attached to ${r.stillAttached.join(', ')} (running): power off and release again.` : ''].filter(Boolean).join(' '),
            )
          }
        >
          <p>
            Detach <strong>{medium.name}</strong> from {medium.attachedTo.map((a) => a.vmName).join(', ')}? Machines that are running keep it until they are powered off.
          </p>
        </ConfirmDialog>
      )}
      {form === 'remove' && medium && (
        <ConfirmDialog title="Remove medium" action="Remove" onCancel={() => setForm(null)} onConfirm={() => act('media.remove', { path: medium.path }, () => `${medium.name} was removed from the list; the file is kept.`)}>
          <p>
            Remove <strong>{medium.name}</strong> from the media list? The file stays at {medium.path}.
          </p>
        </ConfirmDialog>
      )}
      {form === 'delete' && medium && (
        <ConfirmDialog title="Delete medium" action="Delete" danger onCancel={() => setForm(null)} onConfirm={() => act('media.delete', { path: medium.path }, () => `${medium.name} was deleted.`)}>
          <p>
            Delete the file <strong>{medium.path}</strong>? This cannot be undone.
          </p>
          {medium.chain.length > 0 && <p className="hint">Its backing files are not deleted.</p>}
        </ConfirmDialog>
      )}
    </Dialog>
  );
}

function MediumDetails({ medium }: { medium: Medium }) {
  return (
    <dl className="media-details" aria-label="Medium details">
      <dt>Location</dt>
      <dd>{medium.path}</dd>
      {medium.chain.length > 0 && (
        <>
          <dt>Backing files</dt>
          <dd>{medium.chain.map((c) => `${c.path} (${c.format})`).join(' ← ')}</dd>
        </>
      )}
      {medium.problem && (
        <>
          <dt>Problem</dt>
          <dd className="problem">{medium.problem}</dd>
        </>
      )}
    </dl>
  );
}

function TaskRow({ task, onCancel, onDismiss }: { task: TaskProgress; onCancel: () => void; onDismiss: () => void }) {
  const pct = Math.round(task.fraction * 100);
  return (
    <div className="media-task">
      <div className="media-task-label">{task.label}</div>
      <div role="progressbar" aria-label={task.label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="media-progress">
        <div style={{ width: `${pct}%` }} />
      </div>
      <span className="media-task-pct">{pct}%</span>
      {!task.done && (
        <button onClick={onCancel} aria-label={`Cancel ${task.label}`}>
          Cancel
        </button>
      )}
      {task.done && (
        <>
          {task.error ? (
            <span role={task.cancelled ? 'status' : 'alert'} className={task.cancelled ? 'hint' : 'field-error'}>
              {task.error}
            </span>
          ) : (
            <span role="status" className="hint">
              Done.
            </span>
          )}
          <button onClick={onDismiss} aria-label={`Dismiss ${task.label}`}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}
