import { getExecOutput } from '@actions/exec';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero: it names the command and the end of what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`\`${argv.join(' ')}\` exited ${result.exitCode}: ${lastLines(result.stderr || result.stdout, 5)}`);
    this.name = 'CommandError';
  }
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** Runs a program with arguments as an array (never through a shell) and returns what it printed. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { input?: Buffer; allowFailure?: boolean } = {},
): Promise<CommandResult> {
  const result = await getExecOutput(file, [...args], {
    silent: true,
    ignoreReturnCode: true,
    input: options.input,
  });
  if (result.exitCode !== 0 && !options.allowFailure) throw new CommandError([file, ...args], result);
  return result;
}
