import { confidenceText, lossRate, percent } from '../verdict/loss-rate.js';
import type { LossRate } from '../model/loss-rate.js';
import { NONE } from './markdown.js';
import type { MatrixInput, MatrixRow } from './matrix-model.js';
import { imageTag } from '../inputs/validators.js';
import { RELEASE, versionInName } from './release-names.js';
import { MALFORMED, parseReport, type Report } from './report-schema.js';

/**
 * One job's row. Never throws: a report it cannot use becomes an 'unreadable' row that says why.
 *
 * Attempts and Lost come from the report's `lossRate` when it has one, else from its attempt records. The
 * rate is given from `lossRate`, or for a clean run from its intact attempts; a run without `lossRate` that
 * lost a layer stopped at its first loss, which makes no fixed-size sample, so it gets no rate.
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

  const outcomes = report.attempts.map((record) => record.outcome?.kind);
  const lostRecords = outcomes.filter((k) => k === 'lost').length;
  const intactRecords = outcomes.filter((k) => k === 'intact').length;
  const counts = report.lossRate === MALFORMED ? undefined : report.lossRate;
  // Recomputed from the counts, so that a malformed bound in the report is never shown.
  const reported = counts && lossRate(counts.lost, counts.attempts, counts.confidence);
  const rate = reported ?? (kind === 'clean' && intactRecords > 0 ? lossRate(0, intactRecords) : undefined);
  const row: MatrixRow = {
    version,
    image,
    maker: makerOf(report.cacheMaker),
    verdict: kind,
    attempts: reported ? reported.attempts : report.attempts.length,
    lost: reported ? reported.lost : lostRecords,
    rateText: rate ? rateText(rate) : NONE,
    source,
  };
  const note = noteOf(report);
  if (note !== undefined) row.note = note;
  return row;
}

function noteOf(report: Report): string | undefined {
  switch (report.verdict.kind) {
    case 'error':
      return `an infrastructure step failed (${report.verdict.cause ?? 'no cause given'})`;
    case 'not-run':
      return 'no attempts were run (run-attempts: false)';
    default:
      return report.lossRate === MALFORMED ? 'its lossRate is malformed and was ignored' : undefined;
  }
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
    rateText: NONE,
    source: input.source,
    note: reason,
  };
}
