import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { leftovers } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { testBed } from '../../scripts/lib/testbed.js';

/**
 * The cache export options on the ladder, through the bundled action: each changes what the cache holds, and
 * none may change the verdict on a release that loses nothing, nor hide a loss on one that does. A zstd or
 * plain cache with force-compression gives the attempts' images its blobs (measured: before the reader took
 * zstd, v0.10.6 and v0.34.2 attempts failed on "layer 1 … is not a gzip tarball"): the reader must read them.
 */
const ATTEMPTS = '8';

describe('cache export options on the ladder', () => {
  const suite = BedSuite.open();

  function assertCleanAndNothingLeft(run: ActionRun, what: string): void {
    assert.equal(run.outputs['verdict'], 'clean', `${what}: ${run.main.stdout}`);
    assert.equal(run.outputs['attempts'], ATTEMPTS);
    assert.equal(run.main.exitCode, 0);
    assert.equal(run.post.exitCode, 0, run.post.stdout);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId']}`), []);
  }

  const withCompression = testBed().versions.filter((v) => semver.gte(v, '0.10.0'));
  for (const version of withCompression) {
    for (const compression of ['zstd', 'uncompressed'] as const) {
      it(`${version}: a ${compression} cache with force-compression: clean`, async () => {
        const run = await suite.act(
          suite.inputs(version, 'rootful', {
            'cache-compression': compression,
            'cache-force-compression': 'true',
            retries: ATTEMPTS,
          }),
        );
        assert.match(
          run.main.stdout,
          new RegExp(`mode=max,compression=${compression},force-compression=true`),
        );
        assertCleanAndNothingLeft(run, `${version} ${compression}`);
      });
    }
  }

  const newest = testBed().versions.at(-1) ?? '';
  it(`${newest}: an image-manifest cache with OCI media types, ignore-error: clean, the cause read from it`, async () => {
    const run = await suite.act(
      suite.inputs(newest, 'rootful', {
        'cache-image-manifest': 'true',
        'cache-oci-mediatypes': 'true',
        'cache-ignore-error': 'true',
        retries: ATTEMPTS,
      }),
    );
    assert.match(run.main.stdout, /mode=max,oci-mediatypes=true,image-manifest=true,ignore-error=true/);
    assert.deepEqual(JSON.parse(run.outputs['cache-shared-results'] ?? 'null'), []);
    assertCleanAndNothingLeft(run, 'image-manifest');
  });

  it('v0.9.0: a mode=min registry cache still loses the COPY layer', async () => {
    const run = await suite.act(
      suite.inputs('v0.9.0', 'rootful', { 'cache-mode': 'min', retries: String(ATTEMPTS_TO_A_LOSS) }),
    );
    assert.equal(run.outputs['verdict'], 'reproduced', run.main.stdout);
    assert.match(run.main.stdout, /lost-layer\/cache:latest,mode=min\)/);
    assert.match(run.summary, /Layer lost: attempt \d+: layer 2 \(COPY repro.txt \/\) gone/);
    assert.equal(run.post.exitCode, 0);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId']}`), []);
  });

  for (const [inputs, named] of [
    [
      { 'cache-compression': 'zstd' },
      /input "cache-buildkit-image": cache-compression needs BuildKit v0\.10\.0 or newer; v0\.9\.1 has no compression attribute/,
    ],
    [
      { 'cache-type': 'inline', 'cache-mode': 'max' },
      /input "cache-mode": max: cache-type inline exports mode min/,
    ],
  ] as const) {
    it(`refuses ${JSON.stringify(inputs)} on v0.9.1 before it creates anything`, async () => {
      const run = await suite.act(suite.inputs('v0.9.1', 'rootful', inputs));
      assert.equal(run.main.exitCode, 1);
      assert.match(run.main.stdout, named);
      assert.equal(run.state['runId'], undefined, 'no run was started');
      assert.deepEqual(run.outputs, {});
    });
  }
});
