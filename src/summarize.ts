import * as core from '@actions/core';
import { mergeFuzzReports } from './fuzz/fuzz-merge.js';
import { readFuzzReports } from './fuzz/fuzz-report-files.js';
import { renderFuzzSummary } from './fuzz/fuzz-summary.js';
import { list } from './inputs/validators.js';
import { buildMatrix, renderMatrix } from './report/matrix.js';
import { readReports } from './report/read-reports.js';

/**
 * The fuzz table: the fuzz-report.json of every shard of a fuzz matrix, merged into one table of findings
 * (grouped by signature) and coverage. Reports come from other jobs' artifacts: their content is not ours.
 */
async function summarizeFuzz(): Promise<void> {
  const read = readFuzzReports(list(core.getInput('reports')));
  const merged = mergeFuzzReports(read.reports);
  const markdown = renderFuzzSummary(merged, { problems: read.problems });
  if (process.env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(markdown).write();
  core.info(markdown);
  const findings = merged.cases.filter((c) => c.outcome === 'finding');
  core.setOutput('findings', String(findings.length));
  core.setOutput('problems', JSON.stringify([...read.problems, ...merged.problems]));
  for (const problem of [...read.problems, ...merged.problems]) core.warning(problem);
  if (findings.length > 0)
    core.setFailed(`${findings.length} of ${merged.cases.length} cases found a difference`);
  else if (read.reports.length === 0) core.setFailed('no fuzz report to merge: no shard sent one');
}

/** The bisect table: the reports of many jobs (a matrix of releases) in one summary. */
async function summarize(): Promise<void> {
  if (core.getBooleanInput('fuzz')) return summarizeFuzz();
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
