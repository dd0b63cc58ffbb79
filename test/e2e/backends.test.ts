import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { verdictWithoutLoss } from '../support/ladder.js';
import { assertNothingLeft } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { docker, onAttempt2 } from '../support/run-watch.js';
import { CACHE_BACKENDS, CACHE_TYPES } from '../../src/backends/backends.js';
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

describe('every cache backend on the ladder', () => {
  const caught: string[] = [];
  const suite = BedSuite.open(() => console.log(caught.map((c) => `backend: ${c}`).join('\n')));

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
            const run = await suite.act(
              suite.inputs(version, variant, { 'cache-type': type, retries: String(ATTEMPTS_TO_A_LOSS) }),
            );
            assert.equal(run.outputs['verdict'], 'reproduced', run.main.stdout);
            assert.equal(run.outputs['reproduced'], 'true');
            assert.equal(run.main.exitCode, 1);
            assert.equal(run.outputs['attempts'], run.outputs['failed-attempt'], 'stops at the first loss');
            assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
            assert.match(run.summary, /Layer lost: attempt \d+: layer 2 \(COPY repro.txt \/\) gone/);
            assert.match(run.summary, new RegExp(`${type} cache, fresh buildkitd state`));
            assert.deepEqual(sharedSteps(run), [['COPY repro.txt /', 'RUN echo 2']]);
            caught.push(`${type} v0.9.0 ${variant} at attempt ${run.outputs['failed-attempt']}`);
            assertNothingLeft(run);
          });
          continue;
        }
        const expected = verdictWithoutLoss(version);
        it(`${type} cache, ${version} ${variant}: no layer lost in ${FIXED_ATTEMPTS} attempts; ${expected}`, async () => {
          const run = await suite.act(
            suite.inputs(version, variant, { 'cache-type': type, retries: String(FIXED_ATTEMPTS) }),
          );
          assert.equal(run.outputs['reproduced'], 'false', run.main.stdout);
          assert.equal(run.outputs['verdict'], expected, run.main.stdout);
          assert.equal(run.outputs['attempts'], String(FIXED_ATTEMPTS));
          const classes = JSON.parse(run.outputs['classes'] ?? '') as Record<string, number>;
          assert.equal(classes[expected === 'clean' ? 'intact' : 'config-differs'], FIXED_ATTEMPTS);
          assert.equal(run.main.exitCode, expected === 'clean' ? 0 : 1);
          // The exporter's half of the bug lasted until v0.10, whichever backend carries the cache.
          assert.equal(sharedSteps(run).length, semver.lt(version, '0.10.0') ? 1 : 0);
          assertNothingLeft(run);
        });
      }
    }
  }

  for (const version of releasesWith('inline').filter((v) => v !== 'v0.9.0')) {
    it(`inline cache, ${version}: the registry holding the image killed mid-run: the import failed, an error`, async () => {
      const run = await suite.act(
        suite.inputs(version, 'rootful', { 'cache-type': 'inline', retries: '40' }),
        {
          onMainStarted: onAttempt2((daemon) => docker('kill', daemon.replace(/-buildkitd-2$/, '-cache'))),
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
    it(`local cache, ${version}: its folder removed mid-run: an error naming the import or the unused cache`, async () => {
      const cacheDir = `cache-removed-${version}`;
      const run = await suite.act(
        suite.inputs(version, 'rootful', { 'cache-type': 'local', 'cache-dir': cacheDir, retries: '40' }),
        {
          onMainStarted: onAttempt2(() =>
            fs.rmSync(path.join(suite.dirs.workspace, cacheDir), { recursive: true, force: true }),
          ),
        },
      );
      assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
      assert.equal(run.outputs['reproduced'], 'false');
      assert.notEqual(run.main.exitCode, 0);
      // Older releases fail the import; newer ones go on without the cache, and the steps that ran say so.
      assert.match(
        run.main.stdout,
        /::error::.*(the cache import failed: |the imported cache was not used: )/,
      );
      assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
      assertNothingLeft(run);
    });
  }
});
