import * as path from 'node:path';
import { cacheBackend, type CacheLocation, type CacheSpecs, releaseProblem } from '../backends/backends.js';
import { pushedImageLayers } from '../inspection/cache-config.js';
import type { OciImage } from '../inspection/oci-image.js';
import { type BuiltOutput, missingPaths, outputFileName, readOutput } from '../inspection/output-types.js';
import { fullDiskWatch, namingFullDisk } from '../services/disk-space.js';
import { InspectionError } from '../inspection/tarball.js';
import type { OutputType, Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import type { BuildRequest } from '../services/buildctl.js';
import { lastLines } from '../services/command.js';
import { redact } from '../model/secrets.js';
import { type Buildkitd, type RunServices, InfrastructureError } from '../services/run-services.js';

/** The build that makes the cache exited with an error: the Dockerfile's fault or the services'. */
export class CacheBuildFailed extends InfrastructureError {
  override name = 'CacheBuildFailed';
}

/** The run's cache on its backend: how it is exported, imported and read back. */
export function cacheSpecs(
  settings: Pick<Settings, 'cacheType' | 'cacheDir' | 'cacheOptions' | 'createCache' | 'cacheSettings'>,
  services: { runId: string; registries: Pick<RunServices['registries'], 'cacheHost' | 'cacheAddress'> },
  workDir: string,
  tag = 'latest',
): CacheSpecs {
  const { cacheDir, cacheOptions, createCache, cacheSettings: own } = settings;
  return cacheBackend(settings.cacheType).specs(
    { cacheDir, cacheOptions, createCache, own },
    {
      registryHost: services.registries.cacheHost,
      registryAddress: services.registries.cacheAddress,
      dir: workDir,
      tag,
      runId: services.runId,
    },
  );
}

export type CacheBuildPlan = Pick<
  Settings,
  'cacheBuildkitImage' | 'context' | 'dockerfile' | 'outputType' | 'expectPaths' | 'attemptTimeoutSeconds'
> &
  Partial<Pick<Settings, 'cacheContext' | 'cacheDockerfile'>>;

/** The inputs the cache is made from when they are another version: each defaults to the current one. */
function cacheSourceOf(plan: CacheBuildPlan): Pick<Settings, 'context' | 'dockerfile'> {
  return { context: plan.cacheContext || plan.context, dockerfile: plan.cacheDockerfile || plan.dockerfile };
}

export interface MadeCache {
  buildkitVersion: string;
  /** The output built without a cache: the reference every attempt is held to. */
  reference: BuiltOutput;
  /** Expected paths the reference lacks: the caller decides whether that is an error. */
  missingPaths: string[];
}

/**
 * Builds once from scratch and exports the cache (none when `cache` is undefined: a cache made earlier is
 * imported); its output is the reference the attempts are held to. A cache that travels inside a pushed
 * image is made by a build that pushes it; the reference is then that build again on the same daemon, every
 * step from its own state (the same layers), written as the attempts write theirs.
 */
export async function createCache(
  services: Pick<RunServices, 'startBuildkitd' | 'stopBuildkitd' | 'buildkitVersion'>,
  plan: CacheBuildPlan &
    Pick<Settings, 'cacheType' | 'cacheOptions'> &
    Partial<Pick<Settings, 'cacheSettings'>>,
  cache: Pick<CacheSpecs, 'export' | 'pushedImage' | 'location'> | undefined,
  workDir: string,
  log: Log,
): Promise<MadeCache> {
  const daemon = await services.startBuildkitd(plan.cacheBuildkitImage);
  try {
    const buildkitVersion = await services.buildkitVersion(daemon);
    const options = cache ? plan.cacheOptions : {};
    const tooOld = releaseProblem(plan.cacheType, buildkitVersion, options, 'maker', plan.cacheSettings);
    if (tooOld) throw new InfrastructureError(`${plan.cacheBuildkitImage}: ${tooOld}`);
    const output = referenceOutput(workDir, plan.outputType);
    const changed = cache && (plan.cacheDockerfile || plan.cacheContext) ? cacheSourceOf(plan) : undefined;
    const reference = await cacheAndReferenceBuilds(daemon, plan, cache, changed, output)
      .then(() => readOutput(output, plan.outputType))
      .catch((error: unknown) => {
        throw error instanceof CacheBuildFailed || error instanceof InspectionError
          ? namingFullDisk(error, workDir)
          : error;
      });
    if (!changed && cache?.pushedImage && cache.location.kind === 'inline' && reference.image) {
      await assertPushedIsReference(reference.image, cache.location, cache.pushedImage);
    }
    log.info(
      cache
        ? `cache exported by buildkitd ${buildkitVersion} (${redact(cache.export)}${cache.pushedImage ? ` with ${cache.pushedImage}` : ''})`
        : `reference built by buildkitd ${buildkitVersion} without a cache`,
    );
    if (reference.image) {
      const layers = reference.image.layers.map(
        (l) => `${l.position}: ${l.digest.slice(0, 19)} ${l.files.length} files`,
      );
      log.info(`reference image: ${layers.join(', ')}`);
    }
    return { buildkitVersion, reference, missingPaths: missingPaths(reference, plan.expectPaths) };
  } finally {
    await services.stopBuildkitd(daemon);
  }
}

/** A build's request without what the plan gives every build (its inputs, time limit and disk watch). */
type PlanBuild = Omit<BuildRequest, 'context' | 'dockerfile' | 'timeoutMs' | 'stopWhen'>;

/**
 * The builds that make the cache and the reference: one build that does both, or, when the cache travels
 * in a pushed image or is made from other inputs, the cache's build and then the reference's.
 */
async function cacheAndReferenceBuilds(
  daemon: Buildkitd,
  plan: CacheBuildPlan,
  cache: Pick<CacheSpecs, 'export' | 'pushedImage'> | undefined,
  changed: Pick<Settings, 'context' | 'dockerfile'> | undefined,
  output: string,
): Promise<void> {
  // The reference's output and a local cache are written beside it: that disk filling stops a build.
  const disk = path.dirname(output);
  const build = (what: string, request: PlanBuild) => buildOnce(daemon, plan, disk, what, request);
  const referenceBuild = { output: `type=${plan.outputType},dest=${output}` };
  const push = cache?.pushedImage ? { output: `type=image,name=${cache.pushedImage},push=true` } : {};
  if (!cache) await build('the reference build (no cache)', referenceBuild);
  else if (changed) {
    const what = 'the build that creates the cache (cache-dockerfile, cache-context)';
    await buildOnce(daemon, { ...plan, ...changed }, disk, what, { exportCache: cache.export, ...push });
    await build('the reference build (the current inputs, no cache)', { ...referenceBuild, noCache: true });
  } else if (!cache.pushedImage) {
    await build('the build that creates the cache', { ...referenceBuild, exportCache: cache.export });
  } else {
    await build('the build that creates the cache', { exportCache: cache.export, ...push });
    await build('the reference build (the cache build again, from its own state)', referenceBuild);
  }
}

/**
 * The reference of an inline cache is a second build: it must be the image that was pushed, layer blob for
 * layer blob, or the attempts would be held to another image than the one the cache describes.
 */
async function assertPushedIsReference(
  reference: OciImage,
  location: Extract<CacheLocation, { kind: 'inline' }>,
  pushedImage: string,
): Promise<void> {
  const pushed = await pushedImageLayers(location);
  const built = reference.layers.map((layer) => layer.digest);
  if (pushed.join(',') !== built.join(',')) {
    throw new InfrastructureError(
      `the reference build is not the image pushed with the cache (${pushedImage}): layers ${built.join(', ')} against ${pushed.join(', ')}`,
    );
  }
}

/** One build of the plan's Dockerfile writing to `disk`; a timeout, a full disk or a failure throws, naming it. */
async function buildOnce(
  daemon: Buildkitd,
  plan: CacheBuildPlan,
  disk: string,
  what: string,
  request: PlanBuild,
): Promise<void> {
  const build = await daemon.buildctl.build({
    ...request,
    context: plan.context,
    dockerfile: plan.dockerfile,
    timeoutMs: plan.attemptTimeoutSeconds * 1000,
    stopWhen: fullDiskWatch(disk),
  });
  if (build.timedOut) {
    throw new InfrastructureError(`${what} did not finish within ${plan.attemptTimeoutSeconds} s`);
  }
  if (build.stoppedBecause) throw new InfrastructureError(`${build.stoppedBecause}: ${what} stopped`);
  if (build.exitCode !== 0) throw new CacheBuildFailed(`${what} failed:\n${lastLines(build.stderr, 15)}`);
}

export function referenceOutput(workDir: string, outputType: OutputType): string {
  return path.join(workDir, outputFileName('reference', outputType));
}
