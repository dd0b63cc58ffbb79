import { confidenceText, describeLossRate } from '../verdict/loss-rate.js';
import type { Settings } from '../inputs/settings.js';
import type { AttemptOutcome, AttemptRecord } from '../model/attempt.js';
import type { LayerComparison, LayerFacts } from '../model/layers.js';
import type { CandidateRecord, Minimization } from '../model/minimization.js';
import type { RunResult, SharedResult } from '../model/run-result.js';
import { verdictLine } from '../model/wording.js';
import { NONE, cell, code, escapeMarkdown } from './markdown.js';
import { settingsTable } from './settings-table.js';
import { VERDICT_ICON } from './verdict-labels.js';

/** Past this many attempts the table keeps only the ones that did not end intact, and the last few. */
const MAX_TABLE_ROWS = 60;
const MAX_LOSS_LINES = 20;
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
  if (result.lossRate) lines.push(escapeMarkdown(describeLossRate(result.lossRate)), '');
  const losses = result.records.flatMap((r) =>
    r.outcome.kind === 'lost' ? [{ attempt: r.attempt, outcome: r.outcome }] : [],
  );
  if (losses.length > 0) {
    lines.push('### Lost layers', '', ...losses.slice(0, MAX_LOSS_LINES).map(lossLine));
    if (losses.length > MAX_LOSS_LINES)
      lines.push(`- … and ${losses.length - MAX_LOSS_LINES} more attempts (see the report)`);
    lines.push('');
    const first = losses[0];
    if (first?.outcome.layers) lines.push(...layersTable(first.attempt, first.outcome.layers), '');
  }
  if (result.cacheSharedResults) lines.push(...whySection(result.cacheSharedResults), '');
  if (result.minimization) lines.push(...minimizedSection(result.minimization), '');
  if (result.records.length > 0) {
    // A long table is folded: the lines above already say what went wrong.
    const fold = result.records.length > FOLD_ATTEMPTS_ABOVE;
    lines.push(fold ? `<details><summary>Attempts (${result.records.length})</summary>` : '### Attempts', '');
    lines.push(...attemptsTable(result.records), '', ...(fold ? ['</details>', ''] : []));
  }
  lines.push('<details><summary>Settings</summary>', '', ...settingsTable(settings), '', '</details>', '');
  return lines.join('\n');
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

