import type { LayerFacts } from './layers.js';

export type Verdict =
  | {
      kind: 'reproduced';
      /** The first attempt that lost a layer, and what it lost. */
      failedAttempt: number;
      missingPaths: string[];
      lostLayers: LayerFacts[];
      /** How many attempts lost a layer (more than one with keep-going, or with lanes whose running attempts finished). */
      lostCount: number;
      attemptsRun: number;
    }
  | { kind: 'clean'; attemptsRun: number }
  | { kind: 'error'; cause: string; attemptsRun: number }
  /** run-attempts: false — only the cache was made. */
  | { kind: 'not-run' };
