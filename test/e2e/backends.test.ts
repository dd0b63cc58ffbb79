import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { verdictWithoutLoss } from '../support/ladder.js';
import { assertNothingLeft, assertSecretHidden } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { docker, onAttempt2, onPhase } from '../support/run-watch.js';
import { AzuriteServer } from '../../scripts/lib/azurite-server.js';
import { ghaEnvironment, GhaCacheServer } from '../../scripts/lib/gha-cache-server.js';
import { S3Server } from '../../scripts/lib/s3-server.js';
import { CACHE_BACKENDS, CACHE_TYPES, type CacheType } from '../../src/backends/backends.js';
import { removeRun } from '../../src/services/run-services.js';
import { Docker } from '../../src/services/docker.js';
import { testBed } from '../../scripts/lib/testbed.js';

/**
 * Every cache backend but the default (registry, which the action suite runs on the whole ladder), on every
 * release of the ladder that has it, rootful and rootless, through the bundled action. A backend added to
 * CACHE_BACKENDS joins these runs without a line here.
 */
const backends = CACHE_TYPES.filter((type) => type !== 'registry');
const releasesWith = (type: keyof typeof CACHE_BACKENDS) =>
  testBed().versions.filter((v) => semver.gte(v, CACHE_BACKENDS[type].since));
const FIXED_ATTEMPTS = 20;

/** A store's server as the shared tests use it: its inputs, its names below a prefix, a way to kill it. */
interface StoreServer {
  inputs(): Record<string, string>;
  names(prefix: string): Promise<string[]>;
  removeAll(prefix: string): Promise<unknown>;
  stop(): void;
}

function storeServer(server: S3Server | AzuriteServer | undefined): StoreServer {
  if (!server) throw new Error('the store server is not started');
  return server instanceof S3Server
    ? {
        inputs: () => server.inputs(),
        names: (prefix) => server.keys(prefix),
        removeAll: (prefix) => server.store().removeAll(prefix),
        stop: () => server.stop(),
      }
    : {
        inputs: () => server.inputs(),
        names: (prefix) => server.store().names(prefix),
        removeAll: (prefix) => server.store().removeAll(prefix),
        stop: () => server.stop(),
      };
}

/** What differs between the object stores in the tests they share. */
const OBJECT_STORES = {
  s3: {
    start: async (name: string) => storeServer(await S3Server.start(name)),
    secretInput: 'cache-s3-secret-access-key',
    wrongKey: (key: string) => `not-${key}`,
    wrongKeyError:
      /::error::.*the S3 bucket does not answer: bucket lost-layer-test answers HTTP 403 \(SignatureDoesNotMatch\)/,
    prefixInput: 'cache-s3-prefix',
    nameInput: 'cache-s3-name',
    runPart: (bucket: string, runId: string) => `every key below s3://${bucket}/lost-layer-${runId}/`,
    place: (prefix: string) => `s3://lost-layer-test/${prefix}manifests/latest`,
    noCache: (prefix: string) =>
      `create-cache is false and s3://lost-layer-test/${prefix}manifests/buildkit holds no cache`,
  },
  azblob: {
    start: async (name: string) => storeServer(await AzuriteServer.start(name)),
    secretInput: 'cache-azblob-secret-access-key',
    wrongKey: () => Buffer.from('not the account key at all').toString('base64'),
    wrongKeyError: /::error::.*the Azure Blob Storage account does not answer: container lost-layer-test/,
    prefixInput: 'cache-azblob-prefix',
    nameInput: 'cache-azblob-name',
    runPart: (container: string, runId: string) => `every blob below ${container}/lost-layer-${runId}/`,
    // The account URL before it names the Azurite port of the day.
    place: (prefix: string) => `/lost-layer-test/${prefix}manifests/latest`,
    noCache: (prefix: string) =>
      `create-cache is false and lost-layer-test/${prefix}manifests/buildkit holds no cache`,
  },
} as const;

