import type { ClassCounts, DifferenceClass } from '../model/classes.js';
import { CLASSES } from '../verdict/classes.js';
import { judged, type LabelledVerdict } from './verdict-labels.js';

/* The bisect table's data: one row per job, built by matrix.ts, drawn by matrix-render.ts. */

/** One job's report: `report` is its parsed JSON, `error` why it could not be read or parsed. */
export interface MatrixInput {
  /** Where the report came from, e.g. its file name. */
  source: string;
  report?: unknown;
  error?: string;
}

export interface MatrixRow {
  version: string;
  image: string;
  /** The release that made the cache the job imported ('earlier run', or '' when the report does not say). */
  maker: string;
  verdict: LabelledVerdict;
  attempts: number;
  /** Attempts that lost a layer (the lost-layer class), the count the loss rate is of. */
  lost: number;
  /** Attempts in each class; unset for a job that ran none (not run) or has no readable report. */
  classes?: ClassCounts;
  /**
   * The classes this run could not see, and why: config-differs when it did not compare config and history
   * (another release built the reference), both config- and content-differs in a report of schema version 1.
   */
  unjudged: Partial<Record<DifferenceClass, string>>;
  /** The lost-layer rate. */
  rateText: string;
  source?: string;
  note?: string;
}

/** For one class: the last release that showed it and the first release above it that did not. */
export type ClassBoundary = { last?: string; firstWithout?: string };
export type ClassBoundaries = Record<DifferenceClass, ClassBoundary>;

/** The lost-layer boundary in the words of the first bisect table (the summarize action's outputs). */
export type Boundary = { lastLost?: string; firstClean?: string };

export interface MatrixResult {
  rows: MatrixRow[];
  /** Over every row, one per class; with more than one cache maker, see byMaker instead. */
  boundaries: ClassBoundaries;
  /** boundaries['lost-layer'] as lastLost and firstClean: firstClean is the first release above that lost no layer. */
  boundary: Boundary;
  /** The cache makers the reports name, in release order. */
  makers: string[];
  /** The boundaries among the importers of each maker's cache, when there is more than one maker and some job imported another release's cache. */
  byMaker: { maker: string; boundaries: ClassBoundaries }[];
  problems: string[];
}

/**
 * Whether some job imported a cache that another release made. Only then do makers earn a grid and a
 * column: in a plain bisect every release makes its own cache, and the one boundary over all rows is the answer.
 */
export function importsOthersCaches(rows: readonly MatrixRow[]): boolean {
  return rows.some((row) => row.maker !== '' && row.maker !== row.version);
}

/**
 * What a row says of one class: 'seen' (some attempt was of it), 'not-seen', or undefined when the row cannot
 * tell: no verdict (error, not run, no report) or a class the run did not judge.
 */
export function sighting(row: MatrixRow, difference: DifferenceClass): 'seen' | 'not-seen' | undefined {
  if (row.verdict === CLASSES[difference].verdict) return 'seen';
  if (!judged(row.verdict) || row.classes === undefined || row.unjudged[difference] !== undefined) {
    return undefined;
  }
  return row.classes[difference] > 0 ? 'seen' : 'not-seen';
}
