// `boxwood serve`: the UI in a browser, on loopback, behind a random token.
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { boxwoodHome } from '../../electron/node/boxwood-home';
import { startLocalHost } from '../../electron/node/local-host';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values: o } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean' } } });
  if (o.help) {
    console.log('usage: boxwood serve [--port N] [--host 127.0.0.1]\nServes the Boxwood UI to a browser on this machine; open the printed URL (it carries the access token).');
    return 0;
  }
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
    console.error(`warning: listening on ${o.host} exposes the host API beyond this machine; anyone with the token controls your VMs.`);
  }
  const home = boxwoodHome();
  const host = await startLocalHost({ home, kind: 'serve', port: o.port ? Number(o.port) : undefined, host: o.host });
  console.log(`Boxwood is serving its UI for ${home}`);
  console.log(`Open: ${host.server.openUrl}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await host.stop();
  return 0;
}

export const command: CliCommand = { name: 'serve', summary: 'serve the Boxwood UI to a browser on this machine', run: serveCommand };
