// The Snapshots pane of the selected VM, like VirtualBox's: a tree of snapshots nested
// by parent, with the "Current State" item under the snapshot the machine descends from;
// a toolbar and a context menu (right-click, Shift+F10, the ContextMenu key) with Take…,
// Restore, Delete, Clone…, Properties…; keyboard navigation (arrows, Home/End, Enter =
// restore, Delete = delete, F2 = properties). Refreshes on `vm.changed` for this VM.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import { currentDescendsFrom, type Snapshot, type SnapshotListResult } from '../../protocol/snapshots';
import { isActive } from '../common/format';
import { DeleteSnapshotDialog, RestoreSnapshotDialog, SnapshotPropertiesDialog, TakeSnapshotDialog, formatTime } from './SnapshotDialogs';
import { CloneVmDialog } from './CloneVmDialog';
import './snapshots.css';

export const CURRENT_STATE_ID = 'current-state';
const CURRENT_STATE_LABEL = 'Current State';

export interface TreeNode {
  id: string;
  snapshot?: Snapshot;
  children: TreeNode[];
  parentId: string | null;
  level: number;
}

/** Snapshots nested by parentId (siblings oldest first), the current state under its parent. */
export function buildSnapshotTree(list: Pick<SnapshotListResult, 'snapshots' | 'currentParentId'>): TreeNode[] {
  const known = new Set(list.snapshots.map((s) => s.id));
  const byParent = new Map<string | null, Snapshot[]>();
  for (const s of list.snapshots) {
    const parent = s.parentId && known.has(s.parentId) ? s.parentId : null;
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  const currentParent = list.currentParentId && known.has(list.currentParentId) ? list.currentParentId : null;
  const build = (parentId: string | null, level: number): TreeNode[] => {
    const nodes: TreeNode[] = (byParent.get(parentId) ?? [])
      .slice()
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((s) => ({ id: s.id, snapshot: s, parentId, level, children: build(s.id, level + 1) }));
    if (parentId === currentParent) nodes.push({ id: CURRENT_STATE_ID, parentId, level, children: [] });
    return nodes;
  };
  return build(null, 1);
}

/** The items a keyboard walks through: depth first, children of collapsed items skipped. */
function visibleNodes(roots: TreeNode[], collapsed: Set<string>): TreeNode[] {
  const out: TreeNode[] = [];
  const walk = (nodes: TreeNode[]) => {
    for (const n of nodes) {
      out.push(n);
      if (n.children.length && !collapsed.has(n.id)) walk(n.children);
    }
  };
  walk(roots);
  return out;
}

type DialogState = null | { kind: 'take' } | { kind: 'restore' | 'delete' | 'properties'; snapshot: Snapshot } | { kind: 'clone'; snapshotId?: string };

export function SnapshotTree({ client, vm, onCloned }: { client: HostClient; vm: VmSummary; onCloned?: (vmId: string) => void }) {
  const [list, setList] = useState<SnapshotListResult | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string>(CURRENT_STATE_ID);
  const [hovered, setHovered] = useState<string | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [menu, setMenu] = useState<{ x: number; y: number } | null>(null);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [thumbs, setThumbs] = useState<Record<string, string | null>>({});
  const itemRefs = useRef(new Map<string, HTMLLIElement>());
  const focusPending = useRef(false);
  const vmId = vm.id;
  const running = isActive(vm.state);

  const shownVm = useRef(vmId);
  shownVm.current = vmId;
  const refresh = useCallback(async () => {
    try {
      const r: SnapshotListResult = await client.call('snapshot.list', { id: vmId });
      if (shownVm.current !== vmId) return; // another machine was selected meanwhile
      setList(r);
      setLoadError(null);
    } catch (e) {
      setLoadError((e as Error).message);
    }
  }, [client, vmId]);

  useEffect(() => {
    setList(null);
    setSelected(CURRENT_STATE_ID);
    setCollapsed(new Set());
    setThumbs({});
    void refresh();
    return client.onEvent((e) => {
      if (e.event === 'vm.changed' && e.vm.id === vmId) void refresh();
    });
  }, [client, vmId, refresh]);

  const roots = useMemo(() => (list ? buildSnapshotTree(list) : []), [list]);
  const visible = useMemo(() => visibleNodes(roots, collapsed), [roots, collapsed]);
  const byId = useMemo(() => new Map(visibleNodes(roots, new Set()).map((n) => [n.id, n])), [roots]);
  // A selection hidden in a collapsed branch shows on its nearest visible ancestor; a deleted one falls back to the current state.
  const current = useMemo(() => {
    for (let n = byId.get(selected); n; n = n.parentId ? byId.get(n.parentId) : undefined) if (visible.includes(n)) return n;
    return visible.find((n) => n.id === CURRENT_STATE_ID) ?? visible[0] ?? null;
  }, [byId, selected, visible]);
  const snap = current?.snapshot ?? null;

  // Move keyboard focus with the selection (only when the keyboard moved it).
  useEffect(() => {
    if (!focusPending.current || !current) return;
    focusPending.current = false;
    itemRefs.current.get(current.id)?.focus();
  });

  // Thumbnails of the selected and the hovered snapshot, fetched once each.
  const shown = hovered && byId.get(hovered)?.snapshot ? byId.get(hovered)!.snapshot! : snap;
  useEffect(() => {
    if (!shown?.thumbnail || shown.id in thumbs) return;
    client.call('snapshot.thumbnail', { id: vmId, snapshotId: shown.id }).then(
      (url: string | null) => setThumbs((t) => ({ ...t, [shown.id]: url })),
      () => setThumbs((t) => ({ ...t, [shown.id]: null })),
    );
  }, [client, vmId, shown, thumbs]);

  const select = (id: string, focus = true) => {
    focusPending.current = focus;
    setSelected(id);
  };

  let n = (list?.snapshots.length ?? 0) + 1;
  while (list?.snapshots.some((s) => s.name === `Snapshot ${n}`)) n++;
  const nextSnapshotName = `Snapshot ${n}`;
  const actions = {
    take: () => setDialog({ kind: 'take' }),
    restore: () => snap && setDialog({ kind: 'restore', snapshot: snap }),
    delete: () => snap && setDialog({ kind: 'delete', snapshot: snap }),
    clone: () => setDialog({ kind: 'clone', snapshotId: snap?.id }),
    properties: () => snap && setDialog({ kind: 'properties', snapshot: snap }),
  };
  const usable = vm.state !== 'inaccessible' && !!list && !list.problem;
  const menuItems: { key: keyof typeof actions; label: string; enabled: boolean; hint: string }[] = [
    { key: 'take', label: 'Take…', enabled: usable, hint: 'Take a snapshot of the current state' },
    { key: 'restore', label: 'Restore', enabled: usable && !!snap, hint: 'Go back to the selected snapshot (Enter)' },
    { key: 'delete', label: 'Delete', enabled: usable && !!snap, hint: 'Delete the selected snapshot (Delete)' },
    { key: 'clone', label: 'Clone…', enabled: vm.state !== 'inaccessible', hint: 'A new machine from the selected snapshot or the current state' },
    { key: 'properties', label: 'Properties…', enabled: !!snap, hint: 'Name and description of the snapshot (F2)' },
  ];
  const enabled = (k: keyof typeof actions) => menuItems.find((m) => m.key === k)!.enabled;

  const openMenuAtItem = () => {
    const el = current && itemRefs.current.get(current.id);
    const r = el?.getBoundingClientRect();
    setMenu({ x: (r?.left ?? 0) + 24, y: (r?.bottom ?? 0) });
  };

  const onTreeKey = (e: React.KeyboardEvent) => {
    if (!current) return;
    const i = visible.indexOf(current);
    let handled = true;
    const expandable = current.children.length > 0;
    const isCollapsed = collapsed.has(current.id);
    switch (e.key) {
      case 'ArrowDown':
        if (i < visible.length - 1) select(visible[i + 1].id);
        break;
      case 'ArrowUp':
        if (i > 0) select(visible[i - 1].id);
        break;
      case 'Home':
        select(visible[0].id);
        break;
      case 'End':
        select(visible[visible.length - 1].id);
        break;
      case 'ArrowRight':
        if (expandable && isCollapsed) setCollapsed((c) => new Set([...c].filter((x) => x !== current.id)));
        else if (expandable) select(current.children[0].id);
        break;
      case 'ArrowLeft':
        if (expandable && !isCollapsed) setCollapsed((c) => new Set(c).add(current.id));
        else if (current.parentId) select(current.parentId);
        break;
      case 'Enter':
        if (enabled('restore')) actions.restore();
        break;
      case 'Delete':
        if (enabled('delete')) actions.delete();
        break;
      case 'F2':
        if (enabled('properties')) actions.properties();
        break;
      case 'ContextMenu':
        openMenuAtItem();
        break;
      case 'F10':
        if (e.shiftKey) openMenuAtItem();
        else handled = false;
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation(); // the manager's own shortcuts (Enter starts, Delete removes the VM, arrows pick VMs)
    }
  };

  const closeDialog = () => {
    setDialog(null);
    focusPending.current = true;
  };

  // A flat list of treeitems with aria-level/-setsize/-posinset (a valid ARIA tree): each item
  // is exactly its row, so a click on an item's middle never lands on a child.
  const siblingsOf = (n: TreeNode) => (n.parentId ? byId.get(n.parentId)!.children : roots);
  const renderNode = (n: TreeNode) => {
    const s = n.snapshot;
    const isSel = current?.id === n.id;
    const label = s ? s.name : CURRENT_STATE_LABEL;
    return (
      <li
        key={n.id}
        role="treeitem"
        aria-label={label}
        aria-level={n.level}
        aria-setsize={siblingsOf(n).length}
        aria-posinset={siblingsOf(n).indexOf(n) + 1}
        style={{ paddingLeft: (n.level - 1) * 18 }}
        aria-selected={isSel}
        aria-expanded={n.children.length ? !collapsed.has(n.id) : undefined}
        aria-current={n.id === CURRENT_STATE_ID ? 'true' : undefined}
        tabIndex={isSel ? 0 : -1}
        ref={(el) => {
          if (el) itemRefs.current.set(n.id, el);
          else itemRefs.current.delete(n.id);
        }}
        className={`snapshot-item${n.id === CURRENT_STATE_ID ? ' current-state' : ''}`}
        onClick={() => select(n.id)}
        onDoubleClick={() => s && enabled('restore') && actions.restore()}
        onContextMenu={(e) => {
          e.preventDefault();
          e.stopPropagation();
          select(n.id, false); // focus goes to the menu
          setMenu({ x: e.clientX, y: e.clientY });
        }}
        onMouseEnter={() => setHovered(n.id)}
        onMouseLeave={() => setHovered((h) => (h === n.id ? null : h))}
      >
        <div className="snapshot-row">
          {n.children.length > 0 ? (
            <span
              className="snapshot-twisty"
              aria-hidden="true"
              onClick={(e) => {
                e.stopPropagation();
                const collapsing = !collapsed.has(n.id);
                setCollapsed((c) => {
                  const next = new Set(c);
                  if (next.has(n.id)) next.delete(n.id);
                  else next.add(n.id);
                  return next;
                });
                // Hiding the selected item selects the item that hid it (as a file manager does).
                for (let p = current?.parentId ? byId.get(current.parentId) : undefined; collapsing && p; p = p.parentId ? byId.get(p.parentId) : undefined) {
                  if (p.id === n.id) select(n.id);
                }
              }}
            >
              {collapsed.has(n.id) ? '▸' : '▾'}
            </span>
          ) : (
            <span className="snapshot-twisty" aria-hidden="true" />
          )}
          {s ? (
            <span className={`snapshot-icon ${s.online ? 'online' : 'offline'}`} title={s.online ? 'Online snapshot: disks and the running machine' : 'Offline snapshot: disks and settings'}>
              {s.online ? '▶' : '■'}
              <span className="sr-only">{s.online ? ' online' : ' offline'}</span>
            </span>
          ) : (
            <span className="snapshot-icon current" aria-hidden="true">
              ➜
            </span>
          )}
          <span className="snapshot-name">{label}</span>
          {s ? (
            <time className="snapshot-time" dateTime={s.createdAt}>
              {formatTime(s.createdAt)}
            </time>
          ) : (
            <span className="snapshot-time">{list?.resumesSavedState ? 'resumes the saved machine at the next start' : running ? 'running' : ''}</span>
          )}
        </div>
      </li>
    );
  };

  const thumb = shown ? thumbs[shown.id] : undefined;
  return (
    <section className="snapshots-pane" aria-label={`Snapshots of ${vm.config?.name ?? 'this machine'}`}>
      {/* Enter/Space press these buttons; the manager's Enter (start) and Delete shortcuts must not also fire. */}
      <div className="snapshot-toolbar" role="toolbar" aria-label="Snapshot actions" onKeyDown={(e) => ['Enter', ' ', 'Delete'].includes(e.key) && e.stopPropagation()}>
        {menuItems.map((m) => (
          <button key={m.key} onClick={actions[m.key]} disabled={!m.enabled} title={m.hint}>
            {m.label}
          </button>
        ))}
      </div>
      {loadError && (
        <p className="field-error" role="alert">
          Cannot read the snapshots: {loadError}
        </p>
      )}
      {list?.problem && (
        <p className="field-error" role="alert">
          {list.problem} Snapshots cannot be taken, restored or deleted until this is fixed.
        </p>
      )}
      {!list && !loadError && <p role="status">Loading snapshots…</p>}
      {list && (
        <div className="snapshot-body">
          <ul role="tree" aria-label="Snapshots" className="snapshot-tree" onKeyDown={onTreeKey}>
            {visible.map(renderNode)}
          </ul>
          <aside className="snapshot-details" aria-label="Snapshot details">
            {shown ? (
              <>
                <h3>{shown.name}</h3>
                <p className="hint">
                  Taken {formatTime(shown.createdAt)} · {shown.online ? 'online (the running machine was saved)' : 'offline (disks and settings)'}
                </p>
                {shown.thumbnail && thumb === undefined && <p className="hint">Loading the screen…</p>}
                {thumb && <img className="snapshot-thumb" src={thumb} alt={`Screen of ${shown.name}`} />}
                {!shown.thumbnail && <p className="hint">No screen was captured with this snapshot.</p>}
                {shown.description ? <p className="notes">{shown.description}</p> : <p className="hint">No description.</p>}
              </>
            ) : (
              <>
                <h3>{CURRENT_STATE_LABEL}</h3>
                <p className="hint">
                  {list.snapshots.length === 0
                    ? 'This machine has no snapshots. Take one to be able to come back to this state.'
                    : list.resumesSavedState
                      ? 'A snapshot with a saved running machine was restored: the next start resumes it.'
                      : `The machine as it is now${list.currentParentId ? ', based on the snapshot above it' : ''}.`}
                </p>
              </>
            )}
          </aside>
        </div>
      )}
      {menu && (
        <SnapshotMenu
          x={menu.x}
          y={menu.y}
          items={menuItems}
          onPick={(k) => {
            setMenu(null);
            actions[k as keyof typeof actions]();
          }}
          onClose={() => {
            setMenu(null);
            focusPending.current = true;
          }}
        />
      )}
      {dialog?.kind === 'take' && (
        <TakeSnapshotDialog
          vmName={vm.config?.name ?? ''}
          running={running}
          defaultName={nextSnapshotName}
          onCancel={closeDialog}
          onTake={async (name, description) => {
            await client.call('snapshot.take', { id: vmId, name, description });
            closeDialog();
            setSelected(CURRENT_STATE_ID);
            await refresh();
          }}
        />
      )}
      {dialog?.kind === 'restore' && (
        <RestoreSnapshotDialog
          snapshot={dialog.snapshot}
          running={running}
          onCancel={closeDialog}
          onRestore={async (powerOffFirst) => {
            if (powerOffFirst) await powerOffAndWait(client, vmId);
            await client.call('snapshot.restore', { id: vmId, snapshotId: dialog.snapshot.id });
            closeDialog();
            setSelected(CURRENT_STATE_ID);
            await refresh();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <DeleteSnapshotDialog
          snapshot={dialog.snapshot}
          pausesMachine={running && !!list && currentDescendsFrom(list, dialog.snapshot.id)}
          onCancel={closeDialog}
          onDelete={async () => {
            await client.call('snapshot.delete', { id: vmId, snapshotId: dialog.snapshot.id });
            closeDialog();
            setSelected(dialog.snapshot.parentId ?? CURRENT_STATE_ID);
            await refresh();
          }}
        />
      )}
      {dialog?.kind === 'properties' && (
        <SnapshotPropertiesDialog
          snapshot={dialog.snapshot}
          onCancel={closeDialog}
          onSave={async (name, description) => {
            await client.call('snapshot.edit', { id: vmId, snapshotId: dialog.snapshot.id, name, description });
            closeDialog();
            await refresh();
          }}
        />
      )}
      {dialog?.kind === 'clone' && (
        <CloneVmDialog
          client={client}
          vm={vm}
          snapshotId={dialog.snapshotId}
          onCancel={closeDialog}
          onCloned={(id) => {
            setDialog(null);
            onCloned?.(id);
          }}
        />
      )}
    </section>
  );
}

/** Power the machine off and wait until the host reports it stopped (the restore needs that). */
export async function powerOffAndWait(client: HostClient, id: string, timeoutMs = 15_000): Promise<void> {
  await client.call('vm.powerOff', { id });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const vm: VmSummary = await client.call('vm.get', { id });
    if (!isActive(vm.state)) return;
    if (Date.now() > deadline) throw new Error('The machine did not power off in time; try again.');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function SnapshotMenu(props: { x: number; y: number; items: { key: string; label: string; enabled: boolean; hint: string }[]; onPick: (k: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])')?.focus();
  }, []);
  const onKey = (e: React.KeyboardEvent) => {
    e.stopPropagation();
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      props.onClose();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = items.length;
      if (n) items[(i + (e.key === 'ArrowDown' ? 1 : n - 1) + n) % n].focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
    }
  };
  return (
    <div className="menu-backdrop" onClick={props.onClose} onContextMenu={(e) => (e.preventDefault(), props.onClose())}>
      <div ref={ref} role="menu" aria-label="Snapshot menu" className="context-menu" style={{ left: props.x, top: props.y }} onKeyDown={onKey} onClick={(e) => e.stopPropagation()}>
        {props.items.map((m) => (
          <button
            key={m.key}
            role="menuitem"
            aria-disabled={!m.enabled}
            tabIndex={-1}
            title={m.hint}
            onClick={() => m.enabled && props.onPick(m.key)}
          >
            {m.label}
          </button>
        ))}
      </div>
    </div>
  );
}
