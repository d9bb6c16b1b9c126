// The Media Manager's host side on real files in a temp BOXWOOD_HOME: the registry
// (atomic, damage-tolerant), create/add/resize/convert/compact/release/remove/delete,
// tasks with progress and cancellation (source intact, no partial file), the CD change
// of a running VM, and the wiring through HostService.call.
import { describe, expect, it, vi, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { VmLibrary } from '../library/vm-library';
import { MediaService, MediaError, type MediaHost } from './media-service';
import { HostService } from '../host-service';
import { openDiskImage } from '../storage/open-image';
import { createDisk } from '../storage/disk-operations';
import { CdChanger } from '../vm-process/cd-changer';
import type { TaskProgress } from '../../../protocol/media';
import type { HostEvent } from '../../../protocol/host-api';
import type { ToVm } from '../../../protocol/vm-process';
import type { VmConfig } from '../../../protocol/vm-config';

const MiB = 1024 * 1024;
const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

function setup(opts: { running?: Set<string> } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-media-test-'));
  homes.push(home);
  const library = new VmLibrary(home);
  const events: TaskProgress[] = [];
  const sent: { id: string; m: ToVm }[] = [];
  const running = opts.running ?? new Set<string>();
  let onTask: (p: TaskProgress) => void = () => {};
  const host: MediaHost = {
    library: () => library,
    isRunning: (id) => running.has(id),
    sendToVm: (id, m) => sent.push({ id, m }),
    vmChanged: () => {},
    emitTask: (p) => {
      events.push(p);
      onTask(p);
    },
  };
  const media = new MediaService(host);
  return { home, library, media, events, sent, running, setOnTask: (f: typeof onTask) => (onTask = f) };
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Files left in a folder by an interrupted operation (temps of disk operations or atomic writes). */
function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.includes('boxwood-partial') || f.endsWith('.tmp'));
}

/** Fill an image with non-zero data so a conversion has real work to do. */
function fill(file: string, bytes: number): void {
  const img = openDiskImage(file, { writable: true });
  try {
    const chunk = new Uint8Array(MiB);
    for (let off = 0; off < bytes; off += MiB) {
      for (let i = 0; i < chunk.length; i += 512) chunk[i] = ((off / MiB + i) & 0xff) | 1;
      img.write(off, chunk);
    }
    img.flush();
  } finally {
    img.close();
  }
}

async function vmWith(library: VmLibrary, name: string, storage: VmConfig['storage']): Promise<VmConfig> {
  return library.create({ name, osType: 'linux', memoryMiB: 64, storage });
}

