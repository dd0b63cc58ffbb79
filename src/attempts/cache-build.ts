import * as path from 'node:path';
import type { CacheLocation } from '../inspection/cache-config.js';
import { type BuiltOutput, missingPaths, outputFileName, readOutput } from '../inspection/output-types.js';
import type { OutputType, Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { lastLines } from '../services/command.js';
import { type RunServices, InfrastructureError } from '../services/run-services.js';

/** The build that makes the cache exited with an error: the Dockerfile's fault or the services'. */
export class CacheBuildFailed extends InfrastructureError {
  override name = 'CacheBuildFailed';
}

const CACHE_REPOSITORY = 'lost-layer/cache';

/** The --export-cache and --import-cache values for the configured cache type, and where to read it. */
export function cacheSpecs(
  settings: Pick<Settings, 'cacheType' | 'cacheDir'>,
  services: RunServices,
  workDir: string,
  tag = 'latest',
): { export: string; import: string; location: CacheLocation } {
  if (settings.cacheType === 'local') {
    const dir = localCacheDir(settings, workDir);
    return {
      export: `type=local,dest=${dir},mode=max`,
      import: `type=local,src=${dir}`,
      location: { kind: 'local', dir },
    };
  }
  const ref = `${services.registries.cacheHost}/${CACHE_REPOSITORY}:${tag}`;
  return {
    export: `type=registry,ref=${ref},mode=max`,
    import: `type=registry,ref=${ref}`,
    location: {
      kind: 'registry',
      address: services.registries.cacheAddress,
      repository: CACHE_REPOSITORY,
      tag,
    },
  };
}

export type CacheBuildPlan = Pick<
  Settings,
  'cacheBuildkitImage' | 'context' | 'dockerfile' | 'outputType' | 'expectPaths' | 'attemptTimeoutSeconds'
>;

export interface MadeCache {
  buildkitVersion: string;
  /** The output built without a cache: the reference every attempt is held to. */
  reference: BuiltOutput;
  /** Expected paths the reference lacks: the caller decides whether that is an error. */
  missingPaths: string[];
}

/**
 * Builds once from scratch and exports the cache (none when exportCache is undefined: a cache made
 * earlier is imported); its output is the reference the attempts are held to.
 */
export async function createCache(
  services: Pick<RunServices, 'startBuildkitd' | 'stopBuildkitd' | 'buildkitVersion'>,
  plan: CacheBuildPlan,
  exportCache: string | undefined,
  workDir: string,
  log: Log,
): Promise<MadeCache> {
  const what = exportCache ? 'the build that creates the cache' : 'the reference build (no cache)';
  const daemon = await services.startBuildkitd(plan.cacheBuildkitImage);
  try {
    const buildkitVersion = await services.buildkitVersion(daemon);
    const output = referenceOutput(workDir, plan.outputType);
    const build = await daemon.buildctl.build({
      context: plan.context,
      dockerfile: plan.dockerfile,
      ...(exportCache ? { exportCache } : {}),
      output: `type=${plan.outputType},dest=${output}`,
      timeoutMs: plan.attemptTimeoutSeconds * 1000,
    });
    if (build.timedOut) {
      throw new InfrastructureError(`${what} did not finish within ${plan.attemptTimeoutSeconds} s`);
    }
    if (build.exitCode !== 0) {
      throw new CacheBuildFailed(`${what} failed:\n${lastLines(build.stderr, 15)}`);
    }
    const reference = await readOutput(output, plan.outputType);
    log.info(
      exportCache
        ? `cache exported by buildkitd ${buildkitVersion} (${exportCache})`
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

export function referenceOutput(workDir: string, outputType: OutputType): string {
  return path.join(workDir, outputFileName('reference', outputType));
}

export function localCacheDir(settings: Pick<Settings, 'cacheDir'>, workDir: string): string {
  return settings.cacheDir || path.join(workDir, 'cache');
}
