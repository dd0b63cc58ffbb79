import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { buildReport } from './json-report.js';
import type { RunResult } from '../model/run-result.js';
import { redact } from '../model/secrets.js';

/**
 * writeReportFile, for a verdict that must be said whatever happens to the report: a failure to write it (a
 * full disk) is a warning, and the path is then ''.
 */
export function writeReportOrWarn(
  result: RunResult,
  settings: Settings,
  workDir: string,
  log: Pick<Log, 'warning'>,
): string {
  try {
    return writeReportFile(result, settings, workDir);
  } catch (error) {
    log.warning(`the report could not be written: ${(error as Error).message}`);
    return '';
  }
}

/** Writes report.json into the run's work folder and returns its path. */
export function writeReportFile(result: RunResult, settings: Settings, workDir: string): string {
  const file = path.join(workDir, 'report.json');
  fs.mkdirSync(workDir, { recursive: true });
  // A secret that reached a message (a BuildKit error quoting an attribute) is hidden here too.
  fs.writeFileSync(file, `${redact(JSON.stringify(buildReport(result, settings), null, 2))}\n`);
  return file;
}
