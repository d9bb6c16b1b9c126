// The Media Manager's form dialogs: inline validation as the user types (the submit
// button stays disabled until the form is valid), and the host's refusal, if any,
// shown in the dialog so the user can correct it there.
import { useState, type ReactNode } from 'react';
import { formatBytes, parseSizeText, MEDIUM_SIZE_MAX, type Medium, type MediumKind } from '../../protocol/media';
import { Dialog, ErrorBanner } from '../common/Dialog';

type Submit<T> = (params: T) => Promise<void>;

/** Runs `submit`, keeping the dialog open with the host's message when it fails. */
function useSubmit() {
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
  return { busy, error, run };
}

function FieldError({ id, message }: { id: string; message: string | null }) {
  if (!message) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

export function sizeProblem(text: string, min?: number): string | null {
  if (!text.trim()) return 'Enter a size, e.g. 8G or 512M.';
  const n = parseSizeText(text);
  if (n === null) return `“${text}” is not a size. Enter a number with an optional unit: 8G, 512M, 100K.`;
  if (n > MEDIUM_SIZE_MAX) return 'At most 2 TiB.';
  if (n < 1024 * 1024) return 'At least 1 MiB.';
  if (min !== undefined && n < min) return `Shrinking is not supported: enter at least the current ${formatBytes(min)}.`;
  if (min !== undefined && n === min) return `That is the current size; enter a larger one.`;
  return null;
}

function pathProblem(p: string, what: string): string | null {
  if (!p.trim()) return `Enter the ${what}.`;
  if (!p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p)) return `Enter a full path, starting with /.`;
  return null;
}

const dirname = (p: string) => p.replace(/[\\/][^\\/]*$/, '') || '/';
const stem = (p: string) => p.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
const extFor = (f: 'raw' | 'qcow2') => (f === 'qcow2' ? 'qcow2' : 'img');

function FormDialog(props: { title: string; submitLabel: string; valid: boolean; busy: boolean; error: string | null; onCancel: () => void; onSubmit: () => void; children: ReactNode }) {
  return (
    <Dialog
      title={props.title}
      onCancel={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button className="primary" disabled={!props.valid || props.busy} onClick={props.onSubmit}>
            {props.submitLabel}
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (props.valid && !props.busy) props.onSubmit();
        }}
      >
        <ErrorBanner message={props.error} />
        {props.children}
        <button type="submit" hidden />
      </form>
    </Dialog>
  );
}

export function CreateDialog({ onCancel, onSubmit }: { onCancel: () => void; onSubmit: Submit<{ name: string; folder?: string; size: number; format: 'raw' | 'qcow2' }> }) {
  const [name, setName] = useState('NewDisk');
  const [folder, setFolder] = useState('');
  const [size, setSize] = useState('8G');
  const [format, setFormat] = useState<'raw' | 'qcow2'>('qcow2');
  const [touched, setTouched] = useState(false);
  const s = useSubmit();
  const nameErr = !name.trim() ? 'Enter a name for the disk.' : /[\\/]/.test(name) ? 'The name cannot contain / or \\; set the folder below.' : null;
  const folderErr = folder.trim() ? pathProblem(folder, 'folder') : null;
  const sizeErr = sizeProblem(size);
  const valid = !nameErr && !folderErr && !sizeErr;
  return (
    <FormDialog
      title="Create hard disk"
      submitLabel="Create"
      valid={valid}
      busy={s.busy}
      error={s.error}
      onCancel={onCancel}
      onSubmit={() => void s.run(() => onSubmit({ name: name.trim(), folder: folder.trim() || undefined, size: parseSizeText(size)!, format }))}
    >
      <label>
        Name
        <input value={name} aria-invalid={!!nameErr} aria-describedby="create-name-err" onChange={(e) => (setName(e.target.value), setTouched(true))} />
      </label>
      <FieldError id="create-name-err" message={touched ? nameErr : null} />
      <label>
        Folder
        <input value={folder} placeholder="Default: the media folder of your Boxwood home" aria-invalid={!!folderErr} aria-describedby="create-folder-err" onChange={(e) => setFolder(e.target.value)} />
      </label>
      <FieldError id="create-folder-err" message={folderErr} />
      <label>
        Size
        <input value={size} aria-invalid={!!sizeErr} aria-describedby="create-size-err" onChange={(e) => setSize(e.target.value)} />
      </label>
      <FieldError id="create-size-err" message={sizeErr} />
      <label>
        Format
        <select value={format} onChange={(e) => setFormat(e.target.value as 'raw' | 'qcow2')}>
          <option value="qcow2">qcow2 (grows as used, snapshots)</option>
          <option value="raw">raw (plain sparse file)</option>
        </select>
      </label>
    </FormDialog>
  );
}

