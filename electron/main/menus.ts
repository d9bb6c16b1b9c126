// Application menus with accelerators, VirtualBox-style: Machine / View / Input /
// Devices on display windows; File / Machine / Help on the manager.
import { Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

export type MenuCommand =
  | { kind: 'manager'; action: 'new' | 'settings' | 'start' | 'delete' | 'quit' | 'media' | 'clone' }
  | { kind: 'vm'; action: 'pause' | 'resume' | 'reset' | 'acpi' | 'poweroff' | 'fullscreen' | 'screenshot' | 'ctrl-alt-del' | 'serial' | 'optical' };

export function managerMenu(run: (c: MenuCommand) => void): Menu {
  const m = (action: Extract<MenuCommand, { kind: 'manager' }>['action']) => () => run({ kind: 'manager', action });
  const template: MenuItemConstructorOptions[] = [
    { label: 'File', submenu: [{ label: 'Virtual Media Manager…', accelerator: 'CmdOrCtrl+D', click: m('media') }, { type: 'separator' }, { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: m('quit') }] },
    {
      label: 'Machine',
      submenu: [
        { label: 'New…', accelerator: 'CmdOrCtrl+N', click: m('new') },
        { label: 'Settings…', accelerator: 'CmdOrCtrl+S', click: m('settings') },
        { label: 'Clone…', accelerator: 'CmdOrCtrl+O', click: m('clone') },
        { label: 'Start', click: m('start') },
        { type: 'separator' },
        { label: 'Remove…', click: m('delete') },
      ],
    },
    { label: 'Help', submenu: [{ role: 'about' }] },
  ];
  return Menu.buildFromTemplate(template);
}

export function displayMenu(win: BrowserWindow, run: (c: MenuCommand) => void): Menu {
  const v = (action: Extract<MenuCommand, { kind: 'vm' }>['action']) => () => run({ kind: 'vm', action });
  // Host+key accelerators as in VirtualBox (host key = Right Ctrl; Electron cannot bind it, so Ctrl+Alt stands in).
  return Menu.buildFromTemplate([
    {
      label: 'Machine',
      submenu: [
        { label: 'Pause', accelerator: 'Ctrl+Alt+P', click: v('pause') },
        { label: 'Resume', click: v('resume') },
        { label: 'Reset', accelerator: 'Ctrl+Alt+R', click: v('reset') },
        { label: 'ACPI Shutdown', accelerator: 'Ctrl+Alt+H', click: v('acpi') },
        { label: 'Power Off', click: v('poweroff') },
        { type: 'separator' },
        { label: 'Close Window', click: () => win.close() },
      ],
    },
    { label: 'View', submenu: [{ label: 'Fullscreen', accelerator: 'Ctrl+Alt+F', click: v('fullscreen') }, { label: 'Take Screenshot', accelerator: 'Ctrl+Alt+E', click: v('screenshot') }, { label: 'Serial Console', click: v('serial') }] },
    { label: 'Input', submenu: [{ label: 'Send Ctrl+Alt+Del', accelerator: 'Ctrl+Alt+End', click: v('ctrl-alt-del') }] },
    // The display window's optical-drive control does the work (eject, insert from the media list or a path).
    { label: 'Devices', submenu: [{ label: 'Optical Drive…', click: v('optical') }] },
  ]);
}
