import * as fs from 'node:fs';
import { releaseProblem } from '../backends/backends.js';
import type { Log } from '../log.js';
import { type ConfigComparison, configComparisonFor } from '../inspection/compare.js';
import { configNotComparable } from '../inspection/output-types.js';
import type { AttemptOutcome, AttemptRecord, DifferentOutcome } from '../model/attempt.js';
import { type Buildkitd, InfrastructureError } from '../services/run-services.js';
import { stoppingClasses } from '../verdict/classes.js';
import { type DaemonServices, keepDaemonLogs, removeInBackground, resetLane } from './lane-daemon.js';
import { describeRecord } from './record-text.js';
import { oneAttempt } from './one-attempt.js';
import type { AttemptPlan } from './plan.js';
import { resetsBefore } from './reset-policy.js';

export type { AttemptPlan } from './plan.js';
export type { DaemonServices } from './lane-daemon.js';

export interface AttemptsRun {
  records: AttemptRecord[];
  /** What the attempts' daemon reports, asked of the first daemon that started. */
  buildkitVersion: string;
  /** Whether config and history were compared, decided once that release was known. */
  configComparison?: ConfigComparison;
  /** Logs of a daemon whose attempt failed, saved before it was removed. */
  daemonLogFiles: string[];
  /** What ended a lane outside any attempt (each also logged): the run has no clean verdict then. */
  laneErrors: string[];
}

/** Runs one attempt on a ready daemon (oneAttempt; a fake in the unit tests). */
export type RunOneAttempt = (
  daemon: Buildkitd,
  plan: AttemptPlan,
  attempt: number,
  config: ConfigComparison,
) => Promise<AttemptOutcome>;

export interface AttemptHooks {
  /** Told of each daemon log as it is saved (the action's post step prints them, also after a cancel). */
  onLogSaved?: (file: string) => void;
  runOneAttempt?: RunOneAttempt;
}

/** What the lanes share: one numbering of attempts, one stop, one version probe. */
export interface Lanes {
  onLogSaved: (file: string) => void;
  /** How many run: the plan's, capped by usableLanes. */
  count: number;
  next: number;
  stop: boolean;
  /** When the attempts began: every record's end is measured from here. */
  startedAt: number;
  run: AttemptsRun;
  /** The first daemon's release, asked once, and what it means for the config comparison. */
  probe?: Promise<ConfigComparison>;
}

/**
 * The retry loop, in `lanes` daemons at once (see lanesFor): each lane resets its own buildkitd's state
 * when the policy says so (counting its own attempts), imports the cache, builds, reads the output. The
 * attempts keep one numbering across lanes. Every lane stops taking attempts at the first attempt of a
 * class that stops the run (unless keepGoing) and at the first that cannot be judged, in any lane; an
 * attempt already running finishes and counts, and none starts after the stop, also not after a reset.
 * With keepGoing, exactly `retries` attempts run in all. A lane that fails outside an attempt stops the
 * others; every record of every lane is kept.
 */
