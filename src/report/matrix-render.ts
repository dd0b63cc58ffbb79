import { ATTEMPT_CLASSES, DIFFERENCE_CLASSES, type AttemptClass } from '../model/classes.js';
import { NONE, cell, escapeMarkdown, tableRow } from './markdown.js';
import { BOUNDARY_KEY, boundaryLines, distinct } from './matrix-boundaries.js';
import { importsOthersCaches, type MatrixResult, type MatrixRow } from './matrix-model.js';
import { CLASS_LABELS, VERDICT_ICON, judged, verdictLabel } from './verdict-labels.js';

/**
 * The matrix as Markdown: the boundaries first, one per class of difference (for each cache maker when there
 * are several), then the grid of importers × cache makers when there are several makers, then every row,
 * then what gave no verdict.
 */
export function renderMatrix(result: MatrixResult): string {
  const lines = ['## BuildKit lost-layer bisect', ''];
  const anyVerdict = result.rows.some((row) => judged(row.verdict));
  if (anyVerdict) lines.push(BOUNDARY_KEY, '');
  if (result.byMaker.length > 0) {
    for (const { maker, boundaries } of result.byMaker) {
      const rows = result.rows.filter((r) => r.maker === maker);
      const [first = '', ...rest] = boundaryLines(rows, boundaries, '  ');
      const head = `- Cache made by ${escapeMarkdown(maker)}:`;
      lines.push(...(rest.length === 0 ? [`${head} ${first}`] : [head, first, ...rest]));
    }
    lines.push('', ...renderGrid(result), '');
  } else {
    lines.push(...boundaryLines(result.rows, result.boundaries), '');
  }
  if (result.rows.length > 0) lines.push(...renderRows(result.rows), '');
  lines.push(...unjudgedKey(result.rows));
  if (result.problems.length > 0) {
    lines.push('Some jobs gave no verdict:', '', ...result.problems.map((p) => `- ${cell(p)}`), '');
  }
  return lines.join('\n');
}

/**
 * Every job, one row each, with a column per class; the maker gets a column when some job imported a cache
 * another release made.
 */
function renderRows(rows: readonly MatrixRow[]): string[] {
  const showMaker = importsOthersCaches(rows);
  const maker = (...cells: string[]) => (showMaker ? cells : []);
  const classNames = ATTEMPT_CLASSES.map((c) => CLASS_LABELS[c].name);
  return [
    tableRow([
      'Version',
      'Image',
      ...maker('Cache made by'),
      'Verdict',
      'Attempts',
      ...classNames,
      'Loss rate',
    ]),
    tableRow(['---', '---', ...maker('---'), '---', '---:', ...classNames.map(() => '---:'), '---']),
    ...rows.map((row) =>
      tableRow([
        cell(row.version),
        cell(row.image),
        ...maker(cell(row.maker || NONE)),
        verdictLabel(row.verdict),
        // A job with no report ran nothing we know of: no counts rather than zeros.
        row.verdict === 'missing' || row.verdict === 'unreadable' ? NONE : row.attempts,
        ...ATTEMPT_CLASSES.map((c) => countOf(row, c)),
        cell(row.rateText),
      ]),
    ),
  ];
}

/** A class's count in a row, or NONE when the row has none or its run could not see the class. */
function countOf(row: MatrixRow, attemptClass: AttemptClass): string {
  if (row.classes === undefined) return NONE;
  if (attemptClass !== 'intact' && row.unjudged[attemptClass] !== undefined) return NONE;
  return String(row.classes[attemptClass]);
}

/** What a NONE in a class column means, with the reports' own reasons (the first few), when some run has one. */
function unjudgedKey(rows: readonly MatrixRow[]): string[] {
  const counted = rows.filter((row) => row.classes !== undefined);
  const reasons = distinct(counted.flatMap((row) => DIFFERENCE_CLASSES.map((c) => row.unjudged[c] ?? '')));
  if (reasons.length === 0) return [];
  const shown = reasons.slice(0, KEY_REASONS).map((reason) => `- ${cell(reason)}`);
  const more = reasons.length - KEY_REASONS;
  return [
    `${NONE} in a class's column or cell: that run could not see the class, because`,
    '',
    ...shown,
    ...(more > 0 ? [`- and ${more} more reason${more === 1 ? '' : 's'}`] : []),
    '',
  ];
}

/** How many reasons the key under the table gives: a grid of makers has one for every pair of releases. */
const KEY_REASONS = 3;

/** Importers as rows, cache makers as columns; a cell holds every job of that pair (e.g. rootful and rootless). */
function renderGrid(result: MatrixResult): string[] {
  const importers = [...new Set(result.rows.filter((r) => r.maker !== '').map((r) => r.version))];
  const icons = (['reproduced', 'content-differs', 'config-differs', 'clean'] as const).map(verdictLabel);
  return [
    tableRow(['Importer ↓ · cache made by →', ...result.makers.map(cell)]),
    tableRow(['---', ...result.makers.map(() => '---')]),
    ...importers.map((version) => {
      const cells = result.makers.map((maker) => {
        const jobs = result.rows.filter((r) => r.version === version && r.maker === maker);
        return jobs.length === 0 ? NONE : jobs.map(gridCell).join('<br>');
      });
      return tableRow([cell(version), ...cells]);
    }),
    '',
    `${icons.join(' · ')}. A cell: lost a layer/attempts and the loss rate, then the attempts of each other class.`,
  ];
}

/** "🔴 lost 5/40, 12.5% (4.2%–26.8%, 95%) · content 0 · config 35 · intact 0" */
function gridCell(row: MatrixRow): string {
  if (!judged(row.verdict) || row.classes === undefined) return verdictLabel(row.verdict);
  const rate = row.rateText === NONE ? '' : `, ${cell(row.rateText)}`;
  const others = ATTEMPT_CLASSES.filter((c) => c !== 'lost-layer').map(
    (c) => `${CLASS_LABELS[c].short} ${countOf(row, c)}`,
  );
  const lost = `${CLASS_LABELS['lost-layer'].short} ${row.lost}/${row.attempts}${rate}`;
  return [`${VERDICT_ICON[row.verdict]} ${lost}`, ...others].join(' · ');
}