export function AddDialog({ kind, onCancel, onSubmit }: { kind: MediumKind; onCancel: () => void; onSubmit: Submit<{ path: string; kind: MediumKind }> }) {
  const [path, setPath] = useState('');
  const [k, setK] = useState<MediumKind>(kind);
  const [touched, setTouched] = useState(false);
  const s = useSubmit();
  const err = pathProblem(path, 'path of the image file');
  return (
    <FormDialog title="Add medium" submitLabel="Add" valid={!err} busy={s.busy} error={s.error} onCancel={onCancel} onSubmit={() => void s.run(() => onSubmit({ path: path.trim(), kind: k }))}>
      <label>
        Image file
        <input value={path} placeholder="/path/to/image.qcow2 or .iso" aria-invalid={!!err} aria-describedby="add-path-err" onChange={(e) => (setPath(e.target.value), setTouched(true))} />
      </label>
      <FieldError id="add-path-err" message={touched ? err : null} />
      <label>
        Type
        <select value={k} onChange={(e) => setK(e.target.value as MediumKind)}>
          <option value="disk">Hard disk (raw, qcow2, VDI, VMDK)</option>
          <option value="iso">Optical disc (ISO)</option>
        </select>
      </label>
    </FormDialog>
  );
}

export function CopyDialog({ medium, convert, onCancel, onSubmit }: { medium: Medium; convert: boolean; onCancel: () => void; onSubmit: Submit<{ src: string; dst: string; format?: 'raw' | 'qcow2' }> }) {
  const initial: 'raw' | 'qcow2' = convert ? (medium.format === 'qcow2' ? 'raw' : 'qcow2') : medium.format === 'raw' || medium.format === 'iso' ? 'raw' : 'qcow2';
  const [format, setFormat] = useState<'raw' | 'qcow2'>(initial);
  const suggest = (f: 'raw' | 'qcow2') => `${dirname(medium.path)}/${stem(medium.path)}${convert ? '' : '-copy'}.${medium.kind === 'iso' ? 'iso' : extFor(f)}`;
  const [dst, setDst] = useState(suggest(initial));
  const [edited, setEdited] = useState(false);
  const s = useSubmit();
  const err = pathProblem(dst, 'destination path') ?? (dst.trim() === medium.path ? 'The destination must be a new file.' : null);
  return (
    <FormDialog
      title={convert ? `Convert ${medium.name}` : `Copy ${medium.name}`}
      submitLabel={convert ? 'Convert' : 'Copy'}
      valid={!err}
      busy={s.busy}
      error={s.error}
      onCancel={onCancel}
      onSubmit={() => void s.run(() => onSubmit({ src: medium.path, dst: dst.trim(), format }))}
    >
      <p className="hint">
        From {medium.path} ({medium.format}, {formatBytes(medium.virtualSize)}). The source is not changed; a cancelled operation leaves no file behind.
      </p>
      <label>
        Destination
        <input value={dst} aria-invalid={!!err} aria-describedby="copy-dst-err" onChange={(e) => (setDst(e.target.value), setEdited(true))} />
      </label>
      <FieldError id="copy-dst-err" message={err} />
      <label>
        Format
        <select
          value={format}
          onChange={(e) => {
            const f = e.target.value as 'raw' | 'qcow2';
            setFormat(f);
            if (!edited) setDst(suggest(f));
          }}
        >
          <option value="qcow2">qcow2</option>
          <option value="raw">raw</option>
        </select>
      </label>
    </FormDialog>
  );
}

export function ResizeDialog({ medium, onCancel, onSubmit }: { medium: Medium; onCancel: () => void; onSubmit: (newSize: number) => Promise<void> }) {
  const [size, setSize] = useState('');
  const s = useSubmit();
  const err = sizeProblem(size, medium.virtualSize);
  return (
    <FormDialog title={`Resize ${medium.name}`} submitLabel="Resize" valid={!err} busy={s.busy} error={s.error} onCancel={onCancel} onSubmit={() => void s.run(() => onSubmit(parseSizeText(size)!))}>
      <p className="hint">Current virtual size: {formatBytes(medium.virtualSize)}. Disks can only grow; enlarge the partition inside the guest afterwards.</p>
      <label>
        New size
        <input value={size} placeholder="e.g. 16G" aria-invalid={!!err} aria-describedby="resize-err" onChange={(e) => setSize(e.target.value)} />
      </label>
      <FieldError id="resize-err" message={size ? err : null} />
    </FormDialog>
  );
}

export function ConfirmDialog(props: { title: string; action: string; danger?: boolean; onCancel: () => void; onConfirm: () => Promise<void>; children: ReactNode }) {
  const s = useSubmit();
  return (
    <Dialog
      title={props.title}
      onCancel={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button className={props.danger ? 'danger' : 'primary'} disabled={s.busy} onClick={() => void s.run(props.onConfirm)}>
            {props.action}
          </button>
        </>
      }
    >
      <ErrorBanner message={s.error} />
      {props.children}
    </Dialog>
  );
}

export function CompactConfirm({ medium, onCancel, onConfirm }: { medium: Medium; onCancel: () => void; onConfirm: () => Promise<void> }) {
  return (
    <ConfirmDialog title="Compact disk" action="Compact" onCancel={onCancel} onConfirm={onConfirm}>
      <p>
        Rewrite <strong>{medium.name}</strong> keeping only the space it really uses ({formatBytes(medium.actualSize)} on the host now)? The original stays in place until the new file is complete.
      </p>
    </ConfirmDialog>
  );
}
