import type { LayerComparison, LayerFacts, LayerNotes } from './layers.js';

/** What one attempt's output showed. */
export type AttemptOutcome =
  /** The build succeeded and its output holds every expected path and every layer of the reference. */
  | { kind: 'intact'; notes?: LayerNotes }
  /** The build succeeded, the output was read to its end, and expected paths or reference layers are not in it. */
  | {
      kind: 'lost';
      missingPaths: string[];
      lostLayers: LayerFacts[];
      /** Where the broken output was kept. */
      output: string;
      notes?: LayerNotes;
      layers?: LayerComparison;
    }
  /** The attempt could not be judged: build error, daemon gone, unreadable output. */
  | { kind: 'error'; cause: string };

export interface AttemptRecord {
  attempt: number;
  /** The daemon (1-based) that ran it, when several ran attempts at once. */
  lane?: number;
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
