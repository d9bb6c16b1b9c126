// Changing the CD of a running VM (ToVm `change-medium`): open the new ISO read-only,
// put it in the ATAPI drive (the IDE model raises a unit attention, like a real tray),
// and close the image it replaced. The host validates the path before sending; any
// failure here is reported as a log line and leaves the drive as it was.
import path from 'node:path';
import type { Machine } from '../../../engine/machine/machine';
import type { FromVm, ToVm } from '../../../protocol/vm-process';
import type { VmConfig } from '../../../protocol/vm-config';
import { openDiskImage } from '../storage/open-image';

type Closable = { close(): void };
type ChangeMedium = Extract<ToVm, { type: 'change-medium' }>;

export class CdChanger {
  /** The image in each IDE CD drive (by port), as opened at boot and changed since. */
  private readonly inDrive = new Map<number, Closable>();

  /**
   * `devices` is the VM process's list of images to close at exit, in the order
   * machineConfigFor opened them (one per storage entry with a path); it is kept
   * up to date so every image is closed exactly once.
   */
  constructor(
    vm: VmConfig,
    private readonly devices: Closable[],
  ) {
    const withPath = vm.storage.filter((s) => s.path);
    withPath.forEach((s, i) => {
      if (s.bus === 'ide' && s.kind === 'cdrom' && devices[i]) this.inDrive.set(s.port, devices[i]);
    });
  }

  change(machine: Machine, m: ChangeMedium, emit: (f: FromVm) => void): void {
    const fail = (message: string) => emit({ type: 'log', level: 'error', source: 'vm', message: message.slice(0, 4096) });
    if (m.bus !== 'ide' || !machine.ide) return fail('Only the IDE optical drive can change media while running.');
    let image: (Closable & Parameters<NonNullable<Machine['ide']>['changeMedium']>[1]) | null = null;
    if (m.path !== null) {
      if (!path.isAbsolute(m.path)) return fail(`Cannot insert ${m.path}: the path must be absolute.`);
      try {
        image = openDiskImage(m.path, { cdrom: true });
      } catch (e) {
        return fail(`Cannot insert ${m.path}: ${(e as Error).message}`);
      }
    }
    try {
      machine.ide.changeMedium(m.port, image);
    } catch (e) {
      image?.close();
      return fail(`Cannot change the medium: ${(e as Error).message}`);
    }
    const old = this.inDrive.get(m.port);
    const i = old ? this.devices.indexOf(old) : -1;
    if (image) {
      this.inDrive.set(m.port, image);
      if (i >= 0) this.devices[i] = image;
      else this.devices.push(image);
    } else {
      this.inDrive.delete(m.port);
      if (i >= 0) this.devices.splice(i, 1);
    }
    old?.close();
    emit({ type: 'log', level: 'info', source: 'vm', message: m.path ? `Inserted ${path.basename(m.path)} into the optical drive.` : 'Ejected the optical disc.' });
  }
}
