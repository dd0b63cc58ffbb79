import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CacheBuildFailed, cacheSpecs, createCache } from '../../src/attempts/cache-build.js';
import type { CacheType } from '../../src/backends/backends.js';
import type { Buildctl, BuildRequest } from '../../src/services/buildctl.js';
import { InfrastructureError } from '../../src/services/run-services.js';
import { fakeDaemons, recordingLog } from '../support/fake-daemons.js';

/* The cache build's steps per backend, with a fake daemon: which builds run, with what, in what order. */

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
    cacheBuildkitImage: 'buildkit:test',
    context: '/context',
    dockerfile: '/context/Dockerfile',
    outputType: 'oci' as const,
    expectPaths: ['repro.txt'],
    attemptTimeoutSeconds: 60,
  };
}

async function made(cacheType: CacheType, version = 'v0.9.0', fails?: (build: number) => boolean) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-build-'));
  const { daemons, builds } = daemonsThatBuild(version, fails);
  const plan = planFor(cacheType);
  const cache = cacheSpecs(plan, { registries }, workDir);
  const result = await createCache(daemons, plan, cache, workDir, recordingLog()).catch(
    (e: unknown) => e as Error,
  );
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
    const { result, builds } = await made('inline', 'v0.9.0', (build) => build === 1);
    assert.ok(result instanceof CacheBuildFailed);
    assert.match(result.message, /the build that creates the cache failed:\nerror: push refused/);
    assert.equal(builds.length, 1);
  });

  it('a cache maker older than its backend is an error before any build, and its daemon is removed', async () => {
    const { result, builds, events } = await made('inline', 'v0.3.3');
    assert.ok(result instanceof InfrastructureError);
    assert.match(
      result.message,
      /buildkit:test: cache-type inline needs BuildKit v0\.4\.0 or newer; v0\.3\.3 has none/,
    );
    assert.equal(builds.length, 0);
    assert.deepEqual(events, ['start d1', 'version d1', 'stop d1']);
  });
});
