import * as core from '@actions/core';
import { list } from './inputs/validators.js';
import { buildMatrix, renderMatrix } from './report/matrix.js';
import { readReports } from './report/read-reports.js';

/** The bisect table: the reports of many jobs (a matrix of releases) in one summary. */
async function summarize(): Promise<void> {
  // Both inputs are lists, one item a line or separated by commas.
  const locations = list(core.getInput('reports'));
  const result = buildMatrix(readReports(locations), list(core.getInput('versions')));
  const markdown = renderMatrix(result);
  if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(markdown).write();
  core.info(markdown);
  core.setOutput('last-lost', result.boundary.lastLost ?? '');
  core.setOutput('first-clean', result.boundary.firstClean ?? '');
  core.setOutput('boundaries', JSON.stringify(result.boundaries));
  core.setOutput('problems', JSON.stringify(result.problems));
  // Missing or failed jobs are said, not fatal: the table is still the best answer there is.
  for (const problem of result.problems) core.warning(problem);
}

await summarize().catch((error: unknown) => core.setFailed((error as Error).message));
