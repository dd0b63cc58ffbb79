import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AttemptRecord } from './attempts/attempt.js';
import { runAttempts } from './attempts/run-attempts.js';
import type { OutputType, Settings } from './inputs/settings.js';
import {
  type CacheLocation,
  readCacheConfig,
  type SharedResult,
  sharedResults,
} from './inspection/cache-config.js';
import { inspectOutput, outputFileName } from './inspection/inspect-output.js';
import type { OciImage } from './inspection/oci-image.js';
import type { Log } from './log.js';
import { lastLines } from './testbed/command.js';
import { Docker } from './testbed/docker.js';
import { type InstalledBuildctl, installBuildctl } from './testbed/install-buildctl.js';
import { TestBed, TestBedError } from './testbed/testbed.js';
import type { LossRate } from './verdict/loss-rate.js';
import { decideVerdict, measuredLossRate, type Verdict } from './verdict/verdict.js';

export interface RunContext {
  runId: string;
  /** Tarballs, the local cache and the report go here. */
  workDir: string;
  log: Log;
  docker?: Docker;
  /** Where to ask for a release's asset digests (GITHUB_API_URL on a runner). */
  githubApiUrl?: string;
}

/** What made the cache the attempts imported. */
export type CacheMaker =
  /** buildkitVersion is unset when the cache build failed before its daemon said it. */
  | { kind: 'this-run'; image: string; buildkitVersion?: string }
  /** create-cache: false: a cache-dir made by an earlier run. */
  | { kind: 'earlier-run'; cacheDir: string };

export interface RunResult {
  runId: string;
  /** Unset when the cache could not be made. */
  cacheMaker?: CacheMaker;
  /** Records of the cache that share one result (see cache-config.ts); unset when it could not be read. */
  cacheSharedResults?: SharedResult[];
  verdict: Verdict;
  records: AttemptRecord[];
  buildkitVersion: string;
  buildctl?: InstalledBuildctl;
  startedAt: string;
  finishedAt: string;
  daemonLogFiles: string[];
  /** Set when the attempts were a fixed-size sample (see measuredLossRate). */
  lossRate?: LossRate;
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

  try {
    const prepared = await prepareTestBed(settings, context, docker);
    buildctl = prepared.buildctl;
    const bed = prepared.bed;
    const cache = cacheSpecs(settings, bed, workDir);
    let reference: OciImage | undefined;
    if (settings.createCache) {
      // Named before the build, so that a run whose cache build failed still says which maker failed.
      cacheMaker = { kind: 'this-run', image: settings.cacheBuildkitImage };
      ({ buildkitVersion, reference } = await log.group(
        `Create the cache with ${settings.cacheBuildkitImage}`,
        () => createCache(bed, settings, cache.export, workDir, log),
      ));
      cacheMaker.buildkitVersion = buildkitVersion;
    } else {
      cacheMaker = { kind: 'earlier-run', cacheDir: localCacheDir(settings, workDir) };
    }
    cacheSharedResults = await cacheShape(cache.location, reference, log);
    if (settings.runAttempts) {
      const run = await log.group(
        `Run ${settings.retries} attempts with ${settings.buildkitImage}, fresh state every ${settings.cacheResetFrequency || 'never'}`,
        () =>
          runAttempts(
            bed,
            { ...settings, image: settings.buildkitImage, importCache: cache.import, reference, workDir },
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
  };
}

export interface PreparedTestBed {
  bed: TestBed;
  buildctl: InstalledBuildctl;
}

/**
 * Everything before the cache: the engine answers, then buildctl is installed while the images are checked
 * and the registries start, side by side. Both sides are waited for even when one fails, so that nothing
 * is still being created when the caller cleans up.
 */
export async function prepareTestBed(
  settings: Settings,
  context: RunContext,
  docker: Docker,
): Promise<PreparedTestBed> {
  const { log } = context;
  // Before anything is downloaded or created: a host with no answering engine is the first thing to say.
  const engine = await docker.serverVersion().catch((error: unknown) => {
    throw new TestBedError(`the Docker engine does not answer: ${(error as Error).message}`);
  });
  log.info(`Docker engine ${engine}`);
  return log.group('Set up: buildctl, images and registries', async () => {
    const bed = new TestBed(
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
      checkImages(docker, settings).then(() => bed.start()),
    ]);
    if (installed.status === 'rejected') throw installed.reason;
    if (started.status === 'rejected') throw started.reason;
    const buildctl = installed.value;
    log.info(
      `buildctl ${settings.buildctlVersion}: ${buildctl.fromToolCache ? 'found in the tool cache' : `downloaded from ${buildctl.url}`}`,
    );
    log.info(verificationText(buildctl));
    if (!buildctl.verifiedBy) log.warning(verificationText(buildctl));
    bed.useBuildctl(buildctl.path);
    return { bed, buildctl };
  });
}

const CACHE_REPOSITORY = 'lost-layer/cache';
const CACHE_TAG = 'latest';

/** The --export-cache and --import-cache values for the configured cache type, and where to read it. */
export function cacheSpecs(
  settings: Settings,
  bed: TestBed,
  workDir: string,
): { export: string; import: string; location: CacheLocation } {
  if (settings.cacheType === 'local') {
    const dir = localCacheDir(settings, workDir);
    return {
      export: `type=local,dest=${dir},mode=max`,
      import: `type=local,src=${dir}`,
      location: { kind: 'local', dir },
    };
  }
  const ref = `${bed.cacheRegistryHost}/${CACHE_REPOSITORY}:${CACHE_TAG}`;
  return {
    export: `type=registry,ref=${ref},mode=max`,
    import: `type=registry,ref=${ref}`,
    location: {
      kind: 'registry',
      address: bed.cacheRegistryAddress,
      repository: CACHE_REPOSITORY,
      tag: CACHE_TAG,
    },
  };
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
        throw new TestBedError(
          `image ${image} is not on this Docker host and cannot be pulled: ${(error as Error).message}`,
        );
      }
    }),
  );
}

