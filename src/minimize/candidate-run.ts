import * as fs from 'node:fs';
import * as path from 'node:path';
import { CacheBuildFailed, cacheSpecs, createCache, type MadeCache } from '../attempts/cache-build.js';
import { lanesFor } from '../attempts/lanes.js';
import { type AttemptPlan, type AttemptsRun, runAttempts } from '../attempts/run-attempts.js';
import type { Settings } from '../inputs/settings.js';
import { OUTPUT_KINDS } from '../inspection/output-types.js';
import type { Log } from '../log.js';
import { type RunServices, InfrastructureError } from '../services/run-services.js';
import { lossRate } from '../verdict/loss-rate.js';
import { wholeSample } from '../verdict/verdict.js';
import { writeCandidate } from './candidate-files.js';
import type { DifferenceClass } from '../model/classes.js';
import type { Judgement, MeasuredRun } from '../model/minimization.js';
import { differenceText } from '../model/wording.js';
import type { AttemptRecord } from '../model/attempt.js';

/** What one Dockerfile and context did on the run's services. */
export interface CandidateRun {
  judgement: Judgement;
  /** What it showed of the class, or why it was invalid, or how many attempts did not show it. */
  detail: string;
  measured: MeasuredRun;
}

/** A candidate written to disk: its Dockerfile and context. */
export interface WrittenCandidate {
  dockerfile: string;
  context: string;
}

/**
 * What the search needs of the run: the cache and reference build of a candidate, the registries' health
 * and the attempts. The engine's steps on the run's services (candidateServices); fakes in the unit tests.
 */
export interface CandidateServices {
  /** Makes the candidate's cache and reference, tagged `tag`; throws CacheBuildFailed when its build fails. */
  makeCache(
    written: WrittenCandidate,
    dir: string,
    tag: string,
  ): Promise<MadeCache & { importCache: string }>;
  /** Why the registries could not serve a build right now, or undefined when they answer. */
  registriesProblem(): Promise<string | undefined>;
  runAttempts(plan: AttemptPlan): Promise<AttemptsRun>;
}

/**
 * The engine's own steps on the run's services, as the search uses them. A candidate's own set-up and
 * attempts say nothing the search's one line per candidate does not: only warnings reach the log.
 */
export function candidateServices(services: RunServices, settings: Settings, runLog: Log): CandidateServices {
  const log: Log = {
    info: () => undefined,
    warning: (message) => runLog.warning(message),
    group: (_title, work) => work(),
  };
  return {
    makeCache: async (written, dir, tag) => {
      // A candidate's cache is always the run's own, never a cache-dir or a user's cache made earlier.
      const plan = { ...settings, ...written, cacheDir: '', createCache: true };
      const cache = cacheSpecs(plan, services, dir, tag);
      return { ...(await createCache(services, plan, cache, dir, log)), importCache: cache.import };
    },
    registriesProblem: () => services.registriesProblem(),
    runAttempts: (plan) => runAttempts(services, plan, log),
  };
}

export interface CandidateRequest {
  /** Names its folder (under `minimize/`) and its cache tag. */
  number: number;
  dockerfileText: string;
  files: readonly string[];
  attempts: number;
  /** Run every attempt (a measured rate) instead of stopping at the first of the class. */
  keepGoing: boolean;
  /**
   * Builds a Dockerfile known to build (the original), and throws InfrastructureError when it fails too: a
   * candidate's failed build is its own only when the services can still build.
   */
  controlBuild(): Promise<void>;
}

/**
 * The candidate's cache build. A failed build is the candidate's own (a removed line was needed: the
 * reason is returned) only when it fails again, the registries answer and the original still builds;
 * otherwise the services failed and InfrastructureError says so: no judgement.
 */
