// @vitest-environment happy-dom
import { describe, it, expect, vi, afterEach } from 'vitest';
import { render, screen, fireEvent, waitFor, cleanup, within, act } from '@testing-library/react';
import { MediaManager } from './MediaManager';
import { MediumPicker } from './MediumPicker';
import { CdMenu } from './CdMenu';
import { SettingsDialog } from '../settings/SettingsDialog';
import type { HostClient } from '../api/host-client';
import type { HostEvent } from '../../protocol/host-api';
import type { Medium } from '../../protocol/media';

afterEach(cleanup);

const GiB = 2 ** 30;
const disk = (over: Partial<Medium> = {}): Medium => ({
  path: '/h/media/sys.qcow2',
  name: 'sys.qcow2',
  kind: 'disk',
  format: 'qcow2',
  virtualSize: 8 * GiB,
  actualSize: 196608,
  attachedTo: [],
  chain: [],
  registered: true,
  ...over,
});

function fakeClient(media: Medium[]) {
  const calls: { method: string; params: any }[] = [];
  let listener: (e: HostEvent) => void = () => {};
  const client: HostClient = {
    call: vi.fn(async (method: string, params: any) => {
      calls.push({ method, params });
      switch (method) {
        case 'media.list':
          return media;
        case 'task.list':
          return [];
        case 'media.create': {
          const m = disk({ path: `/h/media/${params.name}.qcow2`, name: `${params.name}.qcow2`, virtualSize: params.size });
          media.push(m);
          return m;
        }
        case 'media.convert':
          return { taskId: 't1' };
        case 'task.cancel':
          return null;
        case 'media.resize':
          throw new Error('sys.qcow2 is attached to Deb, which is running. Power it off before resizing.');
        case 'vm.changeMedium':
          return null;
      }
      throw new Error(`unexpected ${method}`);
    }) as HostClient['call'],
    onEvent: (fn) => {
      listener = fn;
      return () => {};
    },
    openDisplay: () => {
      throw new Error('no display');
    },
    onConnectionChange: () => {},
  };
  return { client, calls, push: (e: HostEvent) => act(() => listener(e)) };
}

