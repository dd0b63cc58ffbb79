import * as os from 'node:os';

/**
 * How many daemons run attempts at once. `parallel` 0 is "auto": one lane per two CPU cores, at least one,
 * at most 4. The benchmark (docs/speed.md) measured 1, 2 and 4 lanes on a 2-core machine: two lanes came
 * to the first detection first rootful and tied rootless, with overlapping intervals, four later; with no
 * clear winner, 2 cores keep the seed's one attempt at a time. Machines with more cores were not measured.
 */
export function lanesFor(parallel: number, cores: number = os.availableParallelism()): number {
  if (parallel > 0) return parallel;
  return Math.max(1, Math.min(Math.floor(cores / 2), 4));
}