async function buildCandidate(
  services: CandidateServices,
  request: CandidateRequest,
  build: () => Promise<MadeCache & { importCache: string }>,
): Promise<(MadeCache & { importCache: string }) | string> {
  try {
    return await build();
  } catch (error) {
    if (!(error instanceof CacheBuildFailed)) throw error;
    const problem = await services.registriesProblem();
    if (problem) throw new InfrastructureError(`candidate ${request.number}: ${problem}`);
    const again = await build().catch(async (second: unknown) => {
      if (!(second instanceof CacheBuildFailed)) throw second;
      await request.controlBuild();
      return undefined;
    });
    return again ?? error.message.trim().split('\n').pop() ?? error.message;
  }
}

/**
 * Judges one candidate with the engine's own steps: its own cache and reference build, then attempts that
 * stop at the first of the class being minimized. Throws InfrastructureError when the services failed:
 * no judgement then.
 */
export async function runCandidate(
  services: CandidateServices,
  settings: Settings,
  workDir: string,
  request: CandidateRequest,
  target: DifferenceClass,
): Promise<CandidateRun> {
  const dir = path.join(workDir, 'minimize', `candidate-${request.number}`);
  const written = writeCandidate(dir, request.dockerfileText, settings.context, request.files);
  const invalid = (detail: string): CandidateRun => {
    fs.rmSync(dir, { recursive: true, force: true });
    return { judgement: 'invalid', detail, measured: { found: 0, attempts: 0 } };
  };
  const made = await buildCandidate(services, request, () =>
    services.makeCache(written, dir, `candidate-${request.number}`),
  );
  if (typeof made === 'string') return invalid(made);
  // Expected paths count where the candidate's own image has them: a removed COPY takes its path along.
  const expectPaths = settings.expectPaths.filter((p) => !made.missingPaths.includes(p));
  if (
    !OUTPUT_KINDS[settings.outputType].comparesLayers &&
    expectPaths.length === 0 &&
    target === 'lost-layer'
  ) {
    return invalid(
      `its image has none of expect-paths, and a ${settings.outputType} output shows a lost layer only by them`,
    );
  }
  const run = await services.runAttempts({
    ...settings,
    ...written,
    retries: request.attempts,
    keepGoing: request.keepGoing,
    expectPaths,
    image: settings.buildkitImage,
    importCache: made.importCache,
    reference: made.reference,
    referenceVersion: made.buildkitVersion,
    workDir: dir,
    lanes: lanesFor(settings.parallel),
    stopOn: [target],
  });
  // An error is the services' or BuildKit's, never the candidate's: without the class found before it, the
  // search cannot go on (whatever other class the candidate showed). Its folder (outputs, trace, daemon
  // logs) stays as evidence. The class found before an error is still certain.
  const found = run.records.some((r) => r.outcome.kind === target);
  const errors = [
    ...run.laneErrors,
    ...run.records.flatMap((r) =>
      r.outcome.kind === 'error' ? [`attempt ${r.attempt}: ${r.outcome.cause}`] : [],
    ),
  ];
  if (!found && errors.length > 0) {
    throw new InfrastructureError(`candidate ${request.number} (${dir}): ${errors.join('; ')}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return judged(target, run.records, request);
}

/**
 * A run as the search takes it: an attempt of the class reproduces, whatever the rate; another class does
 * not stand in for it (a history difference is not a lost layer, nor the other way round).
 */
function judged(
  target: DifferenceClass,
  records: readonly AttemptRecord[],
  request: CandidateRequest,
): CandidateRun {
  const shown = records.filter((r) => r.outcome.kind === target);
  const measured: MeasuredRun = { found: shown.length, attempts: records.length };
  if (request.keepGoing && wholeSample(records, request.attempts))
    measured.rate = lossRate(shown.length, records.length);
  const [first] = shown;
  if (!first || !('difference' in first.outcome)) {
    const others = records.filter((r) => r.outcome.kind !== 'intact' && r.outcome.kind !== target).length;
    const besides = others > 0 ? ` (${others} showed another class, which does not count)` : '';
    return {
      judgement: 'does-not-reproduce',
      detail: `none in ${records.length} attempts${besides}`,
      measured,
    };
  }
  measured.first = `attempt ${first.attempt}: ${differenceText(target, first.outcome.difference)}`;
  return { judgement: 'reproduces', detail: measured.first, measured };
}
