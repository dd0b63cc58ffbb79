import * as fs from 'node:fs';

import { cacheSpecs, createCache, localCacheDir, referenceOutput } from './attempts/cache-build.js';
import { lanesFor } from './attempts/lanes.js';
import { runAttempts, usableLanes } from './attempts/run-attempts.js';
import type { Settings } from './inputs/settings.js';
import { type CacheLocation, readCacheConfig, sharedResults } from './inspection/cache-config.js';
import type { OciImage } from './inspection/oci-image.js';
import type { Log } from './log.js';

import { minimize } from './minimize/minimize.js';
import { Docker } from './services/docker.js';
import { installBuildctl } from './services/install-buildctl.js';
import { RunServices, InfrastructureError } from './services/run-services.js';

import { decideVerdict, measuredLossRate } from './verdict/verdict.js';
import type { AttemptRecord } from './model/attempt.js';
import type { Minimization } from './model/minimization.js';
import type { CacheMaker, InstalledBuildctl, RunResult, SharedResult } from './model/run-result.js';
import type { Verdict } from './model/verdict.js';
import { verificationText } from './model/wording.js';

export interface RunContext {
  runId: string;
  /** Tarballs, the local cache and the report go here. */
  workDir: string;
  log: Log;
  docker?: Docker;
  /** Where to ask for a release's asset digests (GITHUB_API_URL on a runner). */
  githubApiUrl?: string;
}

/**
 * One whole check, shared by the action and the CLI: install buildctl, start the registries, make the
 * cache, run the attempts, decide. It leaves the run's containers to the caller's cleanup (the action's
 * post step, the CLI's exit), so that a cancelled run is cleaned the same way as a finished one.
 */
export async function runCheck(settings: Settings, context: RunContext): Promise<RunResult> {
  const { log, workDir } = context;
  const docker = context.docker ?? new Docker();
  const startedAt = new Date().toISOString();
  fs.mkdirSync(workDir, { recursive: true });
  let records: AttemptRecord[] = [];
  let buildkitVersion = 'unknown';
  let daemonLogFiles: string[] = [];
  let buildctl: InstalledBuildctl | undefined;
  let setupError: string | undefined;
  let cacheMaker: CacheMaker | undefined;
  let cacheSharedResults: SharedResult[] | undefined;
  let runServices: RunServices | undefined;
  let lanes: number | undefined;

  try {
    const prepared = await prepareServices(settings, context, docker);
    buildctl = prepared.buildctl;
    const services = prepared.services;
    runServices = services;
    const cache = cacheSpecs(settings, services, workDir);
    let reference: OciImage | undefined;
    if (settings.createCache) {
      // Named before the build, so that a run whose cache build failed still says which maker failed.
      cacheMaker = { kind: 'this-run', image: settings.cacheBuildkitImage };
      const made = await log.group(`Create the cache with ${settings.cacheBuildkitImage}`, () =>
        createCache(services, settings, cache.export, workDir, log),
      );
      // When the image built without a cache lacks a path, the inputs are wrong: no attempt could tell.
      if (made.missingPaths.length > 0) {
        throw new InfrastructureError(
          `expect-paths ${made.missingPaths.join(', ')} are not in the image even when built without a cache`,
        );
      }
      ({ buildkitVersion, reference } = made);
      cacheMaker.buildkitVersion = buildkitVersion;
    } else {
      cacheMaker = { kind: 'earlier-run', cacheDir: localCacheDir(settings, workDir) };
    }
    cacheSharedResults = await cacheShape(cache.location, reference, log);
    if (settings.runAttempts) {
      lanes = usableLanes({ ...settings, lanes: lanesFor(settings.parallel) });
      const inLanes = lanes > 1 ? ` in ${lanes} lanes (daemons at once)` : '';
      const run = await log.group(
        `Run ${settings.retries} attempts with ${settings.buildkitImage}${inLanes}, fresh state every ${settings.cacheResetFrequency || 'never'}`,
        () =>
          runAttempts(
            services,
            {
              ...settings,
              image: settings.buildkitImage,
              importCache: cache.import,
              reference,
              workDir,
              lanes,
            },
            log,
          ),
      );
      ({ records, buildkitVersion, daemonLogFiles } = run);
    }
  } catch (error) {
    setupError = (error as Error).message;
  }

  const verdict = decideVerdict({
    plannedAttempts: settings.retries,
    runAttempts: settings.runAttempts,
    records,
    setupError,
  });
  const minimization = settings.minimize
    ? await minimizeIfLost(settings, verdict, records, runServices, context)
    : undefined;
  // The whole image built without a cache is kept beside a broken one, for comparison.
  if (verdict.kind !== 'reproduced')
    fs.rmSync(referenceOutput(workDir, settings.outputType), { force: true });
  // A local cache of the run's own (no cache-dir given) ends with the run.
  if (settings.cacheType === 'local' && !settings.cacheDir) {
    fs.rmSync(localCacheDir(settings, workDir), { recursive: true, force: true });
  }
  return {
    runId: context.runId,
    ...(cacheMaker ? { cacheMaker } : {}),
    ...(cacheSharedResults ? { cacheSharedResults } : {}),
    verdict,
    records,
    buildkitVersion,
    buildctl,
    startedAt,
    finishedAt: new Date().toISOString(),
    daemonLogFiles,
    lossRate: measuredLossRate(verdict, settings.keepGoing, records, settings.retries),
    ...(minimization ? { minimization } : {}),
    ...(lanes ? { lanes } : {}),
  };
}

