import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync, existsSync, statSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VmLibrary, LibraryError } from './vm-library';

let home: string;
let lib: VmLibrary;

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'boxwood-lib-'));
  lib = new VmLibrary(home);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const basic = { name: 'Debian', osType: 'linux' as const, memoryMiB: 256 };

describe('VmLibrary', () => {
  it('creates a VM folder with a valid vm.json and lists it', () => {
    const cfg = lib.create(basic);
    const list = lib.list();
    expect(list).toHaveLength(1);
    expect(list[0].ok).toBe(true);
    expect(list[0].id).toBe(cfg.id);
    const onDisk = JSON.parse(readFileSync(path.join(home, 'machines', 'Debian', 'vm.json'), 'utf8'));
    expect(onDisk.schemaVersion).toBe(1);
    expect(onDisk.memoryMiB).toBe(256);
  });

  it('creates a sparse raw disk of the requested size', () => {
    const cfg = lib.create({ ...basic, newDisk: { sizeMiB: 64, format: 'raw' } });
    const disk = path.join(home, 'machines', 'Debian', 'Debian.img');
    expect(statSync(disk).size).toBe(64 * 1024 * 1024);
    expect(cfg.storage[0]).toMatchObject({ bus: 'ide', port: 0, kind: 'disk', path: 'Debian.img' });
  });

  it('rejects empty, duplicate and unsafe names with clear messages', () => {
    lib.create(basic);
    expect(() => lib.create({ ...basic, name: '  ' })).toThrow(/Enter a name/);
    expect(() => lib.create({ ...basic, name: 'debian' })).toThrow(/already exists/);
    expect(() => lib.create({ ...basic, name: 'a/b' })).toThrow(/cannot contain/);
  });

  it('rejects absurd memory', () => {
    expect(() => lib.create({ ...basic, memoryMiB: 1 << 20 })).toThrow(LibraryError);
    expect(() => lib.create({ ...basic, memoryMiB: 0 })).toThrow(/memoryMiB/);
  });

  it('leaves nothing behind when creation fails', () => {
    expect(() => lib.create({ ...basic, newDisk: { sizeMiB: 8, format: 'qcow2' } })).toThrow(/qcow2/);
    expect(readdirSync(path.join(home, 'machines'))).toEqual([]);
  });

  it('rejects a missing ISO', () => {
    expect(() => lib.create({ ...basic, storage: [{ bus: 'ide', port: 2, kind: 'cdrom', path: '/nonexistent/x.iso' }] })).toThrow(/does not exist/);
  });

  it('lists a corrupt vm.json as inaccessible without hiding the others', () => {
    lib.create(basic);
    mkdirSync(path.join(home, 'machines', 'Broken'));
    writeFileSync(path.join(home, 'machines', 'Broken', 'vm.json'), '{ not json');
    const list = lib.list();
    expect(list).toHaveLength(2);
    const broken = list.find((v) => v.folder.endsWith('Broken'))!;
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.problem).toMatch(/not valid JSON/);
    expect(list.filter((v) => v.ok)).toHaveLength(1);
  });

  it('lists a newer-version vm.json as inaccessible with the reason', () => {
    const cfg = lib.create(basic);
    const file = path.join(home, 'machines', 'Debian', 'vm.json');
    writeFileSync(file, JSON.stringify({ ...cfg, schemaVersion: 7 }));
    const [vm] = lib.list();
    expect(vm.ok).toBe(false);
    if (!vm.ok) expect(vm.problem).toMatch(/newer Boxwood/);
  });

  it('modifies settings atomically and locks power-on settings while running', () => {
    const cfg = lib.create(basic);
    expect(lib.modify(cfg.id, { memoryMiB: 512 }, false).memoryMiB).toBe(512);
    expect(() => lib.modify(cfg.id, { memoryMiB: 128 }, true)).toThrow(/Power it off/);
    expect(lib.modify(cfg.id, { notes: 'hello' }, true).notes).toBe('hello');
    // No temp files remain beside vm.json.
    expect(readdirSync(path.join(home, 'machines', 'Debian')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('deletes keeping or removing files', () => {
    const a = lib.create(basic);
    const b = lib.create({ ...basic, name: 'Other' });
    lib.delete(a.id, true);
    expect(existsSync(path.join(home, 'machines', 'Debian'))).toBe(false);
    lib.delete(b.id, false);
    expect(lib.list()).toHaveLength(0);
    expect(readdirSync(path.join(home, 'unregistered'))).toHaveLength(1);
  });

  it('adds an existing VM folder from elsewhere', () => {
    const other = new VmLibrary(mkdtempSync(path.join(os.tmpdir(), 'boxwood-other-')));
    const cfg = other.create({ ...basic, name: 'Elsewhere' });
    const added = lib.add(path.join(other.machinesDir, 'Elsewhere'));
    expect(added.id).toBe(cfg.id);
    expect(lib.list().map((v) => v.id)).toContain(cfg.id);
    expect(() => lib.add(path.join(other.machinesDir, 'Elsewhere'))).toThrow(/already in the library/);
    rmSync(other.home, { recursive: true, force: true });
  });
});
