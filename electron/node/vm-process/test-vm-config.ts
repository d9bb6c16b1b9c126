// A minimal valid vm.json for the VM-process unit tests (16 MiB, no storage).
import { randomUUID } from 'node:crypto';
import type { VmConfig } from '../../../protocol/vm-config';

export function testVmConfig(name: string): VmConfig {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    name,
    osType: 'other',
    memoryMiB: 16,
    cpus: 1,
    firmware: 'builtin',
    bootOrder: ['disk'],
    storage: [],
    display: { vramMiB: 16 },
    serial: { enabled: true },
    notes: '',
    createdAt: new Date().toISOString(),
  };
}
