import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../log.js';
import { type CacheUse, cacheUse, readTrace, TraceError } from '../inspection/build-trace.js';
import { inspectOutput, outputFileName } from '../inspection/inspect-output.js';
import type { OciImage } from '../inspection/oci-image.js';
import { InspectionError } from '../inspection/tarball.js';
import type { Settings } from '../inputs/settings.js';

import { lastLines } from '../services/command.js';
import type { Buildkitd, RunServices } from '../services/run-services.js';

import { resetsBefore } from './reset-policy.js';
import type { AttemptOutcome, AttemptRecord } from '../model/attempt.js';
import { lossText } from '../model/wording.js';

/** The settings the loop reads, and what the run made for it. */
export type AttemptPlan = Pick<
  Settings,
  | 'retries'
  | 'cacheResetFrequency'
  | 'cacheResetMode'
  | 'context'
  | 'dockerfile'
  | 'expectPaths'
  | 'outputType'
  | 'keepGoing'
  | 'attemptTimeoutSeconds'
> & {
  image: string;
  importCache: string;
  /** The image built without a cache, when this run made one (OCI output only). */
  reference?: OciImage;
  workDir: string;
  /** Daemons that run attempts at the same time (1 when unset). */
  lanes?: number;
};

export interface AttemptsRun {
  records: AttemptRecord[];
  /** What the attempts' daemon reports, read once after it first started. */
  buildkitVersion: string;
  /** Logs of a daemon whose attempt failed, saved before it was removed. */
  daemonLogFiles: string[];
}

/** What the lanes share: one numbering of attempts, one stop. */
interface Lanes {
  /** How many run: the plan's, capped by usableLanes. */
  count: number;
  next: number;
  stop: boolean;
  /** When the attempts began: every record's end is measured from here. */
  startedAt: number;
  run: AttemptsRun;
}

/**
 * The retry loop, in `lanes` daemons at once (see lanesFor): each lane resets its own buildkitd's state
 * when the policy says so (counting its own attempts), imports the cache, builds, reads the output. The
 * attempts keep one numbering across lanes. Every lane stops taking attempts at the first lost layer
 * (unless keepGoing) and at the first attempt that cannot be judged, in any lane; an attempt already
 * running finishes and counts. With keepGoing, exactly `retries` attempts run in all.
 */
export async function runAttempts(services: RunServices, plan: AttemptPlan, log: Log): Promise<AttemptsRun> {
  const shared: Lanes = {
    count: usableLanes(plan),
    next: 1,
    stop: false,
    startedAt: performance.now(),
    run: { records: [], buildkitVersion: 'unknown', daemonLogFiles: [] },
  };
  // A lane that throws stops the others too, and every lane is waited for (its daemon removed) before the
  // error goes on: nothing keeps running behind the caller's cleanup.
  const ended = await Promise.allSettled(
    Array.from({ length: shared.count }, (_, i) =>
      runLane(services, plan, i + 1, shared, log).catch((error: unknown) => {
        shared.stop = true;
        throw error;
      }),
    ),
  );
  const failed = ended.find((e) => e.status === 'rejected');
  if (failed) throw failed.reason;
  shared.run.records.sort((a, b) => a.attempt - b.attempt);
  return shared.run;
}

/**
 * Lanes that each get attempts past their first: a lane's first attempt always starts from a fresh state,
 * which never shows the loss (the bug needs a local cache an earlier attempt half filled), so more lanes
 * than retries ÷ (reset frequency, at least 2) would leave a run with too few attempts that can lose.
 */
export function usableLanes(plan: Pick<AttemptPlan, 'lanes' | 'retries' | 'cacheResetFrequency'>): number {
  const perLane = Math.max(plan.cacheResetFrequency, 2);
  return Math.max(1, Math.min(plan.lanes ?? 1, Math.floor(plan.retries / perLane)));
}

async function runLane(
  services: RunServices,
  plan: AttemptPlan,
  lane: number,
  shared: Lanes,
  log: Log,
): Promise<void> {
  const { run } = shared;
  let daemon: Buildkitd | undefined;
  const removals: Promise<void>[] = [];
  let laneAttempts = 0;
  const record = (
    attempt: number,
    freshState: boolean,
    resetMs: number,
    durationMs: number,
    outcome: AttemptOutcome,
  ) => {
    const done: AttemptRecord = {
      attempt,
      ...(shared.count > 1 ? { lane } : {}),
      freshState,
      resetMs,
      durationMs,
      endedMs: Math.round(performance.now() - shared.startedAt),
      outcome,
    };
    run.records.push(done);
    log.info(describe(done));
    if (outcome.kind === 'error' || (outcome.kind === 'lost' && !plan.keepGoing)) shared.stop = true;
  };
  try {
    while (!shared.stop && shared.next <= plan.retries) {
      const attempt = shared.next++;
      laneAttempts += 1;
      const freshState = resetsBefore(laneAttempts, plan.cacheResetFrequency);
      const resetStarted = performance.now();
      if (freshState) {
        try {
          if (daemon && plan.cacheResetMode === 'prune') {
            await daemon.buildctl.pruneAll(plan.attemptTimeoutSeconds * 1000);
          } else {
            // The old daemon goes in the background: its container and volume are its own, and the new
            // one need not wait for them (every removal is awaited before the lane returns).
            if (daemon) removals.push(removeInBackground(services, daemon, log));
            daemon = undefined;
            daemon = await services.startBuildkitd(plan.image);
            if (laneAttempts === 1 && lane === 1)
              run.buildkitVersion = await services.buildkitVersion(daemon);
          }
        } catch (error) {
          const cause = `resetting buildkitd's state failed: ${(error as Error).message}`;
          record(attempt, freshState, Math.round(performance.now() - resetStarted), 0, {
            kind: 'error',
            cause,
          });
          const failed = daemon?.container ?? services.lastDaemonContainer;
          if (failed) run.daemonLogFiles.push(...(await saveDaemonLogs(services, failed, plan.workDir, log)));
          break;
        }
      }
      // The policy always resets before a lane's first attempt, so a daemon is there from then on.
      if (!daemon) throw new Error('no buildkitd for the attempt');

      const buildStarted = performance.now();
      const resetMs = Math.round(buildStarted - resetStarted);
      const outcome = await oneAttempt(daemon, plan, attempt);
      record(attempt, freshState, resetMs, Math.round(performance.now() - buildStarted), outcome);
      if (outcome.kind === 'error') {
        run.daemonLogFiles.push(...(await saveDaemonLogs(services, daemon.container, plan.workDir, log)));
      }
    }
  } finally {
    if (daemon) removals.push(removeInBackground(services, daemon, log));
    await Promise.all(removals);
  }
}

