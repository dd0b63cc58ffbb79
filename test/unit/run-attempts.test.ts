import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runAttempts } from '../../src/attempts/run-attempts.js';
import { decideVerdict } from '../../src/verdict/verdict.js';
import {
  fakeDaemons,
  outcomeOf,
  planOf,
  recordingLog,
  scriptedAttempts,
  sleep,
} from '../support/fake-daemons.js';

/* The retry loop with fake daemons and attempts: its stop, lanes, errors and version probe, without Docker. */

const numbers = (records: readonly { attempt: number }[]) => records.map((r) => r.attempt);
const kinds = (records: readonly { outcome: { kind: string } }[]) => records.map((r) => r.outcome.kind);

describe('runAttempts with fakes', () => {
  it('stops at the first lost layer: no attempt after it', async () => {
    const run = await runAttempts(fakeDaemons(), planOf({ retries: 20 }), recordingLog(), {
      runOneAttempt: scriptedAttempts((n) => ({ kind: n === 6 ? 'lost-layer' : 'config-differs' })),
    });
    assert.deepEqual(numbers(run.records), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(kinds(run.records), [...Array<string>(5).fill('config-differs'), 'lost-layer']);
  });

  it('goes on through config differences (they do not stop the run), stops at content differences', async () => {
    const run = await runAttempts(fakeDaemons(), planOf({ retries: 10 }), recordingLog(), {
      runOneAttempt: scriptedAttempts((n) => ({ kind: n === 8 ? 'content-differs' : 'config-differs' })),
    });
    assert.deepEqual(numbers(run.records), [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('stops at the classes the plan names instead (the minimizer: its own class only)', async () => {
    const run = await runAttempts(
      fakeDaemons(),
      planOf({ retries: 10, stopOn: ['config-differs'] }),
      recordingLog(),
      {
        runOneAttempt: scriptedAttempts((n) => ({
          kind: n === 2 ? 'lost-layer' : n === 5 ? 'config-differs' : 'intact',
        })),
      },
    );
    assert.deepEqual(numbers(run.records), [1, 2, 3, 4, 5]);
  });

  it('with keep-going runs exactly retries attempts in two lanes, one numbering, no gap', async () => {
    const run = await runAttempts(
      fakeDaemons(),
      planOf({ retries: 16, lanes: 2, keepGoing: true }),
      recordingLog(),
      {
        runOneAttempt: scriptedAttempts((n) => ({
          kind: n % 3 === 0 ? 'lost-layer' : 'intact',
          ms: 1 + (n % 4),
        })),
      },
    );
    assert.deepEqual(
      numbers(run.records),
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    assert.deepEqual(new Set(run.records.map((r) => r.lane)), new Set([1, 2]));
  });

  it('starts no attempt after the first loss, also in a lane that was resetting when it came', async () => {
    // Lane 2 resets before every attempt, slowly; lane 1's attempt 3 loses while lane 2 prunes.
    const startedAfterLoss: number[] = [];
    let lost = false;
    const script = scriptedAttempts((n) => ({
      kind: n === 3 ? 'lost-layer' : 'intact',
      ms: n === 3 ? 20 : 5,
    }));
    const run = await runAttempts(
      fakeDaemons({ pruneMs: 40 }),
      planOf({ retries: 40, lanes: 2, cacheResetFrequency: 1 }),
      recordingLog(),
      {
        runOneAttempt: async (daemon, plan, attempt, config) => {
          if (lost) startedAfterLoss.push(attempt);
          const outcome = await script(daemon, plan, attempt, config);
          if (outcome.kind === 'lost-layer') lost = true;
          return outcome;
        },
      },
    );
    assert.ok(run.records.some((r) => r.outcome.kind === 'lost-layer'));
    assert.deepEqual(startedAfterLoss, [], `attempts started after the loss: ${startedAfterLoss.join(', ')}`);
    // Every number taken is a record: the lane that was resetting took none after the stop.
    assert.deepEqual(
      numbers(run.records),
      Array.from({ length: run.records.length }, (_, i) => i + 1),
    );
  });

  it('stops every lane at an attempt that cannot be judged, also with keep-going', async () => {
    let errored = false;
    const startedAfter: number[] = [];
    const script = scriptedAttempts((n) => ({ kind: n === 4 ? 'error' : 'intact', ms: 5 }));
    const run = await runAttempts(
      fakeDaemons(),
      planOf({ retries: 100, lanes: 2, keepGoing: true }),
      recordingLog(),
      {
        runOneAttempt: async (daemon, plan, attempt, config) => {
          if (errored) startedAfter.push(attempt);
          const outcome = await script(daemon, plan, attempt, config);
          if (outcome.kind === 'error') errored = true;
          return outcome;
        },
      },
    );
    assert.deepEqual(startedAfter, []);
    assert.ok(run.records.length < 10, `${run.records.length} attempts`);
  });

  it('keeps every record of every lane when a lane throws: a loss found stays a loss', async () => {
    const log = recordingLog();
    const run = await runAttempts(fakeDaemons(), planOf({ retries: 40, lanes: 2, keepGoing: true }), log, {
      runOneAttempt: scriptedAttempts((n) => ({
        kind: n === 2 ? 'lost-layer' : 'intact',
        ms: 3,
        ...(n === 7 ? { throws: 'ENOSPC: no space left on device' } : {}),
      })),
    });
    assert.ok(
      run.records.some((r) => r.outcome.kind === 'lost-layer'),
      'the loss is kept',
    );
    assert.ok(run.records.length >= 5, `records kept: ${run.records.length}`);
    assert.equal(run.laneErrors.length, 1);
    assert.match(run.laneErrors[0] ?? '', /^lane [12]: ENOSPC: no space left on device$/);
    assert.ok(
      log.warnings.some((w) => w.includes('ENOSPC')),
      'the lane error is logged',
    );
    const verdict = decideVerdict({
      plannedAttempts: 40,
      runAttempts: true,
      records: run.records,
      setupError: run.laneErrors.join('; '),
    });
    assert.equal(verdict.kind, 'reproduced');
  });

  it('stops the other lanes as soon as a lane throws, before that lane cleans up', async () => {
    let threw = false;
    const startedAfter: number[] = [];
    // Removing a daemon takes long: a stop set only after the failing lane's cleanup would let the other
    // lane take many attempts meanwhile.
    await runAttempts(
      fakeDaemons({ stopMs: 300 }),
      planOf({ retries: 200, lanes: 2, keepGoing: true }),
      recordingLog(),
      {
        runOneAttempt: async (daemon, plan, attempt, config) => {
          if (threw) startedAfter.push(attempt);
          await sleep(5);
          if (attempt === 4) {
            threw = true;
            throw new Error('unexpected');
          }
          return scriptedAttempts(() => ({ kind: 'intact' }))(daemon, plan, attempt, config);
        },
      },
    );
    assert.deepEqual(startedAfter, []);
  });

  it('records an attempt that throws as an error under its own number: no gap, no lost count', async () => {
    const run = await runAttempts(fakeDaemons(), planOf({ retries: 10 }), recordingLog(), {
      runOneAttempt: scriptedAttempts((n) => ({ kind: 'intact', ...(n === 3 ? { throws: 'EIO' } : {}) })),
    });
    assert.deepEqual(numbers(run.records), [1, 2, 3]);
    const outcome = run.records[2]?.outcome;
    assert.equal(outcome?.kind === 'error' && outcome.cause, 'the attempt failed unexpectedly: EIO');
    assert.deepEqual(run.laneErrors, ['lane 1: EIO']);
  });

  it('a reset that fails after the stop is no attempt of the run', async () => {
    // Lane 1's attempt 1 loses after 20 ms; lane 2's attempt 2 ends at once, then its prune fails at 30 ms.
    const log = recordingLog();
    const run = await runAttempts(
      fakeDaemons({ pruneMs: 30, pruneFails: (container) => container === 'd2' }),
      planOf({ retries: 10, lanes: 2, cacheResetFrequency: 1 }),
      log,
      {
        runOneAttempt: scriptedAttempts((n) => ({
          kind: n === 1 ? 'lost-layer' : 'intact',
          ms: n === 1 ? 20 : 1,
        })),
      },
    );
    assert.deepEqual(kinds(run.records), ['lost-layer', 'intact']);
    assert.ok(
      log.warnings.some((w) =>
        /^lane 2 after the last attempt: resetting buildkitd's state failed: prune/.test(w),
      ),
    );
    assert.equal(
      decideVerdict({ plannedAttempts: 10, runAttempts: true, records: run.records }).kind,
      'reproduced',
    );
  });

  it('compares no config for a tar output, and says why', async () => {
    const run = await runAttempts(fakeDaemons(), planOf({ retries: 1, outputType: 'tar' }), recordingLog(), {
      runOneAttempt: async (_d, _p, _n, config) => {
        assert.equal(config.compared, false);
        return Promise.resolve(outcomeOf('intact'));
      },
    });
    assert.deepEqual(run.configComparison, { compared: false, reason: 'a tar output holds no image config' });
  });

  it('logs and keeps the error of every lane that throws, not only the first', async () => {
    const log = recordingLog();
    const run = await runAttempts(
      fakeDaemons(),
      planOf({ retries: 40, lanes: 2, cacheResetFrequency: 2 }),
      log,
      {
        runOneAttempt: scriptedAttempts((n) => ({
          kind: 'intact',
          ms: 10,
          ...(n <= 2 ? { throws: `broken ${n}` } : {}),
        })),
      },
    );
    assert.deepEqual(run.laneErrors.sort(), ['lane 1: broken 1', 'lane 2: broken 2'].sort());
    assert.equal(log.warnings.filter((w) => /broken [12]/.test(w)).length, 2);
    const verdict = decideVerdict({
      plannedAttempts: 40,
      runAttempts: true,
      records: run.records,
      setupError: run.laneErrors.join('; '),
    });
    assert.equal(verdict.kind, 'error');
  });

  it('names a failing version probe as such, and keeps the daemon logs', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-attempts-'));
    try {
      const run = await runAttempts(
        fakeDaemons({ versionFails: true }),
        planOf({ workDir }),
        recordingLog(),
        {
          runOneAttempt: scriptedAttempts(() => ({ kind: 'intact' })),
        },
      );
      assert.deepEqual(kinds(run.records), ['error']);
      const outcome = run.records[0]?.outcome;
      assert.equal(
        outcome?.kind === 'error' && outcome.cause,
        'asking buildkitd d1 for its version failed: connection refused',
      );
      assert.deepEqual(run.daemonLogFiles, [path.join(workDir, 'd1.log')]);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('asks the version once and compares config only when the reference came from that release', async () => {
    const seen: boolean[] = [];
    const daemons = fakeDaemons({ version: 'v0.9.1' });
    const run = await runAttempts(
      daemons,
      planOf({ retries: 8, referenceVersion: 'v0.10.6' }),
      recordingLog(),
      {
        runOneAttempt: async (_d, _p, _n, config) => {
          seen.push(config.compared);
          return Promise.resolve(outcomeOf('intact'));
        },
      },
    );
    assert.equal(daemons.events.filter((e) => e.startsWith('version')).length, 1);
    assert.equal(run.buildkitVersion, 'v0.9.1');
    assert.deepEqual(seen, Array<boolean>(8).fill(false));
    assert.match(
      run.configComparison?.compared === false ? run.configComparison.reason : '',
      /v0\.10\.6 .* v0\.9\.1/,
    );
    const same = await runAttempts(
      fakeDaemons({ version: 'v0.9.1' }),
      planOf({ retries: 2, referenceVersion: 'v0.9.1' }),
      recordingLog(),
      {
        runOneAttempt: scriptedAttempts(() => ({ kind: 'intact' })),
      },
    );
    assert.deepEqual(same.configComparison, { compared: true });
  });

  it('a daemon older than the cache backend (its tag named no release): attempt 1 is an error, nothing is built', async () => {
    let built = 0;
    const run = await runAttempts(
      fakeDaemons({ version: 'v0.3.3' }),
      planOf({ retries: 4, cacheType: 'inline' }),
      recordingLog(),
      {
        runOneAttempt: () => {
          built += 1;
          return Promise.resolve(outcomeOf('intact'));
        },
      },
    );
    assert.equal(built, 0);
    assert.equal(run.records.length, 1, 'the run stops at the error');
    const outcome = run.records[0]?.outcome;
    assert.equal(outcome?.kind, 'error');
    assert.match(
      outcome?.kind === 'error' ? outcome.cause : '',
      /buildkit:test: cache-type inline needs BuildKit v0\.4\.0 or newer; v0\.3\.3 has none/,
    );
  });

  it('resets as the policy says: prune on the running daemon, a new one with restart', async () => {
    const prune = fakeDaemons();
    await runAttempts(prune, planOf({ retries: 9, cacheResetFrequency: 4 }), recordingLog(), {
      runOneAttempt: scriptedAttempts(() => ({ kind: 'intact' })),
    });
    assert.deepEqual(
      prune.events.filter((e) => !e.startsWith('version')),
      ['start d1', 'prune d1', 'prune d1', 'stop d1'],
    );
    const restart = fakeDaemons();
    await runAttempts(
      restart,
      planOf({ retries: 9, cacheResetFrequency: 4, cacheResetMode: 'restart' }),
      recordingLog(),
      {
        runOneAttempt: scriptedAttempts(() => ({ kind: 'intact' })),
      },
    );
    const starts = restart.events.filter((e) => e.startsWith('start'));
    assert.deepEqual(starts, ['start d1', 'start d2', 'start d3']);
    const run = await runAttempts(
      fakeDaemons(),
      planOf({ retries: 9, cacheResetFrequency: 4, cacheResetMode: 'restart' }),
      recordingLog(),
      {
        runOneAttempt: scriptedAttempts(() => ({ kind: 'intact' })),
      },
    );
    assert.deepEqual(
      run.records.map((r) => r.daemon),
      ['d1', 'd1', 'd1', 'd1', 'd2', 'd2', 'd2', 'd2', 'd3'],
    );
    assert.deepEqual(restart.events.filter((e) => e.startsWith('stop')).sort(), [
      'stop d1',
      'stop d2',
      'stop d3',
    ]);
  });

  it('keeps the output of the lowest-numbered attempt of a class, also when a later one ends first', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-attempts-'));
    try {
      const run = await runAttempts(
        fakeDaemons(),
        planOf({ retries: 4, lanes: 2, keepGoing: true, workDir, cacheResetFrequency: 2 }),
        recordingLog(),
        {
          runOneAttempt: async (_d, _p, n) => {
            const output = path.join(workDir, `attempt-${n}.oci.tar`);
            fs.writeFileSync(output, 'x');
            await sleep(n === 1 ? 60 : 5);
            return outcomeOf('config-differs', output);
          },
        },
      );
      const kept = run.records.filter((r) => 'output' in r.outcome && r.outcome.output !== '');
      assert.deepEqual(
        kept.map((r) => r.attempt),
        [1],
      );
      assert.deepEqual(fs.readdirSync(workDir), ['attempt-1.oci.tar']);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('keeps the output of the first attempt of each class only', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-attempts-'));
    try {
      const run = await runAttempts(
        fakeDaemons(),
        planOf({ retries: 4, keepGoing: true, workDir }),
        recordingLog(),
        {
          runOneAttempt: async (_d, _p, n) => {
            const output = path.join(workDir, `attempt-${n}.oci.tar`);
            fs.writeFileSync(output, 'x');
            await sleep(1);
            return outcomeOf(n === 4 ? 'lost-layer' : 'config-differs', output);
          },
        },
      );
      const outputs = run.records.map((r) => ('output' in r.outcome ? r.outcome.output : undefined));
      assert.deepEqual(outputs, [
        path.join(workDir, 'attempt-1.oci.tar'),
        '',
        '',
        path.join(workDir, 'attempt-4.oci.tar'),
      ]);
      assert.deepEqual(fs.readdirSync(workDir).sort(), ['attempt-1.oci.tar', 'attempt-4.oci.tar']);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
