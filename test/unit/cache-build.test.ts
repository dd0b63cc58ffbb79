import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CacheBuildFailed, cacheSpecs, createCache } from '../../src/attempts/cache-build.js';
import type { CacheType } from '../../src/backends/backends.js';
import { readOutput } from '../../src/inspection/output-types.js';
import type { Buildctl, BuildRequest } from '../../src/services/buildctl.js';
import { InfrastructureError } from '../../src/services/run-services.js';
import { fakeDaemons, recordingLog } from '../support/fake-daemons.js';
import { withRegistry } from '../support/one-image-registry.js';

/* The cache build's steps per backend, with a fake daemon: which builds run, with what, in what order. */

/** Every run's folder, removed when the file's tests end. */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-build-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const referenceImage = fileURLToPath(new URL('../../fixtures/oci/v0.9.0-reference.oci.tar', import.meta.url));
const registries = { cacheHost: 'run-cache:5000', cacheAddress: '127.0.0.1:5999' };

/** A daemon whose builds are recorded; an oci output gets the v0.9.0 reference image; `fails` says which fail. */
function daemonsThatBuild(version: string, fails: (build: number) => boolean = () => false) {
  const builds: BuildRequest[] = [];
  const daemons = fakeDaemons({ version });
  const start = daemons.startBuildkitd.bind(daemons);
  daemons.startBuildkitd = async (image) => {
    const daemon = await start(image);
    const buildctl = {
      build: (request: BuildRequest) => {
        builds.push(request);
        const dest = /^type=oci,dest=(.+)$/.exec(request.output ?? '')?.[1];
        if (dest) fs.copyFileSync(referenceImage, dest);
        const exitCode = fails(builds.length) ? 1 : 0;
        return Promise.resolve({
          exitCode,
          stdout: '',
          stderr: exitCode ? 'error: push refused' : '',
          timedOut: false,
        });
      },
    } as unknown as Buildctl;
    return { ...daemon, buildctl };
  };
  return { daemons, builds };
}

function planFor(cacheType: CacheType) {
  return {
    cacheType,
    cacheDir: '',
    cacheOptions: {},
    createCache: true,
    cacheSettings: undefined,
    cacheBuildkitImage: 'buildkit:test',
    context: '/context',
    dockerfile: '/context/Dockerfile',
    outputType: 'oci' as const,
    expectPaths: ['repro.txt'],
    attemptTimeoutSeconds: 60,
  };
}

/** The manifest of the image an inline cache build pushed: these layer blobs. */
function pushedManifest(layers: string[]): Map<string, Buffer> {
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:c', size: 1 },
    layers: layers.map((digest) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest,
      size: 1,
    })),
  };
  return new Map([['/v2/lost-layer/cache/manifests/latest', Buffer.from(JSON.stringify(manifest))]]);
}

/** The layer blobs of the fixture every fake oci build writes. */
const REFERENCE_LAYERS = async () =>
  ((await readOutput(referenceImage, 'oci')).image?.layers ?? []).map((layer) => layer.digest);

async function made(
  cacheType: CacheType,
  options: {
    version?: string;
    fails?: (build: number) => boolean;
    cacheDir?: string;
    noCache?: boolean;
    pushed?: string[];
  } = {},
) {
  const workDir = fs.mkdtempSync(path.join(root, 'run-'));
  const { daemons, builds } = daemonsThatBuild(options.version ?? 'v0.9.0', options.fails);
  const plan = { ...planFor(cacheType), cacheDir: options.cacheDir ?? '' };
  const pushed = pushedManifest(options.pushed ?? (await REFERENCE_LAYERS()));
  const result = await withRegistry(pushed, (address) => {
    const cache = cacheSpecs(
      plan,
      { runId: 'r1', registries: { ...registries, cacheAddress: address } },
      workDir,
    );
    return createCache(daemons, plan, options.noCache ? undefined : cache, workDir, recordingLog()).catch(
      (e: unknown) => e as Error,
    );
  });
  return { result, builds, events: daemons.events, workDir };
}

