import * as semver from 'semver';
import { confidenceText, lossRate, percent } from '../verdict/loss-rate.js';
import { REPORT_SCHEMA_VERSION } from './json-report.js';
import type { LossRate } from '../model/loss-rate.js';

/** One job's report: `report` is its parsed JSON, `error` why it could not be read or parsed. */
export interface MatrixInput {
  /** Where the report came from, e.g. its file name. */
  source: string;
  report?: unknown;
  error?: string;
}

export interface MatrixRow {
  version: string;
  image: string;
  /** The release that made the cache the job imported ('earlier run', or '' when the report does not say). */
  maker: string;
  verdict: 'reproduced' | 'clean' | 'error' | 'not-run' | 'missing' | 'unreadable';
  attempts: number;
  lost: number;
  rateText: string;
  source?: string;
  note?: string;
}

type Boundary = { lastLost?: string; firstClean?: string };

export interface MatrixResult {
  rows: MatrixRow[];
  /** Over every row; with more than one cache maker, see byMaker instead. */
  boundary: Boundary;
  /** The cache makers the reports name, in release order. */
  makers: string[];
  /** The boundary among the importers of each maker's cache, when there is more than one maker and some job imported another release's cache. */
  byMaker: { maker: string; boundary: Boundary }[];
  problems: string[];
}

const VERDICT_KINDS = ['reproduced', 'clean', 'error', 'not-run'] as const;
type VerdictKind = (typeof VERDICT_KINDS)[number];

/** A release as buildkitd reports it: v0.9.1, v0.10.0-rc1. */
const RELEASE = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;
/** A release named inside a file name such as report-v0.9.1-rootless.json. */
const RELEASE_IN_NAME = /v\d+\.\d+\.\d+(?:-[0-9A-Za-z]+)*/;
const NO_RATE = '—';

/**
 * One table across many reports, e.g. one job per BuildKit release. Never throws: a report it cannot use
 * becomes an 'unreadable' row, an expected version without a report a 'missing' row, and both are named in
 * `problems`.
 *
 * Attempts and Lost come from the report's `lossRate` when it has one, else from its attempt records. The
 * rate is given from `lossRate`, or for a clean run from its intact attempts; a run without `lossRate` that
 * lost a layer stopped at its first loss, which makes no fixed-size sample, so it gets no rate.
 */
export function buildMatrix(
  inputs: readonly MatrixInput[],
  expectedVersions?: readonly string[],
): MatrixResult {
  const rows = inputs.map(rowOf);
  for (const label of new Set((expectedVersions ?? []).map((v) => v.trim()).filter((v) => v !== ''))) {
    if (!rows.some((row) => answers(row, label))) {
      rows.push({
        version: tagOf(label) || label,
        image: label.includes(':') ? label : '',
        maker: '',
        verdict: 'missing',
        attempts: 0,
        lost: 0,
        rateText: NO_RATE,
        note: 'no report was given for this expected version',
      });
    }
  }
  rows.sort(compareRows);
  const makers = [...new Set(rows.map((r) => r.maker).filter((m) => m !== ''))].sort(byRelease);
  // A grid only when some job imported a cache that another release made: in a plain bisect every release
  // makes its own cache, and the one boundary over all rows is the answer.
  const byMaker =
    makers.length > 1 && importsOthersCaches(rows)
      ? makers.map((maker) => ({ maker, boundary: boundaryOf(rows.filter((r) => r.maker === maker)) }))
      : [];
  return { rows, boundary: boundaryOf(rows), makers, byMaker, problems: rows.flatMap(problemOf) };
}

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
  // The maker gets a column when some job imported a cache that another release made.
  const showMaker = importsOthersCaches(result.rows);
  if (result.rows.length > 0) {
    lines.push(
      `| Version | Image |${showMaker ? ' Cache made by |' : ''} Verdict | Attempts | Lost | Loss rate |`,
      `| --- | --- |${showMaker ? ' --- |' : ''} --- | ---: | ---: | --- |`,
      ...result.rows.map((row) => {
        // A job with no report ran nothing we know of: no counts rather than zeros.
        const known = row.verdict !== 'missing' && row.verdict !== 'unreadable';
        const counts = known ? `${row.attempts} | ${row.lost}` : `${NO_RATE} | ${NO_RATE}`;
        const maker = showMaker ? ` ${cell(row.maker || NO_RATE)} |` : '';
        return `| ${cell(row.version)} | ${cell(row.image)} |${maker} ${VERDICT_TEXT[row.verdict]} | ${counts} | ${cell(row.rateText)} |`;
      }),
      '',
    );
  }
  if (result.problems.length > 0) {
    lines.push('Some jobs gave no verdict:', '', ...result.problems.map((p) => `- ${cell(p)}`), '');
  }
  return lines.join('\n');
}

