// The snapshot tree's dialogs: Take, Restore (with "Power off and restore" when the
// machine runs, as VirtualBox asks), Delete, Properties. Each reports host errors
// plainly inside the dialog. Keys pressed in a dialog stay in it (the manager's global
// shortcuts — Enter starts the VM, Delete removes it — must not see them).
import { useState, type ReactNode } from 'react';
import { Dialog } from '../common/Dialog';
import type { Snapshot } from '../../protocol/snapshots';

/** A dialog whose key presses never reach the manager window's shortcuts. */
export function ContainedDialog(props: { title: string; onCancel: () => void; children: ReactNode; footer: ReactNode; wide?: boolean }) {
  return (
    <div onKeyDown={(e) => e.stopPropagation()} onContextMenu={(e) => e.stopPropagation()}>
      <Dialog {...props} />
    </div>
  );
}

/** Runs an async action with a busy flag and keeps its error for display. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

function ErrorText({ error }: { error: string | null }) {
  return error ? (
    <p className="field-error" role="alert">
      {error}
    </p>
  ) : null;
}

export function TakeSnapshotDialog(props: { vmName: string; running: boolean; defaultName: string; onTake: (name: string, description: string) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState(props.defaultName);
  const [description, setDescription] = useState('');
  const { busy, error, run } = useAction();
  const invalid = name.trim() === '';
  const take = () => !invalid && !busy && run(() => props.onTake(name.trim(), description));
  return (
    <ContainedDialog
      title="Take Snapshot"
      onCancel={props.onCancel}
      footer={
        <>
          {busy && <span role="status">Taking the snapshot…</span>}
          <button onClick={props.onCancel} disabled={busy}>
            Cancel
          </button>
          <button className="primary" onClick={take} disabled={invalid || busy}>
            Take
          </button>
        </>
      }
    >
      <p className="hint">
        {props.running ? `${props.vmName} is running: the snapshot saves its disks and the running machine (restoring it resumes the guest where it was).` : `${props.vmName} is powered off: the snapshot saves its disks and settings.`}
      </p>
      <form
        className="snapshot-form"
        onSubmit={(e) => {
          e.preventDefault();
          void take();
        }}
      >
        <label>
          Snapshot name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={128} aria-invalid={invalid} />
        </label>
        {invalid && <p className="field-error">Enter a name for the snapshot.</p>}
        <label>
          Snapshot description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={4} maxLength={10_000} />
        </label>
      </form>
      <ErrorText error={error} />
    </ContainedDialog>
  );
}

export function RestoreSnapshotDialog(props: { snapshot: Snapshot; running: boolean; onRestore: (powerOffFirst: boolean) => Promise<void>; onCancel: () => void }) {
  const { busy, error, run } = useAction();
  const s = props.snapshot;
  return (
    <ContainedDialog
      title="Restore Snapshot"
      onCancel={props.onCancel}
      footer={
        <>
          {busy && <span role="status">{props.running ? 'Powering off and restoring…' : 'Restoring…'}</span>}
          <button onClick={props.onCancel} disabled={busy}>
            Cancel
          </button>
          {props.running ? (
            <button className="danger" onClick={() => run(() => props.onRestore(true))} disabled={busy}>
              Power off and restore
            </button>
          ) : (
            <button className="primary" onClick={() => run(() => props.onRestore(false))} disabled={busy}>
              Restore
            </button>
          )}
        </>
      }
    >
      {props.running ? (
        <p>
          The machine is running. To restore <strong>{s.name}</strong> it must be powered off first; its current state (and anything not saved in the guest) is lost.
        </p>
      ) : (
        <p>
          Restore <strong>{s.name}</strong>? The current state of the machine is replaced by the snapshot; changes made since then are lost unless you take a snapshot first.
        </p>
      )}
      {s.online && <p className="hint">This snapshot was taken while the machine ran: the next start resumes the guest where it was.</p>}
      <ErrorText error={error} />
    </ContainedDialog>
  );
}

/** pausesMachine: the machine runs on this snapshot's layers (it descends from it), so the merge holds the guest still. */
export function DeleteSnapshotDialog(props: { snapshot: Snapshot; pausesMachine: boolean; onDelete: () => Promise<void>; onCancel: () => void }) {
  const { busy, error, run } = useAction();
  return (
    <ContainedDialog
      title="Delete Snapshot"
      onCancel={props.onCancel}
      footer={
        <>
          {busy && <span role="status">{props.pausesMachine ? 'Deleting (the machine is paused while the disk changes merge)…' : 'Deleting (merging the disk changes)…'}</span>}
          <button onClick={props.onCancel} disabled={busy}>
            Cancel
          </button>
          <button className="danger" onClick={() => run(props.onDelete)} disabled={busy}>
            Delete
          </button>
        </>
      }
    >
      <p>
        Delete the snapshot <strong>{props.snapshot.name}</strong>? Its disk changes are merged into the state that follows it; you can no longer go back to it.
      </p>
      {props.pausesMachine && <p className="hint">The machine is running on this snapshot's disk layers: it pauses while they merge (longer for large disks), then continues where it was.</p>}
      <ErrorText error={error} />
    </ContainedDialog>
  );
}

export function SnapshotPropertiesDialog(props: { snapshot: Snapshot; onSave: (name: string, description: string) => Promise<void>; onCancel: () => void }) {
  const s = props.snapshot;
  const [name, setName] = useState(s.name);
  const [description, setDescription] = useState(s.description);
  const { busy, error, run } = useAction();
  const invalid = name.trim() === '';
  const save = () => !invalid && !busy && run(() => props.onSave(name.trim(), description));
  return (
    <ContainedDialog
      title="Snapshot Properties"
      onCancel={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel} disabled={busy}>
            Cancel
          </button>
          <button className="primary" onClick={save} disabled={invalid || busy}>
            Save
          </button>
        </>
      }
    >
      <form
        className="snapshot-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={128} aria-invalid={invalid} />
        </label>
        {invalid && <p className="field-error">Enter a name for the snapshot.</p>}
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={5} maxLength={10_000} />
        </label>
      </form>
      <dl className="snapshot-facts">
        <dt>Taken</dt>
        <dd>{formatTime(s.createdAt)}</dd>
        <dt>Kind</dt>
        <dd>{s.online ? 'Online (disks and the running machine)' : 'Offline (disks and settings)'}</dd>
        <dt>Disks</dt>
        <dd>{Object.keys(s.disks).length ? Object.entries(s.disks).map(([k, f]) => `${k}: ${f}`).join(', ') : 'None'}</dd>
      </dl>
      <ErrorText error={error} />
    </ContainedDialog>
  );
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
