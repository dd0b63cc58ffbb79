import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeLossRate, lossRate } from '../../src/verdict/loss-rate.js';

function near(actual: number, expected: number, tolerance: number): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${actual} to be within ${tolerance} of ${expected}`,
  );
}

describe('lossRate', () => {
  it('bounds 0 of 40 by the closed forms 1 - (α/2)^(1/n) and 1 - α^(1/n)', () => {
    const r = lossRate(0, 40);
    assert.equal(r.lost, 0);
    assert.equal(r.attempts, 40);
    assert.equal(r.rate, 0);
    assert.equal(r.confidence, 0.95);
    assert.equal(r.twoSided.low, 0);
    near(r.twoSided.high, 0.0881, 0.0005);
    near(r.oneSidedUpper, 0.0722, 0.0005);
    near(r.twoSided.high, 1 - 0.025 ** (1 / 40), 1e-9);
    near(r.oneSidedUpper, 1 - 0.05 ** (1 / 40), 1e-9);
  });

  it('gives the published Clopper–Pearson interval for 8 of 40', () => {
    const r = lossRate(8, 40);
    assert.equal(r.rate, 0.2);
    near(r.twoSided.low, 0.0905, 0.001);
    near(r.twoSided.high, 0.3565, 0.001);
    assert.ok(r.oneSidedUpper > r.rate && r.oneSidedUpper < r.twoSided.high);
  });

  it('bounds 40 of 40 by 1 above and (α/2)^(1/n) below', () => {
    const r = lossRate(40, 40);
    assert.equal(r.rate, 1);
    assert.equal(r.twoSided.high, 1);
    assert.equal(r.oneSidedUpper, 1);
    near(r.twoSided.low, 0.025 ** (1 / 40), 1e-9);
  });

  it('handles a single attempt, lost or not', () => {
    const lost = lossRate(1, 1);
    assert.equal(lost.rate, 1);
    near(lost.twoSided.low, 0.025, 1e-9);
    assert.equal(lost.twoSided.high, 1);
    assert.equal(lost.oneSidedUpper, 1);

    const kept = lossRate(0, 1);
    assert.equal(kept.rate, 0);
    assert.equal(kept.twoSided.low, 0);
    near(kept.twoSided.high, 0.975, 1e-9);
    near(kept.oneSidedUpper, 0.95, 1e-9);
  });

  it('widens the interval with the confidence', () => {
    const r90 = lossRate(8, 40, 0.9);
    const r99 = lossRate(8, 40, 0.99);
    assert.ok(r99.twoSided.low < r90.twoSided.low);
    assert.ok(r99.twoSided.high > r90.twoSided.high);
    assert.equal(r99.confidence, 0.99);
  });

  it('rejects counts and confidences that make no binomial sample', () => {
    assert.throws(() => lossRate(0, 0), RangeError);
    assert.throws(() => lossRate(0, -3), RangeError);
    assert.throws(() => lossRate(-1, 10), RangeError);
    assert.throws(() => lossRate(11, 10), RangeError);
    assert.throws(() => lossRate(1.5, 10), RangeError);
    assert.throws(() => lossRate(1, 10.5), RangeError);
    assert.throws(() => lossRate(Number.NaN, 10), RangeError);
    assert.throws(() => lossRate(1, Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => lossRate(1, 10, 0), RangeError);
    assert.throws(() => lossRate(1, 10, 1), RangeError);
    assert.throws(() => lossRate(1, 10, 1.5), RangeError);
    assert.throws(() => lossRate(1, 10, -0.1), RangeError);
    assert.throws(() => lossRate(1, 10, Number.NaN), RangeError);
  });
});

describe('describeLossRate', () => {
  it('gives the one-sided bound when nothing was lost', () => {
    assert.equal(
      describeLossRate(lossRate(0, 40)),
      '0 of 40 attempts lost a layer: the loss rate is below 7.2% at 95% confidence (one-sided).',
    );
  });

  it('gives the rate and its two-sided interval when something was lost', () => {
    assert.equal(
      describeLossRate(lossRate(8, 40)),
      '8 of 40 attempts lost a layer: 20.0% (95% confidence interval 9.1%–35.6%, Clopper–Pearson).',
    );
  });

  it('names other confidence levels and a single attempt', () => {
    assert.equal(
      describeLossRate(lossRate(1, 1, 0.99)),
      '1 of 1 attempt lost a layer: 100.0% (99% confidence interval 0.5%–100.0%, Clopper–Pearson).',
    );
    assert.match(describeLossRate(lossRate(0, 300, 0.999)), /below 2\.3% at 99\.9% confidence/);
  });
});