function importsOthersCaches(rows: readonly MatrixRow[]): boolean {
  return rows.some((row) => row.maker !== '' && row.maker !== row.version);
}

/** Importers as rows, cache makers as columns; a cell holds every job of that pair (e.g. rootful and rootless). */
function renderGrid(result: MatrixResult): string[] {
  const importers = [...new Set(result.rows.filter((r) => r.maker !== '').map((r) => r.version))];
  return [
    `| Importer ↓ · cache made by → | ${result.makers.map(cell).join(' | ')} |`,
    `| --- |${' --- |'.repeat(result.makers.length)}`,
    ...importers.map((version) => {
      const cells = result.makers.map((maker) => {
        const jobs = result.rows.filter((r) => r.version === version && r.maker === maker);
        return jobs.length === 0 ? NO_RATE : jobs.map(gridCell).join('<br>');
      });
      return `| ${cell(version)} | ${cells.join(' | ')} |`;
    }),
  ];
}

function gridCell(row: MatrixRow): string {
  if (row.verdict !== 'reproduced' && row.verdict !== 'clean') return VERDICT_TEXT[row.verdict];
  const icon = VERDICT_TEXT[row.verdict].split(' ')[0] ?? '';
  return `${icon} ${row.lost}/${row.attempts} ${cell(row.rateText)}`;
}

const VERDICT_TEXT: Record<MatrixRow['verdict'], string> = {
  reproduced: '🔴 lost a layer',
  clean: '🟢 clean',
  error: '⚠️ error',
  'not-run': '⚪ not run',
  missing: '❔ missing',
  unreadable: '❌ unreadable',
};

