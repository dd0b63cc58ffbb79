import { lossRate } from './loss-rate.js';
import type { AttemptRecord } from '../model/attempt.js';
import type { LossRate } from '../model/loss-rate.js';
import type { Verdict } from '../model/verdict.js';

export interface VerdictInput {
  plannedAttempts: number;
  runAttempts: boolean;
  records: readonly AttemptRecord[];
  /** A failure outside any attempt (set-up, cache creation). */
  setupError?: string;
}

/**
 * The one place that says what a run found. A loss counts only when an attempt's build succeeded and its
 * tarball was read to its end; "clean" only when every planned attempt ran and was intact.
 */
export function decideVerdict(input: VerdictInput): Verdict {
  const attemptsRun = input.records.length;
  const firstLoss = input.records.find((r) => r.outcome.kind === 'lost');
  if (firstLoss && firstLoss.outcome.kind === 'lost') {
    return {
      kind: 'reproduced',
      failedAttempt: firstLoss.attempt,
      missingPaths: firstLoss.outcome.missingPaths,
      lostLayers: firstLoss.outcome.lostLayers,
      lostCount: input.records.filter((r) => r.outcome.kind === 'lost').length,
      attemptsRun,
    };
  }
  if (input.setupError !== undefined) return { kind: 'error', cause: input.setupError, attemptsRun };
  const firstError = input.records.find((r) => r.outcome.kind === 'error');
  if (firstError && firstError.outcome.kind === 'error') {
    return {
      kind: 'error',
      cause: `attempt ${firstError.attempt}: ${firstError.outcome.cause}`,
      attemptsRun,
    };
  }
  if (!input.runAttempts) return { kind: 'not-run' };
  const intact = input.records.filter((r) => r.outcome.kind === 'intact').length;
  if (intact !== input.plannedAttempts) {
    return {
      kind: 'error',
      cause: `only ${intact} of ${input.plannedAttempts} attempts ran to a checked result`,
      attemptsRun,
    };
  }
  return { kind: 'clean', attemptsRun };
}

/**
 * The per-attempt loss rate, where the attempts make a fixed-size sample: a clean run, or a run that kept
 * going through every planned attempt. A run that stopped at its first loss has no such sample (it stopped
 * because of the result), and neither has one that ended in an error: its errored attempt is no "not lost",
 * and the attempts it never ran are no sample at all.
 */
export function measuredLossRate(
  verdict: Verdict,
  keptGoing: boolean,
  records: readonly AttemptRecord[],
  plannedAttempts: number,
): LossRate | undefined {
  if (verdict.kind === 'clean') return lossRate(0, verdict.attemptsRun);
  const wholeSample = records.length === plannedAttempts && records.every((r) => r.outcome.kind !== 'error');
  if (verdict.kind === 'reproduced' && keptGoing && wholeSample)
    return lossRate(verdict.lostCount, verdict.attemptsRun);
  return undefined;
}
