// What the host offers for running VMs: CPU, memory, hardware virtualization
// (vmx/svm flags, /dev/kvm access) and whether QEMU is installed — the seams for
// the later QEMU/KVM backend.
import os from 'node:os';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HostInfo } from '../../protocol/host-api';

export function readCpuFlags(cpuinfo: string): Set<string> {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set(line ? line.replace(/^flags\s*:\s*/, '').trim().split(/\s+/) : []);
}

export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not in this directory */
    }
  }
  return null;
}

export function kvmStatus(device = '/dev/kvm'): { access: boolean; problem?: string } {
  if (!existsSync(device)) return { access: false, problem: `${device} does not exist (KVM module not loaded, or no hardware virtualization).` };
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return { access: true };
  } catch {
    return { access: false, problem: `${device} exists but this user cannot open it read-write (add the user to the kvm group).` };
  }
}

export function hostInfo(homeDir: string, electron: boolean): HostInfo {
  let flags = new Set<string>();
  try {
    flags = readCpuFlags(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // Not Linux: flags unknown; report no hardware virtualization rather than guess.
  }
  const cpus = os.cpus();
  const kvm = kvmStatus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    memoryMiB: Math.round(os.totalmem() / (1024 * 1024)),
    vmx: flags.has('vmx'),
    svm: flags.has('svm'),
    kvmAccess: kvm.access,
    kvmProblem: kvm.problem,
    qemuPath: findOnPath('qemu-system-i386') ?? findOnPath('qemu-system-x86_64'),
    electron,
    homeDir,
  };
}