/** What the minimizer found: the smallest Dockerfile in a code block, how sure, how long, every candidate. */
function minimizedSection(m: Minimization): string[] {
  const head = '### Minimized';
  if (m.kind === 'skipped') return [head, '', `Nothing to minimize: ${escapeMarkdown(m.reason)}.`];
  const candidates = candidatesTable(m.candidates);
  if (m.kind === 'error') {
    return [
      head,
      '',
      `⚠️ The search stopped after ${m.candidatesJudged} candidates (${m.seconds} s): an infrastructure step failed, so it reports no smallest Dockerfile: ${escapeMarkdown(m.cause)}`,
      '',
      ...(candidates.length > 0
        ? ['The candidates judged before the failure (a record, not a result):', '', ...candidates]
        : []),
    ];
  }
  const fence = '`'.repeat(Math.max(3, ...[...m.dockerfile.matchAll(/`+/g)].map((r) => r[0].length + 1)));
  const how = m.proven
    ? `1-minimal: without any one remaining instruction (FROM aside) or context file, no layer was lost in ${m.attemptsPerCandidate} attempts or the candidate was invalid`
    : '**not proven minimal**: the time budget (minimize-timeout) ended the search';
  const confirming = m.confirming.lossRate
    ? describeLossRate(m.confirming.lossRate)
    : `${m.confirming.lost} of ${m.confirming.attempts} attempts lost a layer.`;
  const stillLost =
    m.confirming.lost === 0
      ? ' It lost a layer during the search, which is certain; the confirming run missed it.'
      : '';
  return [
    head,
    '',
    `${m.instructionsBefore} → **${m.instructionsAfter}** instructions, ${m.filesBefore} → **${m.filesAfter}** context files: ${how}. ${m.candidatesJudged} candidates (${m.invalidCandidates} invalid) in ${m.seconds} s.`,
    '',
    `${fence}dockerfile`,
    m.dockerfile.trimEnd(),
    fence,
    '',
    `Context: ${m.files.length > 0 ? m.files.map(code).join(', ') : 'empty'}. Written to ${code(m.dockerfilePath)}.`,
    '',
    `Confirming run of the minimized Dockerfile (keep-going): ${escapeMarkdown(confirming)}${m.confirming.firstLoss ? ` First loss: ${escapeMarkdown(m.confirming.firstLoss)}.` : ''}${stillLost}`,
    '',
    `A candidate was judged not to reproduce after ${m.attemptsPerCandidate} attempts without a loss: one losing a layer at the original's measured rate (${m.original.lost} of ${m.original.attempts} attempts, keep-going) would have shown one with a chance of ${confidenceText(m.detectionChance)}${m.detectionChance < m.confidence ? ` — **below the ${confidenceText(m.confidence)} asked for**: the attempts per candidate are capped at 10 000` : ` (minimize-confidence ${confidenceText(m.confidence)})`}.`,
    '',
    ...candidates,
  ];
}

function candidatesTable(candidates: readonly CandidateRecord[]): string[] {
  if (candidates.length === 0) return [];
  return [
    `<details><summary>Candidates (${candidates.length})</summary>`,
    '',
    '| # | Shrinking | Instructions | Files | Judgement | Attempts | Detail | Seconds |',
    '| ---: | --- | ---: | ---: | --- | ---: | --- | ---: |',
    ...candidates.map(
      (c) =>
        `| ${c.number} | ${c.phase} | ${c.instructions} | ${c.files} | ${c.judgement} | ${c.attempts} | ${cell(c.detail ?? '')} | ${c.seconds} |`,
    ),
    '',
    '</details>',
  ];
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
    const result =
      r.outcome.kind === 'intact'
        ? 'intact'
        : r.outcome.kind === 'lost'
          ? `**layer lost**: ${lossCell(r.outcome)}`
          : `infrastructure error: ${cell(r.outcome.cause)}`;
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

/** "- Attempt 10: layer 2 `COPY repro.txt /` (sha256:61f73165b730, 177 B, 1 file) gone; `repro.txt` missing" */
function lossLine({
  attempt,
  outcome,
}: {
  attempt: number;
  outcome: Extract<AttemptOutcome, { kind: 'lost' }>;
}): string {
  return `- Attempt ${attempt}: ${lossCell(outcome, true)}`;
}

/** The reference's layers beside the broken image's, matched by content. */
function layersTable(attempt: number, layers: LayerComparison): string[] {
  const byContent = new Map(layers.attempt.map((l) => [l.diffId, l]));
  const rows = layers.reference.map((ref) => {
    const found = byContent.get(ref.diffId);
    return `| ${ref.position} | ${ref.createdBy ? code(ref.createdBy) : NONE} | ${layerText(ref)} | ${found ? `layer ${found.position}` : '**missing**'} |`;
  });
  const known = new Set(layers.reference.map((l) => l.diffId));
  const extra = layers.attempt
    .filter((l) => !known.has(l.diffId))
    .map(
      (l) =>
        `|  | ${l.createdBy ? code(l.createdBy) : ''} | not in the reference | layer ${l.position}: ${layerText(l)} |`,
    );
  return [
    `Reference build (no cache) beside attempt ${attempt}:`,
    '',
    `| Layer | Instruction | Reference | Attempt ${attempt} |`,
    '| ---: | --- | --- | --- |',
    ...rows,
    ...extra,
  ];
}

function layerText(l: LayerFacts): string {
  return `${code(l.digest.replace(/^sha256:/, '').slice(0, 12))}, ${bytes(l.size)}, ${l.files} ${l.files === 1 ? 'file' : 'files'}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** What an attempt lost, in Markdown; with `facts`, each layer's digest, size and file count too. */
function lossCell(outcome: Extract<AttemptOutcome, { kind: 'lost' }>, facts = false): string {
  const layers = outcome.lostLayers.map(
    (l) =>
      `layer ${l.position}${l.createdBy ? ` ${code(l.createdBy)}` : ''}${facts ? ` (${layerText(l)})` : ''} gone`,
  );
  const paths =
    outcome.missingPaths.length > 0 ? [`${outcome.missingPaths.map(code).join(', ')} missing`] : [];
  return [...layers, ...paths].join('; ');
}
