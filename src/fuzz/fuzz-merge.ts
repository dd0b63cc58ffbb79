/*
 * The merge job's input (issue 21, item 4): every shard's report as one run, its cases counted once, and
 * what the merge cannot vouch for said as problems (a shard with no report, shards of different BuildKit
 * versions or seeds), so that the table never claims more than the reports hold.
 */
import type { CaseResult, FuzzReport, FuzzRunFacts } from './fuzz-result.js';

/** The facts of several reports (one report's alone when there is one), each list sorted and unique. */
export interface MergedFuzzRun {
  reports: number;
  seeds: number[];
  /** The shards that sent a report, by index, with the count each said there were. */
  shards: FuzzRunFacts['shard'][];
  buildkitImages: string[];
  buildkitVersions: string[];
  cacheTypes: string[];
  retries: number[];
  /** The earliest start and the latest finish, as ISO times, when any report gave a readable one. */
  startedAt?: string;
  finishedAt?: string;
  stoppedBy: FuzzRunFacts['stoppedBy'][];
}

export interface MergedFuzzReport {
  run: MergedFuzzRun;
  cases: CaseResult[];
  problems: string[];
}

const unique = <T extends string | number>(values: readonly T[]): T[] =>
  [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const shardText = (shard: FuzzRunFacts['shard']) => `${shard.index} of ${shard.count}`;

/** The earliest (or latest) of some ISO times; unreadable ones are left out. */
function extremeTime(times: readonly string[], pick: (a: number, b: number) => boolean): string | undefined {
  let best: number | undefined;
  for (const time of times) {
    const at = Date.parse(time);
    if (!Number.isNaN(at) && (best === undefined || pick(at, best))) best = at;
  }
  return best === undefined ? undefined : new Date(best).toISOString();
}

/** The facts of these runs together, with nothing checked. */
export function mergeRuns(runs: readonly FuzzRunFacts[]): MergedFuzzRun {
  const merged: MergedFuzzRun = {
    reports: runs.length,
    seeds: unique(runs.map((r) => r.seed)),
    shards: [...runs.map((r) => r.shard)].sort((a, b) => a.index - b.index || a.count - b.count),
    buildkitImages: unique(runs.map((r) => r.buildkitImage)),
    buildkitVersions: unique(runs.map((r) => r.buildkitVersion)),
    cacheTypes: unique(runs.flatMap((r) => r.cacheTypes)),
    retries: unique(runs.map((r) => r.retries)),
    stoppedBy: unique(runs.map((r) => r.stoppedBy)),
  };
  const startedAt = extremeTime(
    runs.map((r) => r.startedAt),
    (a, b) => a < b,
  );
  const finishedAt = extremeTime(
    runs.map((r) => r.finishedAt),
    (a, b) => a > b,
  );
  if (startedAt) merged.startedAt = startedAt;
  if (finishedAt) merged.finishedAt = finishedAt;
  return merged;
}

/** A run made of one report, as the summary of a single shard shows it. */
export function asMerged(report: FuzzReport): MergedFuzzReport {
  return { run: mergeRuns([report.run]), cases: [...report.cases], problems: [] };
}

/** "1 (shards 1, 2), 2 (shard 3)": each value and the shards that reported it. */
function valuesByShard<T extends string | number>(
  runs: readonly FuzzRunFacts[],
  value: (r: FuzzRunFacts) => T,
) {
  return unique(runs.map(value))
    .map((v) => {
      const shards = runs.filter((r) => value(r) === v).map((r) => r.shard.index);
      return `${v} (shard${shards.length === 1 ? '' : 's'} ${unique(shards).join(', ')})`;
    })
    .join(', ');
}

/** The shards missing or reported twice, and any disagreement on the shard count. */
function shardProblems(runs: readonly FuzzRunFacts[]): string[] {
  const counts = unique(runs.map((r) => r.shard.count));
  const problems: string[] = [];
  if (counts.length > 1)
    problems.push(`the reports disagree on the shard count: ${valuesByShard(runs, (r) => r.shard.count)}`);
  for (const count of counts) {
    for (let index = 1; index <= count; index++) {
      const reports = runs.filter((r) => r.shard.count === count && r.shard.index === index).length;
      if (reports === 0) problems.push(`shard ${shardText({ index, count })} has no report`);
      if (reports > 1) problems.push(`shard ${shardText({ index, count })} has ${reports} reports`);
    }
  }
  return problems;
}

/** Facts every shard of one run should share, and how a difference is said. */
const SHARED_FACTS: readonly { words: string; value: (r: FuzzRunFacts) => string | number }[] = [
  { words: 'BuildKit versions', value: (r) => r.buildkitVersion },
  { words: 'BuildKit images', value: (r) => r.buildkitImage },
  { words: 'seeds', value: (r) => r.seed },
];

function agreementProblems(runs: readonly FuzzRunFacts[]): string[] {
  return SHARED_FACTS.filter((fact) => unique(runs.map(fact.value)).length > 1).map(
    (fact) => `the reports are of different ${fact.words}: ${valuesByShard(runs, fact.value)}`,
  );
}

/** Each case once, by seed, case number and backend; a finding wins over another result of the case. */
function uniqueCases(reports: readonly FuzzReport[]): { cases: CaseResult[]; repeated: number } {
  const byKey = new Map<string, CaseResult>();
  let repeated = 0;
  for (const result of reports.flatMap((r) => r.cases)) {
    const key = JSON.stringify([result.seed, result.caseNumber, result.cacheType]);
    const kept = byKey.get(key);
    if (kept) repeated++;
    if (!kept || (kept.outcome !== 'finding' && result.outcome === 'finding')) byKey.set(key, result);
  }
  return { cases: [...byKey.values()], repeated };
}

/** Every shard's report as one run: the cases in shard order, each counted once, and what does not add up. */
export function mergeFuzzReports(reports: readonly FuzzReport[]): MergedFuzzReport {
  const ordered = [...reports].sort(
    (a, b) => a.run.shard.index - b.run.shard.index || a.run.seed - b.run.seed,
  );
  const runs = ordered.map((r) => r.run);
  const { cases, repeated } = uniqueCases(ordered);
  const problems =
    runs.length === 0 ? ['no fuzz report to merge'] : [...shardProblems(runs), ...agreementProblems(runs)];
  if (repeated > 0)
    problems.push(
      `${repeated} case${repeated === 1 ? ' was' : 's were'} in more than one report; each is counted once`,
    );
  return { run: mergeRuns(runs), cases, problems };
}
