import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../log.js';
import { type Buildkitd, DaemonStartError, type RunServices } from '../services/run-services.js';
import { oneAttempt } from './one-attempt.js';
import type { AttemptPlan } from './plan.js';
import { RESETS } from './reset-modes.js';
import { resetsBefore } from './reset-policy.js';
import type { AttemptOutcome, AttemptRecord } from '../model/attempt.js';
import { lossText } from '../model/wording.js';

export type { AttemptPlan } from './plan.js';

export interface AttemptsRun {
  records: AttemptRecord[];
  /** What the attempts' daemon reports, read once after it first started. */
  buildkitVersion: string;
  /** Logs of a daemon whose attempt failed, saved before it was removed. */
  daemonLogFiles: string[];
}

/** What the lanes share: one numbering of attempts, one stop. */
interface Lanes {
  /** Told of each daemon log as it is saved (the action's post step prints them, also after a cancel). */
  onLogSaved: (file: string) => void;
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
export async function runAttempts(
  services: RunServices,
  plan: AttemptPlan,
  log: Log,
  onLogSaved: (file: string) => void = () => undefined,
): Promise<AttemptsRun> {
  const shared: Lanes = {
    onLogSaved,
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

/** A lane's own daemon, and the removals of the ones it replaced (awaited before the lane returns). */
interface LaneState {
  lane: number;
  daemon: Buildkitd | undefined;
  removals: Promise<void>[];
  /** Attempts this lane has taken: its reset schedule counts these. */
  attempts: number;
}

async function runLane(
  services: RunServices,
  plan: AttemptPlan,
  lane: number,
  shared: Lanes,
  log: Log,
): Promise<void> {
  const state: LaneState = { lane, daemon: undefined, removals: [], attempts: 0 };
  try {
    while (!shared.stop && shared.next <= plan.retries) {
      const attempt = shared.next++;
      state.attempts += 1;
      const freshState = resetsBefore(state.attempts, plan.cacheResetFrequency);
      const resetStarted = performance.now();
      const resetFailure = freshState ? await resetLane(services, plan, state, shared, log) : undefined;
      if (resetFailure) {
        const resetMs = Math.round(performance.now() - resetStarted);
        record(
          shared,
          plan,
          state,
          { attempt, freshState, resetMs, durationMs: 0, outcome: resetFailure.outcome },
          log,
        );
        if (resetFailure.container) {
          keepLogs(shared, await saveDaemonLogs(services, resetFailure.container, plan.workDir, log));
        }
        break;
      }
      // The policy always resets before a lane's first attempt, so a daemon is there from then on.
      const daemon = state.daemon;
      if (!daemon) throw new Error('no buildkitd for the attempt');
      const buildStarted = performance.now();
      const outcome = await oneAttempt(daemon, plan, attempt);
      const timing = {
        resetMs: Math.round(buildStarted - resetStarted),
        durationMs: Math.round(performance.now() - buildStarted),
      };
      record(shared, plan, state, { attempt, freshState, ...timing, outcome }, log);
      if (outcome.kind === 'error') {
        keepLogs(shared, await saveDaemonLogs(services, daemon.container, plan.workDir, log));
      }
    }
  } finally {
    if (state.daemon) state.removals.push(removeInBackground(services, state.daemon, log));
    await Promise.all(state.removals);
  }
}

/**
 * Empties the lane's daemon's state as cache-reset-mode says (see RESETS). Returns the attempt's error and
 * the daemon whose logs tell why when it fails, undefined when the lane has a daemon with an empty state.
 */
async function resetLane(
  services: RunServices,
  plan: AttemptPlan,
  state: LaneState,
  shared: Lanes,
  log: Log,
): Promise<{ outcome: AttemptOutcome; container?: string } | undefined> {
  const replace = async (): Promise<Buildkitd> => {
    // The old daemon goes in the background: its container and volume are its own, and the new one need
    // not wait for them.
    if (state.daemon) state.removals.push(removeInBackground(services, state.daemon, log));
    state.daemon = undefined;
    state.daemon = await services.startBuildkitd(plan.image);
    if (state.lane === 1 && state.attempts === 1) {
      shared.run.buildkitVersion = await services.buildkitVersion(state.daemon);
    }
    return state.daemon;
  };
  try {
    state.daemon = await RESETS[plan.cacheResetMode](
      { current: state.daemon, replace },
      plan.attemptTimeoutSeconds * 1000,
    );
    return undefined;
  } catch (error) {
    const cause = `resetting buildkitd's state failed: ${(error as Error).message}`;
    const container =
      state.daemon?.container ?? (error instanceof DaemonStartError ? error.container : undefined);
    return { outcome: { kind: 'error', cause }, ...(container ? { container } : {}) };
  }
}

/** Records a finished attempt for the run (numbered by the shared counter) and stops every lane when it must. */
function record(
  shared: Lanes,
  plan: AttemptPlan,
  state: LaneState,
  fields: Omit<AttemptRecord, 'lane' | 'endedMs'>,
  log: Log,
): void {
  const done: AttemptRecord = {
    attempt: fields.attempt,
    ...(shared.count > 1 ? { lane: state.lane } : {}),
    freshState: fields.freshState,
    resetMs: fields.resetMs,
    durationMs: fields.durationMs,
    endedMs: Math.round(performance.now() - shared.startedAt),
    outcome: fields.outcome,
  };
  shared.run.records.push(done);
  log.info(describe(done));
  const { outcome } = done;
  if (outcome.kind === 'error' || (outcome.kind === 'lost' && !plan.keepGoing)) shared.stop = true;
}

function keepLogs(shared: Lanes, files: readonly string[]): void {
  shared.run.daemonLogFiles.push(...files);
  for (const file of files) shared.onLogSaved(file);
}

/** A removal nobody awaits yet must not reject unobserved: a failure is a warning; cleanup removes the rest. */
function removeInBackground(services: RunServices, daemon: Buildkitd, log: Log): Promise<void> {
  return services
    .stopBuildkitd(daemon)
    .catch((error: unknown) =>
      log.warning(`removing ${daemon.container} failed: ${(error as Error).message}`),
    );
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
