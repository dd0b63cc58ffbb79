import { NONE, cell, escapeMarkdown, tableRow } from './markdown.js';
import { importsOthersCaches, type MatrixResult, type MatrixRow } from './matrix-model.js';
import { versionsBetween } from './release-order.js';
import { VERDICT_ICON, verdictLabel } from './verdict-labels.js';

/**
 * The matrix as Markdown: the boundary first (one per cache maker when there are several), then the grid of
 * importers × cache makers when there are several makers, then every row, then what gave no verdict.
 */
export function renderMatrix(result: MatrixResult): string {
  const lines = ['## BuildKit lost-layer bisect', ''];
  if (result.byMaker.length > 0) {
    for (const { maker, boundary } of result.byMaker)
      lines.push(
        `- Cache made by ${escapeMarkdown(maker)}: ${boundarySentence({ ...result, boundary }, maker)}`,
      );
    lines.push('', ...renderGrid(result), '');
  } else {
    lines.push(boundarySentence(result), '');
  }
  if (result.rows.length > 0) lines.push(...renderRows(result.rows), '');
  if (result.problems.length > 0) {
    lines.push('Some jobs gave no verdict:', '', ...result.problems.map((p) => `- ${cell(p)}`), '');
  }
  return lines.join('\n');
}

/** Every job, one row each; the maker gets a column when some job imported a cache another release made. */
function renderRows(rows: readonly MatrixRow[]): string[] {
  const showMaker = importsOthersCaches(rows);
  const maker = (...cells: string[]) => (showMaker ? cells : []);
  return [
    tableRow(['Version', 'Image', ...maker('Cache made by'), 'Verdict', 'Attempts', 'Lost', 'Loss rate']),
    tableRow(['---', '---', ...maker('---'), '---', '---:', '---:', '---']),
    ...rows.map((row) => {
      // A job with no report ran nothing we know of: no counts rather than zeros.
      const known = row.verdict !== 'missing' && row.verdict !== 'unreadable';
      return tableRow([
        cell(row.version),
        cell(row.image),
        ...maker(cell(row.maker || NONE)),
        verdictLabel(row.verdict),
        known ? row.attempts : NONE,
        known ? row.lost : NONE,
        cell(row.rateText),
      ]);
    }),
  ];
}

/** Importers as rows, cache makers as columns; a cell holds every job of that pair (e.g. rootful and rootless). */
function renderGrid(result: MatrixResult): string[] {
  const importers = [...new Set(result.rows.filter((r) => r.maker !== '').map((r) => r.version))];
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
  ];
}

function gridCell(row: MatrixRow): string {
  if (row.verdict !== 'reproduced' && row.verdict !== 'clean') return verdictLabel(row.verdict);
  return `${VERDICT_ICON[row.verdict]} ${row.lost}/${row.attempts} ${cell(row.rateText)}`;
}

function boundarySentence(result: MatrixResult, maker?: string): string {
  const { lastLost, firstClean } = result.boundary;
  const rows = maker === undefined ? result.rows : result.rows.filter((r) => r.maker === maker);
  if (lastLost === undefined) {
    const withVerdict = rows.filter((r) => r.verdict === 'reproduced' || r.verdict === 'clean');
    if (withVerdict.length === 0) return 'No job gave a verdict, so there is no boundary.';
    if (withVerdict.some((r) => r.verdict === 'reproduced')) {
      return 'No release lost a layer (only builds that are not releases did), so there is no boundary.';
    }
    return 'No release lost a layer: every job with a verdict ran clean, so there is no boundary.';
  }
  if (firstClean === undefined) {
    return `Last release that lost a layer: ${escapeMarkdown(lastLost)}; no release above it ran clean.`;
  }
  const sentence = `Last release that lost a layer: ${escapeMarkdown(lastLost)}; first clean: ${escapeMarkdown(firstClean)}.`;
  const between = versionsBetween(rows, lastLost, firstClean);
  return between.length === 0
    ? sentence
    : `${sentence} Between them, ${between.map(escapeMarkdown).join(', ')} gave no verdict.`;
}