/**
 * Builds once from scratch and exports the cache. Its output is the reference: when it lacks an expected
 * path, the inputs are wrong, and no attempt could tell a lost layer from that.
 */
async function createCache(
  bed: TestBed,
  settings: Settings,
  exportCache: string,
  workDir: string,
  log: Log,
): Promise<{ buildkitVersion: string; reference?: OciImage }> {
  const daemon = await bed.startBuildkitd(settings.cacheBuildkitImage);
  try {
    const buildkitVersion = await bed.buildkitVersion(daemon);
    const output = referenceOutput(workDir, settings.outputType);
    const build = await daemon.buildctl.build({
      context: settings.context,
      dockerfile: settings.dockerfile,
      exportCache,
      output: `type=${settings.outputType},dest=${output}`,
      timeoutMs: settings.attemptTimeoutSeconds * 1000,
    });
    if (build.timedOut) {
      throw new TestBedError(
        `the build that creates the cache did not finish within ${settings.attemptTimeoutSeconds} s`,
      );
    }
    if (build.exitCode !== 0) {
      throw new TestBedError(`the build that creates the cache failed:\n${lastLines(build.stderr, 15)}`);
    }
    const check = await inspectOutput(output, settings.outputType, settings.expectPaths);
    if (check.missingPaths.length > 0) {
      throw new TestBedError(
        `expect-paths ${check.missingPaths.join(', ')} are not in the image even when built without a cache`,
      );
    }
    log.info(`cache exported by buildkitd ${buildkitVersion} (${exportCache})`);
    if (check.image) {
      const layers = check.image.layers.map(
        (l) => `${l.position}: ${l.digest.slice(0, 19)} ${l.files.length} files`,
      );
      log.info(`reference image: ${layers.join(', ')}`);
    }
    return { buildkitVersion, reference: check.image };
  } finally {
    await bed.stopBuildkitd(daemon);
  }
}

function referenceOutput(workDir: string, outputType: OutputType): string {
  return path.join(workDir, outputFileName('reference', outputType));
}

function localCacheDir(settings: Settings, workDir: string): string {
  return settings.cacheDir || path.join(workDir, 'cache');
}

/** "sha256 ab12… verified against the GitHub release digest", or why it was not. */
export function verificationText(installed: InstalledBuildctl): string {
  return installed.verifiedBy
    ? `buildctl tarball sha256 ${installed.sha256} verified against the ${installed.verifiedBy}`
    : `buildctl tarball sha256 ${installed.sha256} NOT verified (${installed.unverifiedBecause ?? 'no digest'}); set buildctl-sha256 to check it`;
}
