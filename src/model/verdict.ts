import type { ClassCounts } from './classes.js';
import type { ImageDifference } from './difference.js';
import type { LayerFacts } from './layers.js';

/** What a run found. A difference found is kept whatever else happened: the first class seen decides. */
export type Verdict =
  | {
      /** lost-layer: moby/buildkit#2198's class. `reproduced` means exactly this, for the bisect and the regression check. */
      kind: 'reproduced';
      /** The first attempt that lost a layer, and what it lost. */
      failedAttempt: number;
      missingPaths: string[];
      lostLayers: LayerFacts[];
      /** How many attempts lost a layer (more than one with keep-going, or with lanes whose running attempts finished). */
      lostCount: number;
      attemptsRun: number;
      classes: ClassCounts;
    }
  | {
      kind: 'content-differs' | 'config-differs';
      /** The first attempt of the class, and its account. */
      firstAttempt: number;
      difference: ImageDifference;
      attemptsRun: number;
      classes: ClassCounts;
    }
  | { kind: 'clean'; attemptsRun: number; classes: ClassCounts }
  | { kind: 'error'; cause: string; attemptsRun: number; classes: ClassCounts }
  /** run-attempts: false — only the cache was made. */
  | { kind: 'not-run' };

export type VerdictKind = Verdict['kind'];
