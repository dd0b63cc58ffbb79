import type { AttemptClass } from '../model/classes.js';
import { CLASS_WORDS } from '../model/wording.js';
import type { Verdict } from '../model/verdict.js';

/** A run's verdict, or in the bisect table a job without a report ('missing') or with one it cannot read. */
export type LabelledVerdict = Verdict['kind'] | 'missing' | 'unreadable';

/** One icon per verdict, so that the job summary and the bisect table read alike. */
export const VERDICT_ICON: Readonly<Record<LabelledVerdict, string>> = {
  reproduced: '🔴',
  'content-differs': '🟠',
  'config-differs': '🟡',
  clean: '🟢',
  error: '⚠️',
  'not-run': '⚪',
  missing: '❔',
  unreadable: '❌',
};

const VERDICT_WORDS: Readonly<Record<LabelledVerdict, string>> = {
  reproduced: 'lost a layer',
  'content-differs': 'content differs',
  'config-differs': 'config differs',
  clean: 'clean',
  error: 'error',
  'not-run': 'not run',
  missing: 'missing',
  unreadable: 'unreadable',
};

/** The verdict as a table cell shows it: "🔴 lost a layer". */
export function verdictLabel(verdict: LabelledVerdict): string {
  return `${VERDICT_ICON[verdict]} ${verdictWords(verdict)}`;
}

/** The verdict in words: "lost a layer", "config differs", "clean". */
export function verdictWords(verdict: LabelledVerdict): string {
  return VERDICT_WORDS[verdict];
}

/** The verdicts that judged the attempts: the others (error, not-run, no report) say nothing about any class. */
export function judged(verdict: LabelledVerdict): boolean {
  return verdict !== 'error' && verdict !== 'not-run' && verdict !== 'missing' && verdict !== 'unreadable';
}

/**
 * How the table names a class: `name` heads a column and starts a boundary sentence ("Lost a layer: last
 * v0.9.0; …"), `short` labels a count in a grid cell ("lost 5 · content 0 · config 35 · intact 0").
 */
export const CLASS_LABELS: Readonly<Record<AttemptClass, { name: string; short: string }>> = {
  'lost-layer': { name: capitalized(CLASS_WORDS['lost-layer']), short: 'lost' },
  'content-differs': { name: capitalized(CLASS_WORDS['content-differs']), short: 'content' },
  'config-differs': { name: capitalized(CLASS_WORDS['config-differs']), short: 'config' },
  intact: { name: capitalized(CLASS_WORDS.intact), short: 'intact' },
};

function capitalized(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}
