/*
 * The fuzz run's job summary, for one shard or the merge of all: the totals in a line, the findings first
 * (every group, the rare ones too), then errors, problems with the reports, coverage and cost. Every value
 * comes from reports other jobs wrote, so every one is escaped.
 */
import type { DifferenceClass } from '../model/classes.js';
import { redact } from '../model/secrets.js';
import { CLASS_WORDS } from '../model/wording.js';
import { cell, code, escapeMarkdown, NONE, tableRow } from '../report/markdown.js';
import { groupFindings, type FindingGroup } from './findings.js';
import { asMerged, type MergedFuzzReport, type MergedFuzzRun } from './fuzz-merge.js';
import type { CaseOutcome, CaseResult, FuzzReport, FuzzRunFacts } from './fuzz-result.js';
import { coverageSection } from './fuzz-summary-coverage.js';

export interface FuzzSummaryOptions {
  title?: string;
  /** Problems found while reading the reports (readFuzzReports), listed with the merge's own. */
  problems?: readonly string[];
}

/** The characters of an error's detail that group errors: the same cause, whatever path or id follows. */
const ERROR_KEY_LENGTH = 80;
/** A finding's account in the table: enough to tell groups apart, the rest is in its folder. */
const DETAIL_LENGTH = 160;

const CLASS_ICON: Readonly<Record<DifferenceClass, string>> = {
  'lost-layer': '🔴',
  'content-differs': '🟠',
  'config-differs': '🟡',
};

const OUTCOME_WORDS: Readonly<Record<CaseOutcome, { one: string; many: string }>> = {
  intact: { one: 'intact', many: 'intact' },
  finding: { one: 'finding', many: 'findings' },
  error: { one: 'error', many: 'errors' },
  untested: { one: 'untested', many: 'untested' },
};

