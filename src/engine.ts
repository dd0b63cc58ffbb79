import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheSpecs, createCache, referenceOutput } from './attempts/cache-build.js';
import { lanesFor } from './attempts/lanes.js';
import {
  forgetReference,
  type Reference,
  referenceKindOf,
  savedReference,
  saveReference,
} from './attempts/reference.js';
import { type AttemptsRun, runAttempts, usableLanes } from './attempts/run-attempts.js';
import type { Settings } from './inputs/settings.js';
import { remoteCacheProblem } from './services/remote-caches.js';
import { addSecret } from './model/secrets.js';
import { removeDockerConfig, writeDockerConfig } from './services/docker-config.js';
import {
  CACHE_BACKENDS,
  cacheDaemonAccess,
  cacheSecrets,
  type CacheLocation,
  type CacheSpecs,
  describeLocation,
} from './backends/backends.js';
import { cacheShape } from './inspection/cache-config.js';
import { missingPaths } from './inspection/output-types.js';
import type { Log } from './log.js';
import { candidateServices } from './minimize/candidate-run.js';
import { minimize } from './minimize/minimize.js';
import { Docker } from './services/docker.js';
import { checkImages } from './services/images.js';
import { installBuildctl } from './services/install-buildctl.js';
import { startRegistries } from './services/registries.js';
import { InfrastructureError, RunServices } from './services/run-services.js';
import {
  decideVerdict,
  differenceClassOf,
  isDifference,
  keptGoingSample,
  measuredLossRate,
} from './verdict/verdict.js';
import type { AttemptRecord } from './model/attempt.js';
import type { Minimization } from './model/minimization.js';
import type { CacheMaker, InstalledBuildctl, RunResult, SharedResult } from './model/run-result.js';
import type { Verdict } from './model/verdict.js';
import { CLASS_WORDS, verificationText } from './model/wording.js';

export interface RunContext {
  runId: string;
  /** Tarballs, the local cache and the report go here. */
  workDir: string;
  log: Log;
  docker?: Docker;
  /** Where to ask for a release's asset digests (GITHUB_API_URL on a runner). */
  githubApiUrl?: string;
  /** Told of each failed daemon's log file as soon as it is saved. */
  onDaemonLogSaved?: (file: string) => void;
  /**
   * Called with the cache's place once it is made, before the attempts import it: the end-to-end tests
   * tamper with a real cache here (a poisoned cache must give "content differs").
   */
  beforeAttempts?: (cache: CacheLocation) => Promise<void>;
}

/** Where cache-binary: false installs buildctl, inside the run's folder. */
const BUILDCTL_DIR = 'buildctl';

/** What a run learned so far: kept when a later step fails, so that the report says how far it got. */
interface Progress {
  buildctl?: InstalledBuildctl;
  services?: RunServices;
  cacheMaker?: CacheMaker;
  cacheSharedResults?: SharedResult[];
  attempts?: AttemptsRun;
  lanes?: number;
}

/**
 * One whole check, shared by the action and the CLI: install buildctl, start the registries, make the
 * cache, run the attempts, decide. It leaves the run's containers to the caller's cleanup (the action's
 * post step, the CLI's exit), so that a cancelled run is cleaned the same way as a finished one.
 */
export async function runCheck(settings: Settings, context: RunContext): Promise<RunResult> {
  const { workDir } = context;
  const docker = context.docker ?? new Docker();
  const startedAt = new Date().toISOString();
  for (const secret of cacheSecrets(settings)) addSecret(secret);
  fs.mkdirSync(workDir, { recursive: true });
  const progress: Progress = {};
  let setupError: string | undefined;
  try {
    await runSteps(settings, context, docker, progress);
    const laneErrors = progress.attempts?.laneErrors ?? [];
    if (laneErrors.length > 0) setupError = laneErrors.join('; ');
  } catch (error) {
    setupError = (error as Error).message;
  }
  const records = progress.attempts?.records ?? [];
  const verdict = decideVerdict({
    plannedAttempts: settings.retries,
    runAttempts: settings.runAttempts,
    records,
    setupError,
  });
  const minimization = settings.minimize
    ? await minimizeIfDifferent(settings, verdict, records, progress.services, context)
    : undefined;
  removeRunOutputs(settings, workDir, verdict);
  const { cacheMaker, cacheSharedResults, lanes } = progress;
  return {
    runId: context.runId,
    ...(cacheMaker ? { cacheMaker } : {}),
    ...(cacheSharedResults ? { cacheSharedResults } : {}),
    ...(progress.attempts?.configComparison ? { configComparison: progress.attempts.configComparison } : {}),
    verdict,
    records,
    // The daemon under test: the attempts', else (no attempts) the cache maker's.
    buildkitVersion:
      progress.attempts?.buildkitVersion ??
      (cacheMaker?.kind === 'this-run' ? cacheMaker.buildkitVersion : undefined) ??
      'unknown',
    buildctl: progress.buildctl,
    startedAt,
    finishedAt: new Date().toISOString(),
    daemonLogFiles: progress.attempts?.daemonLogFiles ?? [],
    lossRate: measuredLossRate(verdict, settings.keepGoing, records, settings.retries),
    ...(minimization ? { minimization } : {}),
    ...(lanes ? { lanes } : {}),
  };
}

