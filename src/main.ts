import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { cacheSecrets } from './backends/backends.js';
import { runCheck } from './engine.js';
import { fuzzOnEngine } from './fuzz/fuzz-engine.js';
import { fuzzOutputsOf } from './fuzz/fuzz-outputs.js';
import { renderFuzzSummary } from './fuzz/fuzz-summary.js';
import { readActionInputs } from './inputs/action-inputs.js';
import { type FuzzSettings, parseSettings, type Settings } from './inputs/settings.js';
import { actionLog } from './log.js';
import { bundledRepro, newRunId, runWorkDir } from './paths.js';
import { outputsOf } from './report/json-report.js';
import { writeReportOrWarn } from './report/publish.js';
import { renderSummary } from './report/summary.js';
import { hasJobSummaries } from './runner.js';
import * as stateHelper from './state-helper.js';
import { Docker } from './services/docker.js';
import { cleanupWarning, removeRun, runLabelLine } from './services/run-services.js';
import {
  onToolCacheWork,
  stopToolCacheWork,
  tidyToolCacheEntry,
  undoToolCacheWorkSync,
} from './services/tool-cache-lock.js';
import { removeDockerConfig } from './services/docker-config.js';
import { configComparisonText, minimizationLine, verdictLine } from './model/wording.js';
import { failingClasses, isDifference } from './verdict/verdict.js';

/** The inputs read as the main step reads them; the post step reads them again for a remote cache. */
function actionSettings(): Settings {
  return parseSettings(
    readActionInputs(),
    { workspace: process.env['GITHUB_WORKSPACE'] || process.cwd(), bundledRepro: bundledRepro() },
    process.env,
  );
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = actionSettings();
  } catch (error) {
    // Bad input stops the step before anything is created.
    core.setFailed((error as Error).message);
    return;
  }
  for (const secret of secretsOf(settings)) core.setSecret(secret);
  undoToolCacheWorkOnSignal();
  if (settings.fuzz) return fuzzMain(settings, settings.fuzz);

  const runId = newRunId();
  const workDir = runWorkDir(process.env['RUNNER_TEMP'] || os.tmpdir(), runId);
  stateHelper.saveRun({ runId, workDir, cleanup: settings.cleanup });
  core.info(runLabelLine(runId));

  const daemonLogs: string[] = [];
  const result = await runCheck(settings, {
    runId,
    workDir,
    log: actionLog,
    githubApiUrl: process.env['GITHUB_API_URL'] || undefined,
    onDaemonLogSaved: (file) => {
      daemonLogs.push(file);
      stateHelper.saveDaemonLogs(daemonLogs);
    },
  });
  // A full disk must not hide the verdict: the outputs and the summary still say it.
  const reportPath = writeReportOrWarn(result, settings, workDir, actionLog);
  for (const [name, value] of Object.entries(outputsOf(result, reportPath))) core.setOutput(name, value);
  if (!hasJobSummaries(process.env['GITHUB_SERVER_URL'])) {
    core.info('job summary skipped: GitHub Enterprise Server does not show one');
  } else if (process.env['GITHUB_STEP_SUMMARY']) {
    await core.summary.addRaw(renderSummary(result, settings)).write();
  }

  const line = verdictLine(result.verdict);
  if (result.configComparison) core.info(configComparisonText(result.configComparison));
  // A search that was asked for and could not finish is a failed step, whatever the run found.
  if (result.minimization?.kind === 'error') core.setFailed(minimizationLine(result.minimization));
  else if (result.minimization?.kind === 'unconfirmed') core.warning(minimizationLine(result.minimization));
  else if (result.minimization) core.info(minimizationLine(result.minimization));
  if (result.verdict.kind === 'error') core.setFailed(line);
  else if (failingClasses(result.verdict, settings.failOn).length > 0) core.setFailed(line);
  else if (isDifference(result.verdict))
    core.warning(`${line} (fail-on: ${settings.failOn.join(', ') || 'none'})`);
  else core.info(line);
}

/**
 * fuzz: true — generated cases, each its own run (the post step removes the one that was running when the
 * job stopped); the findings folder is an output, for actions/upload-artifact.
 */
