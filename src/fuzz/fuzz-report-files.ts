/*
 * Finding the fuzz-report.json files of every shard in the folders actions/download-artifact filled, read as
 * untrusted files (report/untrusted-files.ts).
 */
import { decodeJson, MAX_REPORT_BYTES, readCapped, reportFiles } from '../report/untrusted-files.js';
import { parseFuzzReport } from './fuzz-report-schema.js';
import type { FuzzReport } from './fuzz-result.js';

export const REPORT_FILE_NAME = 'fuzz-report.json';
export { MAX_REPORT_BYTES } from '../report/untrusted-files.js';

export interface ReadOptions {
  /** The size cap in bytes; MAX_REPORT_BYTES unless a test sets a small one. */
  maxBytes?: number;
}

/** The report in one file with a problem for each case left out, or only what is wrong with it. */
function readReportFile(
  file: string,
  real: string,
  maxBytes: number,
): { report?: FuzzReport; problems: string[] } {
  const read = readCapped(file, real, maxBytes);
  if ('problem' in read) return { problems: [read.problem] };
  const decoded = decodeJson(file, read.bytes);
  if ('problem' in decoded) return { problems: [decoded.problem] };
  const parsed = parseFuzzReport(decoded.value);
  if ('problem' in parsed) return { problems: [`${file}: ${parsed.problem}`] };
  return { report: parsed.report, problems: parsed.problems.map((p) => `${file}: ${p}`) };
}

/**
 * Every fuzz report under the given files and folders (folders searched all the way down for
 * fuzz-report.json), and a problem for each file that could not be used and each case left out.
 */
export function readFuzzReports(
  locations: readonly string[],
  options: ReadOptions = {},
): { reports: FuzzReport[]; problems: string[] } {
  const maxBytes = options.maxBytes ?? MAX_REPORT_BYTES;
  const reports: FuzzReport[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const isReport = (name: string) => name === REPORT_FILE_NAME;
  for (const found of locations.flatMap((location) => reportFiles(location, isReport))) {
    if ('problem' in found) {
      problems.push(found.problem);
      continue;
    }
    // A link inside the folder to a report also found where it is: read once.
    if (seen.has(found.real)) continue;
    seen.add(found.real);
    const read = readReportFile(found.file, found.real, maxBytes);
    if (read.report) reports.push(read.report);
    problems.push(...read.problems);
  }
  return { reports, problems };
}
