/*
 * One bug found many times is one entry: findings are grouped by the class of difference and the
 * instructions involved (issue 21, item 3). On v0.9.x every cache import shifts the history, so a frequent
 * signature must never hide a rare one: every group is kept, however small.
 *
 * Two strings: the group key (class and the words involved) exists for every finding, while the signature
 * prefers the minimized Dockerfile's shape. The runner minimizes only the first finding of each signature
 * it has seen, so grouping by the signature would split one bug in two: its minimized case and the rest.
 */
import type { DifferenceClass } from '../model/classes.js';
import { parseDockerfile } from '../minimize/dockerfile.js';
import type { CaseResult } from './fuzz-result.js';

/** Where one case of a group is: enough to regenerate it, and its folder when one was written. */
export interface FindingCase {
  seed: number;
  caseNumber: number;
  cacheType: string;
  findingDir?: string;
}

export interface FindingGroup {
  /** What the group is keyed by: class and the words involved (groupKeyOf). */
  key: string;
  /** The example's signature: its minimized Dockerfile's shape when it has one, else the key. */
  signature: string;
  differenceClass: DifferenceClass;
  count: number;
  cases: FindingCase[];
  /** The case a person should read first: the fewest minimized instructions, else the first found. */
  example: CaseResult;
  /** Seconds from the start of its shard to the end of the attempts that first showed it. */
  firstSeenSeconds?: number;
}

/** How the groups are ordered: the most severe class first, as a run's verdict is. */
const CLASS_RANK: Readonly<Record<DifferenceClass, number>> = {
  'lost-layer': 0,
  'content-differs': 1,
  'config-differs': 2,
};

/** The class a run's verdict word stands for, for a finding whose differenceClass was left out. */
const VERDICT_CLASS: Readonly<Record<string, DifferenceClass>> = {
  reproduced: 'lost-layer',
  'content-differs': 'content-differs',
  'config-differs': 'config-differs',
};

/** A finding's class; "content differs" (any other difference) when neither field names one. */
export function classOf(result: CaseResult): DifferenceClass {
  return result.differenceClass ?? VERDICT_CLASS[result.verdict] ?? 'content-differs';
}

