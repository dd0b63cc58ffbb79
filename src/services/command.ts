import { spawn } from 'node:child_process';
import { redact } from '../model/secrets.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed because it ran past its time limit. */
  timedOut: boolean;
}

/** A command that exited non-zero: it names the command and the end of what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    const why = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
    super(redact(`\`${argv.join(' ')}\` ${why}: ${lastLines(result.stderr || result.stdout, 5)}`));
    this.name = 'CommandError';
  }
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export interface CommandOptions {
  input?: Buffer;
  allowFailure?: boolean;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Variables added to the command's environment (secrets it passes on by name, never in its arguments). */
  env?: Record<string, string>;
}

/**
 * Runs a program with arguments as an array (never through a shell) and returns what it printed.
 * Node's own spawn rather than @actions/exec: it can kill a command that hangs.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = {
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      };
      if (result.exitCode !== 0 && !options.allowFailure) reject(new CommandError([file, ...args], result));
      else resolve(result);
    });
    // A command that does not read its input must not fail the write.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
