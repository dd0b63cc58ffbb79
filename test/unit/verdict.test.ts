import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideVerdict, failingClasses, measuredLossRate } from '../../src/verdict/verdict.js';
import { classify } from '../../src/verdict/classify.js';
import type { ClassCounts } from '../../src/model/classes.js';
import type { AttemptOutcome, AttemptRecord } from '../../src/model/attempt.js';
import type { Verdict } from '../../src/model/verdict.js';
import { verdictLine } from '../../src/model/wording.js';
import { differenceOf } from '../support/fake-daemons.js';

const record = (attempt: number, outcome: AttemptOutcome): AttemptRecord => ({
  attempt,
  freshState: attempt % 4 === 1,
  resetMs: attempt % 4 === 1 ? 400 : 0,
  durationMs: 1000 + attempt,
  outcome,
});
const intact = (attempt: number) => record(attempt, { kind: 'intact' });
const difference = differenceOf;
const lost = (attempt: number, missingPaths: string[]) =>
  record(attempt, {
    kind: 'lost-layer',
    difference: difference({ layerRelation: 'strict-subsequence', missingPaths }),
    output: `/tmp/attempt-${attempt}.oci.tar`,
  });
const differs = (attempt: number, kind: 'content-differs' | 'config-differs') =>
  record(attempt, { kind, difference: difference(), output: '' });
const counts = (fields: Partial<ClassCounts> = {}): ClassCounts => ({
  'lost-layer': 0,
  'content-differs': 0,
  'config-differs': 0,
  intact: 0,
  ...fields,
});
const failed = (attempt: number, cause: string) => record(attempt, { kind: 'error', cause });
const intactRun = (n: number) => Array.from({ length: n }, (_, i) => intact(i + 1));

