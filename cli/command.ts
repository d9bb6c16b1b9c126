// The shape of one `boxwood` subcommand (see cli/boxwood.ts).
export interface CliCommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Run with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line usage: printed without a stack, exit code 2. */
export class UsageError extends Error {}
