// A CLI round of the fault soak (scripts/soak.ts): dist/cli/index.js run as a user runs it, the round's inputs
// as flags, with runner folders of the round's own; its outputs read from outside: the verdict line it prints
// and the report it names.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliFlags, type RunnerDirs, runNode, type StepResult } from '../../test/support/action-runner.js';
import { type RoundFacts, runIdIn } from './soak-oracle.js';
import { repoRoot } from './testbed.js';

export interface CliRun {
  main: StepResult;
  outputs: RoundFacts['outputs'];
  runId: string | undefined;
}

/** Runs the CLI to its end; `onStarted` gets its process (the fault watch reads its log, on stderr). */
export async function runCli(
  inputs: Record<string, string>,
  dirs: RunnerDirs,
  { env, onStarted }: { env: Record<string, string>; onStarted: (child: ChildProcess) => void },
): Promise<CliRun> {
  const environment = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dirs.workspace,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    RUNNER_TEMP: dirs.temp,
    // The phase lines the faults wait for are debug lines.
    RUNNER_DEBUG: '1',
    ...env,
  };
  const main = await runNode(path.join(repoRoot, 'dist', 'cli', 'index.js'), environment, onStarted, {
    args: cliFlags(inputs),
    cwd: dirs.workspace,
  });
  return { main, outputs: cliOutputs(main.stdout), runId: runIdIn(main.stderr) };
}

/** The verdict each of the CLI's verdict lines says (src/model/wording.ts verdictLine, its interface). */
const VERDICT_LINES: readonly [RegExp, string][] = [
  [/^Layer lost: attempt (\d+): /, 'reproduced'],
  [/^Content differs from the reference: attempt \d+: /, 'content-differs'],
  [/^Config differs from the reference: attempt \d+: /, 'config-differs'],
  [/^No difference in \d+ attempts: /, 'clean'],
  [/^No verdict: /, 'error'],
  [/^Cache created; no attempts were run/, 'not-run'],
];

/** What each of the CLI's minimization lines says (minimizationLine); `error` makes its exit 2. */
const MINIMIZATION_LINES: readonly [RegExp, string][] = [
  [/^Minimize: no result: an infrastructure step failed /, 'error'],
  [/^Minimize: no result: the smallest candidate /, 'unconfirmed'],
  [/^Minimized \(/, 'minimized'],
  [/^Minimize: /, 'skipped'],
];

/** The first line's pattern that matches, as its word. */
function lineSays(lines: readonly string[], patterns: readonly (readonly [RegExp, string])[]) {
  for (const line of lines)
    for (const [pattern, word] of patterns) {
      const match = pattern.exec(line);
      if (match) return { word, match, line };
    }
  return undefined;
}

interface CliReport {
  verdict?: { kind?: string; failedAttempt?: number };
  attempts?: unknown[];
  minimization?: { kind?: string };
}

/**
 * What the CLI said: `said`, the verdict of its line on stdout; the verdict, failed attempt, attempt count and
 * minimization of the report it names. Without a report (a full disk), what its lines say of them.
 */
export function cliOutputs(stdout: string): RoundFacts['outputs'] {
  const lines = stdout.split('\n');
  const verdict = lineSays(lines, VERDICT_LINES);
  // "No difference in 8 attempts", "… (of 8 attempts: …)"; one attempt has no count.
  const count =
    verdict && /^No difference in (\d+) attempts|\(of (\d+) attempts: [^)]*\)$/.exec(verdict.line);
  const attempts = count?.[1] ?? count?.[2];
  const minimization = lineSays(lines, MINIMIZATION_LINES)?.word;
  const said = verdict && { verdict: verdict.word, failed: verdict.match[1] ?? '', attempts };
  const reportFile = /^report: (.+)$/m.exec(stdout)?.[1];
  let report: CliReport | undefined;
  try {
    report = reportFile ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as CliReport) : undefined;
  } catch {
    report = undefined;
  }
  const fromReport = report?.verdict?.kind
    ? {
        verdict: report.verdict.kind,
        'failed-attempt':
          report.verdict.failedAttempt === undefined ? '' : String(report.verdict.failedAttempt),
        attempts: String(report.attempts?.length ?? ''),
        ...(report.minimization?.kind ? { minimization: report.minimization.kind } : {}),
      }
    : said && {
        verdict: said.verdict,
        'failed-attempt': said.failed,
        ...(said.attempts ? { attempts: said.attempts } : {}),
        ...(minimization ? { minimization } : {}),
      };
  return { ...fromReport, ...(said ? { said: said.verdict } : {}) };
}
