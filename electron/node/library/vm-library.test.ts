import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync, existsSync, statSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VmLibrary, LibraryError } from './vm-library';
import { vi } from 'vitest';

// Lets one test make disk creation fail after the staging folder exists.
let failDiskCreation = false;
vi.mock('../storage/disk-operations', async (importOriginal) => {
  const real = await importOriginal<typeof import('../storage/disk-operations')>();
  return {
    ...real,
    createDisk: async (...args: Parameters<typeof real.createDisk>) => {
      if (failDiskCreation) throw new Error('No space left on device');
      return real.createDisk(...args);
    },
  };
});

let home: string;
let lib: VmLibrary;

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'boxwood-lib-'));
  lib = new VmLibrary(home);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const basic = { name: 'Debian', osType: 'linux' as const, memoryMiB: 256 };

describe('VmLibrary', () => {
  it('creates a VM folder with a valid vm.json and lists it', async () => {
    const cfg = await lib.create(basic);
    const list = lib.list();
    expect(list).toHaveLength(1);
    expect(list[0].ok).toBe(true);
    expect(list[0].id).toBe(cfg.id);
    const onDisk = JSON.parse(readFileSync(path.join(home, 'machines', 'Debian', 'vm.json'), 'utf8'));
    expect(onDisk.schemaVersion).toBe(1);
    expect(onDisk.memoryMiB).toBe(256);
  });

  it('creates a sparse raw disk of the requested size', async () => {
    const cfg = await lib.create({ ...basic, newDisk: { sizeMiB: 64, format: 'raw' } });
    const disk = path.join(home, 'machines', 'Debian', 'Debian.img');
    expect(statSync(disk).size).toBe(64 * 1024 * 1024);
    expect(cfg.storage[0]).toMatchObject({ bus: 'ide', port: 0, kind: 'disk', path: 'Debian.img' });
  });

  it('creates a qcow2 disk that qemu-img would accept (valid header, requested size)', async () => {
    const cfg = await lib.create({ ...basic, newDisk: { sizeMiB: 64, format: 'qcow2' } });
    const disk = path.join(home, 'machines', 'Debian', 'Debian.qcow2');
    const head = readFileSync(disk);
    expect(head.toString('latin1', 0, 4)).toBe('QFI\xfb');
    expect(head.readUInt32BE(4)).toBe(3);
    expect(Number(head.readBigUInt64BE(24))).toBe(64 * 1024 * 1024);
    expect(cfg.storage[0]).toMatchObject({ path: 'Debian.qcow2', format: 'qcow2' });
  });

  it('rejects empty, duplicate and unsafe names with clear messages', async () => {
    await lib.create(basic);
    await expect(lib.create({ ...basic, name: '  ' })).rejects.toThrow(/Enter a name/);
    await expect(lib.create({ ...basic, name: 'debian' })).rejects.toThrow(/already exists/);
    await expect(lib.create({ ...basic, name: 'a/b' })).rejects.toThrow(/cannot contain/);
  });

  it('rejects absurd memory', async () => {
    await expect(lib.create({ ...basic, memoryMiB: 1 << 20 })).rejects.toThrow(LibraryError);
    await expect(lib.create({ ...basic, memoryMiB: 0 })).rejects.toThrow(/memoryMiB/);
  });

  it('leaves nothing behind when creation fails', async () => {
    failDiskCreation = true;
    try {
      await expect(lib.create({ ...basic, newDisk: { sizeMiB: 8, format: 'qcow2' } })).rejects.toThrow(/No space left/);
    } finally {
      failDiskCreation = false;
    }
    expect(readdirSync(path.join(home, 'machines'))).toEqual([]);
  });

  it('rejects a missing ISO', async () => {
    await expect(lib.create({ ...basic, storage: [{ bus: 'ide', port: 2, kind: 'cdrom', path: '/nonexistent/x.iso' }] })).rejects.toThrow(/does not exist/);
  });

  it('lists a corrupt vm.json as inaccessible without hiding the others', async () => {
    await lib.create(basic);
    mkdirSync(path.join(home, 'machines', 'Broken'));
    writeFileSync(path.join(home, 'machines', 'Broken', 'vm.json'), '{ not json');
    const list = lib.list();
    expect(list).toHaveLength(2);
    const broken = list.find((v) => v.folder.endsWith('Broken'))!;
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.problem).toMatch(/not valid JSON/);
    expect(list.filter((v) => v.ok)).toHaveLength(1);
  });

  it('lists a newer-version vm.json as inaccessible with the reason', async () => {
    const cfg = await lib.create(basic);
    const file = path.join(home, 'machines', 'Debian', 'vm.json');
    writeFileSync(file, JSON.stringify({ ...cfg, schemaVersion: 7 }));
    const [vm] = lib.list();
    expect(vm.ok).toBe(false);
    if (!vm.ok) expect(vm.problem).toMatch(/newer Boxwood/);
  });

  it('modifies settings atomically and locks power-on settings while running', async () => {
    const cfg = await lib.create(basic);
    expect(lib.modify(cfg.id, { memoryMiB: 512 }, false).memoryMiB).toBe(512);
    expect(() => lib.modify(cfg.id, { memoryMiB: 128 }, true)).toThrow(/Power it off/);
    expect(lib.modify(cfg.id, { notes: 'hello' }, true).notes).toBe('hello');
    expect(() => lib.modify(cfg.id, { storage: [{ bus: 'ide', port: 1, kind: 'disk', path: null }] }, true)).toThrow(/Storage cannot be attached or detached while the machine is running/);
    // No temp files remain beside vm.json.
    expect(readdirSync(path.join(home, 'machines', 'Debian')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('deletes keeping or removing files', async () => {
    const a = await lib.create(basic);
    const b = await lib.create({ ...basic, name: 'Other' });
    lib.delete(a.id, true);
    expect(existsSync(path.join(home, 'machines', 'Debian'))).toBe(false);
    lib.delete(b.id, false);
    expect(lib.list()).toHaveLength(0);
    expect(readdirSync(path.join(home, 'unregistered'))).toHaveLength(1);
  });

  it('adds an existing VM folder from elsewhere', async () => {
    const other = new VmLibrary(mkdtempSync(path.join(os.tmpdir(), 'boxwood-other-')));
    const cfg = await other.create({ ...basic, name: 'Elsewhere' });
    const added = lib.add(path.join(other.machinesDir, 'Elsewhere'));
    expect(added.id).toBe(cfg.id);
    expect(lib.list().map((v) => v.id)).toContain(cfg.id);
    expect(() => lib.add(path.join(other.machinesDir, 'Elsewhere'))).toThrow(/already in the library/);
    rmSync(other.home, { recursive: true, force: true });
  });
});
