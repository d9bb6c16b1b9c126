import type { VmSummary } from '../../protocol/host-api';
import { Dialog } from '../common/Dialog';

export function DeleteVmDialog(props: { vm: VmSummary; onCancel: () => void; onDelete: (deleteFiles: boolean) => void }) {
  const name = props.vm.config?.name ?? props.vm.folder;
  return (
    <Dialog
      title={`Delete “${name}”?`}
      onCancel={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button onClick={() => props.onDelete(false)}>Remove from library only</button>
          <button className="danger" onClick={() => props.onDelete(true)}>
            Delete all files
          </button>
        </>
      }
    >
      <p>
        “Remove from library only” keeps the machine’s folder and disks on disk (<code>{props.vm.folder}</code>). “Delete all files” removes the folder and every disk image in it — this cannot be undone.
      </p>
    </Dialog>
  );
}