describe('decideVerdict', () => {
  it('reports the first lost record as reproduced', () => {
    const records = [...intactRun(9), lost(10, ['repro.txt']), lost(11, ['other.txt'])];
    assert.deepEqual(decideVerdict({ plannedAttempts: 20, runAttempts: true, records }), {
      kind: 'reproduced',
      failedAttempt: 10,
      missingPaths: ['repro.txt'],
      lostLayers: [],
      lostCount: 2,
      attemptsRun: 11,
      classes: counts({ 'lost-layer': 2, intact: 9 }),
    });
  });

  it('keeps the most severe class seen, and counts every class', () => {
    const records = [differs(1, 'config-differs'), differs(2, 'content-differs'), lost(3, []), intact(4)];
    const verdict = decideVerdict({ plannedAttempts: 4, runAttempts: true, records });
    assert.equal(verdict.kind, 'reproduced');
    const noLoss = decideVerdict({
      plannedAttempts: 4,
      runAttempts: true,
      records: records.filter((r) => r.attempt !== 3),
    });
    assert.equal(noLoss.kind, 'content-differs');
    assert.ok(noLoss.kind === 'content-differs');
    assert.equal(noLoss.firstAttempt, 2);
    assert.deepEqual(noLoss.classes, counts({ 'content-differs': 1, 'config-differs': 1, intact: 1 }));
    const configOnly = decideVerdict({
      plannedAttempts: 2,
      runAttempts: true,
      records: [intact(1), differs(2, 'config-differs')],
    });
    assert.equal(configOnly.kind, 'config-differs');
  });

  it('keeps a content difference found before an error: it is certain, and would have ended the run', () => {
    const verdict = decideVerdict({
      plannedAttempts: 5,
      runAttempts: true,
      records: [differs(1, 'content-differs'), failed(2, 'daemon gone')],
      setupError: 'lane 2: ENOSPC',
    });
    assert.equal(verdict.kind, 'content-differs');
  });

  it('gives an error, not config-differs, when an error cut short a run that only differed in config', () => {
    // Config differences do not stop the attempts: the run was still looking for a lost layer.
    const cut = decideVerdict({
      plannedAttempts: 40,
      runAttempts: true,
      records: [
        differs(1, 'config-differs'),
        differs(2, 'config-differs'),
        failed(3, 'the cache import failed'),
      ],
    });
    assert.ok(cut.kind === 'error');
    assert.equal(cut.cause, 'attempt 3: the cache import failed');
    assert.equal(cut.classes['config-differs'], 2, 'the differences seen are still counted');
    const laneError = decideVerdict({
      plannedAttempts: 40,
      runAttempts: true,
      records: [differs(1, 'config-differs')],
      setupError: 'lane 2: ENOSPC',
    });
    assert.equal(laneError.kind, 'error');
    const short = decideVerdict({
      plannedAttempts: 4,
      runAttempts: true,
      records: [differs(1, 'config-differs')],
    });
    assert.ok(short.kind === 'error' && /only 1 of 4/.test(short.cause));
    const whole = decideVerdict({
      plannedAttempts: 2,
      runAttempts: true,
      records: [differs(1, 'config-differs'), intact(2)],
    });
    assert.equal(whole.kind, 'config-differs');
  });

  it('reports a loss even when an error came later or a set-up error is given', () => {
    const records = [intact(1), lost(2, ['a', 'b']), failed(3, 'daemon gone')];
    const verdict = decideVerdict({
      plannedAttempts: 5,
      runAttempts: true,
      records,
      setupError: 'cleanup failed',
    });
    assert.equal(verdict.kind, 'reproduced');
    assert.ok(verdict.kind === 'reproduced');
    assert.equal(verdict.failedAttempt, 2);
    assert.deepEqual(verdict.missingPaths, ['a', 'b']);
    assert.equal(verdict.attemptsRun, 3);
  });

  it('reports a loss that follows an errored attempt', () => {
    const verdict = decideVerdict({
      plannedAttempts: 5,
      runAttempts: true,
      records: [failed(1, 'x'), lost(2, ['repro.txt'])],
    });
    assert.equal(verdict.kind, 'reproduced');
  });

  it('gives an error with the set-up cause when there is no loss', () => {
    assert.deepEqual(
      decideVerdict({
        plannedAttempts: 20,
        runAttempts: true,
        records: [],
        setupError: 'docker is not running',
      }),
      { kind: 'error', cause: 'docker is not running', attemptsRun: 0, classes: counts() },
    );
    const afterAttempts = decideVerdict({
      plannedAttempts: 3,
      runAttempts: true,
      records: intactRun(3),
      setupError: 'late failure',
    });
    assert.deepEqual(afterAttempts, {
      kind: 'error',
      cause: 'late failure',
      attemptsRun: 3,
      classes: counts({ intact: 3 }),
    });
  });

  it('gives an error for a set-up failure even when no attempts were asked for', () => {
    const verdict = decideVerdict({
      plannedAttempts: 20,
      runAttempts: false,
      records: [],
      setupError: 'no cache',
    });
    assert.equal(verdict.kind, 'error');
  });

  it('gives an error naming the attempt that errored', () => {
    const verdict = decideVerdict({
      plannedAttempts: 20,
      runAttempts: true,
      records: [...intactRun(6), failed(7, 'buildctl build exited 1: boom')],
    });
    assert.deepEqual(verdict, {
      kind: 'error',
      cause: 'attempt 7: buildctl build exited 1: boom',
      attemptsRun: 7,
      classes: counts({ intact: 6 }),
    });
  });

  it('names every attempt that errored, not only the first', () => {
    const verdict = decideVerdict({
      plannedAttempts: 20,
      runAttempts: true,
      records: [intact(1), failed(2, 'daemon gone'), failed(3, 'disk full')],
    });
    assert.ok(verdict.kind === 'error');
    assert.equal(verdict.cause, 'attempt 2: daemon gone; and 1 more: attempt 3: disk full');
  });

  it('is clean only when every planned attempt is intact', () => {
    assert.deepEqual(decideVerdict({ plannedAttempts: 20, runAttempts: true, records: intactRun(20) }), {
      kind: 'clean',
      attemptsRun: 20,
      classes: counts({ intact: 20 }),
    });
  });

  it('gives an error when fewer attempts than planned were intact', () => {
    const verdict = decideVerdict({ plannedAttempts: 20, runAttempts: true, records: intactRun(12) });
    assert.equal(verdict.kind, 'error');
    assert.ok(verdict.kind === 'error');
    assert.match(verdict.cause, /only 12 of 20/);
    assert.equal(verdict.attemptsRun, 12);
    const none = decideVerdict({ plannedAttempts: 20, runAttempts: true, records: [] });
    assert.ok(none.kind === 'error' && /only 0 of 20/.test(none.cause), JSON.stringify(none));
  });

  it('is not-run when attempts were not asked for and nothing failed', () => {
    assert.deepEqual(decideVerdict({ plannedAttempts: 20, runAttempts: false, records: [] }), {
      kind: 'not-run',
    });
  });
});

