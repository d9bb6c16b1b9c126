// One VM's window: the guest screen on a canvas, keyboard and mouse capture,
// machine controls, a status bar, and the serial console in xterm.js. The VGA text
// screen is mirrored into an accessible, visually hidden region for screen readers
// (and for end-to-end tests).
import { useEffect, useRef, useState } from 'react';
import { onMenuCommand, type DisplayConnection, type HostClient } from '../api/host-client';
import type { VmSummary } from '../../protocol/host-api';
import type { VmRunState } from '../../protocol/vm-process';
import { STATE_LABELS, isActive } from '../common/format';
import { ScreenCanvas, type ScaleMode } from './ScreenCanvas';
import { SerialConsole } from './SerialConsole';
import { useKeyboardCapture } from './keyboard-capture';
import { CdMenu } from '../media/CdMenu';

type Tab = 'screen' | 'serial';

export function DisplayWindow({ client, vmId }: { client: HostClient; vmId: string }) {
  const [vm, setVm] = useState<VmSummary | null>(null);
  const [state, setState] = useState<VmRunState | 'inaccessible' | null>(null);
  const [conn, setConn] = useState<DisplayConnection | null>(null);
  const [closedReason, setClosedReason] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [stats, setStats] = useState({ mips: 0, fps: 0 });
  const [activity, setActivity] = useState<Record<string, number>>({});
  const [tab, setTab] = useState<Tab>('screen');
  const [scale, setScale] = useState<ScaleMode>('fit');
  const [error, setError] = useState<string | null>(null);
  const serialSink = useRef<(data: Uint8Array) => void>(() => {});
  const frameSink = useRef<(m: { x: number; y: number; width: number; height: number; rgba: Uint8Array } | { mode: { width: number; height: number } }) => void>(() => {});
  const screenRef = useRef<HTMLDivElement>(null);
  const capture = useKeyboardCapture(screenRef, (m) => conn?.send(m));

  useEffect(() => {
    client.call('vm.get', { id: vmId }).then(
      (v: VmSummary) => {
        setVm(v);
        setState(v.state);
      },
      (e) => setError(e.message),
    );
    return client.onEvent((e) => {
      if (e.event === 'vm.changed' && e.vm.id === vmId) {
        setVm(e.vm);
        setState(e.vm.state);
      }
    });
  }, [client, vmId]);

  // Controls act on a machine that runs (or is starting/paused).
  const alive = state === 'starting' || state === 'running' || state === 'paused';
  // One display connection per VM process: attach when it starts, keep it while it lives.
  // A snapshot ('saving') or a shutdown ('stopping') must not drop it: a reattach replays
  // the serial backlog into a console that already shows it (the output twice), and what
  // is typed while the new connection is not yet set up would be lost.
  const processUp = state !== null && isActive(state);
  useEffect(() => {
    if (!processUp) return;
    const c = client.openDisplay(vmId);
    setClosedReason(null);
    c.onMessage((m) => {
      switch (m.type) {
        case 'frame':
          frameSink.current(m);
          c.send({ type: 'frame-ack' }); // painted: the VM process may send the next one
          break;
        case 'display-mode':
          frameSink.current({ mode: { width: m.width, height: m.height } });
          break;
        case 'text-screen':
          setText(m.text);
          break;
        case 'serial-output':
          serialSink.current(m.data);
          break;
        case 'stats':
          setStats({ mips: m.mips, fps: m.fps });
          break;
        case 'activity':
          setActivity((a) => ({ ...a, [m.device]: Date.now() }));
          break;
        case 'state':
          setState(m.state);
          break;
        case 'error':
          setError(m.error);
          break;
      }
    });
    c.onClose((reason) => setClosedReason(reason));
    setConn(c);
    return () => c.close();
  }, [client, vmId, processUp]);

  const act = async (method: 'vm.pause' | 'vm.resume' | 'vm.reset' | 'vm.acpiShutdown' | 'vm.powerOff' | 'vm.start') => {
    setError(null);
    try {
      await client.call(method, { id: vmId });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const screenshot = () => {
    const canvas = screenRef.current?.querySelector('canvas');
    if (!canvas) return;
    canvas.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${vm?.config?.name ?? 'boxwood'}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, 'image/png');
  };

  // Electron's Machine/View/Input menus.
  const menuRef = useRef<(action: string) => void>(() => {});
  menuRef.current = (action) => {
    const methods: Record<string, Parameters<typeof act>[0]> = { pause: 'vm.pause', resume: 'vm.resume', reset: 'vm.reset', acpi: 'vm.acpiShutdown', poweroff: 'vm.powerOff' };
    if (methods[action]) void act(methods[action]);
    else if (action === 'fullscreen') void screenRef.current?.requestFullscreen?.();
    else if (action === 'screenshot') screenshot();
    else if (action === 'ctrl-alt-del') conn?.send({ type: 'key-combo', combo: 'ctrl-alt-del' });
    else if (action === 'serial') setTab('serial');
    else if (action === 'optical') document.querySelector<HTMLSelectElement>('select[aria-label="Optical drive"]')?.focus();
  };
  useEffect(() => onMenuCommand((c) => c.kind === 'vm' && menuRef.current(c.action)), []);

  const name = vm?.config?.name ?? 'Virtual machine';
  useEffect(() => {
    document.title = `${name} — Boxwood`;
  }, [name]);
  // Device names follow the emulated controllers: ide1-0 is the CD drive, fd* floppies,
  // everything else (ide0-*, virtio disks) a hard disk.
  const lit = (match: (device: string) => boolean) => Object.entries(activity).some(([d, t]) => match(d) && t > Date.now() - 300);
  const hddLit = lit((d) => d !== 'ide1-0' && !d.startsWith('fd'));
  const cdLit = lit((d) => d === 'ide1-0');

  return (
    <div className="display-window">
      <nav className="menubar" aria-label="Machine">
        <span className="vm-title">{name}</span>
        {state === 'paused' ? <button onClick={() => act('vm.resume')}>Resume</button> : <button onClick={() => act('vm.pause')} disabled={state !== 'running'}>Pause</button>}
        <button onClick={() => act('vm.reset')} disabled={!alive}>
          Reset
        </button>
        <button onClick={() => act('vm.acpiShutdown')} disabled={state !== 'running'}>
          ACPI Shutdown
        </button>
        <button onClick={() => act('vm.powerOff')} disabled={!alive}>
          Power Off
        </button>
        {!alive && state !== 'inaccessible' && <button onClick={() => act('vm.start')}>Start</button>}
        <select aria-label="Send key combination" value="" onChange={(e) => e.target.value && conn?.send({ type: 'key-combo', combo: e.target.value })} disabled={state !== 'running'}>
          <option value="">Send keys…</option>
          <option value="ctrl-alt-del">Ctrl+Alt+Del</option>
          <option value="ctrl-alt-backspace">Ctrl+Alt+Backspace</option>
          <option value="ctrl-alt-f1">Ctrl+Alt+F1</option>
          <option value="ctrl-alt-f2">Ctrl+Alt+F2</option>
        </select>
        <CdMenu client={client} vm={vm} onError={setError} />
        <select aria-label="Scaling" value={scale} onChange={(e) => setScale(e.target.value as ScaleMode)}>
          <option value="1:1">Scale 1:1</option>
          <option value="fit">Scale to fit</option>
          <option value="integer">Integer scaling</option>
        </select>
        <button onClick={() => screenRef.current?.requestFullscreen?.()}>Fullscreen</button>
        <button onClick={screenshot}>Screenshot</button>
        <span className="tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'screen'} onClick={() => setTab('screen')}>
            Screen
          </button>
          <button role="tab" aria-selected={tab === 'serial'} onClick={() => setTab('serial')}>
            Serial console
          </button>
        </span>
      </nav>
      {error && (
        <div className="error-banner" role="alert">
          {error}
        </div>
      )}
      {state === 'aborted' && (
        <div className="error-banner" role="alert">
          The machine aborted: {vm?.problem ?? 'its process stopped unexpectedly'}. Start it again when you are ready.
        </div>
      )}
      <div className="display-body" hidden={tab !== 'screen'}>
        <div ref={screenRef} className={`screen ${capture.captured ? 'captured' : ''}`} tabIndex={0} aria-label="Guest screen. Click to capture the keyboard; press Right Ctrl to release." onClick={capture.capture}>
          <ScreenCanvas scale={scale} sink={frameSink} onMouse={(m) => capture.captured && conn?.send(m)} pointerLocked={capture.captured} />
          {!alive && <div className="screen-overlay">{state ? STATE_LABELS[state] : 'Loading…'}</div>}
        </div>
        <pre className="sr-only" aria-live="polite" aria-label="Guest screen text" data-testid="screen-text">
          {text}
        </pre>
      </div>
      <div className="serial-tab" hidden={tab !== 'serial'}>
        <SerialConsole visible={tab === 'serial'} sink={serialSink} onInput={(t) => conn?.send({ type: 'serial-input', port: 0, text: t })} />
      </div>
      <footer className="statusbar" aria-label="Status">
        <span data-testid="display-state">{state ? STATE_LABELS[state] : '…'}</span>
        <span className={`led ${hddLit ? 'on' : ''}`} title="Hard disk activity">
          HDD
        </span>
        <span className={`led ${cdLit ? 'on' : ''}`} title="Optical drive activity">
          CD
        </span>
        <span>{stats.mips.toFixed(1)} MIPS</span>
        <span>{stats.fps.toFixed(0)} fps</span>
        <span className="capture-hint">{capture.captured ? 'Keyboard captured — press Right Ctrl to release' : 'Click the screen to capture keyboard and mouse'}</span>
        {closedReason && processUp && <span className="problem">{closedReason}</span>}
      </footer>
    </div>
  );
}
