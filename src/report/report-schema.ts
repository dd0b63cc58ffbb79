import { z } from 'zod';
import type { Verdict } from '../model/verdict.js';
import { REPORT_SCHEMA_VERSION } from './json-report.js';

/*
 * report.json (see buildReport) as the bisect table reads it. Only the fields the table uses are described,
 * and any other passes: the format grows, and a reader must not refuse a field added later. Two fields decide
 * whether a report can be used at all, schemaVersion and verdict.kind; every other one is optional, and one of
 * the wrong shape reads as absent (its `.catch`), so that one odd field costs a cell of the table, not the row.
 */

const VERDICT_KINDS = [
  'reproduced',
  'clean',
  'error',
  'not-run',
] as const satisfies readonly Verdict['kind'][];

/** Text the table can do without: absent or not text, it reads as undefined. */
const optionalText = z.string().optional().catch(undefined);
/** A release as the report gives it, without the spaces around buildkitd's output. */
const optionalVersion = z.string().trim().optional().catch(undefined);

/**
 * The counts of a lossRate: the table recomputes the rate and its bounds from them, so that a malformed bound
 * is never shown. A confidence level outside (0, 1) falls back to the usual 95%.
 */
const LOSS_RATE_COUNTS = z
  .looseObject({
    lost: z.number().int().min(0),
    attempts: z.number().int().min(1),
    confidence: z.number().gt(0).lt(1).catch(0.95),
  })
  .refine((counts) => counts.lost <= counts.attempts, { path: ['lost'], message: 'more than attempts' });

/** A lossRate that is there but cannot be used: the table ignores it, and says so. */
export const MALFORMED = 'malformed';

/** One attempt, of which the table counts only the outcome; a record of another shape still counts as run. */
const ATTEMPT_RECORD = z
  .looseObject({ outcome: z.looseObject({ kind: optionalText }).optional().catch(undefined) })
  .catch({});

export const REPORT = z.looseObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  verdict: z.looseObject({ kind: z.enum(VERDICT_KINDS), cause: optionalText }),
  buildkitVersion: optionalVersion,
  settings: z.looseObject({ buildkitImage: optionalText }).optional().catch(undefined),
  cacheMaker: z
    .looseObject({ kind: optionalText, image: optionalText, buildkitVersion: optionalVersion })
    .optional()
    .catch(undefined),
  attempts: z.array(ATTEMPT_RECORD).catch([]),
  lossRate: z.union([LOSS_RATE_COUNTS, z.unknown().transform((): typeof MALFORMED => MALFORMED)]).optional(),
});

export type Report = z.infer<typeof REPORT>;

/** The report, or why it cannot be used, naming the field: "its schemaVersion is 2, not 1". */
export function parseReport(value: unknown): { report: Report } | { problem: string } {
  const parsed = REPORT.safeParse(value, { reportInput: true });
  if (parsed.success) return { report: parsed.data };
  // The first issue is of the first field in the schema's order: schemaVersion before verdict.
  return { problem: describeIssue(parsed.error.issues[0]) };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'it does not match the report schema';
  const was = describeValue(issue.input);
  if (issue.path.length === 0) return `it is ${was}, not a report object`;
  return `its ${issue.path.join('.')} is ${was}, ${expectation(issue)}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return issue.values.length === 1
        ? `not ${String(issue.values[0])}`
        : `not one of ${issue.values.join(', ')}`;
    case 'invalid_type':
      return `not ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    default:
      return issue.message;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}
