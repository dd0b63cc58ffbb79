import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/engine.js';
import { parseSettings } from '../../src/inputs/settings.js';
import { consoleLog, quietRunnerCommands } from '../../src/log.js';
import { bundledRepro, newRunId } from '../../src/paths.js';
import { Docker } from '../../src/services/docker.js';
import { removeRun } from '../../src/services/run-services.js';
import { leftovers } from '../support/leftovers.js';
import { type ReleaseServer, serveReleases } from '../../scripts/lib/release-server.js';
import { bedInputs, type TestBedFacts, testBed } from '../../scripts/lib/testbed.js';

// Proves the bed is real for every version it lists: a cache exported to a registry container, then
// imported by a fresh daemon into a tarball that holds repro.txt — rootful and rootless.
describe('test bed smoke check', () => {
  const bed: TestBedFacts = testBed();
  let releases: ReleaseServer;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-layer-smoke-'));
  process.env['RUNNER_TOOL_CACHE'] = path.join(root, 'tool-cache');
  process.env['RUNNER_TEMP'] = path.join(root, 'temp');

  before(async () => {
    // The engine runs in this process: keep @actions/core's runner commands out of the test report.
    quietRunnerCommands();
    releases = await serveReleases(bed.releasesDir);
  });
  after(() => releases.close());

  for (const version of bed.versions) {
    for (const variant of ['rootful', 'rootless'] as const) {
      it(`${version} ${variant}: export the cache, import it, the tarball holds repro.txt`, async () => {
        const settings = parseSettings(
          {
            ...bedInputs(bed, version, variant, releases.urlTemplate),
            retries: '1',
            'cache-reset-frequency': '1',
          },
          { workspace: root, bundledRepro: bundledRepro() },
        );
        const runId = newRunId();
        const docker = new Docker();
        try {
          const result = await runCheck(settings, {
            runId,
            workDir: path.join(root, runId),
            log: consoleLog(fs.createWriteStream('/dev/null')),
            docker,
            githubApiUrl: releases.origin,
          });
          // The image from the cache holds every layer and file of the reference; v0.9.x marks its
          // history's empty layers on other instructions (config differs), later releases are equal.
          const equal = !version.startsWith('v0.9.');
          assert.equal(
            result.verdict.kind,
            equal ? 'clean' : 'config-differs',
            JSON.stringify(result.verdict),
          );
          assert.equal(result.buildkitVersion, version);
          assert.equal(result.records[0]?.outcome.kind, equal ? 'intact' : 'config-differs');
        } finally {
          await removeRun(docker, runId);
        }
        assert.deepEqual(leftovers(`dev.lost-layer.run=${runId}`), []);
      });
    }
  }
});
