import type { DifferenceClass } from '../model/classes.js';
import type { VerdictKind } from '../model/verdict.js';

/** What one class of difference does in a run. */
export interface ClassBehaviour {
  /** The run's verdict when this is the most severe class seen. */
  verdict: Extract<VerdictKind, 'reproduced' | 'content-differs' | 'config-differs'>;
  /** The attempts stop at the first one of this class (unless keep-going). */
  stopsAttempts: boolean;
}

/**
 * Each class of difference and its behaviour. A changed filesystem is a finding that needs no more attempts;
 * a config or history difference does not stop them: BuildKit v0.8–v0.9 shift the history's empty_layer
 * marks on every cache import, so stopping there would hide a lost layer that comes later.
 */
export const CLASSES: Readonly<Record<DifferenceClass, ClassBehaviour>> = {
  'lost-layer': { verdict: 'reproduced', stopsAttempts: true },
  'content-differs': { verdict: 'content-differs', stopsAttempts: true },
  'config-differs': { verdict: 'config-differs', stopsAttempts: false },
};

/** The classes the attempts of a run stop at. */
export function stoppingClasses(): DifferenceClass[] {
  return (Object.keys(CLASSES) as DifferenceClass[]).filter((c) => CLASSES[c].stopsAttempts);
}
