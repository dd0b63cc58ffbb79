import * as path from 'node:path';
import type { CacheLocation } from '../inspection/cache-config.js';
import { inspectOutput, outputFileName } from '../inspection/output-types.js';
import type { OciImage } from '../inspection/oci-image.js';
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
  /** The image built without a cache (OCI output only). */
  reference?: OciImage;
  /** Expected paths the reference lacks: the caller decides whether that is an error. */
  missingPaths: string[];
}

/** Builds once from scratch and exports the cache; its output is the reference the attempts are held to. */
export async function createCache(
  services: RunServices,
  plan: CacheBuildPlan,
  exportCache: string,
  workDir: string,
  log: Log,
): Promise<MadeCache> {
  const daemon = await services.startBuildkitd(plan.cacheBuildkitImage);
  try {
    const buildkitVersion = await services.buildkitVersion(daemon);
    const output = referenceOutput(workDir, plan.outputType);
    const build = await daemon.buildctl.build({
      context: plan.context,
      dockerfile: plan.dockerfile,
      exportCache,
      output: `type=${plan.outputType},dest=${output}`,
      timeoutMs: plan.attemptTimeoutSeconds * 1000,
    });
    if (build.timedOut) {
      throw new InfrastructureError(
        `the build that creates the cache did not finish within ${plan.attemptTimeoutSeconds} s`,
      );
    }
    if (build.exitCode !== 0) {
      throw new CacheBuildFailed(`the build that creates the cache failed:\n${lastLines(build.stderr, 15)}`);
    }
    const check = await inspectOutput(output, plan.outputType, plan.expectPaths);
    log.info(`cache exported by buildkitd ${buildkitVersion} (${exportCache})`);
    if (check.image) {
      const layers = check.image.layers.map(
        (l) => `${l.position}: ${l.digest.slice(0, 19)} ${l.files.length} files`,
      );
      log.info(`reference image: ${layers.join(', ')}`);
    }
    return { buildkitVersion, reference: check.image, missingPaths: check.missingPaths };
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
