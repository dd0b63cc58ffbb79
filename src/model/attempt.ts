import type { DifferenceClass } from './classes.js';
import type { ImageDifference } from './difference.js';

/** What one attempt's output showed. */
export type AttemptOutcome =
  /** The build used the cache, its output was read to its end, and it equals the reference. */
  | {
      kind: 'intact';
      /** With the cache made from other inputs: the steps that ran instead of coming from it. */
      stepsRan?: string[];
    }
  /** The build used the cache, its output was read to its end, and it is not the reference (see DifferenceClass). */
  | {
      kind: DifferenceClass;
      difference: ImageDifference;
      /** Where the output was kept: the first attempt of each class keeps it, as evidence ('' for the others). */
      output: string;
      /** With the cache made from other inputs: the steps that ran; every other step came from the cache. */
      stepsRan?: string[];
    }
  /** The attempt could not be judged: build error, daemon gone, unreadable output. */
  | { kind: 'error'; cause: string };

export type DifferentOutcome = Extract<AttemptOutcome, { difference: ImageDifference }>;

export interface AttemptRecord {
  attempt: number;
  /** The daemon (1-based) that ran it, when several ran attempts at once. */
  lane?: number;
  /** The buildkitd container that ran it (unset when none was ready): its logs are named after it. */
  daemon?: string;
  /** buildkitd started from an empty state just before this attempt. */
  freshState: boolean;
  /** Time spent emptying buildkitd's state before this attempt (0 when it did not). */
  resetMs: number;
  /** The attempt itself: build, cache-use check, output inspection. */
  durationMs: number;
  /** When it ended, from the start of the attempts: with lanes, the wall clock the run took to get here. */
  endedMs?: number;
  outcome: AttemptOutcome;
}
