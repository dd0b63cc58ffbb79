import type { AttemptRecord } from '../model/attempt.js';
import { differenceText } from '../model/wording.js';

/** One line of the log per attempt. */
export function describeRecord(record: AttemptRecord): string {
  const reset = record.freshState ? ' (fresh buildkitd state)' : '';
  const lane = record.lane ? ` [lane ${record.lane}]` : '';
  const head = `attempt ${record.attempt}${lane}${reset}: `;
  const seconds = `${(record.durationMs / 1000).toFixed(2)} s`;
  const { outcome } = record;
  switch (outcome.kind) {
    case 'intact':
      return `${head}intact, ${seconds}`;
    case 'error':
      return `${head}infrastructure error: ${outcome.cause}`;
    default:
      return `${head}${outcome.kind.toUpperCase()} — ${differenceText(outcome.kind, outcome.difference)}, ${seconds}`;
  }
}
