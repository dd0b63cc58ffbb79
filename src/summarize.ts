import * as core from '@actions/core';
import { buildMatrix, renderMatrix } from './report/matrix.js';
import { readReports } from './report/read-reports.js';

/** The bisect table: the reports of many jobs (a matrix of releases) in one summary. */
async function summarize(): Promise<void> {
  const locations = core.getMultilineInput('reports').flatMap((line) => line.split(',').map((l) => l.trim()));
  const expected = core
    .getInput('versions')
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const result = buildMatrix(readReports(locations.filter((l) => l !== '')), expected);
  const markdown = renderMatrix(result);
  if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(markdown).write();
  core.info(markdown);
  core.setOutput('last-lost', result.boundary.lastLost ?? '');
  core.setOutput('first-clean', result.boundary.firstClean ?? '');
  core.setOutput('problems', JSON.stringify(result.problems));
  // Missing or failed jobs are said, not fatal: the table is still the best answer there is.
  for (const problem of result.problems) core.warning(problem);
}

await summarize().catch((error: unknown) => core.setFailed((error as Error).message));