async function fuzzMain(settings: Settings, fuzz: FuzzSettings): Promise<void> {
  const outDir = path.join(process.env['RUNNER_TEMP'] || os.tmpdir(), `lost-layer-fuzz-${newRunId()}`);
  const { report, reportPath } = await fuzzOnEngine(settings, fuzz, {
    outDir,
    log: actionLog,
    githubApiUrl: process.env['GITHUB_API_URL'] || undefined,
    onRunStarted: (run) => {
      if (run) stateHelper.saveRun({ runId: run.runId, workDir: run.workDir, cleanup: settings.cleanup });
    },
  });
  for (const [name, value] of Object.entries(fuzzOutputsOf(report, reportPath, outDir)))
    core.setOutput(name, value);
  if (hasJobSummaries(process.env['GITHUB_SERVER_URL']) && process.env['GITHUB_STEP_SUMMARY'])
    await core.summary.addRaw(renderFuzzSummary(report)).write();
  const failing = report.cases.filter(
    (c) => c.differenceClass !== undefined && settings.failOn.includes(c.differenceClass),
  );
  if (failing.length > 0)
    core.setFailed(`${failing.length} of ${report.cases.length} cases found a difference`);
  else if (!report.cases.some((c) => c.outcome === 'intact' || c.outcome === 'finding'))
    core.setFailed(`no case tested a cache (${report.cases.length} cases: errors or untested): no verdict`);
}

/**
 * A cancelled job's SIGINT or SIGTERM: buildctl's tool-cache entry, if it is being written, is removed and
 * its lock released, then the step dies of the signal at once (no listener left to delay it by a turn of the
 * event loop, in which the download would write the entry again). The run's containers are the post step's.
 * A SIGKILL leaves the lock section saved in the state, for the post step.
 */
function undoToolCacheWorkOnSignal(): void {
  onToolCacheWork((work) => stateHelper.saveToolCacheWork(work));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopToolCacheWork().then(() => {
        undoToolCacheWorkSync();
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      });
    });
  }
}

/** What a main step killed inside buildctl's install left in the runner's tool cache: a lock, a part. */
async function tidyToolCache(): Promise<void> {
  const work = stateHelper.toolCacheWork;
  if (!work) return;
  const did = await tidyToolCacheEntry(work);
  if (did) core.info(did);
}

/** Values no log line may show: the runner prints *** instead. */
function secretsOf(settings: Settings): string[] {
  return [settings.githubToken, ...cacheSecrets(settings)].filter((value) => value !== '');
}

/**
 * A cache on the user's server (S3, Azure) is cleaned with the settings the inputs give again; when they no
 * longer parse (a workspace file gone), the warning says what may be left.
 */
function remoteSettings(): Settings | undefined {
  try {
    const settings = actionSettings();
    for (const secret of secretsOf(settings)) core.setSecret(secret);
    return settings;
  } catch (error) {
    core.warning(
      `the inputs no longer parse (${(error as Error).message}): a run whose cache is on a server (s3, azblob) may have left its prefix lost-layer-${stateHelper.runId}/ there`,
    );
    return undefined;
  }
}

/**
 * A job cancelled while its post step runs sends it SIGINT, then SIGTERM: Node would die at once and leave
 * the run's containers. The post step is what removes them, and its removal is bounded: it goes on to its
 * end, and the step then ends as it would have.
 */
function finishRemovalOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => core.info(`${signal} received: the removal of this run goes on to its end`));
}

/** Runs after main, also when it failed or was cancelled: prints what failed, removes what the run made. */
async function post(): Promise<void> {
  if (!stateHelper.runId) return;
  finishRemovalOnSignal();
  actionLog.phase?.('cleanup');
  await tidyToolCache();
  for (const file of stateHelper.daemonLogFiles.filter((f) => fs.existsSync(f))) {
    await core.group(`buildkitd logs of a failed attempt (${file})`, async () =>
      core.info(fs.readFileSync(file, 'utf8')),
    );
  }
  if (!stateHelper.cleanup) {
    core.info(
      `cleanup: false — the containers, volumes and network labelled dev.lost-layer.run=${stateHelper.runId} are kept`,
    );
    return;
  }
  await core.group('Remove the containers, volumes and network of this run', async () => {
    removeDockerConfig(stateHelper.workDir);
    const left = await removeRun(new Docker(), stateHelper.runId, remoteSettings());
    const warning = cleanupWarning(stateHelper.runId, left);
    if (warning) core.warning(warning);
    else core.info(`removed everything labelled dev.lost-layer.run=${stateHelper.runId}`);
  });
}

if (!stateHelper.isPost) {
  stateHelper.markPost();
  await main().catch((error: unknown) =>
    core.setFailed(`unexpected error: ${(error as Error).stack ?? String(error)}`),
  );
} else {
  await post().catch((error: unknown) => core.warning(`cleanup failed: ${(error as Error).message}`));
}