function rowOf(input: MatrixInput): MatrixRow {
  try {
    return readRow(input);
  } catch (err) {
    return unreadable(input, `it could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
}

function readRow(input: MatrixInput): MatrixRow {
  const report = input.report;
  if (report === undefined) {
    return unreadable(input, input.error !== undefined ? input.error : 'it holds no report');
  }
  if (!isObject(report)) return unreadable(input, `it is ${describeValue(report)}, not a report object`);
  if (report.schemaVersion !== REPORT_SCHEMA_VERSION) {
    return unreadable(
      input,
      `its schemaVersion is ${describeValue(report.schemaVersion)}, not ${REPORT_SCHEMA_VERSION}`,
    );
  }
  const verdict = report.verdict;
  const kind = isObject(verdict) ? verdict.kind : undefined;
  if (!isVerdictKind(kind)) {
    return unreadable(
      input,
      `its verdict.kind is ${describeValue(kind)}, not one of ${VERDICT_KINDS.join(', ')}`,
    );
  }

  const settings = isObject(report.settings) ? report.settings : {};
  const image = typeof settings.buildkitImage === 'string' ? settings.buildkitImage : '';
  const buildkitVersion = typeof report.buildkitVersion === 'string' ? report.buildkitVersion.trim() : '';
  const version = RELEASE.test(buildkitVersion)
    ? buildkitVersion
    : tagOf(image) || buildkitVersion || versionInName(input.source) || 'unknown';

  const records = Array.isArray(report.attempts) ? report.attempts : [];
  const outcomeKinds = records.map((r) => (isObject(r) && isObject(r.outcome) ? r.outcome.kind : undefined));
  const lostRecords = outcomeKinds.filter((k) => k === 'lost').length;
  const intactRecords = outcomeKinds.filter((k) => k === 'intact').length;

  const reported = lossRateOf(report.lossRate);
  const rate = reported ?? (kind === 'clean' && intactRecords > 0 ? lossRate(0, intactRecords) : undefined);
  const row: MatrixRow = {
    version,
    image,
    maker: makerOf(report.cacheMaker),
    verdict: kind,
    attempts: reported ? reported.attempts : records.length,
    lost: reported ? reported.lost : lostRecords,
    rateText: rate ? rateText(rate) : NO_RATE,
    source: input.source,
  };
  const note = noteOf(kind, verdict, report.lossRate, reported);
  if (note !== undefined) row.note = note;
  return row;
}

function noteOf(
  kind: VerdictKind,
  verdict: unknown,
  rawLossRate: unknown,
  reported: LossRate | undefined,
): string | undefined {
  if (kind === 'error') {
    const cause = isObject(verdict) && typeof verdict.cause === 'string' ? verdict.cause : 'no cause given';
    return `an infrastructure step failed (${cause})`;
  }
  if (kind === 'not-run') return 'no attempts were run (run-attempts: false)';
  if (rawLossRate !== undefined && reported === undefined) return 'its lossRate is malformed and was ignored';
  return undefined;
}

/** The report's own lossRate, recomputed from its counts so that a malformed bound is never shown. */
function lossRateOf(value: unknown): LossRate | undefined {
  if (!isObject(value)) return undefined;
  const { lost, attempts, confidence } = value;
  if (typeof lost !== 'number' || typeof attempts !== 'number') return undefined;
  if (!Number.isSafeInteger(lost) || !Number.isSafeInteger(attempts) || attempts < 1) return undefined;
  if (lost < 0 || lost > attempts) return undefined;
  const level = typeof confidence === 'number' && confidence > 0 && confidence < 1 ? confidence : 0.95;
  return lossRate(lost, attempts, level);
}

/** Short enough for a table cell: "< 7.2% (95%, one-sided)" or "20.0% (9.1%–35.6%, 95%)". */
function rateText(r: LossRate): string {
  const level = confidenceText(r.confidence);
  if (r.lost === 0) return `< ${percent(r.oneSidedUpper)} (${level}, one-sided)`;
  return `${percent(r.rate)} (${percent(r.twoSided.low)}–${percent(r.twoSided.high)}, ${level})`;
}

/** The release that made the cache, as the report's cacheMaker names it; '' when it does not. */
function makerOf(value: unknown): string {
  if (!isObject(value)) return '';
  if (value.kind === 'earlier-run') return 'earlier run';
  const version = typeof value.buildkitVersion === 'string' ? value.buildkitVersion.trim() : '';
  const image = typeof value.image === 'string' ? value.image : '';
  return RELEASE.test(version) ? version : tagOf(image) || version;
}

function unreadable(input: MatrixInput, reason: string): MatrixRow {
  return {
    version: versionInName(input.source) ?? 'unknown',
    image: '',
    maker: '',
    verdict: 'unreadable',
    attempts: 0,
    lost: 0,
    rateText: NO_RATE,
    source: input.source,
    note: reason,
  };
}

/** Whether a row is the job an expected label stands for: by version, image or image tag. */
function answers(row: MatrixRow, label: string): boolean {
  const names = [row.version, row.image, tagOf(row.image)];
  if (row.source !== undefined) names.push(versionInName(row.source) ?? '');
  const wanted = [label, tagOf(label)].filter((n) => n !== '');
  return names.some((name) => name !== '' && wanted.includes(name));
}

/** Releases in semver order (a "-rootless" tag counts as its release), then everything else by name. */
function compareRows(a: MatrixRow, b: MatrixRow): number {
  const va = releaseOf(a.version);
  const vb = releaseOf(b.version);
  if (va && vb) {
    const bySemver = semver.compare(va, vb);
    if (bySemver !== 0) return bySemver;
  } else if (va) {
    return -1;
  } else if (vb) {
    return 1;
  }
  return (
    byName(a.version, b.version) ||
    byName(a.image, b.image) ||
    byRelease(a.maker, b.maker) ||
    byName(a.source ?? '', b.source ?? '')
  );
}

function byRelease(a: string, b: string): number {
  const ra = releaseOf(a);
  const rb = releaseOf(b);
  return ra && rb ? semver.compare(ra, rb) : byName(a, b);
}

function releaseOf(version: string): semver.SemVer | null {
  if (!/^v?\d+\.\d+/.test(version)) return null;
  return semver.coerce(version.replace(/-rootless$/, ''), { includePrerelease: true });
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The last release that lost a layer and the first clean one above it. Only releases are ordered: a row such
 * as "master" has no place between them and takes no part.
 */
function boundaryOf(rows: readonly MatrixRow[]): MatrixResult['boundary'] {
  const releases = rows.filter((row) => releaseOf(row.version) !== null);
  let lastLostIndex = -1;
  releases.forEach((row, i) => {
    if (row.verdict === 'reproduced') lastLostIndex = i;
  });
  if (lastLostIndex < 0) return {};
  const lastLost = releases[lastLostIndex]?.version;
  const firstClean = releases.slice(lastLostIndex + 1).find((row) => row.verdict === 'clean')?.version;
  return firstClean === undefined ? { lastLost } : { lastLost, firstClean };
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

/** Releases strictly between the two boundary versions that are neither reproduced nor clean. */
function versionsBetween(rows: readonly MatrixRow[], low: string, high: string): string[] {
  const lo = releaseOf(low);
  const hi = releaseOf(high);
  if (!lo || !hi) return [];
  const found = rows.filter((row) => {
    const v = releaseOf(row.version);
    return (
      v !== null &&
      semver.compare(v, lo) > 0 &&
      semver.compare(v, hi) < 0 &&
      row.verdict !== 'reproduced' &&
      row.verdict !== 'clean'
    );
  });
  return [...new Set(found.map((row) => row.version))];
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

function tagOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
}

function versionInName(source: string): string | undefined {
  return RELEASE_IN_NAME.exec(source)?.[0];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVerdictKind(value: unknown): value is VerdictKind {
  return typeof value === 'string' && (VERDICT_KINDS as readonly string[]).includes(value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

/** A table cell: Markdown escaped (a pipe would end the cell), on one line. */
function cell(text: string): string {
  return escapeMarkdown(text).replace(/\r?\n/g, '<br>');
}
