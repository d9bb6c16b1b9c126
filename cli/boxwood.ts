// The `boxwood` command: a table of subcommands, one module per command under
// cli/commands/. Each module exports `command: CliCommand`; adding a command is one
// line in COMMANDS.
import { UsageError, type CliCommand } from './command';
import { command as run } from './commands/run';
import { command as vm } from './commands/vm';
import { command as serve } from './commands/serve';
import { command as disk } from './commands/disk';
import { command as snapshot } from './commands/snapshot';

const COMMANDS: CliCommand[] = [run, vm, serve, disk, snapshot];

function usage(): string {
  const lines = ['usage: boxwood <command> [options]', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'boxwood <command> --help shows the options of a command.');
  return lines.join('\n');
}

/** Entry point: returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`boxwood: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    // Expected failures (bad input, a VM that is not running, unreadable images) print as one line.
    process.stderr.write(`boxwood ${name}: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

// Run directly: node --import tsx cli/boxwood.ts ...
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