describe('the cache build, per backend', () => {
  it('registry: one build writes the reference and exports the cache beside it', async () => {
    const { result, builds, workDir } = await made('registry');
    assert.ok(!(result instanceof Error), String(result));
    assert.deepEqual(
      builds.map((b) => [b.exportCache, b.output]),
      [
        [
          'type=registry,ref=run-cache:5000/lost-layer/cache:latest,mode=max',
          `type=oci,dest=${workDir}/reference.oci.tar`,
        ],
      ],
    );
    assert.equal(result.reference.image?.layers.length, 2);
  });

  it('inline: a build pushes the image with its cache, then the same daemon writes the reference', async () => {
    const { result, builds, events, workDir } = await made('inline');
    assert.ok(!(result instanceof Error), String(result));
    assert.deepEqual(
      builds.map((b) => [b.exportCache, b.output]),
      [
        ['type=inline', 'type=image,name=run-cache:5000/lost-layer/cache:latest,push=true'],
        [undefined, `type=oci,dest=${workDir}/reference.oci.tar`],
      ],
    );
    assert.deepEqual(events, ['start d1', 'version d1', 'stop d1'], 'one daemon for both builds');
  });

  it('inline: a failed push is the cache build failing, and no reference is built', async () => {
    const { result, builds } = await made('inline', { fails: (build) => build === 1 });
    assert.ok(result instanceof CacheBuildFailed);
    assert.match(result.message, /the build that creates the cache failed:\nerror: push refused/);
    assert.equal(builds.length, 1);
  });

  it('a cache maker older than its backend is an error before any build, and its daemon is removed', async () => {
    const { result, builds, events } = await made('inline', { version: 'v0.3.3' });
    assert.ok(result instanceof InfrastructureError);
    assert.match(
      result.message,
      /buildkit:test: cache-type inline needs BuildKit v0\.4\.0 or newer; v0\.3\.3 has none/,
    );
    assert.equal(builds.length, 0);
    assert.deepEqual(events, ['start d1', 'version d1', 'stop d1']);
  });

  it('inline: a reference build that is not the image pushed with the cache is an error, naming both', async () => {
    const { result } = await made('inline', { pushed: ['sha256:aaaa', 'sha256:bbbb'] });
    assert.ok(result instanceof InfrastructureError, String(result));
    assert.match(
      result.message,
      /the reference build is not the image pushed with the cache \(run-cache:5000\/lost-layer\/cache:latest\): layers sha256:\w+, sha256:\w+ against sha256:aaaa, sha256:bbbb/,
    );
  });

  it("local: the run's folder, or the cache-dir, gets the cache beside the reference", async () => {
    const inRun = await made('local');
    assert.ok(!(inRun.result instanceof Error), String(inRun.result));
    assert.deepEqual(
      inRun.builds.map((b) => b.exportCache),
      [`type=local,dest=${inRun.workDir}/cache,mode=max`],
    );
    const kept = await made('local', { cacheDir: '/work/space/kept' });
    assert.deepEqual(
      kept.builds.map((b) => b.exportCache),
      ['type=local,dest=/work/space/kept,mode=max'],
    );
  });

  it('a cache made earlier (none given): one build of the reference, exporting nothing', async () => {
    const { result, builds, workDir } = await made('local', { cacheDir: '/work/space/kept', noCache: true });
    assert.ok(!(result instanceof Error), String(result));
    assert.deepEqual(
      builds.map((b) => [b.exportCache, b.output]),
      [[undefined, `type=oci,dest=${workDir}/reference.oci.tar`]],
    );
  });

  it('a cache maker that says it is older than an export option given: an error before any build', async () => {
    const workDir = fs.mkdtempSync(path.join(root, 'run-'));
    const { daemons, builds } = daemonsThatBuild('v0.9.1');
    const plan = { ...planFor('registry'), cacheOptions: { compression: 'zstd' } };
    const cache = cacheSpecs(plan, { runId: 'r1', registries }, workDir);
    const result = await createCache(daemons, plan, cache, workDir, recordingLog()).catch(
      (e: unknown) => e as Error,
    );
    assert.ok(result instanceof InfrastructureError, String(result));
    assert.match(
      result.message,
      /cache-compression needs BuildKit v0\.10\.0 or newer; v0\.9\.1 has no compression attribute/,
    );
    assert.equal(builds.length, 0);
  });
});