/** A removal nobody awaits yet must not reject unobserved: a failure is a warning; cleanup removes the rest. */
function removeInBackground(services: RunServices, daemon: Buildkitd, log: Log): Promise<void> {
  return services
    .stopBuildkitd(daemon)
    .catch((error: unknown) =>
      log.warning(`removing ${daemon.container} failed: ${(error as Error).message}`),
    );
}

async function oneAttempt(daemon: Buildkitd, plan: AttemptPlan, attempt: number): Promise<AttemptOutcome> {
  const output = path.join(plan.workDir, outputFileName(`attempt-${attempt}`, plan.outputType));
  const traceFile = path.join(plan.workDir, `attempt-${attempt}.trace.json`);
  const build = await daemon.buildctl.build({
    context: plan.context,
    dockerfile: plan.dockerfile,
    importCache: plan.importCache,
    output: `type=${plan.outputType},dest=${output}`,
    timeoutMs: plan.attemptTimeoutSeconds * 1000,
    traceFile,
  });
  // The trace stays beside a broken output or an error, as evidence; an intact attempt keeps nothing.
  const failed = (cause: string): AttemptOutcome => {
    fs.rmSync(output, { force: true });
    return { kind: 'error', cause };
  };
  if (build.timedOut || build.exitCode !== 0) {
    return failed(
      build.timedOut
        ? `buildctl build did not finish within ${plan.attemptTimeoutSeconds} s (attempt-timeout)`
        : `buildctl build exited ${build.exitCode}: ${lastLines(build.stderr, 3)}`,
    );
  }
  const cacheProblem = readCacheUse(traceFile);
  if (cacheProblem) return failed(cacheProblem);
  try {
    const check = await inspectOutput(output, plan.outputType, plan.expectPaths, plan.reference);
    const notes = check.notes ? { notes: check.notes } : {};
    if (check.missingPaths.length > 0 || check.lostLayers.length > 0) {
      const layers = check.layers ? { layers: check.layers } : {};
      return {
        kind: 'lost',
        missingPaths: check.missingPaths,
        lostLayers: check.lostLayers,
        output,
        ...notes,
        ...layers,
      };
    }
    fs.rmSync(output, { force: true });
    fs.rmSync(traceFile, { force: true });
    return { kind: 'intact', ...notes };
  } catch (error) {
    if (error instanceof InspectionError) return { kind: 'error', cause: error.message };
    throw error;
  }
}

/**
 * Why the attempt did not test the import, or undefined when it did: the import failed, or a step ran
 * instead of coming from a cache (a failed import only warns, and the build goes on from scratch).
 */
function readCacheUse(traceFile: string): string | undefined {
  let use: CacheUse;
  try {
    use = cacheUse(readTrace(fs.readFileSync(traceFile, 'utf8')));
  } catch (error) {
    if (error instanceof TraceError || (error as NodeJS.ErrnoException).code === 'ENOENT')
      return `no evidence that the imported cache was used: ${(error as Error).message}`;
    throw error;
  }
  if (use.importErrors.length > 0) return `the cache import failed: ${use.importErrors.join('; ')}`;
  if (use.ran.length > 0) return `the imported cache was not used: ${use.ran.join(', ')} ran instead`;
  return undefined;
}

/**
 * The daemon's logs, kept for the post step. Best effort: on a full disk the write fails too, and that must
 * not hide the attempt's own error behind its own.
 */
async function saveDaemonLogs(
  services: RunServices,
  container: string,
  workDir: string,
  log: Log,
): Promise<string[]> {
  const file = path.join(workDir, `${container}.log`);
  try {
    const running = await services.isRunning(container);
    fs.writeFileSync(
      file,
      `# ${container} (${running ? 'running' : 'stopped'})\n${await services.daemonLogs(container)}`,
    );
    return [file];
  } catch (error) {
    fs.rmSync(file, { force: true });
    log.warning(`the logs of ${container} could not be saved: ${(error as Error).message}`);
    return [];
  }
}

function describe(record: AttemptRecord): string {
  const reset = record.freshState ? ' (fresh buildkitd state)' : '';
  const lane = record.lane ? ` [lane ${record.lane}]` : '';
  const head = `attempt ${record.attempt}${lane}${reset}: `;
  const seconds = `${(record.durationMs / 1000).toFixed(2)} s`;
  switch (record.outcome.kind) {
    case 'intact':
      return `${head}intact, ${seconds}`;
    case 'lost':
      return `${head}LAYER LOST — ${lossText(record.outcome.missingPaths, record.outcome.lostLayers)}, ${seconds}`;
    case 'error':
      return `${head}infrastructure error: ${record.outcome.cause}`;
  }
}
