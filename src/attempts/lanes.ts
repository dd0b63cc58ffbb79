import * as os from 'node:os';

/** The most lanes `parallel` takes: past this, daemons only wait for each other's CPU and disk. */
export const MAX_PARALLEL = 16;

/**
 * How many daemons run attempts at once. `parallel` 0 is "auto": one lane per CPU core, at most 4 —
 * the benchmark (README, "Speed") measured 1, 2 and 4 lanes on a 2-core machine, and the first detection
 * came soonest with one lane per core.
 */
export function lanesFor(parallel: number, cores: number = os.availableParallelism()): number {
  if (parallel > 0) return parallel;
  return Math.max(1, Math.min(cores, 4));
}
