// `boxwood vm …`: the VM library and running machines from the command line, on
// the same host services as the UI. When a host (app, `boxwood serve`, a headless
// start) is running for this home, requests go to it; otherwise library commands
// run locally and `start --headless` makes this process the host.
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import path from 'node:path';
import { boxwoodHome } from '../../electron/node/boxwood-home';
import { withHostCall, type Call } from '../host-call';
import { startLocalHost } from '../../electron/node/local-host';
import type { VmSummary } from '../../protocol/host-api';
import type { StorageAttachment } from '../../protocol/vm-config';
import { VM_CLONE_USAGE, vmCloneCommand } from './vm-clone';

export const VM_USAGE = `usage: boxwood vm <command> [options]
  list                                   all machines with their state
  info <vm>                              settings of one machine
  create --name N [--os linux] [--memory MiB] [--disk-size MiB [--disk-format qcow2|raw] | --disk PATH] [--iso PATH]
         [--firmware builtin|seabios] [--boot cdrom,disk,floppy] [--kernel F [--initrd F] [--append S]]
  modify <vm> [--name N] [--memory MiB] [--iso PATH|none] [--firmware F] [--boot LIST] [--notes TEXT]
  start <vm> [--headless] [--serial]     power on (--headless: this process hosts it until it stops)
  stop <vm> [--acpi]                     power off (--acpi: ask the guest to shut down)
  pause|resume|reset <vm>
  delete <vm> [--files]                  remove from the library (--files: also delete its folder)
${VM_CLONE_USAGE}
<vm> is a machine's name or id.`;

export async function vmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === 'help') {
    console.log(VM_USAGE);
    return sub ? 0 : 2;
  }
  const home = boxwoodHome();
  return withHostCall(home, 'No Boxwood host is running for this home. Start the machine with `boxwood vm start <vm> --headless`, or open the app / `boxwood serve`.', (call, remote) => dispatch(sub, rest, call, home, remote));
}