/** Numbers name a place or an index, not a kind of bug: "history 3 created_by" → "history created_by". */
function withoutDigits(word: string): string {
  return word.replace(/\d+/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * A flag without its value, which is a path, a stage name, a mode or an owner; a mount keeps its type, since
 * a cache mount and a bind mount are different shapes: "--from", "--chmod", "--mount=type=cache".
 */
function flagWord(flag: string): string {
  const [name = flag, value = ''] = flag.split(/=(.*)/s);
  if (name.toLowerCase() !== '--mount') return name.toLowerCase();
  const type = value.split(',').find((option) => option.toLowerCase().startsWith('type='));
  return `--mount=${(type ?? 'type=bind').toLowerCase()}`;
}

/** "COPY --chmod --link" for `COPY --link --chmod=755 a /b`: the keyword and its sorted flags. */
function instructionWord(keyword: string, text: string): string {
  const tokens = text
    .replace(/\\\r?\n/g, ' ')
    .trim()
    .split(/\s+/)
    .slice(1);
  const flags: string[] = [];
  for (const token of tokens) {
    if (!token.startsWith('--')) break;
    flags.push(flagWord(token));
  }
  return [keyword, ...[...new Set(flags)].sort()].join(' ');
}

/** The minimized Dockerfile's instructions as words, FROM left out, a run of equal words kept once. */
function dockerfileWords(dockerfile: string): string[] {
  const words = parseDockerfile(dockerfile)
    .instructions.filter((i) => i.keyword !== 'FROM')
    .map((i) => withoutDigits(instructionWord(i.keyword, i.text)));
  return words.filter((word, i) => word !== '' && word !== words[i - 1]);
}

/** The runner's `involved` words, numbers stripped, sorted and unique: the order of discovery says nothing. */
function involvedWords(involved: readonly string[]): string[] {
  return [...new Set(involved.map(withoutDigits).filter((w) => w !== ''))].sort();
}

/**
 * `${class}: ${words}`, independent of paths, file names, seeds and numbers. The words are the minimized
 * Dockerfile's instructions when there is one (the bug's own shape), else the layers and fields involved.
 */
export function signatureOf(result: CaseResult): string {
  const minimized = result.minimizedDockerfile ? dockerfileWords(result.minimizedDockerfile) : [];
  return minimized.length > 0 ? `${classOf(result)}: ${minimized.join(', ')}` : groupKeyOf(result);
}

/** `${class}: ${words involved}`: what groups findings, the same before and after minimization. */
export function groupKeyOf(result: CaseResult): string {
  const words = involvedWords(result.involved);
  return `${classOf(result)}: ${words.length > 0 ? words.join(', ') : 'files'}`;
}

export interface GroupOptions {
  /**
   * Which cases ran one after another on one machine, for firstSeenSeconds: by default each seed's; a merge
   * of shards that share a seed tells them apart (its case number modulo the shard count).
   */
  clockOf?: (result: CaseResult) => string;
}

/** Each case's end of attempts, counted from the first case of its clock, in the order given. */
function firstSeenClock(
  results: readonly CaseResult[],
  clockOf: GroupOptions['clockOf'],
): Map<CaseResult, number> {
  const spent = new Map<string, number>();
  const clock = new Map<CaseResult, number>();
  for (const result of results) {
    const key = clockOf ? clockOf(result) : String(result.seed);
    const before = spent.get(key) ?? 0;
    clock.set(result, before + result.seconds.setup + result.seconds.attempts);
    spent.set(key, before + result.seconds.total);
  }
  return clock;
}

/** The better example of two: fewer minimized instructions wins; a tie, or none minimized, keeps the first. */
function betterExample(current: CaseResult, candidate: CaseResult): CaseResult {
  const size = (r: CaseResult) => r.minimizedInstructions ?? Number.POSITIVE_INFINITY;
  return size(candidate) < size(current) ? candidate : current;
}

function compareGroups(a: FindingGroup, b: FindingGroup): number {
  const byClass = CLASS_RANK[a.differenceClass] - CLASS_RANK[b.differenceClass];
  if (byClass !== 0) return byClass;
  if (a.count !== b.count) return b.count - a.count;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The findings among the results, one group per key (groupKeyOf), ordered lost-layer, content-differs,
 * config-differs and within a class by how often each was found. Every group is returned: the summary
 * lists them all.
 */
export function groupFindings(results: readonly CaseResult[], options: GroupOptions = {}): FindingGroup[] {
  const clock = firstSeenClock(results, options.clockOf);
  const groups = new Map<string, FindingGroup>();
  for (const result of results) {
    if (result.outcome !== 'finding') continue;
    const key = groupKeyOf(result);
    const group = groups.get(key) ?? newGroup(key, result);
    groups.set(key, group);
    addCase(group, result, clock.get(result));
  }
  for (const group of groups.values()) group.signature = signatureOf(group.example);
  return [...groups.values()].sort(compareGroups);
}

function newGroup(key: string, first: CaseResult): FindingGroup {
  return { key, signature: key, differenceClass: classOf(first), count: 0, cases: [], example: first };
}

function addCase(group: FindingGroup, result: CaseResult, seen: number | undefined): void {
  const where: FindingCase = {
    seed: result.seed,
    caseNumber: result.caseNumber,
    cacheType: result.cacheType,
  };
  if (result.findingDir !== undefined) where.findingDir = result.findingDir;
  group.count++;
  group.cases.push(where);
  group.example = betterExample(group.example, result);
  if (seen !== undefined && (group.firstSeenSeconds === undefined || seen < group.firstSeenSeconds))
    group.firstSeenSeconds = seen;
}
