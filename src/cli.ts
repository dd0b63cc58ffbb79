#!/usr/bin/env node
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runCheck } from './engine.js';
import { fuzzCliArgs, parseCliArgs, usage } from './inputs/cli-args.js';
import { fuzzOnEngine } from './fuzz/fuzz-engine.js';
import { mergeFuzzReports } from './fuzz/fuzz-merge.js';
import { readFuzzReports } from './fuzz/fuzz-report-files.js';
import { renderFuzzSummary } from './fuzz/fuzz-summary.js';
import { type FuzzSettings, parseSettings, type Settings } from './inputs/settings.js';
import { consoleLog, type Log, quietRunnerCommands } from './log.js';
import { bundledRepro, newRunId, runWorkDir } from './paths.js';
import { buildMatrix, renderMatrix } from './report/matrix.js';
import { list } from './inputs/validators.js';
import { writeReportOrWarn } from './report/publish.js';
import { readReports } from './report/read-reports.js';
import { renderSummary } from './report/summary.js';
import { Docker } from './services/docker.js';
import type { RunResult } from './model/run-result.js';
import { stopToolCacheWork, undoToolCacheWorkSync } from './services/tool-cache-lock.js';
import { cleanupWarning, removeRun, runLabelLine } from './services/run-services.js';
import { removeDockerConfig } from './services/docker-config.js';
import { configComparisonText, minimizationLine, verdictLine } from './model/wording.js';
import { failingClasses } from './verdict/verdict.js';

/** 1: an image was not the reference, in a class fail-on names; 2: no verdict (or a failed minimization). */
const EXIT = { clean: 0, differs: 1, error: 2 } as const;
/** A run stopped by a signal exits as the shell's convention says: 128 + the signal's number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

/**
 * Set by the first SIGINT or SIGTERM. After it, what the run does fails because its own removal began: no
 * verdict line, report or summary is written. (One that comes after they were written only cuts the
 * removal short of nothing: the exit code then says the signal.)
 */
let stoppedBy: StopSignal | undefined;
/** How long a stopped run may take to end what it was doing, after its removal, before the CLI exits. */
const SETTLE_MS = 30_000;

/** `lost-layer-check table [--versions v0.9.0,v0.9.1] REPORT_OR_FOLDER...`: the bisect table of many runs. */
function table(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { versions: { type: 'string' } },
    allowPositionals: true,
  });
  const expected = list(values.versions ?? '');
  const result = buildMatrix(readReports(positionals.length > 0 ? positionals : ['.']), expected);
  process.stdout.write(`${renderMatrix(result)}\n`);
  return EXIT.clean;
}

/** `lost-layer-check fuzz-table REPORT_OR_FOLDER...`: every shard's fuzz report in one table of findings. */
function fuzzTable(argv: string[]): number {
  const read = readFuzzReports(argv.length > 0 ? argv : ['.']);
  const merged = mergeFuzzReports(read.reports);
  process.stdout.write(`${renderFuzzSummary(merged, { problems: read.problems })}\n`);
  return merged.cases.some((c) => c.outcome === 'finding') ? EXIT.differs : EXIT.clean;
}

async function cli(): Promise<number> {
  if (process.argv[2] === 'table') return table(process.argv.slice(3));
  if (process.argv[2] === 'fuzz-table') return fuzzTable(process.argv.slice(3));
  let fuzzing: ReturnType<typeof fuzzCliArgs> | undefined;
  let settings: Settings;
  let summaryFile: string | undefined;
  try {
    if (process.argv[2] === 'fuzz') fuzzing = fuzzCliArgs(process.argv.slice(3));
    const request = parseCliArgs(fuzzing?.inputs ?? process.argv.slice(2), process.env);
    if (request.help) {
      process.stdout.write(`${usage()}\n`);
      return EXIT.clean;
    }
    summaryFile = request.summaryFile;
    const paths = { workspace: process.cwd(), bundledRepro: bundledRepro() };
    settings = parseSettings(request.inputs, paths, process.env);
  } catch (error) {
    process.stderr.write(`lost-layer-check: ${(error as Error).message}\n\n${usage()}\n`);
    return EXIT.error;
  }

  // The tool cache and temporary files live where the runner would keep them, or under ~/.cache.
  const home = path.join(os.homedir(), '.cache', 'lost-layer');
  process.env['RUNNER_TOOL_CACHE'] ||= path.join(home, 'tool-cache');
  process.env['RUNNER_TEMP'] ||= path.join(home, 'tmp');
  fs.mkdirSync(process.env['RUNNER_TEMP'], { recursive: true });

  quietRunnerCommands();
  const log = consoleLog();
  const runId = newRunId();
  const workDir = runWorkDir(process.env['RUNNER_TEMP'], runId);
  const docker = new Docker();
  if (settings.fuzz) {
    const outDir = path.resolve(fuzzing?.outDir ?? path.join(process.cwd(), `lost-layer-fuzz-${runId}`));
    return fuzzCommand(settings, settings.fuzz, { outDir, log, docker, summaryFile });
  }
  let checking: Promise<unknown> = Promise.resolve();
  const cleanUp = cleanupOnExit(docker, { runId, workDir }, settings, log, () => checking);
  log.info(runLabelLine(runId));

  try {
    const check = runCheck(settings, {
      runId,
      workDir,
      log,
      docker,
      githubApiUrl: process.env['GITHUB_API_URL'] || undefined,
    });
    checking = check;
    const result = await check;
    return stoppedBy ? SIGNAL_EXIT[stoppedBy] : sayResult(result, settings, { workDir, log, summaryFile });
  } finally {
    await cleanUp();
    if (!settings.cleanup)
      log.info(`cleanup: false — run ${runId} is kept (label dev.lost-layer.run=${runId})`);
  }
}

