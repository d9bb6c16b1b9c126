// @vitest-environment happy-dom
import { describe, it, expect, vi, afterEach } from 'vitest';
import { render, screen, fireEvent, waitFor, cleanup } from '@testing-library/react';
import { NewVmWizard } from './NewVmWizard';
import type { HostClient } from '../api/host-client';

afterEach(cleanup);

/** A HostClient that answers like the host would for an empty library with one ISO on disk. */
function fakeClient(existing: string[] = []) {
  const calls: { method: string; params: any }[] = [];
  const client: HostClient = {
    call: vi.fn(async (method: string, params: any) => {
      calls.push({ method, params });
      if (method === 'vm.list') return existing.map((name) => ({ id: name, folder: '/x', state: 'stopped', config: { name } }));
      if (method === 'fs.checkPath') return params.path === '/isos/debian.iso' ? { exists: true, kind: 'iso', size: 1 } : { exists: false, kind: null, size: 0 };
      if (method === 'vm.create') return { id: 'new', folder: '/x', state: 'stopped', config: { name: params.name } };
      throw new Error(`unexpected ${method}`);
    }) as HostClient['call'],
    onEvent: () => () => {},
    openDisplay: () => {
      throw new Error('no display');
    },
    onConnectionChange: () => {},
  };
  return { client, calls };
}

const host = { cpuModel: 'x', cpuCount: 2, memoryMiB: 4096, vmx: false, svm: false, kvmAccess: false, qemuPath: null, electron: false, homeDir: '/h' };

describe('NewVmWizard', () => {
  it('blocks Next on a duplicate name with a message', async () => {
    const { client } = fakeClient(['Debian']);
    render(<NewVmWizard client={client} host={host} onCancel={() => {}} onCreated={() => {}} />);
    await waitFor(() => expect(client.call).toHaveBeenCalledWith('vm.list', {}));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'debian' } });
    expect(await screen.findByText(/already exists/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('limits memory to three quarters of the host', async () => {
    const { client } = fakeClient();
    render(<NewVmWizard client={client} host={host} onCancel={() => {}} onCreated={() => {}} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'VM' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.change(screen.getByLabelText('Base memory (MiB)'), { target: { value: '4000' } });
    expect(await screen.findByText(/At most 3 GiB on this host/)).toBeTruthy();
  });

  it('creates the VM with the chosen ISO in one request', async () => {
    const { client, calls } = fakeClient();
    const created = vi.fn();
    render(<NewVmWizard client={client} host={host} onCancel={() => {}} onCreated={created} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Deb' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByLabelText(/No hard disk/));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.change(await screen.findByLabelText(/ISO image/), { target: { value: '/isos/missing.iso' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText(/No file at \/isos\/missing.iso/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/ISO image/), { target: { value: '/isos/debian.iso' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Finish' }));
    await waitFor(() => expect(created).toHaveBeenCalled());
    const create = calls.find((c) => c.method === 'vm.create')!;
    expect(create.params).toMatchObject({ name: 'Deb', osType: 'linux', memoryMiB: 256, bootOrder: ['cdrom', 'disk', 'floppy'] });
    expect(create.params.storage).toEqual([{ bus: 'ide', port: 2, kind: 'cdrom', path: '/isos/debian.iso', format: 'iso' }]);
    expect(create.params.newDisk).toBeUndefined();
  });
});
