import { NONE } from './markdown.js';
import { DIFFERENCE_CLASSES } from '../model/classes.js';
import {
  importsOthersCaches,
  type ClassBoundaries,
  type MatrixInput,
  type MatrixResult,
  type MatrixRow,
} from './matrix-model.js';
import { rowOf } from './matrix-row.js';
import { imageTag } from '../inputs/validators.js';
import { versionInName } from './release-names.js';
import { boundaryOf, byRelease, compareRows } from './release-order.js';

/* The bisect table across many reports, e.g. one job per BuildKit release: its rows, boundaries and problems. */

export type {
  Boundary,
  ClassBoundaries,
  ClassBoundary,
  MatrixInput,
  MatrixResult,
  MatrixRow,
} from './matrix-model.js';
export { renderMatrix } from './matrix-render.js';

/**
 * One table across many reports. Never throws: a report it cannot use becomes an 'unreadable' row, an
 * expected version without a report a 'missing' row, and both are named in `problems`.
 */
export function buildMatrix(
  inputs: readonly MatrixInput[],
  expectedVersions?: readonly string[],
): MatrixResult {
  const rows = inputs.map(rowOf);
  const expected = new Set((expectedVersions ?? []).map((v) => v.trim()).filter((v) => v !== ''));
  for (const label of expected) {
    if (!rows.some((row) => answers(row, label))) rows.push(missingRow(label));
  }
  rows.sort(compareRows);
  const makers = [...new Set(rows.map((r) => r.maker).filter((m) => m !== ''))].sort(byRelease);
  const byMaker =
    makers.length > 1 && importsOthersCaches(rows)
      ? makers.map((maker) => ({ maker, boundaries: boundariesOf(rows.filter((r) => r.maker === maker)) }))
      : [];
  const boundaries = boundariesOf(rows);
  const lost = boundaries['lost-layer'];
  return {
    rows,
    boundaries,
    boundary: {
      ...(lost.last !== undefined ? { lastLost: lost.last } : {}),
      ...(lost.firstWithout !== undefined ? { firstClean: lost.firstWithout } : {}),
    },
    makers,
    byMaker,
    problems: rows.flatMap(problemOf),
  };
}

/** Each class's boundary among the rows. */
export function boundariesOf(rows: readonly MatrixRow[]): ClassBoundaries {
  const entries = DIFFERENCE_CLASSES.map((difference) => [difference, boundaryOf(rows, difference)]);
  return Object.fromEntries(entries) as ClassBoundaries;
}

function missingRow(label: string): MatrixRow {
  return {
    version: imageTag(label) || label,
    image: label.includes(':') ? label : '',
    maker: '',
    verdict: 'missing',
    attempts: 0,
    lost: 0,
    unjudged: {},
    rateText: NONE,
    note: 'no report was given for this expected version',
  };
}

/** Whether a row is the job an expected label stands for: by version, image or image tag. */
function answers(row: MatrixRow, label: string): boolean {
  const names = [row.version, row.image, imageTag(row.image)];
  if (row.source !== undefined) names.push(versionInName(row.source) ?? '');
  const wanted = [label, imageTag(label)].filter((n) => n !== '');
  return names.some((name) => name !== '' && wanted.includes(name));
}

function problemOf(row: MatrixRow): string[] {
  const from = row.source !== undefined ? ` (${row.source})` : '';
  switch (row.verdict) {
    case 'missing':
      return [`${row.version}: no report; the job did not run or its report was not collected.`];
    case 'unreadable':
      return [`${row.source ?? row.version} is not a readable report: ${row.note ?? 'unknown reason'}.`];
    case 'error':
      return [`${row.version}${from} gave no verdict: ${row.note ?? 'an infrastructure step failed'}.`];
    case 'not-run':
      return [`${row.version}${from} gave no verdict: ${row.note ?? 'no attempts were run'}.`];
    default:
      return [];
  }
}
