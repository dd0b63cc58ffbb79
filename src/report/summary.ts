import { redact } from '../model/secrets.js';
import { describeLossRate } from '../verdict/loss-rate.js';
import type { Settings } from '../inputs/settings.js';
import type { AttemptRecord } from '../model/attempt.js';
import type { RunResult, SharedResult } from '../model/run-result.js';
import { configComparisonText, verdictLine } from '../model/wording.js';
import { classesLine, differenceSections, resultCell } from './difference-sections.js';
import { minimizedSection } from './minimized-section.js';
import { code, escapeMarkdown } from './markdown.js';
import { settingsTable } from './settings-table.js';
import { VERDICT_ICON } from './verdict-labels.js';

/** Past this many attempts the table keeps only the ones that did not end intact, and the last few. */
const MAX_TABLE_ROWS = 60;
const FOLD_ATTEMPTS_ABOVE = 12;

/** The job summary as Markdown: the verdict first, then the attempts, then how the run was set up. */
export function renderSummary(result: RunResult, settings: Settings): string {
  const lines = [
    '## BuildKit lost-layer check',
    '',
    `${VERDICT_ICON[result.verdict.kind]} **${escapeMarkdown(verdictLine(result.verdict))}**`,
    '',
    `BuildKit **${escapeMarkdown(result.buildkitVersion)}** (${code(settings.buildkitImage)}), ${makerText(result)}, ${cacheNote(settings, result.lanes ?? 1)}.`,
    '',
  ];
  if (result.buildctl) {
    const how = result.buildctl.verifiedBy
      ? `verified against the ${result.buildctl.verifiedBy}`
      : `**not verified** (${escapeMarkdown(result.buildctl.unverifiedBecause ?? 'no digest')})`;
    lines.push(
      `buildctl ${escapeMarkdown(settings.buildctlVersion)}: tarball sha256 ${code(result.buildctl.sha256.slice(0, 12))} ${how}.`,
      '',
    );
  }
  if (result.records.length > 0) lines.push(classesLine(result.records, configNote(result)), '');
  if (result.lossRate) lines.push(escapeMarkdown(describeLossRate(result.lossRate)), '');
  lines.push(...differenceSections(result.records), ...otherInputsNote(result.records));
  if (result.cacheSharedResults) lines.push(...whySection(result.cacheSharedResults), '');
  if (result.minimization) lines.push(...minimizedSection(result.minimization), '');
  if (result.records.length > 0) {
    // A long table is folded: the lines above already say what went wrong.
    const fold = result.records.length > FOLD_ATTEMPTS_ABOVE;
    lines.push(fold ? `<details><summary>Attempts (${result.records.length})</summary>` : '### Attempts', '');
    lines.push(...attemptsTable(result.records), '', ...(fold ? ['</details>', ''] : []));
  }
  lines.push(
    '<details><summary>Settings</summary>',
    '',
    ...settingsTable(settings, result.lanes),
    '',
    '</details>',
    '',
  );
  // Errors and causes quote BuildKit, whose messages can carry an attribute's secret.
  return redact(lines.join('\n'));
}

function makerText(result: RunResult): string {
  const maker = result.cacheMaker;
  if (!maker) return 'no cache made';
  if (maker.kind === 'earlier-run') return `cache from an earlier run (${code(maker.cacheDir)})`;
  return `cache made by ${code(maker.image)}${maker.buildkitVersion ? ` (${escapeMarkdown(maker.buildkitVersion)})` : ''}`;
}

/** What the cache itself says about the cause: records that share a result, or none. */
function whySection(shared: readonly SharedResult[]): string[] {
  if (shared.length === 0) {
    return [
      '### Why',
      '',
      'No two records of the cache share a result: a cache of this shape cannot trigger moby/buildkit#2198 / #1980, whatever release imports it.',
    ];
  }
  return [
    '### Why',
    '',
    'Records of the cache share one result — the precondition of moby/buildkit#2198 / #1980. An importer before v0.9.1 loads the parents of only one record of each set, picked at random (Go map order), and can then build an image without that layer:',
    '',
    ...shared.map((set) => {
      const steps =
        set.steps.length > 0 ? set.steps.map(code).join(' and ') : `${set.records.length} records`;
      return `- ${steps} → one layer chain (${set.layer.chainLength} layers, top ${code(set.layer.blob.slice(7, 19))})`;
    }),
  ];
}

/**
 * With the cache made from other inputs (cache-dockerfile, cache-context): the steps that ran in the first
 * attempt from a fresh state, every other having come from the cache. A step that came from the cache
 * although its input changed is what a report of a stale cache needs.
 */
function otherInputsNote(records: readonly AttemptRecord[]): string[] {
  for (const record of records) {
    const { outcome } = record;
    if (!record.freshState || outcome.kind === 'error' || !outcome.stepsRan) continue;
    const ran = outcome.stepsRan.map(code).join(', ') || 'none';
    return [
      `The cache was made from other inputs. Attempt ${record.attempt} (fresh state): ran ${ran}; every other step came from the cache.`,
      '',
    ];
  }
  return [];
}

function cacheNote(settings: Settings, lanes: number): string {
  const every =
    settings.cacheResetFrequency === 0
      ? 'only before attempt 1'
      : `every ${settings.cacheResetFrequency} attempts`;
  return `${settings.cacheType} cache, fresh buildkitd state ${every}${lanes > 1 ? ` in each of ${lanes} lanes (daemons running attempts at once)` : ''}`;
}

function attemptsTable(records: readonly AttemptRecord[]): string[] {
  // Which daemon ran an attempt matters only when several ran at once.
  const lanes = records.some((r) => r.lane !== undefined);
  const shown =
    records.length <= MAX_TABLE_ROWS
      ? records
      : records.filter((r, i) => r.outcome.kind !== 'intact' || i >= records.length - 10);
  const rows = shown.map((r) => {
    const result = resultCell(r.outcome);
    const lane = lanes ? ` ${r.lane ?? ''} |` : '';
    return `| ${r.attempt} |${lane} ${r.freshState ? 'yes' : ''} | ${(r.durationMs / 1000).toFixed(2)} s | ${result} |`;
  });
  const note =
    shown.length < records.length
      ? [`${records.length - shown.length} intact attempts are not listed.`, '']
      : [];
  return [
    ...note,
    `| Attempt |${lanes ? ' Lane |' : ''} Fresh state before it | Duration | Result |`,
    `| ---: |${lanes ? ' ---: |' : ''} :---: | ---: | --- |`,
    ...rows,
  ];
}

/** Whether config and history were compared, in a sentence ('' when no attempt ran). */
function configNote(result: RunResult): string {
  return result.configComparison ? configComparisonText(result.configComparison) : '';
}
