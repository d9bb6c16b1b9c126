import type { HostInfo } from '../../protocol/host-api';
import { mib } from '../common/format';

export function HostInfoPanel({ host }: { host: HostInfo | null }) {
  if (!host) return null;
  const hw = host.vmx ? 'Intel VT-x (vmx)' : host.svm ? 'AMD-V (svm)' : 'none reported by the CPU';
  return (
    <section className="host-info" aria-label="Host information">
      <h3>Host</h3>
      <dl>
        <dt>CPU</dt>
        <dd>
          {host.cpuModel} × {host.cpuCount}
        </dd>
        <dt>Memory</dt>
        <dd>{mib(host.memoryMiB)}</dd>
        <dt>Hardware virtualization</dt>
        <dd data-testid="host-virt">{hw}</dd>
        <dt>/dev/kvm</dt>
        <dd>{host.kvmAccess ? 'accessible' : (host.kvmProblem ?? 'not accessible')}</dd>
        <dt>QEMU</dt>
        <dd>{host.qemuPath ?? 'not installed'}</dd>
        <dt>Data folder</dt>
        <dd>
          <code>{host.homeDir}</code>
        </dd>
      </dl>
      <p className="hint">Every machine runs on Boxwood’s own emulator. Hardware-assisted execution through QEMU/KVM is not available yet in this build.</p>
    </section>
  );
}
