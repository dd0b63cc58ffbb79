import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import type { LossRate } from '../model/loss-rate.js';

/**
 * The per-attempt loss rate of `lost` losses in `attempts` attempts. The bounds are exact (Clopper–Pearson,
 * from quantiles of the beta distribution), so they hold for any number of attempts, also for 0 or all lost,
 * where a normal approximation says nothing useful.
 */
export function lossRate(lost: number, attempts: number, confidence = 0.95): LossRate {
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be a whole number of at least 1, got ${attempts}`);
  }
  if (!Number.isSafeInteger(lost) || lost < 0 || lost > attempts) {
    throw new RangeError(`lost must be a whole number from 0 to attempts (${attempts}), got ${lost}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be above 0 and below 1, got ${confidence}`);
  }
  const alpha = 1 - confidence;
  const low = lost === 0 ? 0 : betaQuantile(alpha / 2, lost, attempts - lost + 1);
  const high = lost === attempts ? 1 : betaQuantile(1 - alpha / 2, lost + 1, attempts - lost);
  const oneSidedUpper = lost === attempts ? 1 : betaQuantile(1 - alpha, lost + 1, attempts - lost);
  return { lost, attempts, rate: lost / attempts, confidence, twoSided: { low, high }, oneSidedUpper };
}

/**
 * One sentence for a summary. With no loss it gives the one-sided upper bound (the useful statement about a
 * clean run); with losses, the rate and its two-sided interval.
 */
export function describeLossRate(r: LossRate): string {
  const head = `${r.lost} of ${r.attempts} ${r.attempts === 1 ? 'attempt' : 'attempts'} lost a layer`;
  const level = confidenceText(r.confidence);
  if (r.lost === 0) {
    return `${head}: the loss rate is below ${percent(r.oneSidedUpper)} at ${level} confidence (one-sided).`;
  }
  return `${head}: ${percent(r.rate)} (${level} confidence interval ${percent(r.twoSided.low)}–${percent(r.twoSided.high)}, Clopper–Pearson).`;
}

/** A share as a percentage with one decimal: 0.0722 → "7.2%". */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** A confidence level without float noise or trailing zeros: 0.95 → "95%", 0.999 → "99.9%". */
export function confidenceText(confidence: number): string {
  return `${Number((confidence * 100).toPrecision(12))}%`;
}