describe('MediaManager', () => {
  it('lists hard disks and optical discs on their tabs with sizes, format and attachments', async () => {
    const { client } = fakeClient([
      disk({ attachedTo: [{ vmId: 'v', vmName: 'Deb', slot: 'IDE primary master', running: false }] }),
      disk({ path: '/isos/deb.iso', name: 'deb.iso', kind: 'iso', format: 'iso', virtualSize: 300 * 2 ** 20, registered: false }),
    ]);
    render(<MediaManager client={client} onClose={() => {}} />);
    const table = await screen.findByRole('table', { name: 'Hard disks' });
    const row = await within(table).findByRole('row', { name: /sys\.qcow2/ });
    expect(row.textContent).toContain('8 GiB');
    expect(row.textContent).toContain('192 KiB');
    expect(row.textContent).toContain('Deb (IDE primary master)');
    expect(within(table).queryByText('deb.iso')).toBeNull();
    fireEvent.click(screen.getByRole('tab', { name: /Optical disks/ }));
    expect(await screen.findByRole('row', { name: /deb\.iso.*300 MiB/ })).toBeTruthy();
  });

  it('enables actions by selection: attached media can be released but not deleted', async () => {
    const { client } = fakeClient([disk({ attachedTo: [{ vmId: 'v', vmName: 'Deb', slot: 'IDE primary master', running: false }] })]);
    render(<MediaManager client={client} onClose={() => {}} />);
    const btn = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;
    await screen.findByRole('row', { name: /sys\.qcow2/ });
    expect(btn('Release').disabled).toBe(true);
    fireEvent.click(screen.getByRole('row', { name: /sys\.qcow2/ }));
    expect(btn('Release').disabled).toBe(false);
    expect(btn('Delete').disabled).toBe(true);
    expect(btn('Resize…').disabled).toBe(false);
    expect(screen.getByText('/h/media/sys.qcow2')).toBeTruthy();
  });

  it('validates the size inline and creates the disk with the size in bytes', async () => {
    const { client, calls } = fakeClient([]);
    render(<MediaManager client={client} onClose={() => {}} />);
    await screen.findByText(/No hard disks yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Create…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Create hard disk' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'data' } });
    fireEvent.change(within(dialog).getByLabelText('Size'), { target: { value: 'lots' } });
    expect(within(dialog).getByText(/“lots” is not a size/)).toBeTruthy();
    expect((within(dialog).getByRole('button', { name: 'Create' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(within(dialog).getByLabelText('Size'), { target: { value: '3T' } });
    expect(within(dialog).getByText('At most 2 TiB.')).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText('Size'), { target: { value: '2G' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Create hard disk' })).toBeNull());
    expect(calls.find((c) => c.method === 'media.create')!.params).toEqual({ name: 'data', folder: undefined, size: 2 * GiB, format: 'qcow2' });
    expect(await screen.findByRole('row', { name: /data\.qcow2/ })).toBeTruthy();
  });

  it('refuses shrinking inline and shows the host refusal inside the form', async () => {
    const { client } = fakeClient([disk()]);
    render(<MediaManager client={client} onClose={() => {}} />);
    fireEvent.click(await screen.findByRole('row', { name: /sys\.qcow2/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Resize…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Resize sys.qcow2' });
    fireEvent.change(within(dialog).getByLabelText('New size'), { target: { value: '4G' } });
    expect(within(dialog).getByText('Shrinking is not supported: enter at least the current 8 GiB.')).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText('New size'), { target: { value: '16G' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Resize' }));
    expect(await within(dialog).findByText(/Power it off before resizing/)).toBeTruthy();
  });

  it('shows a task’s progress with Cancel, and its outcome', async () => {
    const { client, calls, push } = fakeClient([disk()]);
    render(<MediaManager client={client} onClose={() => {}} />);
    fireEvent.click(await screen.findByRole('row', { name: /sys\.qcow2/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Convert…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Convert sys.qcow2' });
    expect((within(dialog).getByLabelText('Destination') as HTMLInputElement).value).toBe('/h/media/sys.img');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Convert' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'media.convert')).toBe(true));
    expect(calls.find((c) => c.method === 'media.convert')!.params).toEqual({ src: '/h/media/sys.qcow2', dst: '/h/media/sys.img', format: 'raw' });
    const label = 'Converting sys.qcow2 to sys.img (raw)';
    push({ event: 'task.progress', taskId: 't1', label, fraction: 0.42 });
    const bar = await screen.findByRole('progressbar', { name: label });
    expect(bar.getAttribute('aria-valuenow')).toBe('42');
    fireEvent.click(screen.getByRole('button', { name: `Cancel ${label}` }));
    await waitFor(() => expect(calls.find((c) => c.method === 'task.cancel')?.params).toEqual({ taskId: 't1' }));
    push({ event: 'task.progress', taskId: 't1', label, fraction: 0.5, done: true, cancelled: true, error: 'Cancelled. The source is unchanged and no partial file was left behind.' });
    expect(await screen.findByText(/Cancelled\. The source is unchanged/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: `Cancel ${label}` })).toBeNull();
  });
});

describe('MediumPicker', () => {
  const cd = { bus: 'ide' as const, port: 2, kind: 'cdrom' as const, path: '/isos/a.iso', format: 'iso' as const };
  it('ejects and inserts the CD of a running VM at once', async () => {
    const { client, calls } = fakeClient([disk({ path: '/isos/b.iso', name: 'b.iso', kind: 'iso', format: 'iso' })]);
    const changed = vi.fn();
    render(<MediumPicker client={client} vmId="vm1" slot={cd} running onChange={changed} />);
    fireEvent.click(screen.getByRole('button', { name: 'Eject' }));
    await waitFor(() => expect(changed).toHaveBeenCalledWith(null, 'iso'));
    expect(calls.find((c) => c.method === 'vm.changeMedium')!.params).toEqual({ id: 'vm1', path: null });
    await screen.findByRole('option', { name: /b\.iso/ });
    fireEvent.change(screen.getByLabelText('Choose medium for ide 2'), { target: { value: '/isos/b.iso' } });
    await waitFor(() => expect(changed).toHaveBeenCalledWith('/isos/b.iso', 'iso'));
    expect(calls.filter((c) => c.method === 'vm.changeMedium').at(-1)!.params).toEqual({ id: 'vm1', path: '/isos/b.iso' });
  });

  it('keeps a running VM’s disks locked and edits stopped VMs locally', async () => {
    const { client, calls } = fakeClient([]);
    const changed = vi.fn();
    const hd = { bus: 'ide' as const, port: 0, kind: 'disk' as const, path: 'd.img', format: 'raw' as const };
    const { rerender } = render(<MediumPicker client={client} vmId="vm1" slot={hd} running onChange={changed} />);
    expect((screen.getByLabelText('Image for ide 0') as HTMLInputElement).disabled).toBe(true);
    rerender(<MediumPicker client={client} vmId="vm1" slot={cd} running={false} onChange={changed} />);
    fireEvent.click(screen.getByRole('button', { name: 'Eject' }));
    expect(changed).toHaveBeenCalledWith(null, 'iso');
    expect(calls.some((c) => c.method === 'vm.changeMedium')).toBe(false);
  });
});

describe('CdMenu (display window)', () => {
  const vm = {
    id: 'vm1',
    folder: '/x',
    state: 'running' as const,
    config: { name: 'Deb', storage: [{ bus: 'ide' as const, port: 2, kind: 'cdrom' as const, path: '/isos/a.iso', format: 'iso' as const }] } as never,
  };

  it('shows the disc, ejects it, and inserts another by path', async () => {
    const { client, calls } = fakeClient([disk({ path: '/isos/b.iso', name: 'b.iso', kind: 'iso', format: 'iso' })]);
    const onError = vi.fn();
    render(<CdMenu client={client} vm={vm} onError={onError} />);
    const select = screen.getByLabelText('Optical drive') as HTMLSelectElement;
    expect(screen.getByRole('option', { name: 'CD: a.iso' })).toBeTruthy();
    await screen.findByRole('option', { name: 'Insert b.iso' });
    fireEvent.change(select, { target: { value: '\u0000eject' } });
    await waitFor(() => expect(calls.find((c) => c.method === 'vm.changeMedium')?.params).toEqual({ id: 'vm1', path: null }));
    fireEvent.change(select, { target: { value: '\u0000other' } });
    const dialog = await screen.findByRole('dialog', { name: 'Insert ISO image' });
    fireEvent.change(within(dialog).getByLabelText('ISO image'), { target: { value: 'disc.iso' } });
    expect(within(dialog).getByText('Enter a full path, starting with /.')).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText('ISO image'), { target: { value: '/isos/c.iso' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Insert' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Insert ISO image' })).toBeNull());
    expect(calls.filter((c) => c.method === 'vm.changeMedium').at(-1)!.params).toEqual({ id: 'vm1', path: '/isos/c.iso' });
    expect(onError).not.toHaveBeenCalledWith(expect.any(String));
  });
});

describe('SettingsDialog storage with the media list', () => {
  const config = {
    schemaVersion: 1 as const,
    id: '8d7e1f5a-3b2c-4d1e-9f00-1234567890ab',
    name: 'Deb',
    osType: 'linux' as const,
    memoryMiB: 256,
    cpus: 1,
    firmware: 'builtin' as const,
    bootOrder: ['cdrom' as const, 'disk' as const],
    storage: [
      { bus: 'ide' as const, port: 0, kind: 'disk' as const, path: 'Deb.qcow2', format: 'qcow2' as const },
      { bus: 'ide' as const, port: 2, kind: 'cdrom' as const, path: '/isos/a.iso', format: 'iso' as const },
    ],
    display: { vramMiB: 16 },
    serial: { enabled: true },
    notes: '',
    createdAt: '2026-01-01T00:00:00Z',
  };

  it('running: the CD is ejected live, disks stay locked, OK sends no storage change', async () => {
    const { client, calls } = fakeClient([]);
    const closed = vi.fn();
    render(<SettingsDialog client={client} vm={{ id: config.id, folder: '/x', state: 'running', config }} onClose={closed} />);
    fireEvent.click(screen.getByRole('tab', { name: 'Storage' }));
    expect((screen.getByLabelText('Image for ide 0') as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByLabelText('Choose medium for ide 0') as HTMLSelectElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Eject' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'vm.changeMedium')?.params).toEqual({ id: config.id, path: null }));
    fireEvent.click(screen.getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(closed).toHaveBeenCalled());
    expect(calls.some((c) => c.method === 'vm.modify')).toBe(false);
  });

  it('stopped: a disk chosen from the media list is saved with OK', async () => {
    const { client, calls } = fakeClient([disk({ path: '/h/media/data.qcow2', name: 'data.qcow2' })]);
    (client.call as any).mockImplementation(async (method: string, params: any) => {
      calls.push({ method, params });
      return method === 'media.list' ? [disk({ path: '/h/media/data.qcow2', name: 'data.qcow2' })] : null;
    });
    const closed = vi.fn();
    render(<SettingsDialog client={client} vm={{ id: config.id, folder: '/x', state: 'stopped', config }} onClose={closed} />);
    fireEvent.click(screen.getByRole('tab', { name: 'Storage' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add hard disk (IDE primary slave)' }));
    await screen.findAllByRole('option', { name: 'data.qcow2' });
    fireEvent.change(screen.getByLabelText('Choose medium for ide 1'), { target: { value: '/h/media/data.qcow2' } });
    fireEvent.click(screen.getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(closed).toHaveBeenCalled());
    expect(calls.find((c) => c.method === 'vm.modify')!.params.changes.storage[2]).toEqual({ bus: 'ide', port: 1, kind: 'disk', path: '/h/media/data.qcow2', format: 'qcow2' });
  });
});