/** The check's verdict line, report and summary; its exit code. */
function sayResult(
  result: RunResult,
  settings: Settings,
  { workDir, log, summaryFile }: { workDir: string; log: Log; summaryFile: string | undefined },
): number {
  // A full disk must not hide the verdict: the line and the exit code still say it.
  const reportPath = writeReportOrWarn(result, settings, workDir, log);
  if (summaryFile) fs.writeFileSync(summaryFile, renderSummary(result, settings));
  for (const file of result.daemonLogFiles) log.info(`buildkitd logs of the failed attempt: ${file}`);
  process.stdout.write(`${verdictLine(result.verdict)}\n`);
  if (result.configComparison?.compared === false)
    process.stdout.write(`${configComparisonText(result.configComparison)}\n`);
  if (result.minimization) process.stdout.write(`${minimizationLine(result.minimization)}\n`);
  if (reportPath) process.stdout.write(`report: ${reportPath}\n`);
  if (result.verdict.kind === 'error' || result.minimization?.kind === 'error') return EXIT.error;
  return failingClasses(result.verdict, settings.failOn).length > 0 ? EXIT.differs : EXIT.clean;
}

/**
 * The fuzz run of the CLI: one line a case, the report and the findings in outDir, the summary where
 * --summary says. Exit 1 when a case found a difference, 2 when no case could be judged.
 */
async function fuzzCommand(
  settings: Settings,
  fuzz: FuzzSettings,
  context: { outDir: string; log: Log; docker: Docker; summaryFile: string | undefined },
): Promise<number> {
  let running: { runId: string; settings: Settings } | undefined;
  let fuzzing: Promise<unknown> = Promise.resolve();
  const removeCase = () =>
    running ? removeRun(context.docker, running.runId, running.settings) : Promise.resolve();
  onStopSignals(context.log, 'removing the case that runs', async () => {
    await removeCase();
    // No case starts after the stop (`stopped`); the one that ran ends, and anything it started goes.
    await settledWithin(fuzzing, SETTLE_MS);
    await removeCase();
  });
  const run = fuzzOnEngine(settings, fuzz, {
    ...context,
    githubApiUrl: process.env['GITHUB_API_URL'] || undefined,
    onRunStarted: (started) => (running = started),
    stopped: () => stoppedBy !== undefined,
  });
  fuzzing = run;
  const { report, reportPath } = await run;
  if (stoppedBy) return SIGNAL_EXIT[stoppedBy];
  if (context.summaryFile) fs.writeFileSync(context.summaryFile, renderFuzzSummary(report));
  const count = (outcome: string) => report.cases.filter((c) => c.outcome === outcome).length;
  process.stdout.write(
    `${report.cases.length} cases: ${count('intact')} intact, ${count('finding')} findings, ${count('untested')} untested, ${count('error')} errors\n`,
  );
  for (const c of report.cases.filter((c) => c.findingDir))
    process.stdout.write(
      `finding: case ${c.caseNumber} ${c.differenceClass ?? ''}: ${path.join(context.outDir, c.findingDir ?? '')}\n`,
    );
  process.stdout.write(`report: ${reportPath}\n`);
  const failing = report.cases.filter(
    (c) => c.differenceClass && settings.failOn.includes(c.differenceClass),
  );
  if (failing.length > 0) return EXIT.differs;
  // A run in which no case tested a cache has no verdict, whatever else it says.
  return count('intact') + count('finding') === 0 ? EXIT.error : EXIT.clean;
}

/**
 * The run's cleanup, once, also when Ctrl-C or a kill ends the CLI. On a signal it removes the run at once
 * (which also ends a step that waits on the run's containers), lets `working` end what it was doing, then
 * removes what that started meanwhile (a lane's fresh daemon), and the CLI exits as the signal asks.
 */
function cleanupOnExit(
  docker: Docker,
  { runId, workDir }: { runId: string; workDir: string },
  settings: Settings,
  log: Log,
  working: () => Promise<unknown>,
): () => Promise<void> {
  const remove = () =>
    removeRun(docker, runId, settings).then((left) => {
      // A registry login of the run's, left by a run cut short.
      removeDockerConfig(workDir);
      const warning = cleanupWarning(runId, left);
      if (warning) log.warning(warning);
    });
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => (cleaning ??= settings.cleanup ? remove() : Promise.resolve());
  onStopSignals(log, `removing run ${runId}`, async () => {
    await cleanUp();
    await settledWithin(working(), SETTLE_MS);
    if (settings.cleanup) await remove();
  });
  return cleanUp;
}

/** Resolves once `work` settles, or after `ms`, whichever comes first; never rejects. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}

/**
 * SIGINT and SIGTERM: buildctl's tool-cache work is stopped, `cleanUp` removes what the run made, then the
 * CLI exits as the signal asks. A second signal while that runs exits at once.
 */
function onStopSignals(log: Log, doing: string, cleanUp: () => Promise<unknown>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stoppedBy) exitOnSignal(signal);
      stoppedBy = signal;
      log.warning(`${signal}: ${doing}`);
      void stopToolCacheWork()
        .then(cleanUp)
        .finally(() => exitOnSignal(signal));
    });
  }
}

/**
 * The end of a run a signal stopped: a tool-cache entry still being written is undone, and the exit follows
 * in the same tick, so that the download going on writes nothing after.
 */
function exitOnSignal(signal: StopSignal): never {
  undoToolCacheWorkSync();
  process.exit(SIGNAL_EXIT[signal]);
}

process.exitCode = await cli().catch((error: unknown) => {
  // A failure after a stop signal is the removal's own doing, not news.
  if (stoppedBy) return SIGNAL_EXIT[stoppedBy];
  process.stderr.write(`lost-layer-check: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT.error;
});