const STOP_WORDS: Readonly<Record<FuzzRunFacts['stoppedBy'], string>> = {
  cases: 'the case count',
  budget: 'the time budget',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Text cut to a length, marked when cut. */
export function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

/** "12 s", "4.5 min", "2.1 h". */
export function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function renderFuzzSummary(
  report: FuzzReport | MergedFuzzReport,
  options: FuzzSummaryOptions = {},
): string {
  const merged = 'schemaVersion' in report ? asMerged(report) : report;
  const groups = groupFindings(merged.cases, { clockOf: shardClock(merged.run) });
  const lines = [
    `## ${escapeMarkdown(options.title ?? 'BuildKit cache fuzzer')}`,
    '',
    headline(groups, merged.cases),
    '',
    totalsLine(merged),
    '',
    ...findingsSection(groups),
    ...errorsSection(merged.cases),
    ...problemsSection([...(options.problems ?? []), ...merged.problems]),
    ...coverageSection(merged.cases),
    ...costSection(merged),
  ];
  // Errors quote BuildKit, whose messages can carry a backend's secret.
  return redact(lines.join('\n'));
}

/** Shards of one seed ran side by side: a case's shard is its number modulo the count. */
function shardClock(run: MergedFuzzRun): ((result: CaseResult) => string) | undefined {
  const counts = new Set(run.shards.map((s) => s.count));
  const [count] = counts;
  if (counts.size !== 1 || count === undefined) return undefined;
  return (result) => `${result.seed}:${result.caseNumber % count}`;
}

function headline(groups: readonly FindingGroup[], cases: readonly CaseResult[]): string {
  const first = groups[0];
  if (first) {
    const findings = groups.reduce((sum, g) => sum + g.count, 0);
    return `${CLASS_ICON[first.differenceClass]} **${plural(findings, 'finding')} in ${plural(groups.length, 'group')}** (one group per bug signature)`;
  }
  const intact = cases.filter((c) => c.outcome === 'intact').length;
  if (intact > 0)
    return `🟢 **No finding**: ${plural(intact, 'case')} built from the cache equalled the reference`;
  return '⚪ **No finding, and no case was tested**';
}

function countsText(cases: readonly CaseResult[]): string {
  const distinct = new Set(cases.map((c) => `${c.seed}:${c.caseNumber}`)).size;
  const runs =
    distinct === cases.length
      ? plural(distinct, 'case')
      : `${plural(distinct, 'case')} in ${cases.length} runs over the backends`;
  const outcomes = (Object.keys(OUTCOME_WORDS) as CaseOutcome[]).map((outcome) => {
    const n = cases.filter((c) => c.outcome === outcome).length;
    return `${n} ${n === 1 ? OUTCOME_WORDS[outcome].one : OUTCOME_WORDS[outcome].many}`;
  });
  return `${runs}: ${outcomes.join(', ')}`;
}

function shardsText(run: MergedFuzzRun): string {
  const seeds = `seed${run.seeds.length === 1 ? '' : 's'} ${run.seeds.join(', ') || NONE}`;
  const counts = [...new Set(run.shards.map((s) => s.count))];
  if (counts.length === 1 && counts[0] === 1) return seeds;
  const indexes = [...new Set(run.shards.map((s) => s.index))].join(', ');
  const of = counts.length === 1 ? ` of ${counts[0]}` : ` of ${counts.join(' or ')}`;
  return `${seeds}, shard${run.shards.length === 1 ? '' : 's'} ${indexes}${of}`;
}

function totalsLine(merged: MergedFuzzReport): string {
  const { run } = merged;
  const versions = run.buildkitVersions.map(escapeMarkdown).join(', ') || NONE;
  const images = run.buildkitImages.map(code).join(', ');
  const backends = run.cacheTypes.map(code).join(', ') || NONE;
  const stopped = run.stoppedBy.map((s) => STOP_WORDS[s]).join(' and ');
  const parts = [
    countsText(merged.cases),
    `BuildKit ${versions}${images ? ` (${images})` : ''}`,
    `backend${run.cacheTypes.length === 1 ? '' : 's'} ${backends}`,
    escapeMarkdown(shardsText(run)),
    ...(stopped ? [`stopped by ${stopped}`] : []),
  ];
  return `${parts.join(' · ')}.`;
}

function exampleCell(group: FindingGroup): string {
  const { example } = group;
  const where = `seed ${example.seed} case ${example.caseNumber}, ${cell(example.cacheType)}`;
  return example.findingDir ? `${where}<br>${code(example.findingDir)}` : where;
}

function findingsSection(groups: readonly FindingGroup[]): string[] {
  if (groups.length === 0) return [];
  return [
    '### Findings',
    '',
    tableRow(['Class', 'Signature', 'Found', 'Example', 'Minimized', 'First seen', 'What differs']),
    '| --- | --- | ---: | --- | ---: | ---: | --- |',
    ...groups.map((g) =>
      tableRow([
        `${CLASS_ICON[g.differenceClass]} ${CLASS_WORDS[g.differenceClass]}`,
        g.signature === g.key ? code(g.signature) : `${code(g.signature)}<br>found as ${code(g.key)}`,
        g.count,
        exampleCell(g),
        g.example.minimizedInstructions === undefined
          ? NONE
          : plural(g.example.minimizedInstructions, 'instruction'),
        g.firstSeenSeconds === undefined ? NONE : `after ${duration(g.firstSeenSeconds)}`,
        cell(clip(g.example.detail, DETAIL_LENGTH)),
      ]),
    ),
    '',
  ];
}

/** Errors grouped by the start of their cause, the most frequent first. */
function errorsSection(cases: readonly CaseResult[]): string[] {
  const groups = new Map<string, CaseResult[]>();
  for (const result of cases.filter((c) => c.outcome === 'error')) {
    const key = clip(result.detail.replace(/\s+/g, ' ').trim(), ERROR_KEY_LENGTH);
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  if (groups.size === 0) return [];
  const rows = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  return [
    '### Errors',
    '',
    'No verdict for these cases: an infrastructure step or the case’s own build failed.',
    '',
    tableRow(['Cause', 'Cases', 'Example']),
    '| --- | ---: | --- |',
    ...rows.map(([key, results]) => {
      const first = results[0] as CaseResult;
      return tableRow([
        cell(key),
        results.length,
        `seed ${first.seed} case ${first.caseNumber}, ${cell(first.cacheType)}`,
      ]);
    }),
    '',
  ];
}

function problemsSection(problems: readonly string[]): string[] {
  if (problems.length === 0) return [];
  return ['### Problems with the reports', '', ...problems.map((p) => `- ${cell(p)}`), ''];
}

/** Cases per minute of the machines' time, and where that time went. */
function costSection(merged: MergedFuzzReport): string[] {
  const { cases } = merged;
  if (cases.length === 0) return [];
  const sum = (part: keyof CaseResult['seconds']) => cases.reduce((s, c) => s + c.seconds[part], 0);
  const total = sum('total');
  const parts = { setup: sum('setup'), attempts: sum('attempts'), minimize: sum('minimize') };
  const other = Math.max(0, total - parts.setup - parts.attempts - parts.minimize);
  const share = (seconds: number) => (total > 0 ? `${Math.round((seconds * 100) / total)}%` : NONE);
  const perMinute = total > 0 ? (cases.length / (total / 60)).toFixed(2) : NONE;
  const wall = wallSeconds(merged.run);
  const wallText = wall ? `; ${duration(wall)} from the first start to the last finish` : '';
  return [
    '### Cost',
    '',
    `${perMinute} cases per minute of one machine's time (${duration(total)} in all${wallText}).`,
    '',
    tableRow(['Part', 'Time', 'Share']),
    '| --- | ---: | ---: |',
    tableRow(['Setup (services, cache build, reference)', duration(parts.setup), share(parts.setup)]),
    tableRow(['Attempts', duration(parts.attempts), share(parts.attempts)]),
    tableRow(['Minimization', duration(parts.minimize), share(parts.minimize)]),
    tableRow(['Other', duration(other), share(other)]),
    '',
  ];
}

function wallSeconds(run: MergedFuzzRun): number | undefined {
  if (!run.startedAt || !run.finishedAt) return undefined;
  const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  return seconds > 0 ? seconds : undefined;
}
