/** How often an attempt lost a layer, with exact (Clopper–Pearson) bounds on the true rate. */
export interface LossRate {
  lost: number;
  attempts: number;
  /** lost / attempts. */
  rate: number;
  /** The confidence of both bounds, e.g. 0.95. */
  confidence: number;
  /** The two-sided Clopper–Pearson interval: each side misses with probability at most (1 - confidence) / 2. */
  twoSided: { low: number; high: number };
  /** The one-sided exact upper bound: the true rate is above it with probability at most 1 - confidence. */
  oneSidedUpper: number;
}
