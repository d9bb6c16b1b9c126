import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCpuFlags, findOnPath, kvmStatus, hostInfo } from './host-info';

describe('host info', () => {
  it('reads CPU flags from /proc/cpuinfo text', () => {
    const flags = readCpuFlags('processor\t: 0\nflags\t\t: fpu vme de pse tsc vmx cx8\n');
    expect(flags.has('vmx')).toBe(true);
    expect(flags.has('svm')).toBe(false);
  });

  it('finds executables on PATH only when executable', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bw-path-'));
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n');
    expect(findOnPath('tool', dir)).toBeNull();
    chmodSync(path.join(dir, 'tool'), 0o755);
    expect(findOnPath('tool', dir)).toBe(path.join(dir, 'tool'));
  });

  it('explains a missing KVM device', () => {
    const s = kvmStatus('/nonexistent/kvm');
    expect(s.access).toBe(false);
    expect(s.problem).toMatch(/does not exist/);
  });

  it('reports this host', () => {
    const info = hostInfo('/tmp/x', false);
    expect(info.cpuCount).toBeGreaterThan(0);
    expect(info.memoryMiB).toBeGreaterThan(0);
  });
});