describe('verdictLine', () => {
  it('names the failed attempt and the missing paths', () => {
    const line = verdictLine({
      kind: 'reproduced',
      failedAttempt: 10,
      missingPaths: ['repro.txt', 'etc/x'],
      lostLayers: [],
      lostCount: 1,
      attemptsRun: 10,
      classes: counts({ 'lost-layer': 1, intact: 9 }),
    });
    assert.match(line, /attempt 10\b/);
    assert.ok(line.includes('repro.txt'), line);
    assert.ok(line.includes('etc/x'), line);
    assert.match(line, /lost/i);
  });

  it('names the lost layer by position and instruction, and counts the losses of a run that kept going', () => {
    const layer = {
      position: 2,
      digest: 'sha256:61f7',
      diffId: 'sha256:c04d',
      size: 177,
      files: 1,
      createdBy: 'COPY repro.txt /',
    };
    const line = verdictLine({
      kind: 'reproduced',
      failedAttempt: 3,
      missingPaths: ['repro.txt'],
      lostLayers: [layer],
      lostCount: 7,
      attemptsRun: 40,
      classes: counts({ 'lost-layer': 7, 'config-differs': 33 }),
    });
    assert.equal(
      line,
      'Layer lost: attempt 3: layer 2 (COPY repro.txt /) gone; repro.txt missing (of 40 attempts: 7 lost a layer, 33 config differs)',
    );
  });

  it('tells how many attempts a clean run made', () => {
    const line = verdictLine({ kind: 'clean', attemptsRun: 37, classes: counts({ intact: 37 }) });
    assert.match(line, /\b37 attempts\b/);
    assert.match(line, /every image equals the reference/i);
  });

  it('carries the cause of an error', () => {
    assert.ok(
      verdictLine({
        kind: 'error',
        cause: 'attempt 3: daemon gone',
        attemptsRun: 3,
        classes: counts(),
      }).includes('attempt 3: daemon gone'),
    );
  });

  it('says so when no attempts were run', () => {
    assert.match(verdictLine({ kind: 'not-run' }), /no attempts were run/i);
  });

  it('gives each kind a different line', () => {
    const verdicts: Verdict[] = [
      {
        kind: 'reproduced',
        failedAttempt: 1,
        missingPaths: ['a'],
        lostLayers: [],
        lostCount: 1,
        attemptsRun: 1,
        classes: counts({ 'lost-layer': 1 }),
      },
      {
        kind: 'content-differs',
        firstAttempt: 1,
        difference: difference(),
        attemptsRun: 1,
        classes: counts(),
      },
      {
        kind: 'config-differs',
        firstAttempt: 1,
        difference: difference(),
        attemptsRun: 1,
        classes: counts(),
      },
      { kind: 'clean', attemptsRun: 1, classes: counts({ intact: 1 }) },
      { kind: 'error', cause: 'a', attemptsRun: 1, classes: counts() },
      { kind: 'not-run' },
    ];
    assert.equal(new Set(verdicts.map(verdictLine)).size, verdicts.length);
  });
});

