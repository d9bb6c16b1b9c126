// Turn a vm.json into an engine MachineConfig: open the attached images (own disks
// writable, ISOs read-only), read kernel/initrd, find SeaBIOS when chosen. Every
// problem becomes an Error whose message the user can act on.
import path from 'node:path';
import type { VmConfig } from '../../../protocol/vm-config';
import type { MachineConfig, BootDevice } from '../../../engine/machine/machine-config';
import type { BlockDevice } from '../../../engine/storage/block-device';
import { readFileOrThrow, loadFirmwareImages } from '../../../cli/host-images';
import { openDiskImage, type OpenedImage } from '../storage/open-image';
import { SwappableDisk } from './swappable-disk';

export interface OpenedMachine {
  config: MachineConfig;
  /** Every opened image: close() flushes it and releases its write lock. */
  devices: (OpenedImage | SwappableDisk)[];
  /** The writable disks, whose image a snapshot of the running VM replaces by a new overlay. */
  swappable: SwappableDisk[];
}

const IDE_SLOTS = ['hda', 'hdb', 'cdrom', 'hdd'] as const;

export function machineConfigFor(vm: VmConfig, vmDir: string): OpenedMachine {
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(vmDir, p));
  const disks: NonNullable<MachineConfig['disks']> = {};
  const devices: (OpenedImage | SwappableDisk)[] = [];
  const swappable: SwappableDisk[] = [];
  const virtioBlk: BlockDevice[] = [];
  for (const s of vm.storage) {
    if (!s.path) continue;
    const where = `${s.bus} ${s.port}`;
    let dev: OpenedImage | SwappableDisk;
    try {
      // Own disks are writable (and locked against a second writer); ISOs read-only.
      dev = openDiskImage(resolve(s.path), s.kind === 'cdrom' ? { cdrom: true } : { writable: true });
    } catch (e) {
      for (const d of devices) d.close();
      throw new Error(`The medium attached to ${where} cannot be used: ${(e as Error).message}`);
    }
    if (s.kind !== 'cdrom') {
      dev = new SwappableDisk(dev, `${s.bus}-${s.port}`);
      swappable.push(dev);
    }
    devices.push(dev);
    if (s.bus === 'floppy') disks.fda = dev;
    else if (s.bus === 'virtio') virtioBlk.push(dev);
    else {
      const slot = IDE_SLOTS[s.port];
      if (slot === 'hdd') throw new Error('The IDE secondary slave is not available in this build; use primary master/slave or the secondary master (CD).');
      if (slot === 'cdrom' && s.kind !== 'cdrom') throw new Error('The IDE secondary master is the optical drive; attach disks to the primary channel.');
      if (slot !== 'cdrom' && s.kind === 'cdrom') throw new Error('Optical media go in the IDE secondary master.');
      disks[slot] = dev;
    }
  }
  const bootOrder: BootDevice[] = vm.bootOrder.map((b) => (b === 'disk' ? 'hd' : b));
  const config: MachineConfig = {
    memoryMiB: vm.memoryMiB,
    firmware: vm.firmware,
    disks,
    bootOrder,
    virtio: virtioBlk.length ? { blk: virtioBlk } : undefined,
  };
  if (vm.kernel) {
    config.kernel = readFileOrThrow(resolve(vm.kernel.path), 'kernel');
    if (vm.kernel.initrd) config.initrd = readFileOrThrow(resolve(vm.kernel.initrd), 'initrd');
    config.cmdline = vm.kernel.cmdline;
  }
  config.firmwareImages = loadFirmwareImages(vm.firmware, !!vm.kernel);
  return { config, devices, swappable };
}
