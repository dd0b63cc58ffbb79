import { confidenceText, percent } from '../verdict/loss-rate.js';
import type { CandidateRecord, MeasuredRun, Minimization } from '../model/minimization.js';
import { CLASS_WORDS } from '../model/wording.js';
import { cell, code, escapeMarkdown } from './markdown.js';

/** What the minimizer found: the smallest Dockerfile in a code block, how sure, how long, every candidate. */
export function minimizedSection(m: Minimization): string[] {
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
  const words = CLASS_WORDS[m.target];
  if (m.kind === 'unconfirmed') {
    return [
      head,
      '',
      `⚠️ No result: the smallest candidate the search found (${m.candidatesJudged} candidates, ${m.seconds} s) did not show "${words}" in its confirming run of ${m.confirming.attempts} attempts, so it is not handed over as a reproducer.`,
      '',
      ...fenced(m.dockerfile),
      '',
      ...candidates,
    ];
  }
  const how = m.proven
    ? `1-minimal: without any one remaining instruction (FROM aside) or context file, no attempt showed "${words}" in ${m.attemptsPerCandidate} attempts, or the candidate was invalid`
    : '**not proven minimal**: the time budget (minimize-timeout) ended the search';
  return [
    head,
    '',
    `Kept: "${words}". ${m.instructionsBefore} → **${m.instructionsAfter}** instructions, ${m.filesBefore} → **${m.filesAfter}** context files: ${how}. ${m.candidatesJudged} candidates (${m.invalidCandidates} invalid) in ${m.seconds} s.`,
    '',
    ...fenced(m.dockerfile),
    '',
    `Context: ${m.files.length > 0 ? m.files.map(code).join(', ') : 'empty'}. Written to ${code(m.dockerfilePath)}.`,
    '',
    `Confirming run of the minimized Dockerfile (keep-going): ${escapeMarkdown(measuredText(m.confirming, words))}`,
    '',
    `A candidate was judged not to reproduce after ${m.attemptsPerCandidate} attempts without "${words}": one showing it at the original's measured rate (${m.original.found} of ${m.original.attempts} attempts, keep-going) would have shown it with a chance of ${confidenceText(m.detectionChance)}${m.detectionChance < m.confidence ? ` — **below the ${confidenceText(m.confidence)} asked for**: the attempts per candidate are capped at 10 000` : ` (minimize-confidence ${confidenceText(m.confidence)})`}.`,
    '',
    ...candidates,
  ];
}

/** "6 of 40 attempts showed it: 15.0% (5.7%–29.8%, 95%). First: attempt 3: …" */
function measuredText(run: MeasuredRun, words: string): string {
  const rate = run.rate
    ? `: ${percent(run.rate.rate)} (${percent(run.rate.twoSided.low)}–${percent(run.rate.twoSided.high)}, ${confidenceText(run.rate.confidence)} confidence)`
    : '';
  return `${run.found} of ${run.attempts} attempts showed "${words}"${rate}.${run.first ? ` First: ${run.first}.` : ''}`;
}

/** A Dockerfile in a code block whose fence no backtick run inside can end. */
function fenced(dockerfile: string): string[] {
  const fence = '`'.repeat(Math.max(3, ...[...dockerfile.matchAll(/`+/g)].map((r) => r[0].length + 1)));
  return [`${fence}dockerfile`, dockerfile.trimEnd(), fence];
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
