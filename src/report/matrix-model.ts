import type { LabelledVerdict } from './verdict-labels.js';

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
  lost: number;
  rateText: string;
  source?: string;
  note?: string;
}

/** The last release that lost a layer and the first clean one above it, when there are such. */
export type Boundary = { lastLost?: string; firstClean?: string };

export interface MatrixResult {
  rows: MatrixRow[];
  /** Over every row; with more than one cache maker, see byMaker instead. */
  boundary: Boundary;
  /** The cache makers the reports name, in release order. */
  makers: string[];
  /** The boundary among the importers of each maker's cache, when there is more than one maker and some job imported another release's cache. */
  byMaker: { maker: string; boundary: Boundary }[];
  problems: string[];
}

/**
 * Whether some job imported a cache that another release made. Only then do makers earn a grid and a
 * column: in a plain bisect every release makes its own cache, and the one boundary over all rows is the answer.
 */
export function importsOthersCaches(rows: readonly MatrixRow[]): boolean {
  return rows.some((row) => row.maker !== '' && row.maker !== row.version);
}
