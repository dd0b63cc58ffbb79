import type { AttemptRecord } from '../attempts/attempt.js';
import type { RunResult } from '../engine.js';
import type { Settings } from '../inputs/settings.js';
import { verdictLine } from '../verdict/verdict.js';
import { publicSettings } from './json-report.js';

/** Past this many attempts the table keeps only the ones that did not end intact, and the last few. */
const MAX_TABLE_ROWS = 60;

/** The job summary as Markdown: the verdict first, then the attempts, then how the run was set up. */
export function renderSummary(result: RunResult, settings: Settings): string {
  const icon = { reproduced: '🔴', clean: '🟢', error: '⚠️', 'not-run': '⚪' }[result.verdict.kind];
  const lines = [
    '## BuildKit lost-layer check',
    '',
    `${icon} **${escapeMarkdown(verdictLine(result.verdict))}**`,
    '',
    `BuildKit **${escapeMarkdown(result.buildkitVersion)}** (${code(settings.buildkitImage)}), cache made by ${code(settings.cacheBuildkitImage)}, ${cacheNote(settings)}.`,
    '',
  ];
  if (result.records.length > 0) lines.push(...attemptsTable(result.records), '');
  lines.push(
    '<details><summary>Settings</summary>',
    '',
    '| Setting | Value |',
    '| --- | --- |',
    ...Object.entries(publicSettings(settings)).map(
      ([key, value]) => `| ${key} | ${escapeCell(settingText(value))} |`,
    ),
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}

function cacheNote(settings: Settings): string {
  const every =
    settings.cacheResetFrequency === 0
      ? 'only before attempt 1'
      : `every ${settings.cacheResetFrequency} attempts`;
  return `${settings.cacheType} cache, fresh buildkitd state ${every}`;
}

function attemptsTable(records: readonly AttemptRecord[]): string[] {
  const shown =
    records.length <= MAX_TABLE_ROWS
      ? records
      : records.filter((r, i) => r.outcome.kind !== 'intact' || i >= records.length - 10);
  const rows = shown.map((r) => {
    const result =
      r.outcome.kind === 'intact'
        ? 'intact'
        : r.outcome.kind === 'lost'
          ? `**layer lost**: missing ${r.outcome.missingPaths.map(code).join(', ')}`
          : `infrastructure error: ${escapeCell(r.outcome.cause)}`;
    return `| ${r.attempt} | ${r.freshState ? 'yes' : ''} | ${(r.durationMs / 1000).toFixed(2)} s | ${result} |`;
  });
  const note =
    shown.length < records.length
      ? [`${records.length - shown.length} intact attempts are not listed.`, '']
      : [];
  return [
    ...note,
    '| Attempt | Fresh state before it | Duration | Result |',
    '| ---: | :---: | ---: | --- |',
    ...rows,
  ];
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function escapeCell(text: string): string {
  return escapeMarkdown(text).replace(/\r?\n/g, '<br>');
}

/** A code span; a backtick would end it early, and GitHub splits table cells at a pipe even inside one. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function settingText(value: unknown): string {
  if (value === undefined) return '(default)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