describe('measuredLossRate', () => {
  const lostRecord = (attempt: number) => lost(attempt, ['repro.txt']);
  const rate = (records: AttemptRecord[], planned: number, keptGoing = true) =>
    measuredLossRate(
      decideVerdict({ plannedAttempts: planned, runAttempts: true, records }),
      keptGoing,
      records,
      planned,
    );

  it('keep-going through every planned attempt: the rate over all of them', () => {
    const records = [intact(1), lostRecord(2), intact(3), lostRecord(4)];
    assert.deepEqual([rate(records, 4)?.lost, rate(records, 4)?.attempts], [2, 4]);
  });

  it('keep-going that ended in an error: no rate, the errored attempt is no "not lost"', () => {
    const records = [intact(1), lostRecord(2), failed(3, 'daemon gone')];
    assert.equal(decideVerdict({ plannedAttempts: 40, runAttempts: true, records }).kind, 'reproduced');
    assert.equal(rate(records, 40), undefined);
    assert.equal(rate(records, 3), undefined);
  });

  it('a run that stopped at its first loss: no rate; a clean run: the rate of 0 with its bound', () => {
    assert.equal(rate([intact(1), lostRecord(2)], 40, false), undefined);
    assert.equal(rate([intact(1), intact(2)], 2)?.lost, 0);
  });

  it('a whole run of config differences (they never stop it): the lost-layer rate of 0', () => {
    const records = [differs(1, 'config-differs'), differs(2, 'config-differs')];
    assert.deepEqual([rate(records, 2, false)?.lost, rate(records, 2, false)?.attempts], [0, 2]);
  });
});

describe('classify', () => {
  it('a strict subsequence with a layer whose content is gone: lost-layer', () => {
    const layer = { position: 2, digest: 'a', diffId: 'b', size: 1, files: 1, createdBy: 'COPY x /' };
    assert.equal(
      classify(difference({ layerRelation: 'strict-subsequence', lostLayers: [layer] })),
      'lost-layer',
    );
  });

  it('a strict subsequence that only dropped a duplicate: content-differs', () => {
    assert.equal(classify(difference({ layerRelation: 'strict-subsequence' })), 'content-differs');
  });

  it('other layers, or a tar output with other files: content-differs; a tar output missing a path: lost-layer', () => {
    assert.equal(classify(difference({ layerRelation: 'differs' })), 'content-differs');
    const file = { path: 'a', change: 'content' as const, reference: 'x', attempt: 'y' };
    assert.equal(classify(difference({ layerRelation: 'not-compared', files: [file] })), 'content-differs');
    assert.equal(classify(difference({ layerRelation: 'not-compared', missingPaths: ['a'] })), 'lost-layer');
  });

  it('equal layers with config or history changes: config-differs; nothing: intact', () => {
    const change = { field: 'Env', reference: '["A=1"]', attempt: '["A=2"]' };
    assert.equal(classify(difference({ config: [change] })), 'config-differs');
    assert.equal(classify(difference()), 'intact');
  });
});

describe('failingClasses', () => {
  it('fails on the classes fail-on names that the run saw, and on nothing else', () => {
    const verdict = decideVerdict({
      plannedAttempts: 3,
      runAttempts: true,
      records: [differs(1, 'config-differs'), lost(2, []), intact(3)],
    });
    assert.deepEqual(failingClasses(verdict, ['lost-layer', 'content-differs', 'config-differs']), [
      'lost-layer',
      'config-differs',
    ]);
    assert.deepEqual(failingClasses(verdict, ['content-differs']), []);
    assert.deepEqual(failingClasses(verdict, []), []);
  });
});
