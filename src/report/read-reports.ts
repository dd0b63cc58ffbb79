import type { MatrixInput } from './matrix-model.js';
import { decodeJson, MAX_REPORT_BYTES, readCapped, reportFiles } from './untrusted-files.js';

/**
 * Every report under the given files and folders (folders searched all the way down for *.json, as
 * actions/download-artifact lays artifacts out), read as untrusted files (untrusted-files.ts); a file that
 * cannot be used is still an input, with the kind of problem, so that the table can say so.
 */
export function readReports(locations: readonly string[], maxBytes = MAX_REPORT_BYTES): MatrixInput[] {
  const isReport = (name: string) => name.endsWith('.json');
  const seen = new Set<string>();
  return locations
    .flatMap((location) => reportFiles(location, isReport))
    .flatMap((found): MatrixInput[] => {
      if ('problem' in found) return [problemInput(found.problem)];
      // A link inside the folder to a report also found where it is: read once.
      if (seen.has(found.real)) return [];
      seen.add(found.real);
      const read = readCapped(found.file, found.real, maxBytes);
      if ('problem' in read) return [problemInput(read.problem)];
      const decoded = decodeJson(found.file, read.bytes);
      if ('problem' in decoded) return [problemInput(decoded.problem)];
      return [{ source: found.file, report: decoded.value }];
    });
}

/** A problem is "<file>: <kind>": the table names the file as the input's source. */
function problemInput(problem: string): MatrixInput {
  const at = problem.lastIndexOf(': ');
  return at < 0
    ? { source: problem, error: 'unreadable' }
    : { source: problem.slice(0, at), error: problem.slice(at + 2) };
}
