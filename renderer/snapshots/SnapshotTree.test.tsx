// @vitest-environment happy-dom
import { describe, it, expect, vi, afterEach } from 'vitest';
import { render, screen, fireEvent, waitFor, cleanup, within, act } from '@testing-library/react';
import { SnapshotTree, buildSnapshotTree, CURRENT_STATE_ID } from './SnapshotTree';
import { MachineTabs } from './MachineTabs';
import { CloneVmDialog } from './CloneVmDialog';
import type { HostClient } from '../api/host-client';
import type { HostEvent, VmSummary } from '../../protocol/host-api';
import type { Snapshot, SnapshotListResult } from '../../protocol/snapshots';

afterEach(cleanup);

const VM_ID = '11111111-1111-4111-8111-111111111111';
const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
const snap = (n: number, name: string, parent: number | null, over: Partial<Snapshot> = {}): Snapshot => ({
  id: id(n),
  name,
  description: '',
  createdAt: `2026-12-0${n}T10:00:00.000Z`,
  parentId: parent === null ? null : id(parent),
  online: false,
  disks: { 'ide-0': `Snapshots/${n}.qcow2` },
  ...over,
});

const vm = (state: VmSummary['state'] = 'stopped'): VmSummary => ({
  id: VM_ID,
  folder: '/h/machines/Deb',
  state,
  snapshotCount: 3,
  currentSnapshot: 'Updated',
  config: {
    schemaVersion: 1,
    id: VM_ID,
    name: 'Deb',
    osType: 'linux',
    memoryMiB: 256,
    cpus: 1,
    firmware: 'builtin',
    bootOrder: ['disk'],
    storage: [],
    display: { vramMiB: 16 },
    serial: { enabled: true },
    notes: '',
    createdAt: '2026-12-01T00:00:00.000Z',
  },
});

//   Installed (1)
//   ├── Updated (2)      ← current state under it
//   │   └── Current State
//   └── Experiment (3, online, with a screen)
const tree = (): SnapshotListResult => ({
  snapshots: [snap(1, 'Installed', null), snap(3, 'Experiment', 1, { online: true, stateFile: 'Snapshots/3.state', thumbnail: 'Snapshots/3.png', description: 'trying things' }), snap(2, 'Updated', 1)],
  currentParentId: id(2),
  resumesSavedState: false,
});

function fakeClient(opts: { state?: VmSummary['state']; list?: SnapshotListResult; fail?: Record<string, string> } = {}) {
  const calls: { method: string; params: any }[] = [];
  let state = opts.state ?? 'stopped';
  let list = opts.list ?? tree();
  const listeners = new Set<(e: HostEvent) => void>();
  const client: HostClient = {
    call: vi.fn(async (method: string, params: any) => {
      calls.push({ method, params });
      if (opts.fail?.[method]) throw new Error(opts.fail[method]);
      switch (method) {
        case 'snapshot.list':
          return list;
        case 'snapshot.thumbnail':
          return 'data:image/png;base64,AAAA';
        case 'snapshot.take': {
          const s = snap(4, params.name, 2);
          list = { ...list, snapshots: [...list.snapshots, s], currentParentId: s.id };
          return s;
        }
        case 'snapshot.restore':
        case 'snapshot.edit':
          return list.snapshots.find((s) => s.id === params.snapshotId);
        case 'snapshot.delete':
          return null;
        case 'vm.powerOff':
          state = 'stopped';
          return null;
        case 'vm.get':
          return vm(state);
        case 'vm.clone':
          return { taskId: 'task-1', vmId: '22222222-2222-4222-8222-222222222222' };
        case 'task.cancel':
          return null;
      }
      throw new Error(`unexpected ${method}`);
    }) as HostClient['call'],
    onEvent: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    openDisplay: () => {
      throw new Error('no display');
    },
    onConnectionChange: () => {},
  };
  return {
    client,
    calls,
    methods: () => calls.map((c) => c.method).filter((m) => m !== 'snapshot.thumbnail'),
    setList: (l: SnapshotListResult) => (list = l),
    push: (e: HostEvent) => act(() => listeners.forEach((f) => f(e))),
  };
}

