import type { Verdict } from '../model/verdict.js';

/** A run's verdict, or in the bisect table a job without a report ('missing') or with one it cannot read. */
export type LabelledVerdict = Verdict['kind'] | 'missing' | 'unreadable';

/** One icon per verdict, so that the job summary and the bisect table read alike. */
export const VERDICT_ICON: Readonly<Record<LabelledVerdict, string>> = {
  reproduced: '🔴',
  clean: '🟢',
  error: '⚠️',
  'not-run': '⚪',
  missing: '❔',
  unreadable: '❌',
};

const VERDICT_WORDS: Readonly<Record<LabelledVerdict, string>> = {
  reproduced: 'lost a layer',
  clean: 'clean',
  error: 'error',
  'not-run': 'not run',
  missing: 'missing',
  unreadable: 'unreadable',
};

/** The verdict as a table cell shows it: "🔴 lost a layer". */
export function verdictLabel(verdict: LabelledVerdict): string {
  return `${VERDICT_ICON[verdict]} ${VERDICT_WORDS[verdict]}`;
}