/** The steps in order; each one's result goes into `progress` as soon as it is known. */
async function runSteps(settings: Settings, context: RunContext, docker: Docker, progress: Progress) {
  const { log, workDir } = context;
  const { services, buildctl } = await prepareServices(settings, context, docker);
  Object.assign(progress, { services, buildctl });
  const cache = cacheSpecs(settings, services, workDir);
  const reference = await makeCache(settings, services, cache, context, progress);
  progress.cacheSharedResults = await cacheShape(cache.location, reference.output.image, log);
  if (!settings.runAttempts) return;
  await context.beforeAttempts?.(cache.location);
  const lanes = usableLanes({ ...settings, lanes: lanesFor(settings.parallel) });
  progress.lanes = lanes;
  const inLanes = lanes > 1 ? ` in ${lanes} lanes (daemons at once)` : '';
  const plan = {
    ...settings,
    image: settings.buildkitImage,
    importCache: cache.import,
    reference: reference.output,
    referenceVersion: reference.buildkitVersion,
    referenceKind: reference.kind,
    workDir,
    lanes,
  };
  const onLogSaved = context.onDaemonLogSaved;
  progress.attempts = await log.group(
    `Run ${settings.retries} attempts with ${settings.buildkitImage}${inLanes}, fresh state every ${settings.cacheResetFrequency || 'never'}`,
    () => runAttempts(services, plan, log, onLogSaved ? { onLogSaved } : {}),
  );
}

/**
 * Builds once without a cache and exports it (create-cache); for a cache an earlier run made, takes the
 * reference it kept beside the cache, or builds one now without any cache. The reference every attempt is
 * held to.
 */
async function makeCache(
  settings: Settings,
  services: RunServices,
  cache: CacheSpecs,
  context: RunContext,
  progress: Progress,
): Promise<Reference> {
  const { log, workDir } = context;
  const image = settings.cacheBuildkitImage;
  // Named before the build, so that a run whose cache build failed still says which maker failed.
  const maker: CacheMaker = settings.createCache
    ? { kind: 'this-run', image }
    : {
        kind: 'earlier-run',
        cacheDir: CACHE_BACKENDS[settings.cacheType].keptDir(settings) ?? describeLocation(cache.location),
      };
  progress.cacheMaker = maker;
  if (settings.createCache) forgetReference(settings);
  else {
    const saved = await savedReference(settings);
    if (typeof saved !== 'string') {
      log.info(
        `reference: the one the earlier run kept with the cache (built by ${saved.buildkitVersion || 'an unknown release'})`,
      );
      return withExpectedPaths(saved, settings);
    }
    log.info(
      `reference: none kept to use (${saved}): it is built again, and images are compared by their files`,
    );
  }
  const title = settings.createCache
    ? `Create the cache with ${image}`
    : `Build the reference without a cache with ${image} (the cache is an earlier run's, kept without one)`;
  log.phase?.('cache-build');
  const made = await log.group(title, () =>
    createCache(services, settings, settings.createCache ? cache : undefined, workDir, log),
  );
  const reference = withExpectedPaths(
    { output: made.reference, buildkitVersion: made.buildkitVersion, kind: referenceKindOf(settings) },
    settings,
  );
  if (maker.kind === 'this-run') {
    maker.buildkitVersion = made.buildkitVersion;
    // Only the cache's own build is the reference a later run can hold the cache to by layers.
    if (reference.kind === 'cache-build') saveReference(settings, workDir, made.buildkitVersion, log);
  }
  return reference;
}

/** When the reference lacks an expected path, the inputs are wrong: no attempt could tell. */
function withExpectedPaths(reference: Reference, settings: Settings): Reference {
  const missing = missingPaths(reference.output, settings.expectPaths);
  if (missing.length > 0) {
    throw new InfrastructureError(
      `expect-paths ${missing.join(', ')} are not in the image even when built without a cache`,
    );
  }
  return reference;
}

