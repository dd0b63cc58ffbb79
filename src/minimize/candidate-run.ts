import * as fs from 'node:fs';
import * as path from 'node:path';
import { CacheBuildFailed, cacheSpecs, createCache, type MadeCache } from '../attempts/cache-build.js';
import { lanesFor } from '../attempts/lanes.js';
import { runAttempts } from '../attempts/run-attempts.js';
import type { Settings } from '../inputs/settings.js';
import { OUTPUT_KINDS } from '../inspection/output-types.js';
import type { Log } from '../log.js';
import { type RunServices, InfrastructureError } from '../services/run-services.js';
import { decideVerdict, measuredLossRate } from '../verdict/verdict.js';
import { writeCandidate } from './candidate-files.js';
import type { Judgement, MeasuredRun } from '../model/minimization.js';
import { lossText } from '../model/wording.js';
import type { AttemptRecord } from '../model/attempt.js';
import type { Verdict } from '../model/verdict.js';

/** What one Dockerfile and context did on the run's services. */
export interface CandidateRun {
  judgement: Judgement;
  /** What it lost first, or why it was invalid, or how many attempts showed no loss. */
  detail: string;
  measured: MeasuredRun;
}

export interface CandidateRequest {
  /** Names its folder (under `minimize/`) and its cache tag. */
  number: number;
  dockerfileText: string;
  files: readonly string[];
  attempts: number;
  /** Run every attempt (a measured rate) instead of stopping at the first loss. */
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
  services: RunServices,
  request: CandidateRequest,
  build: () => Promise<MadeCache>,
): Promise<MadeCache | string> {
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
 * Judges one candidate with the engine's own steps, on the run's registries and images: its own cache and
 * reference build, then attempts. Throws InfrastructureError when the services failed: no judgement then.
 */
export async function runCandidate(
  services: RunServices,
  settings: Settings,
  workDir: string,
  request: CandidateRequest,
  log: Log,
): Promise<CandidateRun> {
  const dir = path.join(workDir, 'minimize', `candidate-${request.number}`);
  const written = writeCandidate(dir, request.dockerfileText, settings.context, request.files);
  const plan = {
    ...settings,
    ...written,
    cacheDir: '',
    retries: request.attempts,
    keepGoing: request.keepGoing,
  };
  const cache = cacheSpecs(plan, services, dir, `candidate-${request.number}`);
  const invalid = (detail: string): CandidateRun => {
    fs.rmSync(dir, { recursive: true, force: true });
    return { judgement: 'invalid', detail, measured: { lost: 0, attempts: 0 } };
  };
  const made = await buildCandidate(services, request, () =>
    createCache(services, plan, cache.export, dir, log),
  );
  if (typeof made === 'string') return invalid(made);
  // Expected paths count where the candidate's own image has them: a removed COPY takes its path along.
  const expectPaths = settings.expectPaths.filter((p) => !made.missingPaths.includes(p));
  if (!OUTPUT_KINDS[settings.outputType].comparesLayers && expectPaths.length === 0) {
    return invalid(
      `its image has none of expect-paths, and a ${settings.outputType} output shows a loss only by them`,
    );
  }
  const run = await runAttempts(
    services,
    {
      ...plan,
      expectPaths,
      image: settings.buildkitImage,
      importCache: cache.import,
      reference: made.reference,
      workDir: dir,
      lanes: lanesFor(settings.parallel),
    },
    log,
  );
  const verdict = decideVerdict({
    plannedAttempts: request.attempts,
    runAttempts: true,
    records: run.records,
  });
  // An error is the services' or BuildKit's, never the candidate's: the search cannot go on. Its folder
  // (outputs, trace, daemon logs) stays as evidence.
  if (verdict.kind === 'error') {
    throw new InfrastructureError(`candidate ${request.number} (${dir}): ${verdict.cause}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return judged(verdict, run.records, request);
}

/** A run's verdict as the search takes it: a loss reproduces, whatever the rate; none does not. */
function judged(
  verdict: Verdict,
  records: readonly AttemptRecord[],
  request: CandidateRequest,
): CandidateRun {
  const rate = () =>
    request.keepGoing ? measuredLossRate(verdict, true, records, request.attempts) : undefined;
  if (verdict.kind !== 'reproduced') {
    const measured: MeasuredRun = { lost: 0, attempts: records.length };
    const lossRate = rate();
    if (lossRate) measured.lossRate = lossRate;
    return { judgement: 'does-not-reproduce', detail: `no loss in ${records.length} attempts`, measured };
  }
  const firstLoss = `attempt ${verdict.failedAttempt}: ${lossText(verdict.missingPaths, verdict.lostLayers)}`;
  const measured: MeasuredRun = { lost: verdict.lostCount, attempts: records.length, firstLoss };
  const lossRate = rate();
  if (lossRate) measured.lossRate = lossRate;
  return { judgement: 'reproduces', detail: firstLoss, measured };
}