async function dispatch(sub: string, rest: string[], call: Call, home: string, remote: boolean): Promise<number> {
  const find = async (ref: string | undefined): Promise<VmSummary> => {
    if (!ref) throw new Error('Name the machine (its name or id).');
    const list: VmSummary[] = await call('vm.list');
    const vm = list.find((v) => v.id === ref || v.config?.name === ref) ?? list.find((v) => v.config?.name.toLowerCase() === ref.toLowerCase());
    if (!vm) throw new Error(`No machine named "${ref}". \`boxwood vm list\` shows them.`);
    return vm;
  };
  switch (sub) {
    case 'list': {
      const list: VmSummary[] = await call('vm.list');
      if (!list.length) console.log('No virtual machines. Create one with `boxwood vm create --name NAME`.');
      for (const v of list) console.log(`${(v.config?.name ?? path.basename(v.folder)).padEnd(24)} ${v.state.padEnd(12)} ${(v.config?.osType ?? '-').padEnd(12)} ${String(v.config?.memoryMiB ?? '-').padStart(5)} MiB  ${v.id}${v.problem ? `  (${v.problem})` : ''}`);
      return 0;
    }
    case 'info': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      const v = await find(positionals[0]);
      console.log(JSON.stringify({ id: v.id, folder: v.folder, state: v.state, problem: v.problem, config: v.config }, null, 2));
      return 0;
    }
    case 'create': {
      const { values: o } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, os: { type: 'string', default: 'linux' }, memory: { type: 'string', default: '256' }, 'disk-size': { type: 'string' }, 'disk-format': { type: 'string', default: 'qcow2' }, disk: { type: 'string' }, iso: { type: 'string' }, firmware: { type: 'string' }, boot: { type: 'string' }, kernel: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' } },
      });
      const storage: StorageAttachment[] = [];
      if (o.disk) storage.push({ bus: 'ide', port: 0, kind: 'disk', path: path.resolve(o.disk) });
      storage.push({ bus: 'ide', port: 2, kind: 'cdrom', path: o.iso ? path.resolve(o.iso) : null, format: 'iso' });
      const vm: VmSummary = await call('vm.create', {
        name: o.name ?? '',
        osType: o.os,
        memoryMiB: Number(o.memory),
        firmware: o.firmware,
        bootOrder: o.boot?.split(','),
        storage,
        newDisk: o['disk-size'] ? { sizeMiB: Number(o['disk-size']), format: o['disk-format'] } : undefined,
        kernel: o.kernel ? { path: path.resolve(o.kernel), initrd: o.initrd ? path.resolve(o.initrd) : undefined, cmdline: o.append ?? '' } : undefined,
      });
      console.log(`Created "${vm.config?.name}" (${vm.id}) in ${vm.folder}`);
      return 0;
    }
    case 'modify': {
      const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: { type: 'string' }, memory: { type: 'string' }, iso: { type: 'string' }, firmware: { type: 'string' }, boot: { type: 'string' }, notes: { type: 'string' } } });
      const v = await find(positionals[0]);
      const changes: Record<string, unknown> = {};
      if (o.name) changes.name = o.name;
      if (o.memory) changes.memoryMiB = Number(o.memory);
      if (o.firmware) changes.firmware = o.firmware;
      if (o.boot) changes.bootOrder = o.boot.split(',');
      if (o.notes !== undefined) changes.notes = o.notes;
      if (o.iso !== undefined) {
        const storage = (v.config?.storage ?? []).filter((s) => s.kind !== 'cdrom');
        storage.push({ bus: 'ide', port: 2, kind: 'cdrom', path: o.iso === 'none' ? null : path.resolve(o.iso), format: 'iso' });
        changes.storage = storage;
      }
      await call('vm.modify', { id: v.id, changes });
      console.log(`Updated "${v.config?.name}".`);
      return 0;
    }
    case 'start': {
      const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { headless: { type: 'boolean' }, serial: { type: 'boolean' } } });
      const v = await find(positionals[0]);
      if (remote) {
        await call('vm.start', { id: v.id });
        console.log(`Started "${v.config?.name}" in the running Boxwood host.`);
        return 0;
      }
      if (!o.headless) throw new Error('No Boxwood app or `boxwood serve` is running. Use --headless to run the machine in this terminal.');
      return startHeadless(home, v, !!o.serial);
    }
    case 'stop':
    case 'pause':
    case 'resume':
    case 'reset': {
      const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { acpi: { type: 'boolean' } } });
      const v = await find(positionals[0]);
      const method = sub === 'stop' ? (o.acpi ? 'vm.acpiShutdown' : 'vm.powerOff') : `vm.${sub}`;
      await call(method, { id: v.id });
      console.log(`${sub} sent to "${v.config?.name}".`);
      return 0;
    }
    case 'delete': {
      const { values: o, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { files: { type: 'boolean' } } });
      const v = await find(positionals[0]);
      await call('vm.delete', { id: v.id, deleteFiles: !!o.files });
      console.log(`Removed "${v.config?.name ?? v.folder}"${o.files ? ' and deleted its files' : ' (files kept)'}.`);
      return 0;
    }
    case 'clone':
      return vmCloneCommand(rest, call, find);
    default:
      console.error(`Unknown vm command "${sub}".\n${VM_USAGE}`);
      return 2;
  }
}

/** Host the VM in this process until it stops; other CLI calls reach it through the endpoint. */
async function startHeadless(home: string, v: VmSummary, serial: boolean): Promise<number> {
  const host = await startLocalHost({ home, kind: 'headless' });
  const done = new Promise<number>((resolve) => {
    host.service.events.on('event', (e) => {
      if (e.event !== 'vm.changed' || e.vm.id !== v.id) return;
      console.error(`[boxwood] ${e.vm.config?.name}: ${e.vm.state}${e.vm.problem ? ` — ${e.vm.problem}` : ''}`);
      if (e.vm.state === 'stopped') resolve(0);
      if (e.vm.state === 'aborted') {
        const log = host.service.sessions.get(v.id)?.log ?? [];
        console.error(`[boxwood] last log lines:\n  ${log.slice(-12).join('\n  ')}`);
        resolve(1);
      }
    });
  });
  const stopOnSignal = () => host.service.call('vm.powerOff', { id: v.id }).catch(() => host.service.shutdownAll());
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  await host.service.call('vm.start', { id: v.id });
  if (serial) host.service.runningSession(v.id).attachDisplay((m) => m.type === 'serial-output' && m.port === 0 && process.stdout.write(m.data));
  const code = await done;
  await host.stop();
  return code;
}

export const command: CliCommand = { name: 'vm', summary: 'manage virtual machines (list, create, start, stop, …)', run: vmCommand };
