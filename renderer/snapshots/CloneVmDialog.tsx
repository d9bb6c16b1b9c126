// "Clone…" (manager toolbar, snapshot context menu): a new VM from this one's current
// state or one of its snapshots — Full (independent copies of the disks) or Linked
// (overlays on the snapshot's disks; only from a snapshot). The copy runs as a host task:
// progress and Cancel come from `task.progress` / `task.cancel`.
import { useEffect, useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import type { Snapshot, SnapshotListResult } from '../../protocol/snapshots';
import type { CloneMode, CloneStarted } from '../../protocol/clone';
import type { TaskProgress } from '../../protocol/media';
import { ContainedDialog } from './SnapshotDialogs';
import { isActive } from '../common/format';

const CURRENT = '';

export function CloneVmDialog(props: { client: HostClient; vm: VmSummary; snapshotId?: string; onCancel: () => void; onCloned: (vmId: string) => void }) {
  const { client, vm } = props;
  const vmName = vm.config?.name ?? 'machine';
  const [name, setName] = useState(`${vmName} Clone`);
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [source, setSource] = useState<string>(props.snapshotId ?? CURRENT);
  const [mode, setMode] = useState<CloneMode>(props.snapshotId ? 'linked' : 'full');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<CloneStarted | null>(null);
  const [task, setTask] = useState<TaskProgress | null>(null);

  useEffect(() => {
    client.call('snapshot.list', { id: vm.id }).then(
      (r: SnapshotListResult) => setSnapshots(r.snapshots),
      () => setSnapshots([]),
    );
  }, [client, vm.id]);

  useEffect(() => {
    if (!started) return;
    return client.onEvent((e) => {
      if (e.event !== 'task.progress' || e.taskId !== started.taskId) return;
      setTask(e);
      if (e.done && !e.error) props.onCloned(started.vmId);
      if (e.done) setBusy(false);
    });
  }, [client, started]); // eslint-disable-line react-hooks/exhaustive-deps

  const running = isActive(vm.state);
  const fromCurrent = source === CURRENT;
  const nameError = name.trim() === '' ? 'Enter a name for the new machine.' : /[\\/:*?"<>|]/.test(name) ? 'Names cannot contain \\ / : * ? " < > |.' : null;
  const blocked = fromCurrent && running ? `${vmName} is running: power it off to clone its current state, or clone one of its snapshots.` : null;
  const effectiveMode: CloneMode = fromCurrent ? 'full' : mode;

  const start = async () => {
    if (nameError || blocked || busy) return;
    setBusy(true);
    setError(null);
    setTask(null);
    try {
      const r: CloneStarted = await client.call('vm.clone', { id: vm.id, name: name.trim(), mode: effectiveMode, ...(fromCurrent ? {} : { snapshotId: source }) });
      setStarted(r);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const pct = task ? Math.round(task.fraction * 100) : 0;
  const failed = task?.done && task.error ? task.error : null;
  return (
    <ContainedDialog
      title={`Clone ${vmName}`}
      onCancel={() => !busy && props.onCancel()}
      footer={
        <>
          {busy && started ? (
            <button onClick={() => client.call('task.cancel', { taskId: started.taskId }).catch((e: Error) => setError(e.message))}>Cancel cloning</button>
          ) : (
            <button onClick={props.onCancel}>Cancel</button>
          )}
          <button className="primary" onClick={start} disabled={!!nameError || !!blocked || busy}>
            Clone
          </button>
        </>
      }
    >
      <form
        className="snapshot-form"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <label>
          Name of the new machine
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} aria-invalid={!!nameError} disabled={busy} />
        </label>
        {nameError && <p className="field-error">{nameError}</p>}
        <label>
          Clone from
          <select value={source} onChange={(e) => setSource(e.target.value)} disabled={busy || snapshots === null}>
            <option value={CURRENT}>Current state</option>
            {(snapshots ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                Snapshot: {s.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset disabled={busy}>
          <legend>Clone type</legend>
          <div className="clone-mode">
            <label>
              <input type="radio" name="clone-mode" checked={effectiveMode === 'full'} onChange={() => setMode('full')} /> Full clone
            </label>
            <span className="hint">An independent copy of every disk.</span>
          </div>
          <div className="clone-mode">
            <label>
              <input type="radio" name="clone-mode" checked={effectiveMode === 'linked'} onChange={() => setMode('linked')} disabled={fromCurrent} /> Linked clone
            </label>
            <span className="hint">{fromCurrent ? 'Only from a snapshot: choose one above.' : 'Small: new disks on top of the snapshot’s (which then cannot be deleted while the clone exists).'}</span>
          </div>
        </fieldset>
        <p className="hint">The clone gets the disks and the settings, not a saved running machine: it starts with a fresh boot.</p>
      </form>
      {blocked && <p className="field-error">{blocked}</p>}
      {started && task && (
        <div className="clone-progress">
          <div role="progressbar" aria-label="Cloning" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="media-progress">
            <div style={{ width: `${pct}%` }} />
          </div>
          <span>{pct}%</span>
        </div>
      )}
      {started && task?.done && task.cancelled && (
        <p role="status" className="hint">
          Cancelled. Nothing was created.
        </p>
      )}
      {failed && !task?.cancelled && (
        <p className="field-error" role="alert">
          {failed}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </ContainedDialog>
  );
}