describe('MediaService', () => {
  it('creates a qcow2 disk in <home>/media, registers it atomically and lists it', async () => {
    const { home, media } = setup();
    const m = await media.create({ name: 'data', size: 64 * MiB, format: 'qcow2' });
    expect(m).toMatchObject({ path: path.join(home, 'media', 'data.qcow2'), name: 'data.qcow2', kind: 'disk', format: 'qcow2', virtualSize: 64 * MiB, registered: true, attachedTo: [] });
    const reg = JSON.parse(fs.readFileSync(path.join(home, 'media.json'), 'utf8'));
    expect(reg).toEqual({ version: 1, media: [{ path: m.path, kind: 'disk' }] });
    expect(leftovers(home)).toEqual([]);
    expect(leftovers(path.join(home, 'media'))).toEqual([]);
    expect(media.list().map((x) => x.name)).toEqual(['data.qcow2']);
  });

  it('refuses bad destinations with messages the user can act on', async () => {
    const { home, media } = setup();
    await expect(media.create({ path: 'relative.img', size: MiB, format: 'raw' })).rejects.toThrow(/full path/);
    await expect(media.create({ path: path.join(home, 'nope', 'x.img'), size: MiB, format: 'raw' })).rejects.toThrow(/folder .* does not exist/);
    await media.create({ path: path.join(home, 'x.img'), size: MiB, format: 'raw' });
    await expect(media.create({ path: path.join(home, 'x.img'), size: MiB, format: 'raw' })).rejects.toThrow(/already exists/);
    await expect(media.create({ name: 'a/b', size: MiB, format: 'raw' })).rejects.toThrow(/cannot contain/);
  });

  it('adds existing images and rejects corrupt, missing and folder paths clearly', async () => {
    const { home, media } = setup();
    const bad = path.join(home, 'bad.qcow2');
    // A qcow2 magic followed by garbage: a truncated/corrupt image.
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(100, 0xee)]));
    expect(() => media.add(bad)).toThrow(MediaError);
    expect(() => media.add(bad)).toThrow(/cannot be used as a disk image: .*Check that the file is a complete/);
    expect(() => media.add(path.join(home, 'missing.img'))).toThrow(/does not exist/);
    expect(() => media.add(home)).toThrow(/is a folder/);
    expect(() => media.add('disk.img')).toThrow(/full path/);
    const good = path.join(home, 'good.img');
    fs.writeFileSync(good, Buffer.alloc(MiB));
    expect(media.add(good)).toMatchObject({ kind: 'disk', format: 'raw', virtualSize: MiB, registered: true });
    expect(() => media.add(good)).toThrow(/already in the media list/);
    expect(media.readRegistry().media.map((e) => e.path)).toEqual([good]);
  });

  it('grows a disk, refuses to shrink it, and refuses while a running VM uses it', async () => {
    const { home, library, media, running } = setup();
    const m = await media.create({ name: 'grow', size: 32 * MiB, format: 'qcow2' });
    expect(media.resize(m.path, 96 * MiB).virtualSize).toBe(96 * MiB);
    expect(() => media.resize(m.path, 16 * MiB)).toThrow(/Shrinking is not supported: the new size must be at least the current 96 MiB/);
    const raw = await media.create({ path: path.join(home, 'r.img'), size: MiB, format: 'raw' });
    expect(media.resize(raw.path, 3 * MiB).virtualSize).toBe(3 * MiB);
    const vm = await vmWith(library, 'Runner', [{ bus: 'ide', port: 0, kind: 'disk', path: m.path, format: 'qcow2' }]);
    running.add(vm.id);
    expect(() => media.resize(m.path, 128 * MiB)).toThrow(/attached to Runner, which is running\. Power it off/);
  });

  it('converts qcow2 to raw as a task with progress, keeping the data', async () => {
    const { home, media, events } = setup();
    const src = await media.create({ name: 'src', size: 8 * MiB, format: 'qcow2' });
    fill(src.path, 8 * MiB);
    const before = sha(src.path);
    const dst = path.join(home, 'media', 'src.img');
    const { taskId } = media.copy(src.path, dst, 'raw', true);
    const end = await media.tasks.wait(taskId);
    expect(end).toMatchObject({ done: true, fraction: 1 });
    expect(end.error).toBeUndefined();
    expect(events.filter((e) => e.taskId === taskId).length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ taskId, done: true, label: expect.stringMatching(/Converting src.qcow2 to src.img \(raw\)/) });
    expect(sha(src.path)).toBe(before);
    const listed = media.list().find((m) => m.path === dst)!;
    expect(listed).toMatchObject({ format: 'raw', virtualSize: 8 * MiB, registered: true });
    // Same content through both images.
    const a = openDiskImage(src.path);
    const b = openDiskImage(dst);
    const x = new Uint8Array(8 * MiB);
    const y = new Uint8Array(8 * MiB);
    a.read(0, x, 0, x.length);
    b.read(0, y, 0, y.length);
    a.close();
    b.close();
    expect(Buffer.compare(x, y)).toBe(0);
  });

  it('cancelling a conversion mid-copy leaves the source intact and no partial file', async () => {
    const { home, media, events, setOnTask } = setup();
    const src = await media.create({ name: 'big', size: 16 * MiB, format: 'qcow2' });
    fill(src.path, 16 * MiB);
    const before = sha(src.path);
    const dst = path.join(home, 'media', 'big.img');
    let id = '';
    setOnTask((p) => {
      if (p.taskId === id && p.fraction > 0 && !p.done) media.tasks.cancel(id);
    });
    id = media.copy(src.path, dst, 'raw', true).taskId;
    const end = await media.tasks.wait(id);
    expect(end).toMatchObject({ done: true, cancelled: true });
    expect(end.fraction).toBeGreaterThan(0);
    expect(end.fraction).toBeLessThan(1);
    expect(end.error).toMatch(/Cancelled\. The source is unchanged/);
    expect(events.some((e) => e.taskId === id && e.fraction > 0 && !e.done)).toBe(true);
    expect(fs.existsSync(dst)).toBe(false);
    expect(leftovers(path.join(home, 'media'))).toEqual([]);
    expect(sha(src.path)).toBe(before);
    expect(media.list().map((m) => m.name)).toEqual(['big.qcow2']);
    expect(() => media.tasks.cancel('nope')).toThrow(/no such task/);
  });

  it.skipIf(!haveQemuImg)('imports VDI and VMDK images by converting them to qcow2', async () => {
    const { home, media } = setup();
    for (const fmt of ['vdi', 'vmdk']) {
      const src = path.join(home, `old.${fmt}`);
      expect(spawnSync('qemu-img', ['create', '-q', '-f', fmt, src, '8M']).status).toBe(0);
      expect(media.add(src)).toMatchObject({ kind: 'disk', format: fmt, virtualSize: 8 * MiB });
      const dst = path.join(home, `old-${fmt}.qcow2`);
      const end = await media.tasks.wait(media.copy(src, dst, 'qcow2', true).taskId);
      expect(end.error).toBeUndefined();
      expect(media.list().find((m) => m.path === dst)).toMatchObject({ format: 'qcow2', virtualSize: 8 * MiB, registered: true });
    }
  });

  it('compacts as a task', async () => {
    const { media } = setup();
    const m = await media.create({ name: 'c', size: 4 * MiB, format: 'qcow2' });
    fill(m.path, 2 * MiB);
    const end = await media.tasks.wait(media.compact(m.path).taskId);
    expect(end).toMatchObject({ done: true });
    expect(end.error).toBeUndefined();
    expect(media.list()[0]).toMatchObject({ virtualSize: 4 * MiB, format: 'qcow2' });
  });

  it('lists VM attachments, refuses to delete/remove attached media, releases from stopped VMs, then deletes', async () => {
    const { home, library, media, running } = setup();
    const disk = await media.create({ name: 'shared', size: 2 * MiB, format: 'qcow2' });
    const iso = path.join(home, 'cd.iso');
    fs.writeFileSync(iso, Buffer.alloc(64 * 1024));
    const a = await vmWith(library, 'Alpha', [
      { bus: 'ide', port: 0, kind: 'disk', path: disk.path, format: 'qcow2' },
      { bus: 'ide', port: 2, kind: 'cdrom', path: iso, format: 'iso' },
    ]);
    const b = await vmWith(library, 'Beta', [{ bus: 'ide', port: 1, kind: 'disk', path: disk.path, format: 'qcow2' }]);
    running.add(b.id);
    const listed = media.list();
    expect(listed.find((m) => m.path === disk.path)!.attachedTo).toEqual([
      { vmId: a.id, vmName: 'Alpha', slot: 'IDE primary master', running: false },
      { vmId: b.id, vmName: 'Beta', slot: 'IDE primary slave', running: true },
    ]);
    expect(listed.find((m) => m.path === iso)).toMatchObject({ kind: 'iso', registered: false, attachedTo: [{ vmName: 'Alpha', slot: 'IDE secondary master' }] });
    expect(() => media.delete(disk.path)).toThrow(/attached to Alpha, Beta\. Release it first/);
    expect(() => media.remove(disk.path)).toThrow(/Release it first/);
    expect(media.release(disk.path)).toEqual({ released: ['Alpha'], stillAttached: ['Beta'] });
    const alpha = library.get(a.id);
    expect(alpha.ok && alpha.config.storage).toEqual([{ bus: 'ide', port: 2, kind: 'cdrom', path: iso, format: 'iso' }]);
    // The CD slot stays, empty.
    media.release(iso);
    const alpha2 = library.get(a.id);
    expect(alpha2.ok && alpha2.config.storage).toEqual([{ bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' }]);
    running.delete(b.id);
    media.release(disk.path);
    expect(() => media.release(disk.path)).toThrow(/not attached to any virtual machine/);
    media.delete(disk.path);
    expect(fs.existsSync(disk.path)).toBe(false);
    expect(media.list().map((m) => m.path)).toEqual([]);
    expect(() => media.delete(path.join(home, 'cd.iso'))).toThrow(/not in the media list/);
    expect(fs.existsSync(iso)).toBe(true);
  });

  it('refuses to delete, resize or compact a backing layer that other images are built on', async () => {
    const { home, media } = setup();
    const base = await media.create({ name: 'base', size: 2 * MiB, format: 'qcow2' });
    const overlay = path.join(home, 'overlay.qcow2');
    await createDisk(overlay, { backing: base.path, format: 'qcow2' });
    media.add(overlay);
    const before = sha(base.path);
    expect(() => media.delete(base.path)).toThrow(/backing layer of overlay\.qcow2/);
    expect(() => media.resize(base.path, 4 * MiB)).toThrow(/backing layer/);
    expect(() => media.compact(base.path)).toThrow(/backing layer/);
    expect(sha(base.path)).toBe(before);
    // Once nothing is built on it, it is an ordinary medium again.
    media.delete(overlay);
    media.delete(base.path);
    expect(fs.existsSync(base.path)).toBe(false);
  });

  it('remove forgets a medium but keeps the file', async () => {
    const { media } = setup();
    const m = await media.create({ name: 'keep', size: MiB, format: 'raw' });
    media.remove(m.path);
    expect(fs.existsSync(m.path)).toBe(true);
    expect(media.list()).toEqual([]);
    expect(() => media.remove(m.path)).toThrow(/not in the media list/);
  });

  it('sets a damaged registry aside instead of failing or overwriting it', async () => {
    const { home, media } = setup();
    fs.writeFileSync(path.join(home, 'media.json'), '{"version": 1, "media": [');
    expect(media.list()).toEqual([]);
    expect(fs.readdirSync(home).some((f) => f.startsWith('media.json.damaged-'))).toBe(true);
    await media.create({ name: 'n', size: MiB, format: 'raw' });
    expect(JSON.parse(fs.readFileSync(path.join(home, 'media.json'), 'utf8')).media).toHaveLength(1);
  });

  it('changes the CD: recorded in vm.json when stopped, sent live and recorded when running', async () => {
    const { home, library, media, sent, running } = setup();
    const iso = path.join(home, 'disc.iso');
    fs.writeFileSync(iso, Buffer.alloc(64 * 1024));
    const vm = await vmWith(library, 'Cd', []);
    media.changeMedium(vm.id, iso);
    let got = library.get(vm.id);
    expect(got.ok && got.config.storage).toEqual([{ bus: 'ide', port: 2, kind: 'cdrom', path: iso, format: 'iso' }]);
    expect(sent).toEqual([]);
    expect(media.list().find((m) => m.path === iso)).toMatchObject({ kind: 'iso', registered: true });
    running.add(vm.id);
    media.changeMedium(vm.id, null);
    expect(sent).toEqual([{ id: vm.id, m: { type: 'change-medium', bus: 'ide', port: 2, path: null } }]);
    got = library.get(vm.id);
    expect(got.ok && got.config.storage[0].path).toBeNull();
    expect(() => media.changeMedium(vm.id, path.join(home, 'none.iso'))).toThrow(/does not exist/);
    expect(() => media.changeMedium(vm.id, home)).toThrow(/is a folder/);
  });
});

describe('CdChanger (VM process side of change-medium)', () => {
  it('swaps the image in the drive and closes the old one exactly once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-cd-test-'));
    homes.push(dir);
    const iso = path.join(dir, 'new.iso');
    fs.writeFileSync(iso, Buffer.alloc(64 * 1024));
    const oldImage = { close: vi.fn() };
    const devices: { close(): void }[] = [{ close: vi.fn() }, oldImage];
    const vm = { storage: [{ bus: 'ide', port: 0, kind: 'disk', path: 'a.img' }, { bus: 'ide', port: 2, kind: 'cdrom', path: '/old.iso' }] } as unknown as VmConfig;
    const changeMedium = vi.fn();
    const machine = { ide: { changeMedium } } as never;
    const logs: unknown[] = [];
    const cd = new CdChanger(vm, devices);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 2, path: iso }, (m) => logs.push(m));
    expect(changeMedium).toHaveBeenCalledWith(2, expect.objectContaining({ size: 64 * 1024 }));
    expect(oldImage.close).toHaveBeenCalledTimes(1);
    expect(devices).toHaveLength(2);
    expect(devices[1]).not.toBe(oldImage);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 2, path: null }, (m) => logs.push(m));
    expect(changeMedium).toHaveBeenLastCalledWith(2, null);
    expect(devices).toHaveLength(1);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 2, path: path.join(dir, 'missing.iso') }, (m) => logs.push(m));
    expect(logs.at(-1)).toMatchObject({ type: 'log', level: 'error', message: expect.stringMatching(/Cannot insert/) });
  });
});

