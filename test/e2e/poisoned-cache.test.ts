import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/engine.js';
import type { CacheLocation } from '../../src/backends/backends.js';
import { parseSettings } from '../../src/inputs/settings.js';
import { consoleLog, quietRunnerCommands } from '../../src/log.js';
import type { RunResult } from '../../src/model/run-result.js';
import { bundledRepro, newRunId } from '../../src/paths.js';
import { Docker } from '../../src/services/docker.js';
import { removeRun } from '../../src/services/run-services.js';
import { leftovers } from '../support/leftovers.js';
import { type PoisonResult, poisonLocalCache, poisonRegistryCache } from '../support/poison-cache.js';
import { type ReleaseServer, serveReleases } from '../../scripts/lib/release-server.js';
import { bedInputs, type TestBedFacts, testBed } from '../../scripts/lib/testbed.js';

/*
 * A tampered cache, on every release of the ladder and both backends: between the cache build and the
 * attempts, the cache's COPY layer is replaced by another valid layer (repro.txt with other bytes), every
 * digest, size, diff_id annotation and cache-config entry made consistent, so that BuildKit imports it
 * without complaint (test/support/poison-cache.ts). The image then holds repro.txt, so the old check
 * (expected paths, lost layers) passed it; the run must end in "content differs", naming the layer and the path.
 */
const POISON = { path: 'repro.txt', content: 'not what the Dockerfile copied\n' };

describe('a poisoned cache gives "content differs", never "intact"', () => {
  const bed: TestBedFacts = testBed();
  let releases: ReleaseServer;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-layer-poisoned-'));
  process.env['RUNNER_TOOL_CACHE'] = path.join(root, 'tool-cache');
  process.env['RUNNER_TEMP'] = path.join(root, 'temp');

  before(async () => {
    quietRunnerCommands();
    releases = await serveReleases(bed.releasesDir);
  });
  after(async () => {
    await releases.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function poisonedRun(version: string, cacheType: 'registry' | 'local') {
    const settings = parseSettings(
      {
        ...bedInputs(bed, version, 'rootful', releases.urlTemplate),
        'cache-type': cacheType,
        retries: '8',
        // A fresh state before every attempt: v0.9.0 never loses the layer so (its own bug needs a
        // half-filled local cache), and the first attempt already shows the poisoned layer.
        'cache-reset-frequency': '1',
      },
      { workspace: root, bundledRepro: bundledRepro() },
    );
    const runId = newRunId();
    const docker = new Docker();
    let poisoned: PoisonResult | undefined;
    let result: RunResult;
    try {
      result = await runCheck(settings, {
        runId,
        workDir: path.join(root, runId),
        log: consoleLog(fs.createWriteStream('/dev/null')),
        docker,
        githubApiUrl: releases.origin,
        beforeAttempts: async (cache: CacheLocation) => {
          poisoned =
            cache.kind === 'local'
              ? await poisonLocalCache(cache.dir, POISON)
              : cache.kind === 'registry'
                ? await poisonRegistryCache(cache, POISON)
                : assert.fail(`no poisoning for a ${cache.kind} cache`);
        },
      });
    } finally {
      await removeRun(docker, runId);
    }
    assert.deepEqual(leftovers(`dev.lost-layer.run=${runId}`), []);
    return { result, poisoned };
  }

  for (const version of bed.versions) {
    for (const cacheType of ['registry', 'local'] as const) {
      it(`${version}, ${cacheType} cache: content differs, naming the COPY layer and repro.txt`, async () => {
        const { result, poisoned } = await poisonedRun(version, cacheType);
        assert.ok(poisoned, 'the cache was poisoned before the attempts');
        const { verdict } = result;
        assert.equal(verdict.kind, 'content-differs', JSON.stringify(verdict).slice(0, 600));
        if (verdict.kind !== 'content-differs') return;
        assert.equal(verdict.firstAttempt, 1, 'the first attempt shows it, and the run stops there');
        assert.equal(result.records.length, 1);
        const { difference } = verdict;
        assert.equal(difference.layerRelation, 'differs');
        assert.deepEqual(difference.missingPaths, [], 'repro.txt is there: the old check passed it');
        // The layer: the reference's COPY layer, replaced in its place by the poisoned blob.
        const [change] = difference.layerChanges;
        assert.equal(difference.layerChanges.length, 1, JSON.stringify(difference.layerChanges));
        assert.equal(change?.reference?.createdBy, 'COPY repro.txt /');
        assert.equal(change?.reference?.diffId, poisoned.oldDiffId);
        assert.equal(change?.attempt?.diffId, poisoned.newDiffId);
        assert.equal(change?.attempt?.digest, poisoned.newBlob);
        // The path: repro.txt with other content, and nothing else.
        assert.deepEqual(
          difference.files.map((f) => [f.path, f.change]),
          [['repro.txt', 'content']],
        );
        assert.match(difference.files[0]?.attempt ?? '', new RegExp(`\\(${POISON.content.length} B\\)`));
      });
    }
  }
});
