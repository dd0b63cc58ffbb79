/**
 * How many attempts make "does not reproduce" a statement with a stated risk. A candidate that loses a
 * layer in a share `rate` of attempts shows no loss in n attempts with probability (1 - rate)^n; n is the
 * least number for which that is at most 1 - confidence.
 */
export function attemptsForConfidence(rate: number, confidence: number, cap = 10_000): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence ${confidence} is not in (0, 1)`);
  if (!(rate > 0)) throw new RangeError(`a rate of ${rate} never shows a loss`);
  if (rate >= 1) return 1;
  // ln(1 - c) / ln(1 - p), in log1p for small rates; the epsilon keeps an exact integer from rounding up.
  const n = Math.ceil(Math.log1p(-confidence) / Math.log1p(-rate) - 1e-9);
  return Math.min(Math.max(n, 1), cap);
}

/** The chance that a candidate reproducing at `rate` shows a loss within `attempts`. */
export function detectionChance(rate: number, attempts: number): number {
  return 1 - Math.pow(1 - rate, attempts);
}
