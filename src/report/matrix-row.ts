import { confidenceText, lossRate, percent } from '../verdict/loss-rate.js';
import type { LossRate } from '../model/loss-rate.js';
import { NONE } from './markdown.js';
import type { MatrixInput, MatrixRow } from './matrix-model.js';
import { CLASSES } from '../verdict/classes.js';
import { imageTag } from '../inputs/validators.js';
import { RELEASE, versionInName } from './release-names.js';
import { MALFORMED, outcomeClass, parseReport, type Report } from './report-schema.js';
import { ATTEMPT_CLASSES, DIFFERENCE_CLASSES, noClasses, type ClassCounts } from '../model/classes.js';

/**
 * One job's row. Never throws: a report it cannot use becomes an 'unreadable' row that says why.
 *
 * Attempts and Lost come from the report's `lossRate` when it has one, else from its attempt records and its
 * class counts (`verdict.classes`, else counted from the records). The rate, of lost layers, is given from
 * `lossRate`, or for a clean run from its intact attempts; a run without `lossRate` that found a difference
 * stopped at it, which makes no fixed-size sample, so it gets no rate.
 */
export function rowOf(input: MatrixInput): MatrixRow {
  try {
    if (input.report === undefined) return unreadableRow(input, input.error ?? 'it holds no report');
    const parsed = parseReport(input.report);
    return 'problem' in parsed
      ? unreadableRow(input, parsed.problem)
      : reportRow(input.source, parsed.report);
  } catch (err) {
    return unreadableRow(input, `it could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
}

function reportRow(source: string, report: Report): MatrixRow {
  const { kind } = report.verdict;
  const image = report.settings?.buildkitImage ?? '';
  const buildkitVersion = report.buildkitVersion ?? '';
  const version = RELEASE.test(buildkitVersion)
    ? buildkitVersion
    : imageTag(image) || buildkitVersion || versionInName(source) || 'unknown';

  const classes = classesOf(report);
  const counts = report.lossRate === MALFORMED ? undefined : report.lossRate;
  // Recomputed from the counts, so that a malformed bound in the report is never shown.
  const reported = counts && lossRate(counts.lost, counts.attempts, counts.confidence);
  const rate = reported ?? (kind === 'clean' && classes.intact > 0 ? lossRate(0, classes.intact) : undefined);
  const row: MatrixRow = {
    version,
    image,
    maker: makerOf(report.cacheMaker),
    verdict: kind,
    attempts: reported ? reported.attempts : report.attempts.length,
    lost: reported ? reported.lost : classes['lost-layer'],
    unjudged: unjudgedOf(report),
    rateText: rate ? rateText(rate) : NONE,
    source,
  };
  // A run that ran no attempt has no counts, as its verdict has none.
  if (kind !== 'not-run') row.classes = classes;
  const note = notesOf(report).join('; ');
  if (note !== '') row.note = note;
  return row;
}

/** The report's own counts (verdict.classes), else counted from its attempt records, as version 1 needs. */
function classesOf(report: Report): ClassCounts {
  const given = report.verdict.classes;
  if (report.schemaVersion !== 1 && given !== undefined && given !== MALFORMED) {
    return Object.fromEntries(ATTEMPT_CLASSES.map((c) => [c, given[c]])) as ClassCounts;
  }
  const counted = noClasses();
  for (const record of report.attempts) {
    const found = outcomeClass(report.schemaVersion, record.outcome?.kind);
    if (found !== undefined) counted[found] += 1;
  }
  return counted;
}

/** The classes the run could not see, and why. */
function unjudgedOf(report: Report): MatrixRow['unjudged'] {
  if (report.schemaVersion === 1) {
    return {
      'content-differs':
        'a report of schema version 1 counted a layer difference other than a loss as intact',
      'config-differs': 'a report of schema version 1 never compared config and history',
    };
  }
  return { ...stoppedEarly(report), ...configUnjudged(report) };
}

function configUnjudged(report: Report): MatrixRow['unjudged'] {
  const comparison = report.configComparison;
  if (comparison === MALFORMED) return { 'config-differs': 'its configComparison is malformed' };
  if (comparison === undefined) return { 'config-differs': 'the report does not say config was compared' };
  if (comparison.compared) return {};
  return { 'config-differs': comparison.reason ?? 'config and history were not compared' };
}

/**
 * A run that stopped at its first finding did not look for the other classes to its end: one it did not see
 * in those few attempts is not judged (one it saw is seen all the same).
 */
function stoppedEarly(report: Report): MatrixRow['unjudged'] {
  const planned = report.settings?.retries;
  const ran = report.attempts.length;
  if (planned === undefined || ran >= planned || report.settings?.keepGoing === true) return {};
  const found = report.verdict.kind;
  if (found !== 'reproduced' && found !== 'content-differs') return {};
  const reason = `the run stopped at its first finding, after ${ran} of ${planned} attempts`;
  const counts = classesOf(report);
  return Object.fromEntries(
    DIFFERENCE_CLASSES.filter((c) => CLASSES[c].verdict !== found && counts[c] === 0).map((c) => [c, reason]),
  );
}

function notesOf(report: Report): string[] {
  switch (report.verdict.kind) {
    case 'error':
      return [`an infrastructure step failed (${report.verdict.cause ?? 'no cause given'})`];
    case 'not-run':
      return ['no attempts were run (run-attempts: false)'];
  }
  const malformed = (
    [
      ['lossRate', report.lossRate],
      ['verdict.classes', report.verdict.classes],
      ['configComparison', report.configComparison],
    ] as const
  ).filter(([, value]) => value === MALFORMED);
  return malformed.map(([field]) => `its ${field} is malformed and was ignored`);
}

/** Short enough for a table cell: "< 7.2% (95%, one-sided)" or "20.0% (9.1%–35.6%, 95%)". */
function rateText(r: LossRate): string {
  const level = confidenceText(r.confidence);
  if (r.lost === 0) return `< ${percent(r.oneSidedUpper)} (${level}, one-sided)`;
  return `${percent(r.rate)} (${percent(r.twoSided.low)}–${percent(r.twoSided.high)}, ${level})`;
}

/** The release that made the cache, as the report's cacheMaker names it; '' when it does not. */
function makerOf(maker: Report['cacheMaker']): string {
  if (maker === undefined) return '';
  if (maker.kind === 'earlier-run') return 'earlier run';
  const version = maker.buildkitVersion ?? '';
  return RELEASE.test(version) ? version : imageTag(maker.image ?? '') || version;
}

function unreadableRow(input: MatrixInput, reason: string): MatrixRow {
  return {
    version: versionInName(input.source) ?? 'unknown',
    image: '',
    maker: '',
    verdict: 'unreadable',
    attempts: 0,
    lost: 0,
    unjudged: {},
    rateText: NONE,
    source: input.source,
    note: reason,
  };
}
