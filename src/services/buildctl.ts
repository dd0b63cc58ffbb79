import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CommandResult, type CommandWatch, runCommand } from './command.js';
import { redact } from '../model/secrets.js';

export interface BuildRequest {
  context: string;
  dockerfile: string;
  /** --export-cache value, e.g. type=registry,ref=host:5000/cache,mode=max */
  exportCache?: string;
  /** --import-cache value */
  importCache?: string;
  /** --output value, e.g. type=tar,dest=/tmp/attempt-1.tar */
  output?: string;
  /** Kill buildctl after this long: a build that hangs is an error, not a wait without end. */
  timeoutMs?: number;
  /** Stops the build before its time limit, when it cannot go on (its output's disk full). */
  stopWhen?: CommandWatch;
  /** Build every step, using no cache at all (`--no-cache`): a reference of inputs the cache was not made from. */
  noCache?: boolean;
  /** Where buildctl writes every status message of the build (`--trace`, JSON lines): see build-trace.ts. */
  traceFile?: string;
}

/** How long one question to a daemon (`debug workers`) may take. */
const QUESTION_TIMEOUT_MS = 10_000;

/** A thin typed wrapper around the `buildctl` command line, bound to one daemon address. */
export class Buildctl {
  constructor(
    readonly binary: string,
    readonly address: string,
    /** Its environment's additions: DOCKER_CONFIG for a registry login of the run's. */
    private readonly env?: Record<string, string>,
  ) {}

  /**
   * True once the daemon answers and has a worker. Each question has its limit: a paused container still
   * accepts the connection and never answers, and the caller's deadline is checked only between questions.
   */
  async hasWorkers(): Promise<boolean> {
    const result = await runCommand(this.binary, ['--addr', this.address, 'debug', 'workers'], {
      allowFailure: true,
      timeoutMs: QUESTION_TIMEOUT_MS,
    });
    return result.exitCode === 0 && result.stdout.trim().split('\n').length > 1;
  }

  /** Empties the daemon's build cache (`buildctl prune --all`): a fresh state without a new daemon. */
  async pruneAll(timeoutMs?: number): Promise<void> {
    await runCommand(this.binary, ['--addr', this.address, 'prune', '--all'], { timeoutMs });
  }

  /** Runs one build; the caller decides what a non-zero exit means. */
  async build(request: BuildRequest): Promise<CommandResult> {
    const args = [
      '--addr',
      this.address,
      'build',
      '--progress',
      'plain',
      '--frontend',
      'dockerfile.v0',
      '--local',
      `context=${request.context}`,
      '--local',
      `dockerfile=${path.dirname(request.dockerfile)}`,
      '--opt',
      `filename=${path.basename(request.dockerfile)}`,
    ];
    if (request.exportCache) args.push('--export-cache', request.exportCache);
    if (request.importCache) args.push('--import-cache', request.importCache);
    if (request.output) args.push('--output', request.output);
    if (request.noCache) args.push('--no-cache');
    if (request.traceFile) {
      // buildctl appends to a trace file: a file left from an earlier build would mix two builds.
      fs.rmSync(request.traceFile, { force: true });
      args.push('--trace', request.traceFile);
    }
    const result = await runCommand(this.binary, args, {
      allowFailure: true,
      timeoutMs: request.timeoutMs,
      ...(request.stopWhen ? { stopWhen: request.stopWhen } : {}),
      ...(this.env ? { env: this.env } : {}),
    });
    // `--trace` makes buildctl log where it writes: noise in the lines an error quotes. What it prints is
    // quoted in errors, summaries and reports, and BuildKit may quote an attribute's secret in it.
    return {
      ...result,
      stdout: redact(result.stdout),
      stderr: redact(result.stderr.replace(/^.*tracing logs to .*\n/m, '')),
    };
  }
}
