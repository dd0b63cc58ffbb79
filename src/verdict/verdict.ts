import { lossRate } from './loss-rate.js';
import { CLASSES, stoppingClasses } from './classes.js';
import type { AttemptRecord, DifferentOutcome } from '../model/attempt.js';
import { type ClassCounts, DIFFERENCE_CLASSES, type DifferenceClass, noClasses } from '../model/classes.js';
import type { LossRate } from '../model/loss-rate.js';
import type { Verdict } from '../model/verdict.js';

export interface VerdictInput {
  plannedAttempts: number;
  runAttempts: boolean;
  records: readonly AttemptRecord[];
  /** A failure outside any attempt (set-up, cache creation, a lane that could not go on). */
  setupError?: string;
}

/** How many attempts fell in each class. */
export function countClasses(records: readonly AttemptRecord[]): ClassCounts {
  const counts = noClasses();
  for (const { outcome } of records) if (outcome.kind !== 'error') counts[outcome.kind] += 1;
  return counts;
}

/**
 * The one place that says what a run found. A difference counts only when an attempt's build succeeded,
 * used the cache and its output was read to its end. A class that stops the attempts (a lost layer, other
 * content) is the verdict whatever else failed: an attempt that showed it is certain, and the run would have
 * ended there. A class that does not stop them (config) is the verdict, like "clean", only when every planned
 * attempt ran to a checked result: a run cut short by an error did not look for a lost layer to its end, and
 * must not pass for one that found none.
 */
export function decideVerdict(input: VerdictInput): Verdict {
  const { records } = input;
  const attemptsRun = records.length;
  const classes = countClasses(records);
  const finding = (stops: boolean): Verdict | undefined => {
    for (const kind of DIFFERENCE_CLASSES.filter((c) => CLASSES[c].stopsAttempts === stops)) {
      const first = records.find((r) => r.outcome.kind === kind);
      if (first)
        return differenceVerdict(kind, first, first.outcome as DifferentOutcome, attemptsRun, classes);
    }
    return undefined;
  };
  const found = finding(true);
  if (found) return found;
  if (input.setupError !== undefined) return { kind: 'error', cause: input.setupError, attemptsRun, classes };
  const errors = records.flatMap((r) =>
    r.outcome.kind === 'error' ? [`attempt ${r.attempt}: ${r.outcome.cause}`] : [],
  );
  if (errors.length > 0) return { kind: 'error', cause: errorsText(errors), attemptsRun, classes };
  if (!input.runAttempts) return { kind: 'not-run' };
  // No error: every record was judged.
  if (attemptsRun !== input.plannedAttempts) {
    const cause = `only ${attemptsRun} of ${input.plannedAttempts} attempts ran to a checked result`;
    return { kind: 'error', cause, attemptsRun, classes };
  }
  return finding(false) ?? { kind: 'clean', attemptsRun, classes };
}

function differenceVerdict(
  kind: DifferenceClass,
  first: AttemptRecord,
  outcome: DifferentOutcome,
  attemptsRun: number,
  classes: ClassCounts,
): Verdict {
  const verdict = CLASSES[kind].verdict;
  if (verdict === 'reproduced') {
    return {
      kind: verdict,
      failedAttempt: first.attempt,
      missingPaths: outcome.difference.missingPaths,
      lostLayers: outcome.difference.lostLayers,
      lostCount: classes['lost-layer'],
      attemptsRun,
      classes,
    };
  }
  return { kind: verdict, firstAttempt: first.attempt, difference: outcome.difference, attemptsRun, classes };
}

/** Every attempt's error, the first in full: a lane's error must not hide another's. */
function errorsText(errors: readonly string[]): string {
  const [first, ...more] = errors;
  if (more.length === 0) return first ?? '';
  return `${first}; and ${more.length} more: ${more.join('; ')}`;
}

/**
 * The per-attempt loss rate (lost-layer), where the attempts make a fixed-size sample: every planned attempt
 * ran and none errored, and none stopped the run early (keep-going, or no attempt of a class that stops it).
 * A run that stopped at its first loss has no such sample (it stopped because of the result), and neither has
 * one with an error: its errored attempt is no "not lost", and the attempts it never ran are no sample at all.
 */
export function measuredLossRate(
  verdict: Verdict,
  keptGoing: boolean,
  records: readonly AttemptRecord[],
  plannedAttempts: number,
): LossRate | undefined {
  if (verdict.kind === 'not-run' || verdict.kind === 'error') return undefined;
  const stops = new Set<string>(stoppingClasses());
  const whole = wholeSample(records, plannedAttempts);
  const stoppedEarly = !keptGoing && records.some((r) => stops.has(r.outcome.kind));
  if (!whole || stoppedEarly) return undefined;
  return lossRate(verdict.classes['lost-layer'], records.length);
}

/** The class of difference a verdict found, or undefined when it found none. */
export function differenceClassOf(verdict: Verdict): DifferenceClass | undefined {
  return DIFFERENCE_CLASSES.find((c) => CLASSES[c].verdict === verdict.kind);
}

/** Whether the run found an image that is not the reference. */
export function isDifference(verdict: Verdict): boolean {
  return differenceClassOf(verdict) !== undefined;
}

/**
 * How many attempts of a keep-going run showed the class, when they were a whole sample (every planned
 * attempt ran, none errored); undefined otherwise.
 */
export function keptGoingSample(
  verdict: Verdict,
  target: DifferenceClass,
  records: readonly AttemptRecord[],
  plannedAttempts: number,
): { count: number; attempts: number } | undefined {
  if (verdict.kind === 'not-run' || verdict.kind === 'error') return undefined;
  return wholeSample(records, plannedAttempts)
    ? { count: verdict.classes[target], attempts: records.length }
    : undefined;
}

/** The classes the run saw that fail the step (fail-on): an image that is not the reference, as the user chose. */
export function failingClasses(verdict: Verdict, failOn: readonly DifferenceClass[]): DifferenceClass[] {
  if (verdict.kind === 'not-run') return [];
  return failOn.filter((c) => verdict.classes[c] > 0);
}

/** Every planned attempt ran and none errored: the attempts are a fixed-size sample. */
export function wholeSample(records: readonly AttemptRecord[], plannedAttempts: number): boolean {
  return records.length === plannedAttempts && records.every((r) => r.outcome.kind !== 'error');
}
