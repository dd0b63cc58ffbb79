import type { AttemptRecord, DifferentOutcome } from '../model/attempt.js';
import { ATTEMPT_CLASSES, DIFFERENCE_CLASSES, type DifferenceClass } from '../model/classes.js';
import type { ConfigChange, FileChange, ImageDifference, LayerChange } from '../model/difference.js';
import type { LayerComparison, LayerFacts } from '../model/layers.js';
import { CLASS_WORDS } from '../model/wording.js';
import { countClasses } from '../verdict/verdict.js';
import { NONE, cell, code, escapeMarkdown, tableRow } from './markdown.js';

/* The job summary's account of each class of difference the run saw: its first attempt, told precisely. */

const MAX_LOSS_LINES = 20;
const HEADINGS: Readonly<Record<DifferenceClass, string>> = {
  'lost-layer': '### Lost layers',
  'content-differs': '### Content differs from the reference',
  'config-differs': '### Config differs from the reference',
};

/** One section per class seen, the most severe first. */
export function differenceSections(records: readonly AttemptRecord[]): string[] {
  return DIFFERENCE_CLASSES.flatMap((kind) => {
    const found = records.flatMap((r) =>
      r.outcome.kind === kind ? [{ attempt: r.attempt, outcome: r.outcome as DifferentOutcome }] : [],
    );
    const [first] = found;
    if (!first) return [];
    const lines = [HEADINGS[kind], ''];
    if (kind === 'lost-layer') {
      lines.push(
        ...found
          .slice(0, MAX_LOSS_LINES)
          .map((f) => `- Attempt ${f.attempt}: ${lossCell(f.outcome.difference, true)}`),
      );
      if (found.length > MAX_LOSS_LINES)
        lines.push(`- … and ${found.length - MAX_LOSS_LINES} more attempts (see the report)`);
      lines.push('', `Attempt ${first.attempt}, beside the reference built without a cache:`, '');
    } else {
      const more = found.length > 1 ? ` (and ${found.length - 1} more attempts, in the report)` : '';
      lines.push(`Attempt ${first.attempt}${more}, beside the reference built without a cache:`, '');
    }
    lines.push(...account(kind, first.attempt, first.outcome.difference), '');
    return lines;
  });
}

function account(kind: DifferenceClass, attempt: number, difference: ImageDifference): string[] {
  const parts: string[][] = [];
  if (kind !== 'config-differs' && difference.layers)
    parts.push(layersTable(attempt, difference.layers, difference.layerChanges));
  if (kind !== 'config-differs' && difference.files.length > 0)
    parts.push(filesTable(difference.files, difference.filesOmitted));
  if (difference.config.length > 0) parts.push(configTable(difference.config));
  return parts.flatMap((part, i) => (i === 0 ? part : ['', ...part]));
}

/** The reference's layers beside the attempt's, matched by content; what took the place of a changed one. */
function layersTable(attempt: number, layers: LayerComparison, changes: readonly LayerChange[]): string[] {
  const byContent = new Map(layers.attempt.map((l) => [l.diffId, l]));
  const rows = layers.reference.map((ref) => {
    const found = byContent.get(ref.diffId);
    const instead = changes.find((c) => c.reference?.diffId === ref.diffId)?.attempt;
    const there = found
      ? `layer ${found.position}`
      : instead
        ? `**another**: layer ${instead.position}, ${layerText(instead)}`
        : ref.files === 0
          ? 'none (an empty layer)'
          : '**missing**';
    return tableRow([ref.position, ref.createdBy ? code(ref.createdBy) : NONE, layerText(ref), there]);
  });
  const known = new Set(layers.reference.map((l) => l.diffId));
  const placed = new Set(changes.flatMap((c) => (c.reference && c.attempt ? [c.attempt.diffId] : [])));
  const extra = layers.attempt
    .filter((l) => !known.has(l.diffId) && !placed.has(l.diffId))
    .map((l) =>
      tableRow([
        '',
        l.createdBy ? code(l.createdBy) : '',
        'not in the reference',
        `layer ${l.position}: ${layerText(l)}`,
      ]),
    );
  return [
    `| Layer | Instruction | Reference | Attempt ${attempt} |`,
    '| ---: | --- | --- | --- |',
    ...rows,
    ...extra,
  ];
}

function filesTable(files: readonly FileChange[], omitted: number): string[] {
  return [
    '| Path | What differs | Reference | Attempt |',
    '| --- | --- | --- | --- |',
    ...files.map((f) => tableRow([code(f.path), f.change, fileCell(f.reference), fileCell(f.attempt)])),
    ...(omitted > 0 ? ['', `… and ${omitted} more paths (the report lists the first ${files.length}).`] : []),
  ];
}

function configTable(changes: readonly ConfigChange[]): string[] {
  return [
    '| Config or history | Reference | Attempt |',
    '| --- | --- | --- |',
    ...changes.map((c) => tableRow([code(c.field), valueCell(c.reference), valueCell(c.attempt)])),
  ];
}

/** A file's side of a change, its sha256 cut to 12 hex digits (the report has it whole). */
function fileCell(text: string): string {
  return text === '' ? NONE : cell(text.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, 'sha256:$1…'));
}

/** A config value (JSON text) as a code span; '(none)' when the image has none. */
function valueCell(value: string): string {
  return value === '' ? '(none)' : code(value);
}

export function layerText(l: LayerFacts): string {
  return `${code(l.digest.replace(/^sha256:/, '').slice(0, 12))}, ${bytes(l.size)}, ${l.files} ${l.files === 1 ? 'file' : 'files'}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** What an attempt lost, in Markdown; with `facts`, each layer's digest, size and file count too. */
export function lossCell(difference: ImageDifference, facts = false): string {
  const layers = difference.lostLayers.map(
    (l) =>
      `layer ${l.position}${l.createdBy ? ` ${code(l.createdBy)}` : ''}${facts ? ` (${layerText(l)})` : ''} gone`,
  );
  const paths =
    difference.missingPaths.length > 0 ? [`${difference.missingPaths.map(code).join(', ')} missing`] : [];
  return [...layers, ...paths].join('; ');
}

/** One table cell for an attempt's result. */
export function resultCell(outcome: AttemptRecord['outcome']): string {
  switch (outcome.kind) {
    case 'intact':
      return 'intact';
    case 'error':
      return `infrastructure error: ${cell(outcome.cause)}`;
    case 'lost-layer':
      return `**layer lost**: ${lossCell(outcome.difference)}`;
    default:
      return `**${CLASS_WORDS[outcome.kind]}**`;
  }
}

/** "attempts: 🔴 1 lost a layer · 🟡 5 config differs · 🟢 0 intact" */
export function classesLine(records: readonly AttemptRecord[], configNote: string): string {
  const counts = countClasses(records);
  const errors = records.filter((r) => r.outcome.kind === 'error').length;
  const parts = [
    ...ATTEMPT_CLASSES.map((c) => `${counts[c]} ${CLASS_WORDS[c]}`),
    ...(errors > 0 ? [`${errors} not judged (error)`] : []),
  ];
  return `Attempts by class: ${parts.join(' · ')}. ${escapeMarkdown(configNote)}`;
}
