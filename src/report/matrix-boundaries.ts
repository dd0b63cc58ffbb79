import { DIFFERENCE_CLASSES, type DifferenceClass } from '../model/classes.js';
import { escapeMarkdown } from './markdown.js';
import { sighting, type ClassBoundaries, type ClassBoundary, type MatrixRow } from './matrix-model.js';
import { releaseOf, versionsBetween } from './release-order.js';
import { CLASS_LABELS, judged } from './verdict-labels.js';

/* The boundaries of the bisect table in words: one line per class of difference. */

/** What the boundary lines mean, said once above them. */
export const BOUNDARY_KEY =
  'For each way an image can differ from the one built without a cache: the last release whose attempts ' +
  'showed it, and the first release above that whose attempts did not.';

/**
 * One list item per class ("- Lost a layer: last v0.9.0; first without: v0.9.1."), or one sentence when no
 * job gave a verdict. `indent` nests the list under a cache maker's item.
 */
export function boundaryLines(
  rows: readonly MatrixRow[],
  boundaries: ClassBoundaries,
  indent = '',
): string[] {
  if (!rows.some((row) => judged(row.verdict))) return ['No job gave a verdict, so there is no boundary.'];
  return DIFFERENCE_CLASSES.map(
    (difference) =>
      `${indent}- ${CLASS_LABELS[difference].name}: ${classSentence(rows, difference, boundaries[difference])}`,
  );
}

function classSentence(
  rows: readonly MatrixRow[],
  difference: DifferenceClass,
  { last, firstWithout }: ClassBoundary,
): string {
  if (last === undefined) return noBoundary(rows, difference);
  const lastText = `last ${escapeMarkdown(last)}`;
  const untold = versionsBetween(rows, last, firstWithout);
  if (firstWithout === undefined) {
    return untold.length === 0
      ? `${lastText}; no release above it was tested.`
      : `${lastText}; above it, ${untoldText(untold)}.`;
  }
  const sentence = `${lastText}; first without: ${escapeMarkdown(firstWithout)}.`;
  return untold.length === 0 ? sentence : `${sentence} Between them, ${untoldText(untold)}.`;
}

/** Why no release is the last of a class: none showed it, none could tell, or only builds that are not releases did. */
function noBoundary(rows: readonly MatrixRow[], difference: DifferenceClass): string {
  const releases = rows.filter((row) => releaseOf(row.version) !== null);
  if (!releases.some((row) => sighting(row, difference) !== undefined)) {
    // The reasons are in the key under the table: a grid of makers would repeat one for every pair.
    return releases.some((row) => judged(row.verdict))
      ? 'no release judged it.'
      : 'no release gave a verdict.';
  }
  const elsewhere = rows.filter(
    (row) => releaseOf(row.version) === null && sighting(row, difference) === 'seen',
  );
  const names = distinct(elsewhere.map((row) => row.version)).map(escapeMarkdown);
  return names.length === 0
    ? 'no release.'
    : `no release; only builds that are not releases: ${names.join(', ')}.`;
}

/** "v0.9.1 gave no verdict and v0.9.2 did not judge it": releases that could not tell, by why. */
function untoldText(rows: readonly MatrixRow[]): string {
  const versions = distinct(rows.map((row) => row.version));
  const judging = new Set(rows.filter((row) => judged(row.verdict)).map((row) => row.version));
  const parts = [
    [versions.filter((v) => !judging.has(v)), 'gave no verdict'],
    [versions.filter((v) => judging.has(v)), 'did not judge it'],
  ] as const;
  return parts
    .filter(([some]) => some.length > 0)
    .map(([some, what]) => `${some.map(escapeMarkdown).join(', ')} ${what}`)
    .join(' and ');
}

export function distinct(texts: readonly string[]): string[] {
  return [...new Set(texts.filter((text) => text !== ''))];
}