describe('CdChanger on a real machine (not booted)', () => {
  it('loads and ejects the ATAPI drive; a hard disk slot is refused with a log line', async () => {
    const { Machine } = await import('../../../engine/machine/machine');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-cd-real-'));
    homes.push(dir);
    const iso = path.join(dir, 'disc.iso');
    fs.writeFileSync(iso, Buffer.alloc(2048 * 32));
    const machine = new Machine({ memoryMiB: 16, firmware: 'builtin' });
    const devices: { close(): void }[] = [];
    const logs: { level?: string; message?: string }[] = [];
    const cd = new CdChanger({ storage: [] } as unknown as VmConfig, devices);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 2, path: iso }, (m) => logs.push(m as never));
    expect(logs.at(-1)).toMatchObject({ level: 'info', message: 'Inserted disc.iso into the optical drive.' });
    expect(devices).toHaveLength(1);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 0, path: iso }, (m) => logs.push(m as never));
    expect(logs.at(-1)).toMatchObject({ level: 'error', message: expect.stringMatching(/not a CD-ROM/) });
    expect(devices).toHaveLength(1);
    cd.change(machine, { type: 'change-medium', bus: 'ide', port: 2, path: null }, (m) => logs.push(m as never));
    expect(logs.at(-1)).toMatchObject({ level: 'info', message: 'Ejected the optical disc.' });
    expect(devices).toHaveLength(0);
  });
});

describe('HostService media wiring', () => {
  it('validates params, runs media methods and pushes task.progress events', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-media-host-'));
    homes.push(home);
    const service = new HostService(new VmLibrary(home), (() => {
      throw new Error('no VM processes in this test');
    }) as never);
    const events: HostEvent[] = [];
    service.events.on('event', (e) => events.push(e));
    await expect(service.call('media.create', { name: 'x', size: -1, format: 'qcow2' })).rejects.toThrow(/Invalid media.create request/);
    const m = (await service.call('media.create', { name: 'x', size: 4 * MiB, format: 'qcow2' })) as { path: string };
    const { taskId } = (await service.call('media.convert', { src: m.path, dst: path.join(home, 'media', 'x.img'), format: 'raw' })) as { taskId: string };
    await service.media.tasks.wait(taskId);
    expect(events.filter((e) => e.event === 'task.progress').at(-1)).toMatchObject({ event: 'task.progress', taskId, done: true, fraction: 1 });
    expect(((await service.call('media.list', {})) as { name: string }[]).map((x) => x.name)).toEqual(['x.img', 'x.qcow2']);
  });
});