const item = (name: string) => screen.getByRole('treeitem', { name });
/** The tree as indented labels (aria-level). */
const outline = () => screen.getAllByRole('treeitem').map((el) => '  '.repeat(Number(el.getAttribute('aria-level')) - 1) + el.getAttribute('aria-label'));
const selectedName = () => screen.getAllByRole('treeitem').find((el) => el.getAttribute('aria-selected') === 'true')?.getAttribute('aria-label');

describe('buildSnapshotTree', () => {
  it('nests by parent, siblings oldest first, the current state under its parent (root when none)', () => {
    const roots = buildSnapshotTree(tree());
    expect(roots.map((n) => n.snapshot?.name)).toEqual(['Installed']);
    expect(roots[0].children.map((n) => n.snapshot?.name ?? n.id)).toEqual(['Updated', 'Experiment']);
    expect(roots[0].children[0].children.map((n) => n.id)).toEqual([CURRENT_STATE_ID]);
    expect(buildSnapshotTree({ snapshots: [], currentParentId: null }).map((n) => n.id)).toEqual([CURRENT_STATE_ID]);
  });
});

describe('SnapshotTree', () => {
  it('shows the tree nested by parent with the Current State marker, times, online icons and the thumbnail', async () => {
    const { client } = fakeClient();
    render(<SnapshotTree client={client} vm={vm()} />);
    const t = await screen.findByRole('tree', { name: 'Snapshots' });
    expect(outline()).toEqual(['Installed', '  Updated', '    Current State', '  Experiment']);
    const installed = within(t).getByRole('treeitem', { name: 'Installed' });
    expect(installed.getAttribute('aria-expanded')).toBe('true');
    const updated = item('Updated');
    expect([updated.getAttribute('aria-posinset'), updated.getAttribute('aria-setsize')]).toEqual(['1', '2']);
    const cur = item('Current State');
    expect(cur.getAttribute('aria-current')).toBe('true');
    expect(cur.getAttribute('aria-selected')).toBe('true');
    const exp = within(t).getByRole('treeitem', { name: 'Experiment' });
    expect(exp.textContent).toContain('online');
    expect(updated.querySelector('time')?.getAttribute('dateTime')).toBe('2026-12-02T10:00:00.000Z');
    fireEvent.click(exp);
    const details = screen.getByRole('complementary', { name: 'Snapshot details' });
    expect(await within(details).findByRole('img', { name: 'Screen of Experiment' })).toBeTruthy();
    expect(details.textContent).toContain('trying things');
  });

  it('is driven by the keyboard: arrows, Home/End, Left/Right collapse and expand; Enter, Delete, F2 open the dialogs', async () => {
    const { client } = fakeClient();
    const onWindowKey = vi.fn();
    window.addEventListener('keydown', onWindowKey);
    render(<SnapshotTree client={client} vm={vm()} />);
    await screen.findByRole('tree');
    const t = screen.getByRole('tree');
    expect(selectedName()).toBe('Current State');
    fireEvent.keyDown(item('Current State'), { key: 'ArrowDown' });
    expect(selectedName()).toBe('Experiment');
    expect(document.activeElement).toBe(item('Experiment'));
    fireEvent.keyDown(t, { key: 'Home' });
    expect(selectedName()).toBe('Installed');
    fireEvent.keyDown(t, { key: 'End' });
    expect(selectedName()).toBe('Experiment');
    fireEvent.keyDown(t, { key: 'ArrowUp' });
    expect(selectedName()).toBe('Current State');
    fireEvent.keyDown(t, { key: 'ArrowLeft' }); // a leaf: to its parent
    expect(selectedName()).toBe('Updated');
    fireEvent.keyDown(t, { key: 'ArrowLeft' }); // expanded: collapse
    expect(item('Updated').getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('treeitem', { name: 'Current State' })).toBeNull();
    fireEvent.keyDown(t, { key: 'ArrowRight' }); // collapsed: expand
    expect(item('Updated').getAttribute('aria-expanded')).toBe('true');
    fireEvent.keyDown(t, { key: 'ArrowRight' }); // expanded: first child
    expect(selectedName()).toBe('Current State');
    fireEvent.keyDown(t, { key: 'ArrowUp' });
    // Enter = restore, Delete = delete, F2 = properties (and the manager's own shortcuts do not see them).
    fireEvent.keyDown(t, { key: 'Enter' });
    expect(screen.getByRole('dialog', { name: 'Restore Snapshot' }).textContent).toContain('Updated');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.keyDown(t, { key: 'Delete' });
    expect(screen.getByRole('dialog', { name: 'Delete Snapshot' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.keyDown(t, { key: 'F2' });
    expect(screen.getByRole('dialog', { name: 'Snapshot Properties' })).toBeTruthy();
    expect(onWindowKey).not.toHaveBeenCalled();
    window.removeEventListener('keydown', onWindowKey);
  });

  it('collapsing the branch of the selected item (mouse) moves the selection to the collapsed item', async () => {
    const { client } = fakeClient();
    render(<SnapshotTree client={client} vm={vm()} />);
    await screen.findByRole('tree');
    fireEvent.click(item('Updated').querySelector('.snapshot-twisty')!);
    expect(screen.queryByRole('treeitem', { name: 'Current State' })).toBeNull();
    expect(selectedName()).toBe('Updated');
    expect(item('Updated').tabIndex).toBe(0);
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'ArrowRight' });
    expect(outline()).toContain('    Current State');
    expect(selectedName()).toBe('Updated');
    expect(document.activeElement).toBe(item('Updated'));
  });

  it('context menu (right-click, Shift+F10, ContextMenu key) calls the right host methods', async () => {
    const h = fakeClient();
    render(<SnapshotTree client={h.client} vm={vm()} />);
    await screen.findByRole('tree');
    // Properties… from a right-click: rename.
    fireEvent.contextMenu(item('Installed'));
    let menu = screen.getByRole('menu', { name: 'Snapshot menu' });
    expect(within(menu).getAllByRole('menuitem').map((m) => m.textContent)).toEqual(['Take…', 'Restore', 'Delete', 'Clone…', 'Properties…']);
    expect(document.activeElement).toBe(within(menu).getByRole('menuitem', { name: 'Take…' }));
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Properties…' }));
    const props = screen.getByRole('dialog', { name: 'Snapshot Properties' });
    fireEvent.change(within(props).getByLabelText('Name'), { target: { value: 'Fresh install' } });
    fireEvent.change(within(props).getByLabelText('Description'), { target: { value: 'just installed' } });
    fireEvent.click(within(props).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(h.calls.find((c) => c.method === 'snapshot.edit')?.params).toEqual({ id: VM_ID, snapshotId: id(1), name: 'Fresh install', description: 'just installed' });

    // Take… from Shift+F10: default name "Snapshot 4".
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'F10', shiftKey: true });
    menu = screen.getByRole('menu');
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Take…' }));
    const take = screen.getByRole('dialog', { name: 'Take Snapshot' });
    expect((within(take).getByLabelText('Snapshot name') as HTMLInputElement).value).toBe('Snapshot 4');
    fireEvent.change(within(take).getByLabelText('Snapshot description'), { target: { value: 'before upgrade' } });
    fireEvent.click(within(take).getByRole('button', { name: 'Take' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(h.calls.find((c) => c.method === 'snapshot.take')?.params).toEqual({ id: VM_ID, name: 'Snapshot 4', description: 'before upgrade' });
    // The tree reloaded: the current state moved under the new snapshot.
    await waitFor(() => expect(outline()).toEqual(['Installed', '  Updated', '    Snapshot 4', '      Current State', '  Experiment']));

    // Delete from the ContextMenu key on "Experiment"; Escape closes a menu.
    fireEvent.click(item('Experiment'));
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'ContextMenu' });
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'ContextMenu' });
    fireEvent.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Delete' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete Snapshot' })).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(h.calls.find((c) => c.method === 'snapshot.delete')?.params).toEqual({ id: VM_ID, snapshotId: id(3) });

    // Restore (not running): a plain confirmation.
    fireEvent.contextMenu(item('Installed'));
    fireEvent.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Restore' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Restore Snapshot' })).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(h.methods()).not.toContain('vm.powerOff');
    expect(h.calls.find((c) => c.method === 'snapshot.restore')?.params).toEqual({ id: VM_ID, snapshotId: id(1) });

    // On the Current State item, only Take… and Clone… apply.
    fireEvent.contextMenu(item('Current State'));
    const items = within(screen.getByRole('menu')).getAllByRole('menuitem');
    expect(items.filter((m) => m.getAttribute('aria-disabled') === 'false').map((m) => m.textContent)).toEqual(['Take…', 'Clone…']);
  });

  it('restoring while the machine runs offers "Power off and restore": power off, wait, restore', async () => {
    const h = fakeClient({ state: 'running' });
    render(<SnapshotTree client={h.client} vm={vm('running')} />);
    await screen.findByRole('tree');
    fireEvent.click(item('Updated'));
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'Enter' });
    const dlg = screen.getByRole('dialog', { name: 'Restore Snapshot' });
    expect(dlg.textContent).toContain('must be powered off first');
    expect(within(dlg).queryByRole('button', { name: 'Restore' })).toBeNull();
    fireEvent.click(within(dlg).getByRole('button', { name: 'Power off and restore' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const m = h.methods();
    expect(m.indexOf('vm.powerOff')).toBeGreaterThan(-1);
    expect(m.indexOf('vm.get')).toBeGreaterThan(m.indexOf('vm.powerOff'));
    expect(m.indexOf('snapshot.restore')).toBeGreaterThan(m.indexOf('vm.get'));
  });

  it('deleting while the machine runs is offered without powering off; the dialog says when the machine pauses for the merge', async () => {
    const h = fakeClient({ state: 'running' });
    render(<SnapshotTree client={h.client} vm={vm('running')} />);
    await screen.findByRole('tree');
    const bar = screen.getByRole('toolbar', { name: 'Snapshot actions' });
    // Another branch: its layers are not in use, nothing pauses.
    fireEvent.click(item('Experiment'));
    expect((within(bar).getByRole('button', { name: 'Delete' }) as HTMLButtonElement).disabled).toBe(false);
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'Delete' });
    expect(screen.getByRole('dialog', { name: 'Delete Snapshot' }).textContent).not.toContain('pauses');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    // An ancestor of the current state: the machine pauses while the layers merge.
    fireEvent.click(item('Installed'));
    fireEvent.click(within(bar).getByRole('button', { name: 'Delete' }));
    const dlg = screen.getByRole('dialog', { name: 'Delete Snapshot' });
    expect(dlg.textContent).toContain('it pauses while they merge');
    expect(dlg.textContent).not.toMatch(/power(ed)? (it )?off/i);
    fireEvent.click(within(dlg).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(h.methods()).not.toContain('vm.powerOff');
    expect(h.calls.find((c) => c.method === 'snapshot.delete')?.params).toEqual({ id: VM_ID, snapshotId: id(1) });
  });

  it('shows host errors plainly and keeps the dialog open', async () => {
    const message = '"Installed" has 2 children ("Updated", "Experiment"); only a snapshot with at most one child can be deleted. Delete the other branches first.';
    const h = fakeClient({ fail: { 'snapshot.delete': message } });
    render(<SnapshotTree client={h.client} vm={vm()} />);
    await screen.findByRole('tree');
    fireEvent.click(item('Installed'));
    fireEvent.keyDown(screen.getByRole('tree'), { key: 'Delete' });
    const dlg = screen.getByRole('dialog', { name: 'Delete Snapshot' });
    fireEvent.click(within(dlg).getByRole('button', { name: 'Delete' }));
    expect((await within(dlg).findByRole('alert')).textContent).toBe(message);
    expect(screen.getByRole('dialog', { name: 'Delete Snapshot' })).toBeTruthy();
  });

  it('shows a problem with the tree and disables the changes; reloads on vm.changed', async () => {
    const h = fakeClient({ list: { ...tree(), problem: 'The disk image Snapshots/1.qcow2 of snapshot "Installed" (ide-0) is missing.' } });
    render(<SnapshotTree client={h.client} vm={vm()} />);
    expect((await screen.findByRole('alert')).textContent).toContain('is missing');
    const bar = screen.getByRole('toolbar', { name: 'Snapshot actions' });
    expect((within(bar).getByRole('button', { name: 'Take…' }) as HTMLButtonElement).disabled).toBe(true);
    h.setList({ snapshots: [], currentParentId: null, resumesSavedState: false });
    h.push({ event: 'vm.changed', vm: vm() });
    await waitFor(() => expect(screen.queryByRole('treeitem', { name: 'Installed' })).toBeNull());
    expect(screen.getAllByRole('treeitem').map((e) => e.getAttribute('aria-label'))).toEqual(['Current State']);
    expect((within(bar).getByRole('button', { name: 'Take…' }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('CloneVmDialog', () => {
  it('from the snapshot menu: linked clone of that snapshot, progress, then onCloned', async () => {
    const h = fakeClient();
    const onCloned = vi.fn();
    render(<SnapshotTree client={h.client} vm={vm()} onCloned={onCloned} />);
    await screen.findByRole('tree');
    fireEvent.contextMenu(item('Updated'));
    fireEvent.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Clone…' }));
    const dlg = screen.getByRole('dialog', { name: 'Clone Deb' });
    await waitFor(() => expect((within(dlg).getByLabelText('Clone from') as HTMLSelectElement).value).toBe(id(2)));
    expect((within(dlg).getByLabelText('Linked clone') as HTMLInputElement).checked).toBe(true);
    expect(dlg.textContent).toContain('not a saved running machine: it starts with a fresh boot'); // said plainly: no machine state is cloned
    fireEvent.change(within(dlg).getByLabelText('Name of the new machine'), { target: { value: 'Deb Linked' } });
    fireEvent.click(within(dlg).getByRole('button', { name: 'Clone' }));
    await waitFor(() => expect(h.calls.some((c) => c.method === 'vm.clone')).toBe(true));
    expect(h.calls.find((c) => c.method === 'vm.clone')?.params).toEqual({ id: VM_ID, name: 'Deb Linked', mode: 'linked', snapshotId: id(2) });
    await within(dlg).findByRole('button', { name: 'Cancel cloning' });
    h.push({ event: 'task.progress', taskId: 'task-1', label: 'Linked clone', fraction: 0.5 });
    expect(within(dlg).getByRole('progressbar', { name: 'Cloning' }).getAttribute('aria-valuenow')).toBe('50');
    h.push({ event: 'task.progress', taskId: 'task-1', label: 'Linked clone', fraction: 1, done: true });
    expect(onCloned).toHaveBeenCalledWith('22222222-2222-4222-8222-222222222222');
  });

  it('from the current state: full only; refused while running; name errors and host errors shown', async () => {
    const h = fakeClient({ fail: { 'vm.clone': 'A virtual machine named "Deb Clone" already exists.' } });
    const { rerender } = render(<CloneVmDialog client={h.client} vm={vm('running')} onCancel={() => {}} onCloned={() => {}} />);
    const dlg = screen.getByRole('dialog', { name: 'Clone Deb' });
    expect((within(dlg).getByLabelText('Linked clone') as HTMLInputElement).disabled).toBe(true);
    expect(dlg.textContent).toContain('is running: power it off to clone its current state');
    expect((within(dlg).getByRole('button', { name: 'Clone' }) as HTMLButtonElement).disabled).toBe(true);
    rerender(<CloneVmDialog client={h.client} vm={vm('stopped')} onCancel={() => {}} onCloned={() => {}} />);
    fireEvent.change(within(dlg).getByLabelText('Name of the new machine'), { target: { value: ' ' } });
    expect(dlg.textContent).toContain('Enter a name for the new machine.');
    fireEvent.change(within(dlg).getByLabelText('Name of the new machine'), { target: { value: 'Deb Clone' } });
    fireEvent.click(within(dlg).getByRole('button', { name: 'Clone' }));
    expect((await within(dlg).findByRole('alert')).textContent).toContain('already exists');
    expect(h.calls.find((c) => c.method === 'vm.clone')?.params).toEqual({ id: VM_ID, name: 'Deb Clone', mode: 'full' });
  });
});

describe('MachineTabs', () => {
  it('switches between Details and Snapshots', async () => {
    const h = fakeClient();
    render(<MachineTabs client={h.client} vm={vm()} details={<p>the details</p>} />);
    expect(screen.getByText('the details')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Snapshots (3)' }));
    expect(await screen.findByRole('tree', { name: 'Snapshots' })).toBeTruthy();
    expect(screen.queryByText('the details')).toBeNull();
  });
});
