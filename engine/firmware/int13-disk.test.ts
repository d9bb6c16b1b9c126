// INT 13h reports its transfers as 'storage-activity' under the disk controllers' drive names.
import { describe, expect, it } from 'vitest';
import { Disks } from './int13-disk';
import { Emitter } from '../common/events';
import type { MachineEvents } from '../machine/events';
import type { BiosCtx } from './context';
import { MemoryBlockDevice } from '../storage/block-device';

function disks(cfg: Partial<BiosCtx['cfg']>) {
  const events = new Emitter<MachineEvents>();
  const seen: MachineEvents['storage-activity'][] = [];
  events.on('storage-activity', (e) => seen.push(e));
  const ctx = { cfg: { ...cfg, events } } as unknown as BiosCtx;
  return { d: new Disks(ctx), seen };
}

describe('INT 13h storage activity', () => {
  it('names drives like the IDE controller by default', () => {
    const { d, seen } = disks({ disks: [new MemoryBlockDevice(new Uint8Array(512 * 64))], cdrom: new MemoryBlockDevice(new Uint8Array(2048 * 4)) });
    d.read(d.lookup(0x80)!, 0, 1);
    d.read(d.lookup(0xe0)!, 0, 1);
    expect(seen).toEqual([
      { device: 'ide0-0', kind: 'read' },
      { device: 'ide1-0', kind: 'read' },
    ]);
  });

  it('takes the names the machine gives', () => {
    const { d, seen } = disks({ floppies: [new MemoryBlockDevice(new Uint8Array(512))], storageNames: { floppies: ['floppy0'] } });
    d.read(d.lookup(0x00)!, 0, 1);
    expect(seen).toEqual([{ device: 'floppy0', kind: 'read' }]);
  });
});
