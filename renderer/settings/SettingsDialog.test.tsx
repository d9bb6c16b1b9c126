// @vitest-environment happy-dom
import { describe, it, expect, afterEach } from 'vitest';
import { render, screen, fireEvent, cleanup } from '@testing-library/react';
import { SettingsDialog } from './SettingsDialog';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';

afterEach(cleanup);

const config = {
  schemaVersion: 1 as const,
  id: '8d7e1f5a-3b2c-4d1e-9f00-1234567890ab',
  name: 'Deb',
  osType: 'linux' as const,
  memoryMiB: 256,
  cpus: 1,
  firmware: 'builtin' as const,
  bootOrder: ['cdrom' as const, 'disk' as const],
  storage: [],
  display: { vramMiB: 16 },
  serial: { enabled: true },
  notes: '',
  createdAt: '2026-01-01T00:00:00Z',
};
const client = { call: async () => null } as unknown as HostClient;

describe('SettingsDialog', () => {
  it('disables power-on settings while running and says why', () => {
    const vm: VmSummary = { id: config.id, folder: '/x', state: 'running', config };
    render(<SettingsDialog client={client} vm={vm} onClose={() => {}} />);
    fireEvent.click(screen.getByRole('tab', { name: 'System' }));
    expect((screen.getByLabelText('Base memory (MiB)') as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByText(/Memory size is fixed while the machine is running/)).toBeTruthy();
  });

  it('allows them when powered off', () => {
    const vm: VmSummary = { id: config.id, folder: '/x', state: 'stopped', config };
    render(<SettingsDialog client={client} vm={vm} onClose={() => {}} />);
    fireEvent.click(screen.getByRole('tab', { name: 'System' }));
    expect((screen.getByLabelText('Base memory (MiB)') as HTMLInputElement).disabled).toBe(false);
    expect(screen.queryByText(/Power it off first/)).toBeNull();
  });
});
