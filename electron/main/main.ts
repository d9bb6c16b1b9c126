// Boxwood's Electron main process. Deliberately thin: it owns windows, menus, the
// app:// protocol and IPC, and delegates everything else to the node-side host
// services (electron/node) that browser mode and the CLI share.
import { app, BrowserWindow, ipcMain, MessageChannelMain, Menu } from 'electron';
import path from 'node:path';
import { HostService } from '../node/host-service';
import { VmLibrary } from '../node/library/vm-library';
import { boxwoodHome } from '../node/boxwood-home';
import { registerAppScheme, serveRenderer, lockDown, senderOk, webPreferences, APP_ORIGIN } from './security';
import { utilityLauncher, type UtilityChannel } from './utility-launcher';
import { managerMenu, displayMenu, type MenuCommand } from './menus';

const distDir = path.resolve(__dirname, '..');
const preload = path.join(distDir, 'electron', 'preload.cjs');
const vmProcessEntry = path.join(distDir, 'vm-process.cjs');

registerAppScheme();
if (!app.requestSingleInstanceLock()) app.quit();

const channels = new Map<string, UtilityChannel>();
let service: HostService;
let manager: BrowserWindow | null = null;
const displays = new Map<string, BrowserWindow>();

function createManager(): void {
  manager = new BrowserWindow({ width: 1100, height: 720, title: 'Boxwood', webPreferences: webPreferences(preload) });
  lockDown(manager.webContents);
  manager.setMenu(managerMenu(runMenu));
  void manager.loadURL(`${APP_ORIGIN}/index.html`);
  manager.on('closed', () => (manager = null));
}

function openDisplay(vmId: string): void {
  const existing = displays.get(vmId);
  if (existing) return existing.focus();
  const win = new BrowserWindow({ width: 900, height: 720, webPreferences: webPreferences(preload) });
  lockDown(win.webContents);
  win.setMenu(displayMenu(win, runMenu));
  displays.set(vmId, win);
  win.on('closed', () => displays.delete(vmId));
  void win.loadURL(`${APP_ORIGIN}/index.html#/display/${vmId}`);
}

function runMenu(c: MenuCommand): void {
  const target = BrowserWindow.getFocusedWindow();
  if (c.kind === 'manager' && c.action === 'quit') return app.quit();
  target?.webContents.send('menu', c);
}

app.on('second-instance', () => {
  if (manager) {
    if (manager.isMinimized()) manager.restore();
    manager.focus();
  } else createManager();
});

app.whenReady().then(() => {
  Menu.setApplicationMenu(null);
  serveRenderer(path.join(distDir, 'renderer'));
  service = new HostService(new VmLibrary(boxwoodHome()), utilityLauncher(vmProcessEntry, (id, ch) => channels.set(id, ch)), true);
  service.events.on('event', (e) => BrowserWindow.getAllWindows().forEach((w) => w.webContents.send('host:event', e)));

  ipcMain.handle('host:call', async (event, method: unknown, params: unknown) => {
    if (!senderOk(event)) throw new Error('IPC from an unexpected origin was refused.');
    if (typeof method !== 'string') throw new Error('Malformed request.');
    return service.call(method, params);
  });
  // A display asks for its own channel to the VM process; main only brokers the ports.
  ipcMain.on('display:attach', (event, vmId: unknown) => {
    if (!senderOk(event) || typeof vmId !== 'string') return;
    const ch = channels.get(vmId);
    if (!ch || !service.isRunning(vmId)) return event.sender.postMessage('display:error', { vmId, error: 'The machine is not running.' });
    const { port1, port2 } = new MessageChannelMain();
    ch.attachDisplayPort(port1);
    event.sender.postMessage('display:port', { vmId }, [port2]);
  });
  ipcMain.on('display:open', (event, vmId: unknown) => {
    if (senderOk(event) && typeof vmId === 'string') openDisplay(vmId);
  });
  createManager();
});

app.on('window-all-closed', () => {
  service?.shutdownAll();
  app.quit();
});
