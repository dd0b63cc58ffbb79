import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ActionRun, runAction, type RunnerDirs, runnerDirs } from '../support/action-runner.js';
import { leftovers } from '../support/leftovers.js';
import { type ReleaseServer, serveReleases } from '../support/release-server.js';
import { bedInputs, type TestBedFacts, testBed } from '../support/testbed.js';

// The bundled dist/index.js, run as the runner runs it, against real BuildKit on the test bed.
describe('the action, end to end on the test bed', () => {
  let bed: TestBedFacts;
  let releases: ReleaseServer;
  let dirs: RunnerDirs;
  const catches: string[] = [];

  before(async () => {
    bed = testBed();
    releases = await serveReleases(bed.releasesDir);
    dirs = runnerDirs();
  });
  after(async () => {
    await releases.close();
    if (catches.length > 0) console.log(`v0.9.0 caught at: ${catches.join(', ')}`);
  });

  function assertNothingLeft(run: ActionRun): void {
    assert.ok(run.state['runId'], 'the main step saved its run id for the post step');
    assert.equal(run.post.exitCode, 0, run.post.stdout + run.post.stderr);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId']}`), []);
  }

  function report(run: ActionRun) {
    const file = run.outputs['report'];
    assert.ok(file && fs.existsSync(file), `report output names a file: ${file}`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as {
      verdict: { kind: string };
      buildkitVersion: string;
      attempts: { attempt: number; outcome: { kind: string } }[];
    };
  }

  for (const variant of ['rootful', 'rootless'] as const) {
    it(`v0.9.0 ${variant}: reproduced within 40 attempts, the step fails, nothing is left`, async () => {
      const run = await runAction(
        { ...bedInputs(bed, 'v0.9.0', variant, releases.urlTemplate), retries: '40' },
        dirs,
      );
      assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
      assert.equal(run.main.exitCode, 1, 'fail-on-reproduce fails the step');
      const failed = Number(run.outputs['failed-attempt']);
      assert.ok(failed >= 1 && failed <= 40);
      assert.equal(run.outputs['attempts'], String(failed), 'stops at the first loss');
      assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
      assert.equal(run.outputs['buildkit-version'], 'v0.9.0');
      const attempts = report(run).attempts;
      assert.equal(attempts.length, failed);
      assert.deepEqual(
        attempts.map((a) => a.outcome.kind),
        [...Array<string>(failed - 1).fill('intact'), 'lost'],
      );
      assert.match(run.summary, new RegExp(`Layer lost: attempt ${failed} built an image without repro.txt`));
      assert.match(run.main.stdout, /::error::Layer lost/);
      catches.push(`${variant} attempt ${failed}`);
      assertNothingLeft(run);
    });

    it(`v0.9.1 ${variant}: clean after 40 attempts`, async () => {
      const run = await runAction(
        { ...bedInputs(bed, 'v0.9.1', variant, releases.urlTemplate), retries: '40' },
        dirs,
      );
      assert.equal(run.main.exitCode, 0, run.main.stdout);
      assert.equal(run.outputs['reproduced'], 'false');
      assert.equal(run.outputs['verdict'], 'clean');
      assert.equal(run.outputs['attempts'], '40');
      assert.equal(run.outputs['failed-attempt'], '');
      assert.equal(run.outputs['buildkit-version'], 'v0.9.1');
      const attempts = report(run).attempts;
      assert.equal(attempts.filter((a) => a.outcome.kind === 'intact').length, 40);
      assert.match(run.summary, /No layer lost in 40 attempts/);
      assertNothingLeft(run);
    });
  }

  it('finds buildctl in the tool cache on the second run, and downloads nothing', async () => {
    const downloadsBefore = releases.requests.length;
    assert.ok(downloadsBefore > 0, 'the earlier runs downloaded buildctl from the local server');
    const run = await runAction(
      { ...bedInputs(bed, 'v0.9.1', 'rootful', releases.urlTemplate), retries: '4', 'run-attempts': 'false' },
      dirs,
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.match(run.main.stdout, /buildctl v0\.9\.1: found in the tool cache/);
    assert.equal(releases.requests.length, downloadsBefore);
    assert.equal(run.outputs['verdict'], 'not-run');
    assertNothingLeft(run);
  });

  it('an infrastructure failure is an error, never a lost layer', async () => {
    // A buildkitd flag the daemon refuses: the daemon dies before any attempt can be judged.
    const run = await runAction(
      {
        ...bedInputs(bed, 'v0.9.0', 'rootful', releases.urlTemplate),
        retries: '4',
        'create-cache': 'true',
        'buildkitd-flags': '--no-such-flag',
      },
      dirs,
    );
    assert.equal(run.main.exitCode, 1);
    assert.equal(run.outputs['reproduced'], 'false');
    assert.equal(run.outputs['verdict'], 'error');
    assert.match(run.main.stdout, /::error::No verdict: an infrastructure step failed/);
    assertNothingLeft(run);
  });

  it('rejects bad input before it creates anything', async () => {
    const run = await runAction(
      { ...bedInputs(bed, 'v0.9.0', 'rootful', releases.urlTemplate), retries: 'lots' },
      dirs,
    );
    assert.equal(run.main.exitCode, 1);
    assert.match(run.main.stdout, /::error::input "retries": "lots" is not a whole number/);
    assert.equal(run.state['runId'], undefined, 'no run was started');
    assert.deepEqual(run.outputs, {});
  });
});