/** What the run's folder keeps: the reference image only beside a broken one, a cache-dir only when named. */
function removeRunOutputs(settings: Settings, workDir: string, verdict: Verdict): void {
  // cache-binary: false put buildctl here for this run only; a registry login is the run's only.
  fs.rmSync(path.join(workDir, BUILDCTL_DIR), { recursive: true, force: true });
  removeDockerConfig(workDir);
  if (!isDifference(verdict)) fs.rmSync(referenceOutput(workDir, settings.outputType), { force: true });
  for (const taken of CACHE_BACKENDS[settings.cacheType].runPaths(settings, { dir: workDir })) {
    fs.rmSync(taken, { recursive: true, force: true });
  }
}

/** The minimizer runs on the run's own services, and only after a difference: it keeps that class. */
async function minimizeIfDifferent(
  settings: Settings,
  verdict: Verdict,
  records: readonly AttemptRecord[],
  services: RunServices | undefined,
  context: RunContext,
): Promise<Minimization> {
  const { log, workDir } = context;
  const target = differenceClassOf(verdict);
  if (target === undefined || !services) {
    const reason = `the images equal the reference (${verdict.kind}): nothing to minimize`;
    log.info(`minimize: ${reason}`);
    return { kind: 'skipped', reason };
  }
  // Only a whole keep-going sample joins the rate the candidates are held to (see MinimizeRequest).
  const keptGoingRun = settings.keepGoing
    ? keptGoingSample(verdict, target, records, settings.retries)
    : undefined;
  log.phase?.('minimize');
  return log.group(`Minimize the Dockerfile whose image ${CLASS_WORDS[target]}`, () =>
    minimize({
      services: candidateServices(services, settings, log),
      settings,
      workDir,
      log,
      target,
      ...(keptGoingRun ? { keptGoingRun } : {}),
    }),
  );
}

export interface PreparedServices {
  services: RunServices;
  buildctl: InstalledBuildctl;
}

/**
 * Everything before the cache: the engine answers, then buildctl is installed while the images are checked
 * and the registries start, side by side. Both sides are waited for even when one fails, so that nothing
 * is still being created when the caller cleans up.
 */
export async function prepareServices(
  settings: Settings,
  context: RunContext,
  docker: Docker,
): Promise<PreparedServices> {
  const { log } = context;
  // Before anything is downloaded or created: a host with no answering engine is the first thing to say.
  const engine = await docker.serverVersion().catch((error: unknown) => {
    throw new InfrastructureError(`the Docker engine does not answer: ${(error as Error).message}`);
  });
  log.info(`Docker engine ${engine}`);
  log.phase?.('set-up');
  return log.group('Set up: buildctl, images and registries', async () => {
    const [installed, started] = await Promise.allSettled([
      installBuildctl({
        version: settings.buildctlVersion,
        urlTemplate: settings.buildctlUrl,
        token: settings.githubToken,
        sha256: settings.buildctlSha256,
        apiUrl: context.githubApiUrl ?? 'https://api.github.com',
        cacheBinary: settings.cacheBinary,
        runDir: path.join(context.workDir, BUILDCTL_DIR),
      }),
      checkImages(docker, settings).then(async (imageFacts) => ({
        imageFacts,
        registries: await startRegistries(docker, { runId: context.runId, ...settings, imageFacts }, log),
      })),
    ]);
    if (installed.status === 'rejected') throw installed.reason;
    if (started.status === 'rejected') throw started.reason;
    const access = cacheDaemonAccess(settings);
    const remoteProblem = await remoteCacheProblem(settings);
    if (remoteProblem) throw new InfrastructureError(remoteProblem);
    const buildctl = installed.value;
    const from = buildctl.fromToolCache
      ? 'found in the tool cache'
      : `downloaded from ${buildctl.url}${settings.cacheBinary ? '' : ' (cache-binary: false, not cached)'}`;
    log.info(`buildctl ${settings.buildctlVersion}: ${from}`);
    log.info(verificationText(buildctl));
    if (!buildctl.verifiedBy) log.warning(verificationText(buildctl));
    const services = new RunServices(
      docker,
      {
        runId: context.runId,
        ...settings,
        buildctlBinary: buildctl.path,
        imageFacts: started.value.imageFacts,
        daemonAccess: access,
        dockerConfigDir: writeDockerConfig(context.workDir, access),
      },
      started.value.registries,
      log,
    );
    return { services, buildctl };
  });
}
