import { z } from 'zod';
import { ATTEMPT_CLASSES, type AttemptClass } from '../model/classes.js';
import type { Verdict } from '../model/verdict.js';
import { REPORT_SCHEMA_VERSION } from './json-report.js';

/*
 * report.json (see buildReport) as the bisect table reads it. Only the fields the table uses are described,
 * and any other passes: the format grows, and a reader must not refuse a field added later. Two fields decide
 * whether a report can be used at all, schemaVersion and verdict.kind; every other one is optional, and one of
 * the wrong shape reads as absent (its `.catch`), so that one odd field costs a cell of the table, not the row.
 *
 * Version 1 (older runs' artifacts) knew three outcomes, 'lost' (today's lost-layer), 'intact' and 'error', and
 * four verdicts; it had no class counts and never compared config and history. Version 2 classes every attempt.
 */

/** Every schema version the table reads. */
const SCHEMA_VERSIONS = [1, 2] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];
/** The version buildReport writes must be one of them: a type error here means this reader is behind it. */
export const WRITTEN_SCHEMA_VERSION: SchemaVersion = REPORT_SCHEMA_VERSION;

const VERDICT_KINDS = [
  'reproduced',
  'content-differs',
  'config-differs',
  'clean',
  'error',
  'not-run',
] as const satisfies readonly Verdict['kind'][];
/** The verdicts of version 1: a difference other than a lost layer had no verdict of its own. */
const VERDICT_KINDS_V1: readonly Verdict['kind'][] = ['reproduced', 'clean', 'error', 'not-run'];

/** Text the table can do without: absent or not text, it reads as undefined. */
const optionalText = z.string().optional().catch(undefined);
/** A release as the report gives it, without the spaces around buildkitd's output. */
const optionalVersion = z.string().trim().optional().catch(undefined);

/** A field that is there but cannot be used: the table ignores it, and says so. */
export const MALFORMED = 'malformed';
/** A field of this shape, or MALFORMED when it is there in another shape (absent stays undefined). */
function orMalformed<T extends z.ZodType>(shape: T) {
  return z.union([shape, z.unknown().transform((): typeof MALFORMED => MALFORMED)]).optional();
}

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

const COUNT = z.number().int().min(0);
/** verdict.classes: how many attempts fell in each class. */
const CLASS_COUNTS = z.looseObject({
  'lost-layer': COUNT,
  'content-differs': COUNT,
  'config-differs': COUNT,
  intact: COUNT,
});

/** One attempt, of which the table counts only the outcome; a record of another shape still counts as run. */
const ATTEMPT_RECORD = z
  .looseObject({ outcome: z.looseObject({ kind: optionalText }).optional().catch(undefined) })
  .catch({});

export const REPORT = z.looseObject({
  schemaVersion: z.literal(SCHEMA_VERSIONS),
  verdict: z.looseObject({
    kind: z.enum(VERDICT_KINDS),
    cause: optionalText,
    classes: orMalformed(CLASS_COUNTS),
  }),
  configComparison: orMalformed(z.looseObject({ compared: z.boolean(), reason: optionalText })),
  buildkitVersion: optionalVersion,
  settings: z
    .looseObject({
      buildkitImage: optionalText,
      retries: z.number().int().min(1).optional().catch(undefined),
      keepGoing: z.boolean().optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  cacheMaker: z
    .looseObject({ kind: optionalText, image: optionalText, buildkitVersion: optionalVersion })
    .optional()
    .catch(undefined),
  attempts: z.array(ATTEMPT_RECORD).catch([]),
  lossRate: orMalformed(LOSS_RATE_COUNTS),
});

export type Report = z.infer<typeof REPORT>;

/** The report, or why it cannot be used, naming the field: "its schemaVersion is 3, not one of 1, 2". */
export function parseReport(value: unknown): { report: Report } | { problem: string } {
  const parsed = REPORT.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    // The first issue is of the first field in the schema's order: schemaVersion before verdict.
    return { problem: describeIssue(parsed.error.issues[0]) };
  }
  const { schemaVersion, verdict } = parsed.data;
  if (schemaVersion === 1 && !VERDICT_KINDS_V1.includes(verdict.kind)) {
    return {
      problem: `its verdict.kind is ${describeValue(verdict.kind)}, not one of ${VERDICT_KINDS_V1.join(', ')} (schemaVersion 1)`,
    };
  }
  return { report: parsed.data };
}

/** The class of an attempt's outcome kind, in the report's own version; undefined for an error or a word it does not know. */
export function outcomeClass(
  schemaVersion: SchemaVersion,
  kind: string | undefined,
): AttemptClass | undefined {
  if (schemaVersion === 1) return kind === 'lost' ? 'lost-layer' : kind === 'intact' ? 'intact' : undefined;
  return ATTEMPT_CLASSES.find((c) => c === kind);
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
