/*
 * fuzz-report.json as the merge job reads it: written by other jobs, downloaded as artifacts, so nothing in
 * it is trusted. Unknown fields are dropped, not refused (the format may grow). A case of the wrong shape
 * costs that case, named in a problem, not the whole report. No problem ever quotes a value of the file:
 * it says where and what kind of value it found.
 */
import { z } from 'zod';
import { DIFFERENCE_CLASSES } from '../model/classes.js';
import { CHANGE_KINDS, CONSTRUCTS } from './case-model.js';
import type { CaseOutcome, CaseResult, FuzzReport, FuzzRunFacts } from './fuzz-result.js';

/** Every outcome word: the compiler refuses a CaseOutcome missing here. */
const OUTCOME_KEYS: Readonly<Record<CaseOutcome, null>> = {
  intact: null,
  finding: null,
  error: null,
  untested: null,
};
const STOP_KEYS: Readonly<Record<FuzzRunFacts['stoppedBy'], null>> = { cases: null, budget: null };
const wordsOf = <K extends string>(map: Readonly<Record<K, null>>) => Object.keys(map) as [K, ...K[]];

/** Past this many unusable cases, a report's problems are counted, not listed. */
const MAX_CASE_PROBLEMS = 5;

const COUNT = z.number().int().min(0);
const SECONDS = z.number().finite().min(0);

/** A list of words of which those this reader knows are kept: a newer generator's construct is not an error. */
function knownWords<W extends string>(words: readonly W[]) {
  return z
    .array(z.string())
    .transform((list) => list.filter((word): word is W => (words as readonly string[]).includes(word)));
}

const CASE_RESULT: z.ZodType<CaseResult> = z.object({
  seed: z.number().int(),
  caseNumber: COUNT,
  description: z.string(),
  constructs: knownWords(CONSTRUCTS),
  changes: knownWords(CHANGE_KINDS),
  cacheType: z.string(),
  buildkitVersion: z.string(),
  outcome: z.enum(wordsOf(OUTCOME_KEYS)),
  verdict: z.string(),
  differenceClass: z.enum(DIFFERENCE_CLASSES).optional(),
  detail: z.string(),
  involved: z.array(z.string()),
  attempts: COUNT,
  minimizedDockerfile: z.string().optional(),
  minimizedInstructions: COUNT.optional(),
  minimization: z.string().optional(),
  findingDir: z.string().optional(),
  signature: z.string().optional(),
  seconds: z.object({ setup: SECONDS, attempts: SECONDS, minimize: SECONDS, total: SECONDS }),
});

const RUN_FACTS: z.ZodType<FuzzRunFacts> = z.object({
  seed: z.number().int(),
  shard: z
    .object({ index: z.number().int().min(1), count: z.number().int().min(1) })
    .refine((shard) => shard.index <= shard.count, { path: ['index'], message: 'above the shard count' }),
  buildkitImage: z.string(),
  buildkitVersion: z.string(),
  cacheTypes: z.array(z.string()),
  retries: COUNT,
  startedAt: z.string(),
  finishedAt: z.string(),
  stoppedBy: z.enum(wordsOf(STOP_KEYS)),
});

/** One whole report, every case of the right shape. */
export const FUZZ_REPORT_SCHEMA: z.ZodType<FuzzReport> = z.object({
  schemaVersion: z.literal(1),
  run: RUN_FACTS,
  cases: z.array(CASE_RESULT),
});

/** The report's frame; its cases are read one by one. */
const FRAME = z.object({ schemaVersion: z.literal(1), run: RUN_FACTS, cases: z.array(z.unknown()) });

/** What kind of value was found, never the value: it came from another job's artifact. */
function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `not ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `not ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'too_small':
      return `below ${String(issue.minimum)}`;
    case 'too_big':
      return `above ${String(issue.maximum)}`;
    case 'custom':
      return issue.message;
    default:
      return 'not of the expected shape';
  }
}

/** "its run.shard.count is a string, not a number": the path is the schema's, the value only its kind. */
export function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'it does not match the fuzz report schema';
  if (issue.path.length === 0) return `it is ${kindOf(issue.input)}, not a fuzz report object`;
  return `its ${issue.path.join('.')} is ${kindOf(issue.input)}, ${expectation(issue)}`;
}

/** The report with its usable cases, and a problem for each case left out; or why it cannot be used at all. */
export function parseFuzzReport(
  value: unknown,
): { report: FuzzReport; problems: string[] } | { problem: string } {
  const frame = FRAME.safeParse(value, { reportInput: true });
  if (!frame.success) return { problem: describeIssue(frame.error.issues[0]) };
  const cases: CaseResult[] = [];
  const problems: string[] = [];
  let unusable = 0;
  frame.data.cases.forEach((item, index) => {
    const parsed = CASE_RESULT.safeParse(item, { reportInput: true });
    if (parsed.success) return void cases.push(parsed.data);
    if (++unusable <= MAX_CASE_PROBLEMS)
      problems.push(`case ${index + 1} of its cases is left out: ${describeIssue(parsed.error.issues[0])}`);
  });
  if (unusable > MAX_CASE_PROBLEMS)
    problems.push(`${unusable - MAX_CASE_PROBLEMS} more of its cases are left out for their shape`);
  return { report: { schemaVersion: 1, run: frame.data.run, cases }, problems };
}