export async function runAttempts(
  services: DaemonServices,
  plan: AttemptPlan,
  log: Log,
  hooks: AttemptHooks = {},
): Promise<AttemptsRun> {
  const shared: Lanes = {
    onLogSaved: hooks.onLogSaved ?? (() => undefined),
    count: usableLanes(plan),
    next: 1,
    stop: false,
    startedAt: performance.now(),
    run: { records: [], buildkitVersion: 'unknown', daemonLogFiles: [], laneErrors: [] },
  };
  const runOne = hooks.runOneAttempt ?? oneAttempt;
  await Promise.all(
    Array.from({ length: shared.count }, (_, i) => runLane(services, plan, i + 1, shared, log, runOne)),
  );
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

/** A lane's own daemon, and the removals of the ones it replaced (awaited before the lane returns). */
export interface LaneState {
  lane: number;
  daemon: Buildkitd | undefined;
  removals: Promise<void>[];
  /** Attempts this lane has taken: its reset schedule counts these. */
  attempts: number;
}

async function runLane(
  services: DaemonServices,
  plan: AttemptPlan,
  lane: number,
  shared: Lanes,
  log: Log,
  runOne: RunOneAttempt,
): Promise<void> {
  const state: LaneState = { lane, daemon: undefined, removals: [], attempts: 0 };
  try {
    while (!shared.stop && shared.next <= plan.retries) {
      if (!(await takeAttempt(services, plan, state, shared, log, runOne))) break;
    }
  } catch (error) {
    // Set before this lane's cleanup: no other lane starts an attempt while it cleans up.
    shared.stop = true;
    const message = `lane ${lane}: ${(error as Error).message}`;
    shared.run.laneErrors.push(message);
    log.warning(`the attempts stopped: ${message}`);
  } finally {
    if (state.daemon) state.removals.push(removeInBackground(services, state.daemon, log));
    await Promise.all(state.removals);
  }
}

/** Resets when the policy says, then runs one attempt; false when the lane must stop. */
async function takeAttempt(
  services: DaemonServices,
  plan: AttemptPlan,
  state: LaneState,
  shared: Lanes,
  log: Log,
  runOne: RunOneAttempt,
): Promise<boolean> {
  const freshState = resetsBefore(state.attempts + 1, plan.cacheResetFrequency);
  const resetStarted = performance.now();
  const failed = async (cause: string, container: string | undefined): Promise<false> => {
    // After the stop, or with every attempt taken by other lanes, a failed reset is no attempt of the run.
    if (shared.stop || shared.next > plan.retries) {
      log.warning(`lane ${state.lane} after the last attempt: ${cause}`);
      return false;
    }
    const resetMs = Math.round(performance.now() - resetStarted);
    const outcome: AttemptOutcome = { kind: 'error', cause };
    record(shared, plan, state, { attempt: shared.next++, freshState, resetMs, durationMs: 0, outcome }, log);
    if (container) await keepDaemonLogs(services, shared, container, plan.workDir, log);
    return false;
  };
  if (freshState) {
    log.phase?.('reset', `lane ${state.lane}`);
    const failure = await resetLane(services, plan, state, log);
    if (failure) return failed(failure.cause, failure.container);
  }
  const daemon = state.daemon;
  if (!daemon) throw new Error('no buildkitd for the attempt');
  const config = await configComparison(services, shared, plan, daemon).catch(
    (error: unknown) => error as Error,
  );
  // A failed probe is the attempt's error (after the stop, a warning); another lane may have stopped the run,
  // or taken the last attempt, while this one reset or waited.
  if (config instanceof Error) return failed(config.message, daemon.container);
  if (shared.stop || shared.next > plan.retries) return false;
  const attempt = shared.next++;
  state.attempts += 1;
  log.phase?.('attempt', String(attempt));
  const buildStarted = performance.now();
  const timing = () => ({
    resetMs: Math.round(buildStarted - resetStarted),
    durationMs: Math.round(performance.now() - buildStarted),
  });
  let outcome: AttemptOutcome;
  try {
    outcome = await runOne(daemon, plan, attempt, config);
  } catch (error) {
    // The number is taken: the attempt is recorded as an error before the lane ends with it.
    const cause = `the attempt failed unexpectedly: ${(error as Error).message}`;
    record(shared, plan, state, { attempt, freshState, ...timing(), outcome: { kind: 'error', cause } }, log);
    throw error;
  }
  record(shared, plan, state, { attempt, freshState, ...timing(), outcome }, log);
  if (outcome.kind === 'error') await keepDaemonLogs(services, shared, daemon.container, plan.workDir, log);
  return true;
}

/** The attempts' release, asked once of the first daemon that is ready, and whether config is compared. */
function configComparison(
  services: DaemonServices,
  shared: Lanes,
  plan: AttemptPlan,
  daemon: Buildkitd,
): Promise<ConfigComparison> {
  shared.probe ??= services.buildkitVersion(daemon).then(
    (version) => {
      shared.run.buildkitVersion = version;
      // A daemon whose image tag named no release is checked here, as soon as it says which it is.
      const tooOld = releaseProblem(
        plan.cacheType,
        version,
        plan.cacheOptions,
        'importer',
        plan.cacheSettings,
      );
      if (tooOld) throw new InfrastructureError(`${plan.image}: ${tooOld}`);
      const notComparable = configNotComparable(plan.outputType, plan.referenceKind);
      shared.run.configComparison = notComparable
        ? { compared: false, reason: notComparable }
        : configComparisonFor(plan.referenceVersion, version);
      return shared.run.configComparison;
    },
    (error: unknown) => {
      throw new Error(
        `asking buildkitd ${daemon.container} for its version failed: ${(error as Error).message}`,
      );
    },
  );
  return shared.probe;
}

/** Records a finished attempt for the run (numbered by the shared counter) and stops every lane when it must. */
function record(
  shared: Lanes,
  plan: AttemptPlan,
  state: LaneState,
  fields: Omit<AttemptRecord, 'lane' | 'endedMs'>,
  log: Log,
): void {
  const outcome = keepFirstOutput(shared, fields.attempt, fields.outcome);
  const done: AttemptRecord = {
    attempt: fields.attempt,
    ...(shared.count > 1 ? { lane: state.lane } : {}),
    ...(state.daemon ? { daemon: state.daemon.container } : {}),
    freshState: fields.freshState,
    resetMs: fields.resetMs,
    durationMs: fields.durationMs,
    endedMs: Math.round(performance.now() - shared.startedAt),
    outcome,
  };
  shared.run.records.push(done);
  log.info(describeRecord(done));
  const stopOn: readonly string[] = plan.stopOn ?? stoppingClasses();
  if (outcome.kind === 'error' || (stopOn.includes(outcome.kind) && !plan.keepGoing)) shared.stop = true;
}

/**
 * The first attempt of each class keeps its output as evidence; the others need no more disk. With lanes an
 * attempt can end before a lower-numbered one of its class: the lower one then keeps its output instead.
 */
function keepFirstOutput(shared: Lanes, attempt: number, outcome: AttemptOutcome): AttemptOutcome {
  if (!('difference' in outcome)) return outcome;
  const kept = shared.run.records.find(
    (r) => r.outcome.kind === outcome.kind && 'output' in r.outcome && r.outcome.output !== '',
  );
  if (kept && kept.attempt < attempt) return dropOutput(outcome);
  if (kept && 'difference' in kept.outcome) kept.outcome = dropOutput(kept.outcome);
  return outcome;
}

function dropOutput(outcome: DifferentOutcome): DifferentOutcome {
  fs.rmSync(outcome.output, { force: true });
  return { ...outcome, output: '' };
}
