import { spawn } from 'node:child_process';
import { redact } from '../model/secrets.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed because it ran past its time limit. */
  timedOut: boolean;
  /** Killed because its watch (CommandOptions.stopWhen) gave this reason. */
  stoppedBecause?: string;
}

/** A condition asked while a command runs: the reason it gives stops the command, which cannot go on. */
export interface CommandWatch {
  everyMs: number;
  reason(): string | undefined;
}

/** A command that exited non-zero: it names the command and the end of what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    const why = result.timedOut ? 'timed out' : (result.stoppedBecause ?? `exited ${result.exitCode}`);
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
  /** Kill the command (SIGKILL) once this watch gives a reason. */
  stopWhen?: CommandWatch;
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
    let stoppedBecause: string | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    const watch = options.stopWhen;
    const running = () => child.exitCode === null && child.signalCode === null;
    const watcher = watch
      ? setInterval(() => {
          // Only a command still running is stopped: one that exited keeps its own result.
          if (!running()) return;
          stoppedBecause ??= watch.reason();
          if (stoppedBecause !== undefined) child.kill('SIGKILL');
        }, watch.everyMs)
      : undefined;
    const stopTimers = () => {
      clearTimeout(timer);
      clearInterval(watcher);
    };
    child.on('exit', () => clearInterval(watcher));
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      stopTimers();
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code) => {
      stopTimers();
      const result = {
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
        ...(stoppedBecause === undefined ? {} : { stoppedBecause }),
      };
      if (result.exitCode !== 0 && !options.allowFailure) reject(new CommandError([file, ...args], result));
      else resolve(result);
    });
    // A command that does not read its input must not fail the write.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
