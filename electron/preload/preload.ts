// The only bridge between a sandboxed renderer and the main process. It exposes a
// narrow API (no ipcRenderer, no Node) and forwards display MessagePorts into the
// page with window.postMessage, the documented way to hand ports across the
// context-isolation boundary.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('boxwoodIpc', {
  call: (method: string, params: unknown) => ipcRenderer.invoke('host:call', method, params),
  onEvent: (fn: (e: unknown) => void) => {
    const l = (_: unknown, e: unknown) => fn(e);
    ipcRenderer.on('host:event', l);
    return () => ipcRenderer.removeListener('host:event', l);
  },
  onMenu: (fn: (c: unknown) => void) => ipcRenderer.on('menu', (_e, c) => fn(c)),
  attachDisplay: (vmId: string) => ipcRenderer.send('display:attach', vmId),
  openDisplay: (vmId: string) => ipcRenderer.send('display:open', vmId),
});

ipcRenderer.on('display:port', (event, info: { vmId: string }) => {
  window.postMessage({ boxwoodDisplayPort: info.vmId }, '*', event.ports);
});
ipcRenderer.on('display:error', (_event, info: { vmId: string; error: string }) => {
  window.postMessage({ boxwoodDisplayError: info.vmId, error: info.error }, '*');
});
