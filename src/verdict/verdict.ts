import type { AttemptRecord } from '../attempts/attempt.js';

export type Verdict =
  | { kind: 'reproduced'; failedAttempt: number; missingPaths: string[]; attemptsRun: number }
  | { kind: 'clean'; attemptsRun: number }
  | { kind: 'error'; cause: string; attemptsRun: number }
  /** run-attempts: false — only the cache was made. */
  | { kind: 'not-run' };

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

export function verdictLine(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'reproduced':
      return `Layer lost: attempt ${verdict.failedAttempt} built an image without ${verdict.missingPaths.join(', ')}`;
    case 'clean':
      return `No layer lost in ${verdict.attemptsRun} attempts`;
    case 'error':
      return `No verdict: an infrastructure step failed (${verdict.cause})`;
    case 'not-run':
      return 'Cache created; no attempts were run (run-attempts: false)';
  }
}