/** The minimizer runs on the run's own services, and only after a lost layer. */
async function minimizeIfLost(
  settings: Settings,
  verdict: Verdict,
  records: readonly AttemptRecord[],
  services: RunServices | undefined,
  context: RunContext,
): Promise<Minimization> {
  const { log, workDir } = context;
  if (verdict.kind !== 'reproduced' || !services) {
    const reason = `no layer was lost (${verdict.kind}): nothing to minimize`;
    log.info(`minimize: ${reason}`);
    return { kind: 'skipped', reason };
  }
  // Only a whole keep-going sample joins the rate the candidates are held to (see MinimizeRequest).
  const keptGoing = measuredLossRate(verdict, settings.keepGoing, records, settings.retries);
  const keptGoingRun = keptGoing ? { lost: keptGoing.lost, attempts: keptGoing.attempts } : undefined;
  return log.group('Minimize the Dockerfile that lost a layer', () =>
    minimize({ services, settings, workDir, log, ...(keptGoingRun ? { keptGoingRun } : {}) }),
  );
}

export interface PreparedTestBed {
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
): Promise<PreparedTestBed> {
  const { log } = context;
  // Before anything is downloaded or created: a host with no answering engine is the first thing to say.
  const engine = await docker.serverVersion().catch((error: unknown) => {
    throw new InfrastructureError(`the Docker engine does not answer: ${(error as Error).message}`);
  });
  log.info(`Docker engine ${engine}`);
  return log.group('Set up: buildctl, images and registries', async () => {
    const services = new RunServices(
      docker,
      {
        runId: context.runId,
        registryImage: settings.registryImage,
        mirrorUpstream: settings.mirrorUpstream,
        mirrorImages: settings.mirrorImages,
        buildkitdConfig: settings.buildkitdConfig,
        buildkitdFlags: settings.buildkitdFlags,
        buildkitdContainerOptions: settings.buildkitdContainerOptions,
      },
      log,
    );
    const [installed, started] = await Promise.allSettled([
      installBuildctl({
        version: settings.buildctlVersion,
        urlTemplate: settings.buildctlUrl,
        token: settings.githubToken,
        sha256: settings.buildctlSha256,
        apiUrl: context.githubApiUrl ?? 'https://api.github.com',
      }),
      checkImages(docker, settings).then(() => services.start()),
    ]);
    if (installed.status === 'rejected') throw installed.reason;
    if (started.status === 'rejected') throw started.reason;
    const buildctl = installed.value;
    log.info(
      `buildctl ${settings.buildctlVersion}: ${buildctl.fromToolCache ? 'found in the tool cache' : `downloaded from ${buildctl.url}`}`,
    );
    log.info(verificationText(buildctl));
    if (!buildctl.verifiedBy) log.warning(verificationText(buildctl));
    services.useBuildctl(buildctl.path);
    return { services, buildctl };
  });
}

/**
 * Reads the cache's records and says which share a result: the precondition of the bug, deterministic, in
 * the cache itself. A cache that cannot be read is a warning: the attempts still decide the verdict.
 */
async function cacheShape(
  location: CacheLocation,
  reference: OciImage | undefined,
  log: Log,
): Promise<SharedResult[] | undefined> {
  try {
    const shared = sharedResults(await readCacheConfig(location), reference);
    log.info(
      shared.length === 0
        ? 'cache: no two records share a result'
        : `cache: records share a result: ${shared.map((s) => s.steps.join(' + ') || s.layer.blob).join('; ')}`,
    );
    return shared;
  } catch (error) {
    log.warning(`cannot read the cache's records: ${(error as Error).message}`);
    return undefined;
  }
}

async function checkImages(docker: Docker, settings: Settings): Promise<void> {
  const images = new Set([settings.registryImage, settings.buildkitImage, settings.cacheBuildkitImage]);
  for (const image of settings.mirrorImages) images.add(image.source);
  // Pull only what the host lacks, so that images built here (or air-gapped copies) are used as they are.
  await Promise.all(
    [...images].map(async (image) => {
      if (await docker.imageFacts(image)) return;
      try {
        await docker.pull(image);
      } catch (error) {
        throw new InfrastructureError(
          `image ${image} is not on this Docker host and cannot be pulled: ${(error as Error).message}`,
        );
      }
    }),
  );
}
