import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resetsBefore } from '../../src/attempts/reset-policy.js';
import { lanesFor } from '../../src/attempts/lanes.js';
import { usableLanes } from '../../src/attempts/run-attempts.js';

const attemptsWithReset = (attempts: number, frequency: number): number[] =>
  Array.from({ length: attempts }, (_, i) => i + 1).filter((attempt) => resetsBefore(attempt, frequency));

describe('resetsBefore', () => {
  it('with frequency 4 resets before attempts 1, 5, 9, 13 and 17', () => {
    assert.deepEqual(attemptsWithReset(20, 4), [1, 5, 9, 13, 17]);
    for (const attempt of [2, 3, 4, 6, 8, 10, 20])
      assert.equal(resetsBefore(attempt, 4), false, `attempt ${attempt}`);
  });

  it('with frequency 0 resets only before attempt 1', () => {
    assert.deepEqual(attemptsWithReset(50, 0), [1]);
  });

  it('with frequency 1 resets before every attempt', () => {
    assert.deepEqual(attemptsWithReset(12, 1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('with frequency 3 resets before 1, 4, 7 and 10', () => {
    assert.deepEqual(attemptsWithReset(10, 3), [1, 4, 7, 10]);
  });

  it('counts 5 resets over 20 attempts with frequency 4', () => {
    assert.equal(attemptsWithReset(20, 4).length, 5);
  });

  it('always resets before attempt 1, whatever the frequency', () => {
    for (const frequency of [0, 1, 2, 7, 20, 10000]) assert.equal(resetsBefore(1, frequency), true);
  });

  it('with a frequency equal to the retries resets only before attempt 1 within the run', () => {
    assert.deepEqual(attemptsWithReset(20, 20), [1]);
  });
});

describe('lanesFor', () => {
  it('takes a number as given, and auto (0) as one lane per two cores, at least 1, at most 4', () => {
    assert.equal(lanesFor(3, 2), 3);
    assert.equal(lanesFor(0, 1), 1);
    assert.equal(lanesFor(0, 2), 1);
    assert.equal(lanesFor(0, 4), 2);
    assert.equal(lanesFor(0, 5), 2);
    assert.equal(lanesFor(0, 64), 4);
  });
});

describe('usableLanes', () => {
  it('keeps lanes to what gives each attempts past its fresh first one', () => {
    const plan = (lanes: number, retries: number, cacheResetFrequency: number) => ({
      lanes,
      retries,
      cacheResetFrequency,
    });
    assert.equal(usableLanes(plan(2, 40, 4)), 2);
    assert.equal(usableLanes(plan(4, 4, 4)), 1, 'four lanes for four attempts: every one fresh');
    assert.equal(usableLanes(plan(4, 12, 4)), 3);
    assert.equal(usableLanes(plan(4, 2, 0)), 1);
    assert.equal(usableLanes(plan(8, 40, 1)), 8, 'a reset before every attempt: lanes change nothing');
    assert.equal(usableLanes({ retries: 40, cacheResetFrequency: 4 }), 1);
  });
});
