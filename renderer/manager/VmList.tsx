import type { VmSummary } from '../../protocol/host-api';
import { STATE_LABELS, osLabel } from '../common/format';
import { OsIcon } from '../common/OsIcon';

export function VmList(props: { vms: VmSummary[]; selected: string | null; onSelect: (id: string) => void; onOpen: (id: string) => void }) {
  return (
    <ul className="vm-list" role="listbox" aria-label="Virtual machines">
      {props.vms.map((vm) => (
        <li
          key={vm.id}
          role="option"
          aria-selected={vm.id === props.selected}
          className={`vm-item state-${vm.state}`}
          onClick={() => props.onSelect(vm.id)}
          onDoubleClick={() => vm.state !== 'inaccessible' && props.onOpen(vm.id)}
          data-vm-name={vm.config?.name ?? vm.folder}
        >
          <OsIcon osType={vm.config?.osType} />
          <span className="vm-item-text">
            <span className="vm-name">{vm.config?.name ?? vm.folder.split(/[\\/]/).pop()}</span>
            <span className="vm-state" data-testid="vm-state">
              {STATE_LABELS[vm.state]}
            </span>
            {vm.state !== 'inaccessible' && <span className="vm-os">{osLabel(vm.config?.osType)}</span>}
          </span>
          {vm.thumbnail && <img className="vm-thumb" src={vm.thumbnail} alt="" />}
        </li>
      ))}
    </ul>
  );
}
