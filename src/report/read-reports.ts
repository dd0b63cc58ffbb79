import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MatrixInput } from './matrix-model.js';

/**
 * Every report under the given files and folders (folders searched all the way down for *.json, as
 * actions/download-artifact lays artifacts out); a file that cannot be read or parsed is still an input,
 * with its error, so that the table can say so.
 */
export function readReports(locations: readonly string[]): MatrixInput[] {
  const files = locations.flatMap((location): (string | MatrixInput)[] => {
    const stat = fs.statSync(location, { throwIfNoEntry: false });
    if (!stat) return [{ source: location, error: 'no such file or folder' }];
    if (stat.isFile()) return [location];
    return fs
      .readdirSync(location, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(location, name));
  });
  return files.map((file) => {
    if (typeof file !== 'string') return file;
    try {
      return { source: file, report: JSON.parse(fs.readFileSync(file, 'utf8')) as unknown };
    } catch (error) {
      return { source: file, error: (error as Error).message };
    }
  });
}
