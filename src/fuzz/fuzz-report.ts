/*
 * fuzz-report.json: every case of a run (or of one shard), for people and for the merge job. Writing it is
 * here; reading it (fuzz-report-schema.ts, fuzz-report-files.ts) and merging the shards' (fuzz-merge.ts)
 * have their own files, re-exported here as one interface.
 */
import type { CaseResult, FuzzReport, FuzzRunFacts } from './fuzz-result.js';

export { FUZZ_REPORT_SCHEMA, parseFuzzReport } from './fuzz-report-schema.js';
export {
  MAX_REPORT_BYTES,
  REPORT_FILE_NAME,
  readFuzzReports,
  type ReadOptions,
} from './fuzz-report-files.js';
export {
  asMerged,
  mergeFuzzReports,
  mergeRuns,
  type MergedFuzzReport,
  type MergedFuzzRun,
} from './fuzz-merge.js';

export function buildFuzzReport(facts: FuzzRunFacts, cases: readonly CaseResult[]): FuzzReport {
  return { schemaVersion: 1, run: { ...facts, shard: { ...facts.shard } }, cases: [...cases] };
}
