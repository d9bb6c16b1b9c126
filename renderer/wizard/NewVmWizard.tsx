// New-VM wizard: name & OS → memory & CPU → hard disk → optical → summary.
// Each step validates inline; Finish creates the VM in one request (the library
// builds it in a staging folder), and Cancel leaves nothing behind.
import { useEffect, useMemo, useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { HostInfo, VmSummary } from '../../protocol/host-api';
import { OS_PRESETS, OS_TYPES, MEMORY_MIB_MAX, MEMORY_MIB_MIN, vmNameSchema, type OsType, type StorageAttachment } from '../../protocol/vm-config';
import { Dialog, ErrorBanner } from '../common/Dialog';
import { mib } from '../common/format';
import { OsIcon } from '../common/OsIcon';

type DiskChoice = 'new' | 'existing' | 'none';
const STEPS = ['Name and operating system', 'Memory and processors', 'Hard disk', 'Optical drive', 'Summary'] as const;

export function NewVmWizard(props: { client: HostClient; host: HostInfo | null; onCancel: () => void; onCreated: (vm: VmSummary) => void }) {
  const [step, setStep] = useState(0);
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [osType, setOsType] = useState<OsType>('linux');
  const [memoryMiB, setMemory] = useState(OS_PRESETS.linux.memoryMiB);
  const [disk, setDisk] = useState<DiskChoice>('new');
  const [diskMiB, setDiskMiB] = useState(OS_PRESETS.linux.diskMiB);
  const [diskFormat, setDiskFormat] = useState<'qcow2' | 'raw'>('qcow2');
  const [existingDisk, setExistingDisk] = useState('');
  const [iso, setIso] = useState('');
  const [names, setNames] = useState<string[]>([]);
  const [pathProblem, setPathProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    props.client.call('vm.list', {}).then((l: VmSummary[]) => setNames(l.map((v) => v.config?.name.toLowerCase() ?? '')), () => {});
  }, [props.client]);

  // Host-aware limit: leave the host at least a quarter of its memory.
  const memoryMax = Math.max(MEMORY_MIB_MIN, Math.min(MEMORY_MIB_MAX, props.host ? Math.floor((props.host.memoryMiB * 3) / 4) : MEMORY_MIB_MAX));

  const nameError = useMemo(() => {
    const r = vmNameSchema.safeParse(name);
    if (!r.success) return r.error.issues[0].message;
    if (names.includes(name.trim().toLowerCase())) return `A virtual machine named “${name.trim()}” already exists.`;
    return null;
  }, [name, names]);
  const memoryError =
    !Number.isInteger(memoryMiB) || memoryMiB < MEMORY_MIB_MIN ? `Give the machine at least ${MEMORY_MIB_MIN} MiB.` : memoryMiB > memoryMax ? `At most ${mib(memoryMax)} on this host (it keeps a quarter of its ${mib(props.host?.memoryMiB ?? 0)} for itself).` : null;
  const diskError = disk === 'new' && (!Number.isInteger(diskMiB) || diskMiB < 1 || diskMiB > 2 * 1024 * 1024) ? 'Disk size must be between 1 MiB and 2 TiB.' : disk === 'existing' && !existingDisk.trim() ? 'Enter the path of an existing disk image.' : null;

  const stepError = [nameError, memoryError, diskError ?? (step === 2 ? pathProblem : null), step === 3 ? pathProblem : null, null][step];

  const chooseOs = (os: OsType) => {
    setOsType(os);
    setMemory(Math.min(OS_PRESETS[os].memoryMiB, memoryMax));
    setDiskMiB(OS_PRESETS[os].diskMiB);
    setDisk(OS_PRESETS[os].diskMiB ? 'new' : 'none');
  };

  /** Paths are checked on the host when leaving a step (the browser cannot see the host's files). */
  const next = async () => {
    setPathProblem(null);
    if (step === 2 && disk === 'existing') {
      const r = await props.client.call('fs.checkPath', { path: existingDisk.trim() });
      if (!r.exists) return setPathProblem(`No file at ${existingDisk.trim()}.`);
      if (r.kind !== 'disk') return setPathProblem(`${existingDisk.trim()} does not look like a disk image.`);
    }
    if (step === 3 && iso.trim()) {
      const r = await props.client.call('fs.checkPath', { path: iso.trim() });
      if (!r.exists) return setPathProblem(`No file at ${iso.trim()}. Check the path or leave the drive empty.`);
      if (r.kind !== 'iso') return setPathProblem(`${iso.trim()} is not an ISO 9660 image.`);
    }
    setStep(step + 1);
  };

  const finish = async () => {
    setBusy(true);
    setError(null);
    const storage: StorageAttachment[] = [];
    if (disk === 'existing') storage.push({ bus: 'ide', port: 0, kind: 'disk', path: existingDisk.trim() });
    storage.push({ bus: 'ide', port: 2, kind: 'cdrom', path: iso.trim() || null, format: 'iso' });
    try {
      const vm = await props.client.call('vm.create', {
        name: name.trim(),
        osType,
        memoryMiB,
        storage,
        bootOrder: iso.trim() ? ['cdrom', 'disk', 'floppy'] : ['disk', 'cdrom', 'floppy'],
        newDisk: disk === 'new' ? { sizeMiB: diskMiB, format: diskFormat } : undefined,
      });
      props.onCreated(vm);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`New virtual machine — ${STEPS[step]}`}
      onCancel={props.onCancel}
      wide
      footer={
        <>
          <span className="step-count">
            Step {step + 1} of {STEPS.length}
          </span>
          <button onClick={props.onCancel}>Cancel</button>
          <button onClick={() => setStep(step - 1)} disabled={step === 0 || busy}>
            Back
          </button>
          {step < STEPS.length - 1 ? (
            <button className="primary" onClick={() => void next()} disabled={!!(step < 3 ? [nameError, memoryError, diskError][step] : null)}>
              Next
            </button>
          ) : (
            <button className="primary" onClick={() => void finish()} disabled={busy}>
              {busy ? 'Creating…' : 'Finish'}
            </button>
          )}
        </>
      }
    >
      <ErrorBanner message={error} />
      {step === 0 && (
        <div className="form">
          <label>
            Name
            <input value={name} onChange={(e) => (setName(e.target.value), setNameTouched(true))} aria-invalid={!!nameError} autoFocus placeholder="e.g. Debian" />
          </label>
          {nameTouched ? <FieldError message={nameError} /> : null}
          <label>
            Operating system
            <select value={osType} onChange={(e) => chooseOs(e.target.value as OsType)}>
              {OS_TYPES.map((os) => (
                <option key={os} value={os}>
                  {OS_PRESETS[os].label}
                </option>
              ))}
            </select>
          </label>
          <OsIcon osType={osType} />
          <p className="hint">The preset chooses sensible defaults for memory and disk size; you can change them in the next steps.</p>
        </div>
      )}
      {step === 1 && (
        <div className="form">
          <label>
            Base memory (MiB)
            <input type="number" value={Number.isNaN(memoryMiB) ? '' : memoryMiB} min={MEMORY_MIB_MIN} max={memoryMax} onChange={(e) => setMemory(e.target.valueAsNumber)} aria-invalid={!!memoryError} />
          </label>
          <input type="range" aria-label="Base memory slider" min={MEMORY_MIB_MIN} max={memoryMax} step={4} value={Number.isNaN(memoryMiB) ? MEMORY_MIB_MIN : memoryMiB} onChange={(e) => setMemory(e.target.valueAsNumber)} />
          <FieldError message={memoryError} />
          <label>
            Processors
            <input type="number" value={1} disabled aria-describedby="cpu-why" />
          </label>
          <p className="hint" id="cpu-why">
            Boxwood’s engine emulates one processor; multi-processor guests are not available yet.
          </p>
        </div>
      )}
      {step === 2 && (
        <div className="form">
          <fieldset>
            <legend>Hard disk</legend>
            <label className="radio">
              <input type="radio" checked={disk === 'new'} onChange={() => setDisk('new')} /> Create a new disk
            </label>
            {disk === 'new' && (
              <div className="indent">
                <label>
                  Size (MiB)
                  <input type="number" value={Number.isNaN(diskMiB) ? '' : diskMiB} onChange={(e) => setDiskMiB(e.target.valueAsNumber)} aria-invalid={!!diskError} />
                </label>
                <label>
                  Format
                  <select value={diskFormat} onChange={(e) => setDiskFormat(e.target.value as 'qcow2' | 'raw')}>
                    <option value="qcow2">qcow2 (grows as used; needed for snapshots)</option>
                    <option value="raw">Raw image (sparse file)</option>
                  </select>
                </label>
              </div>
            )}
            <label className="radio">
              <input type="radio" checked={disk === 'existing'} onChange={() => setDisk('existing')} /> Use an existing disk image
            </label>
            {disk === 'existing' && (
              <div className="indent">
                <label>
                  Path on the host
                  <input value={existingDisk} onChange={(e) => setExistingDisk(e.target.value)} placeholder="/path/to/disk.img" />
                </label>
              </div>
            )}
            <label className="radio">
              <input type="radio" checked={disk === 'none'} onChange={() => setDisk('none')} /> No hard disk
            </label>
          </fieldset>
          <FieldError message={diskError ?? pathProblem} />
        </div>
      )}
      {step === 3 && (
        <div className="form">
          <label>
            ISO image (leave empty for an empty drive)
            <input value={iso} onChange={(e) => setIso(e.target.value)} placeholder="/path/to/installer.iso" />
          </label>
          <FieldError message={pathProblem} />
        </div>
      )}
      {step === 4 && (
        <dl className="summary">
          <dt>Name</dt>
          <dd>{name.trim()}</dd>
          <dt>Operating system</dt>
          <dd>{OS_PRESETS[osType].label}</dd>
          <dt>Memory</dt>
          <dd>{mib(memoryMiB)}</dd>
          <dt>Hard disk</dt>
          <dd>{disk === 'new' ? `New ${diskFormat} disk, ${mib(diskMiB)}` : disk === 'existing' ? existingDisk.trim() : 'None'}</dd>
          <dt>Optical drive</dt>
          <dd>{iso.trim() || 'Empty'}</dd>
        </dl>
      )}
      {stepError && step === 4 ? <FieldError message={stepError} /> : null}
    </Dialog>
  );
}

function FieldError({ message }: { message: string | null }) {
  return message ? (
    <p className="field-error" role="alert">
      {message}
    </p>
  ) : null;
}
