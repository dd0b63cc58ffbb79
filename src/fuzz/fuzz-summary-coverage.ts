/*
 * The generator's coverage as the results tell it (issue 21, item 5): constructs and changes per 100 cases,
 * counted from each result's own `constructs` and `changes`, so the merge job needs no generator. A case run
 * over several backends counts once.
 */
import { cell, tableRow } from '../report/markdown.js';
import { CHANGE_KINDS, CONSTRUCT_WORDS, CONSTRUCTS, type ChangeKind, type Construct } from './case-model.js';
import { coverageOf } from './coverage.js';
import type { CaseResult } from './fuzz-result.js';

export interface ResultCoverage {
  /** Distinct cases, by seed and case number. */
  cases: number;
  /** Of 100 cases, how many had a changed version. */
  changed: number;
  constructs: Record<Construct, number>;
  changes: Record<ChangeKind, number>;
}

const CHANGE_LABELS: Readonly<Record<ChangeKind, string>> = {
  'file-content': "a file's content",
  'file-name': "a file's name",
  'file-mode': "a file's mode",
  'symlink-target': "a symlink's target",
  'file-added': 'a file added',
  'file-removed': 'a file removed',
  'instruction-edited': 'an instruction edited',
};

/** Each case once: the first result of each (seed, case number). */
function distinctCases(results: readonly CaseResult[]): CaseResult[] {
  const seen = new Map<string, CaseResult>();
  for (const result of results) {
    const key = `${result.seed}:${result.caseNumber}`;
    if (!seen.has(key)) seen.set(key, result);
  }
  return [...seen.values()];
}

/** Per 100 cases, to one decimal; all zero for no cases. */
export function resultCoverage(results: readonly CaseResult[]): ResultCoverage {
  const cases = distinctCases(results);
  const changed = cases.filter((c) => c.changes.length > 0).length;
  return {
    cases: cases.length,
    changed: cases.length === 0 ? 0 : Math.round((changed * 1000) / cases.length) / 10,
    ...coverageOf(cases),
  };
}

function table<K extends string>(
  heading: string,
  keys: readonly K[],
  words: Readonly<Record<K, string>>,
  values: Record<K, number>,
): string[] {
  return [
    tableRow([heading, 'Per 100 cases']),
    '| --- | ---: |',
    ...keys.map((key) => tableRow([cell(words[key]), values[key]])),
  ];
}

/** A line that says what was never used, then both tables folded. */
export function coverageSection(results: readonly CaseResult[]): string[] {
  const coverage = resultCoverage(results);
  if (coverage.cases === 0) return [];
  const unused = [
    ...CONSTRUCTS.filter((c) => coverage.constructs[c] === 0).map((c) => CONSTRUCT_WORDS[c]),
    ...CHANGE_KINDS.filter((k) => coverage.changes[k] === 0).map((k) => CHANGE_LABELS[k]),
  ];
  const usedConstructs = CONSTRUCTS.filter((c) => coverage.constructs[c] > 0).length;
  const usedChanges = CHANGE_KINDS.filter((k) => coverage.changes[k] > 0).length;
  return [
    '### Coverage',
    '',
    `Over ${coverage.cases} cases: ${usedConstructs} of ${CONSTRUCTS.length} constructs and ${usedChanges} of ${CHANGE_KINDS.length} kinds of change used; ${coverage.changed} per 100 cases had a changed version.${unused.length > 0 ? ` Never used: ${cell(unused.join(', '))}.` : ''}`,
    '',
    '<details><summary>Constructs and changes per 100 cases</summary>',
    '',
    ...table('Construct', CONSTRUCTS, CONSTRUCT_WORDS, coverage.constructs),
    '',
    ...table('Change', CHANGE_KINDS, CHANGE_LABELS, coverage.changes),
    '',
    '</details>',
    '',
  ];
}
