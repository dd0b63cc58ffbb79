import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { verdictWithoutLoss } from '../support/ladder.js';
import { leftovers } from '../support/leftovers.js';
import { docker, runIdOf, runningContainers } from '../support/run-watch.js';
import { testBed } from '../../scripts/lib/testbed.js';

/** The releases of the bed's ladder after the fix (v0.9.1, v0.10.6, the newest…). */
const fixedReleases = testBed().versions.filter((v) => v !== 'v0.9.0');

interface Report {
  lanes: number;
  verdict: { kind: string; failedAttempt?: number; cause?: string };
  attempts: {
    attempt: number;
    lane?: number;
    freshState: boolean;
    endedMs: number;
    outcome: { kind: string };
  }[];
}

// Several daemons running attempts at once (parallel), through the bundled action on the test bed.
describe('parallel lanes, end to end on the test bed', () => {
  const suite = BedSuite.open();

  function report(run: ActionRun): Report {
    return JSON.parse(fs.readFileSync(run.outputs['report'] ?? '', 'utf8')) as Report;
  }

  function assertNothingLeft(run: ActionRun): void {
    assert.equal(run.post.exitCode, 0, run.post.stdout + run.post.stderr);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId'] ?? ''}`), []);
  }

  /** Attempts are numbered 1..n with no gap, whatever lane ran them. */
  function assertOneNumbering(attempts: Report['attempts']): void {
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      attempts.map((_, i) => i + 1),
    );
  }

  it('parallel 2 on v0.9.0: reproduced; no attempt started after the first loss', async () => {
    // Stopping at the first loss; 200 attempts at most, so that a miss is far below one in a million.
    const run = await suite.act({ ...suite.inputs('v0.9.0', 'rootful'), parallel: '2', retries: '200' });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    const r = report(run);
    assert.equal(r.lanes, 2);
    assertOneNumbering(r.attempts);
    const failed = Number(run.outputs['failed-attempt']);
    assert.equal(r.attempts.find((a) => a.attempt === failed)?.outcome.kind, 'lost-layer');
    // The loss that ended first stopped the lanes: after it, only the other lane's running attempt ends.
    const first = [...r.attempts]
      .filter((a) => a.outcome.kind === 'lost-layer')
      .sort((a, b) => a.endedMs - b.endedMs)[0];
    const after = r.attempts.filter((a) => first && a.endedMs > first.endedMs);
    assert.ok(after.length <= 1, `${after.length} attempts ended after the first loss`);
    for (const later of after) assert.notEqual(later.lane, first?.lane);
    // Each lane that ran starts from a fresh state (lane 1 always runs; lane 2 unless attempt 1 already lost).
    for (const lane of [1, 2]) {
      const own = r.attempts.filter((a) => a.lane === lane);
      if (lane === 1) assert.ok(own.length > 0);
      if (own.length > 0) assert.equal(own[0]?.freshState, true, `lane ${lane} starts fresh`);
    }
    assert.match(run.summary, /\| Attempt \| Lane \| Fresh state before it \|/);
    assertNothingLeft(run);
  });

  // Every release of the ladder after the fix, the newest too: lanes must not depend on one release.
  for (const version of fixedReleases) {
    it(`parallel 2 on ${version} with keep-going: no layer lost in exactly retries attempts, both lanes used`, async () => {
      const run = await suite.act({
        ...suite.inputs(version, 'rootful'),
        parallel: '2',
        retries: '40',
        'keep-going': 'true',
      });
      assert.equal(run.outputs['verdict'], verdictWithoutLoss(version), run.main.stdout);
      assert.equal(run.outputs['attempts'], '40');
      assert.equal(run.outputs['lost-count'], '0');
      const r = report(run);
      assertOneNumbering(r.attempts);
      const perLane = [1, 2].map((lane) => r.attempts.filter((a) => a.lane === lane));
      assert.ok(
        perLane.every((own) => own.length >= 10),
        perLane.map((own) => own.length).join(' + '),
      );
      // Each lane keeps its own reset schedule: fresh before its 1st, 5th, 9th… attempt.
      for (const own of perLane) {
        assert.deepEqual(
          own.map((a) => a.freshState),
          own.map((_, i) => i % 4 === 0),
        );
      }
      assert.match(run.summary, /0 of 40 attempts lost a layer: the loss rate is below 7\.2%/);
      assertNothingLeft(run);
    });
  }

  it('the default, parallel auto, on v0.9.1: one lane per two cores (1 to 4), no layer lost', async () => {
    const run = await suite.act({ ...suite.inputs('v0.9.1', 'rootful'), parallel: '', retries: '20' });
    assert.equal(run.outputs['verdict'], verdictWithoutLoss('v0.9.1'), run.main.stdout);
    const r = report(run);
    assert.equal(r.lanes, Math.max(1, Math.min(Math.floor(os.availableParallelism() / 2), 4)));
    assertOneNumbering(r.attempts);
    assertNothingLeft(run);
  });

  it('parallel 2 on v0.9.1: one lane’s daemon killed: the run is an error, not clean', async () => {
    let killed = '';
    const run = await suite.act(
      { ...suite.inputs('v0.9.1', 'rootful'), parallel: '2', retries: '200' },
      {
        onMainStarted: (child) =>
          void runIdOf(child, /^attempt 4 /m).then((runId) => {
            // The attempts' daemons (the cache build's, number 1, is gone by now).
            const daemons = runningContainers(runId, /-buildkitd-\d+$/);
            killed = daemons[daemons.length - 1] ?? '';
            if (killed) docker('kill', killed);
          }),
      },
    );
    assert.ok(killed, 'a lane daemon was running');
    assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
    assert.notEqual(run.main.exitCode, 0);
    assert.ok(Number(run.outputs['attempts']) < 200, 'the lanes stopped at the fault');
    assert.match(report(run).verdict.cause ?? '', /^attempt \d+: /);
    assertNothingLeft(run);
  });
});