describe('every cache backend on the ladder', () => {
  const caught: string[] = [];
  let s3: S3Server | undefined;
  let gha: GhaCacheServer | undefined;
  let azurite: AzuriteServer | undefined;
  const suite = BedSuite.open(async () => {
    s3?.stop();
    azurite?.stop();
    await gha?.stop();
    console.log(caught.map((c) => `backend: ${c}`).join('\n'));
  });

  /**
   * The inputs, and the runner's variables, that point a backend at its server on the bed (started the
   * first time it is asked for). gha: API v2 from v0.20, as github.com runs it; v1 before.
   */
  async function backendRun(
    type: CacheType,
    version: string,
  ): Promise<{ inputs: Record<string, string>; env: Record<string, string> }> {
    if (type === 's3') {
      s3 ??= await S3Server.start();
      return { inputs: { 'cache-type': type, ...s3.inputs() }, env: {} };
    }
    if (type === 'azblob') {
      azurite ??= await AzuriteServer.start();
      return { inputs: { 'cache-type': type, ...azurite.inputs() }, env: {} };
    }
    if (type === 'gha') {
      gha ??= await GhaCacheServer.start();
      return { inputs: { 'cache-type': type }, env: ghaEnvironment(gha, version) };
    }
    return { inputs: { 'cache-type': type }, env: {} };
  }

  /** The shared server of an object store on the bed, as the tests list and clean it. */
  async function serverOf(type: 's3' | 'azblob'): Promise<StoreServer> {
    await backendRun(type, testBed().versions.at(-1) ?? '');
    return type === 's3' ? storeServer(s3) : storeServer(azurite);
  }

  async function act(
    type: CacheType,
    version: string,
    variant: 'rootful' | 'rootless',
    more: Record<string, string>,
  ) {
    const { inputs, env } = await backendRun(type, version);
    return suite.act(suite.inputs(version, variant, { ...inputs, ...more }), { env });
  }

  /**
   * Nothing of the run left in Docker, nor on its backend's server (gha's entries are left to the service's
   * eviction: the run wrote in its own scope only); its credentials in no summary, report or log line.
   */
  async function assertNothingLeftAnywhere(run: ActionRun, type: CacheType) {
    assertNothingLeft(run);
    if (type === 's3') assert.deepEqual(await s3?.keys(`lost-layer-${run.state['runId']}/`), []);
    if (type === 'azblob')
      assert.deepEqual(await azurite?.store().names(`lost-layer-${run.state['runId']}/`), []);
    if (type === 's3' && s3) assertSecretHidden(run, s3.credentials.secretAccessKey);
    if (type === 'gha' && gha) assertSecretHidden(run, gha.token);
    if (type === 'gha') {
      const indexes = gha?.entries().filter((entry) => entry.key.startsWith('index-')) ?? [];
      assert.ok(indexes.some((entry) => entry.key.startsWith(`index-lost-layer-${run.state['runId']}-`)));
      assert.deepEqual(
        indexes.filter((entry) => !entry.key.startsWith('index-lost-layer-')),
        [],
        "no index outside the runs' own scopes",
      );
    }
  }

  function sharedSteps(run: ActionRun): string[][] {
    const shared = JSON.parse(run.outputs['cache-shared-results'] ?? 'null') as { steps: string[] }[] | null;
    assert.ok(shared, `the cause was read through the cache: ${run.main.stdout}`);
    return shared.map((set) => set.steps);
  }

  for (const type of backends) {
    for (const variant of ['rootful', 'rootless'] as const) {
      for (const version of releasesWith(type)) {
        if (version === 'v0.9.0') {
          it(`${type} cache, v0.9.0 ${variant}: reproduced, the COPY layer named, the cause read from the cache`, async () => {
            const run = await act(type, version, variant, { retries: String(ATTEMPTS_TO_A_LOSS) });
            assert.equal(run.outputs['verdict'], 'reproduced', run.main.stdout);
            assert.equal(run.outputs['reproduced'], 'true');
            assert.equal(run.main.exitCode, 1);
            assert.equal(run.outputs['attempts'], run.outputs['failed-attempt'], 'stops at the first loss');
            assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
            assert.match(run.summary, /Layer lost: attempt \d+: layer 2 \(COPY repro.txt \/\) gone/);
            assert.match(run.summary, new RegExp(`${type} cache, fresh buildkitd state`));
            assert.deepEqual(sharedSteps(run), [['COPY repro.txt /', 'RUN echo 2']]);
            caught.push(`${type} v0.9.0 ${variant} at attempt ${run.outputs['failed-attempt']}`);
            await assertNothingLeftAnywhere(run, type);
          });
          continue;
        }
        const expected = verdictWithoutLoss(version);
        it(`${type} cache, ${version} ${variant}: no layer lost in ${FIXED_ATTEMPTS} attempts; ${expected}`, async () => {
          const run = await act(type, version, variant, { retries: String(FIXED_ATTEMPTS) });
          assert.equal(run.outputs['reproduced'], 'false', run.main.stdout);
          assert.equal(run.outputs['verdict'], expected, run.main.stdout);
          assert.equal(run.outputs['attempts'], String(FIXED_ATTEMPTS));
          const classes = JSON.parse(run.outputs['classes'] ?? '') as Record<string, number>;
          assert.equal(classes[expected === 'clean' ? 'intact' : 'config-differs'], FIXED_ATTEMPTS);
          assert.equal(run.main.exitCode, expected === 'clean' ? 0 : 1);
          // The exporter's half of the bug lasted until v0.10, whichever backend carries the cache.
          assert.equal(sharedSteps(run).length, semver.lt(version, '0.10.0') ? 1 : 0);
          await assertNothingLeftAnywhere(run, type);
        });
      }
    }
  }

  for (const version of releasesWith('inline').filter((v) => v !== 'v0.9.0')) {
    it(`inline cache, ${version}: the registry holding the image killed mid-run: the import failed, an error`, async () => {
      const run = await suite.act(
        suite.inputs(version, 'rootful', { 'cache-type': 'inline', retries: '40' }),
        {
          onMainStarted: onAttempt2((_daemon, runId) => docker('kill', `lost-layer-${runId}-cache`)),
        },
      );
      assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
      assert.equal(run.outputs['reproduced'], 'false');
      assert.notEqual(run.main.exitCode, 0);
      assert.match(
        run.main.stdout,
        /the cache import failed: importing cache manifest from \S+-cache:5000\/lost-layer\/cache:latest: /,
      );
      assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
      assertNothingLeft(run);
    });
  }

  for (const version of releasesWith('local').filter((v) => v !== 'v0.9.0')) {
    it(`local cache, ${version}: its folder removed once made: the attempt built without it, an error`, async () => {
      const cacheDir = `cache-removed-${version}`;
      const run = await suite.act(
        suite.inputs(version, 'rootful', { 'cache-type': 'local', 'cache-dir': cacheDir, retries: '40' }),
        {
          // Removed as the first reset starts: the cache is made, and no attempt has begun to read it.
          onMainStarted: onPhase('reset', 'lane 1', () =>
            fs.rmSync(path.join(suite.dirs.workspace, cacheDir), { recursive: true, force: true }),
          ),
        },
      );
      assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
      assert.equal(run.outputs['reproduced'], 'false');
      assert.notEqual(run.main.exitCode, 0);
      // buildctl skips a local cache whose index.json is gone, with a warning; the steps then run.
      assert.match(run.main.stdout, /::error::.*attempt 1: the imported cache was not used: /);
      assert.equal(run.outputs['attempts'], '1', 'the loop stopped at the first attempt');
      assertNothingLeft(run);
    });
  }

  // The stores on a server of the user's, each checked the same way: its server killed at attempt 2, a wrong
  // key, a pipeline's cache read with create-cache false and left as it was, a name that holds no cache.
  for (const type of ['s3', 'azblob'] as const) {
    const store = OBJECT_STORES[type];
    for (const version of releasesWith(type)) {
      it(`${type} cache, ${version}: its server killed mid-run: the import failed, an error`, async () => {
        const dying = await store.start('dying-store');
        try {
          const run = await suite.act(
            suite.inputs(version, 'rootful', { 'cache-type': type, ...dying.inputs(), retries: '40' }),
            { onMainStarted: onAttempt2(() => dying.stop()) },
          );
          assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
          assert.equal(run.outputs['reproduced'], 'false');
          assert.notEqual(run.main.exitCode, 0);
          assert.match(run.main.stdout, /::error::.*the cache import failed: /);
          assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
          assertNothingLeft(run);
          // The run's part cannot be removed from a dead server: the post step says which, and where.
          assert.ok(
            run.post.stdout.includes(
              `cleanup left what the run wrote to its cache's server, unchecked: ${store.runPart('dying-store', run.state['runId'] ?? '')}`,
            ),
            run.post.stdout,
          );
        } finally {
          dying.stop();
        }
      });

      it(`${type} cache, ${version}: a wrong key: an error naming the store before any build, the key hidden`, async () => {
        const { inputs } = await backendRun(type, version);
        const wrong = store.wrongKey(inputs[store.secretInput] ?? '');
        const run = await suite.act(
          suite.inputs(version, 'rootful', { ...inputs, [store.secretInput]: wrong }),
        );
        assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
        assert.match(run.main.stdout, store.wrongKeyError);
        assert.equal(run.outputs['attempts'], '0');
        assert.doesNotMatch(run.main.stdout, /Create the cache/, 'no build started');
        assertSecretHidden(run, wrong);
        assertNothingLeft(run);
      });

      it(`${type} cache, ${version}: a pipeline's cache imported with create-cache false and kept`, async () => {
        const { inputs } = await backendRun(type, version);
        // The pipeline's cache: a run that only exports it, its containers then removed, its part kept.
        const maker = await suite.act(
          suite.inputs(version, 'rootful', { ...inputs, 'run-attempts': 'false', cleanup: 'false' }),
        );
        assert.equal(maker.main.exitCode, 0, maker.main.stdout);
        const makerId = maker.state['runId'] ?? '';
        await removeRun(new Docker(), makerId);
        const prefix = `lost-layer-${makerId}/`;
        const server = await serverOf(type);
        const made = await server.names(prefix);
        assert.ok(
          made.includes(`${prefix}manifests/latest`),
          `the cache is on the server: ${made.join(', ')}`,
        );
        try {
          const run = await suite.act(
            suite.inputs(version, 'rootless', {
              ...inputs,
              [store.prefixInput]: prefix,
              [store.nameInput]: 'latest',
              'create-cache': 'false',
              retries: '8',
            }),
          );
          assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
          assert.equal(run.outputs['attempts'], '8');
          assert.match(run.main.stdout, /reference: none kept to use/);
          assert.match(run.summary, /cache from an earlier run \(`/);
          assert.ok(run.summary.includes(`${store.place(prefix)}\`)`), run.summary);
          assert.deepEqual(sharedSteps(run), []);
          assertNothingLeft(run);
          assert.deepEqual(await server.names(prefix), made, "the user's cache is read, never removed");
        } finally {
          await server.removeAll(prefix);
        }
      });

      it(`${type} cache, ${version}: create-cache false with no cache at the name given: an error before any build`, async () => {
        const run = await suite.act(
          suite.inputs(version, 'rootful', {
            ...(await backendRun(type, version)).inputs,
            'create-cache': 'false',
            [store.prefixInput]: 'nothing-here/',
          }),
        );
        assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
        assert.ok(run.main.stdout.includes(store.noCache('nothing-here/')), run.main.stdout);
        assert.equal(run.outputs['attempts'], '0');
        assertNothingLeft(run);
      });
    }
  }

  // v0.10.6 speaks API v1, the newest v2; v0.9.0 may lose a layer before the stop, a true verdict.
  for (const version of releasesWith('gha').filter(
    (v) => v === 'v0.10.6' || v === testBed().versions.at(-1),
  )) {
    it(`gha cache, ${version}: its service stopped mid-run: the import failed, an error`, async () => {
      const dying = await GhaCacheServer.start();
      try {
        const run = await suite.act(
          suite.inputs(version, 'rootful', { 'cache-type': 'gha', retries: '40' }),
          {
            env: ghaEnvironment(dying, version),
            onMainStarted: onAttempt2(() => void dying.stop()),
          },
        );
        assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
        assert.notEqual(run.main.exitCode, 0);
        assert.match(run.main.stdout, /::error::.*the cache import failed: /);
        assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
        assertSecretHidden(run, dying.token);
        assertNothingLeft(run);
      } finally {
        await dying.stop();
      }
    });
  }

  for (const version of releasesWith('gha').filter(
    (v) => v === 'v0.9.0' || v === testBed().versions.at(-1),
  )) {
    it(`gha cache, ${version}: a pipeline's cache read with create-cache false and its scope`, async () => {
      const maker = await act('gha', version, 'rootful', { 'run-attempts': 'false', cleanup: 'false' });
      const makerId = maker.state['runId'] ?? '';
      await removeRun(new Docker(), makerId);
      assert.equal(maker.main.exitCode, 0, maker.main.stdout);
      const run = await act('gha', version, 'rootless', {
        'create-cache': 'false',
        'cache-gha-scope': `lost-layer-${makerId}-latest`,
        retries: String(version === 'v0.9.0' ? ATTEMPTS_TO_A_LOSS : 8),
      });
      assert.equal(run.outputs['verdict'], version === 'v0.9.0' ? 'reproduced' : 'clean', run.main.stdout);
      assert.match(run.main.stdout, /reference: none kept to use/);
      assert.equal(sharedSteps(run).length, version === 'v0.9.0' ? 1 : 0);
      assertNothingLeft(run);
    });
  }
});
