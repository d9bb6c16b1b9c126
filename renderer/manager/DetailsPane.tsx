import type { VmSummary } from '../../protocol/host-api';
import { STATE_LABELS, mib, osLabel } from '../common/format';

const BUS_LABEL = { ide: 'IDE', virtio: 'VirtIO', floppy: 'Floppy' } as const;
const IDE_PORTS = ['Primary Master', 'Primary Slave', 'Secondary Master', 'Secondary Slave'];

export function DetailsPane({ vm }: { vm: VmSummary }) {
  if (vm.state === 'inaccessible' || !vm.config) {
    return (
      <section className="details-section" aria-label="Machine details">
        <h2>Inaccessible machine</h2>
        <p className="problem" role="alert">
          {vm.problem}
        </p>
        <p>
          Folder: <code>{vm.folder}</code>
        </p>
        <p>Fix or replace its vm.json and the machine becomes available again; the other machines are not affected.</p>
      </section>
    );
  }
  const c = vm.config;
  return (
    <section className="details-section" aria-label="Machine details">
      <h2>{c.name}</h2>
      {vm.state === 'aborted' && (
        <p className="problem" role="alert">
          Aborted: {vm.problem ?? 'the VM process stopped unexpectedly.'} You can start the machine again.
        </p>
      )}
      <Group title="General">
        <Row k="Name" v={c.name} />
        <Row k="Operating system" v={osLabel(c.osType)} />
        <Row k="State" v={STATE_LABELS[vm.state]} />
        <Row k="Location" v={vm.folder} />
      </Group>
      <Group title="System">
        <Row k="Base memory" v={mib(c.memoryMiB)} />
        <Row k="Processors" v={String(c.cpus)} />
        <Row k="Firmware" v={c.firmware === 'builtin' ? 'Boxwood BIOS (built-in)' : 'SeaBIOS'} />
        <Row k="Boot order" v={c.bootOrder.map((b) => ({ cdrom: 'Optical', disk: 'Hard Disk', floppy: 'Floppy' })[b]).join(', ')} />
        <Row k="Execution" v="Emulation (Boxwood engine)" />
      </Group>
      <Group title="Display">
        <Row k="Video memory" v={mib(c.display.vramMiB)} />
      </Group>
      <Group title="Storage">
        {c.storage.length === 0 && <Row k="Controllers" v="No media attached" />}
        {c.storage.map((s, i) => (
          <Row key={i} k={`${BUS_LABEL[s.bus]} ${s.bus === 'ide' ? IDE_PORTS[s.port] : `port ${s.port}`}`} v={`${s.kind === 'cdrom' ? '[Optical] ' : ''}${s.path ?? 'Empty'}`} />
        ))}
        {c.kernel && <Row k="Direct kernel boot" v={`${c.kernel.path}${c.kernel.initrd ? ` + ${c.kernel.initrd}` : ''}`} />}
      </Group>
      <Group title="Serial port">
        <Row k="COM1" v={c.serial.enabled ? 'Enabled (console tab in the display window)' : 'Disabled'} />
      </Group>
      <Group title="Snapshots">
        <Row k="Snapshots" v={vm.snapshotCount ? `${vm.snapshotCount} (see the Snapshots tab)` : 'None'} />
        {vm.snapshotCount ? <Row k="Current snapshot" v={vm.currentSnapshot ?? 'None (the current state is not based on a snapshot)'} /> : null}
      </Group>
      {c.notes && (
        <Group title="Description">
          <p className="notes">{c.notes}</p>
        </Group>
      )}
    </section>
  );
}

function Group({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="details-group">
      <h3>{title}</h3>
      <dl>{children}</dl>
    </div>
  );
}

function Row({ k, v }: { k: string; v: string }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </>
  );
}
