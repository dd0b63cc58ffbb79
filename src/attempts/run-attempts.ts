import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../log.js';
import { InspectionError, inspectTarball } from '../inspection/tarball.js';
import { lastLines } from '../testbed/command.js';
import type { Buildkitd, TestBed } from '../testbed/testbed.js';
import type { AttemptOutcome, AttemptRecord } from './attempt.js';
import { resetsBefore } from './reset-policy.js';

export interface AttemptPlan {
  image: string;
  retries: number;
  cacheResetFrequency: number;
  context: string;
  dockerfile: string;
  importCache: string;
  expectPaths: string[];
  workDir: string;
}

export interface AttemptsRun {
  records: AttemptRecord[];
  /** What the attempts' daemon reports, read once after it first started. */
  buildkitVersion: string;
  /** Logs of a daemon whose attempt failed, saved before it was removed. */
  daemonLogFiles: string[];
}

/**
 * The retry loop: reset buildkitd's state when the policy says so, import the cache, build to a tarball,
 * read the tarball. Stops at the first lost layer, and at the first attempt that cannot be judged.
 */
export async function runAttempts(bed: TestBed, plan: AttemptPlan, log: Log): Promise<AttemptsRun> {
  const run: AttemptsRun = { records: [], buildkitVersion: 'unknown', daemonLogFiles: [] };
  let daemon: Buildkitd | undefined;
  try {
    for (let attempt = 1; attempt <= plan.retries; attempt++) {
      const freshState = resetsBefore(attempt, plan.cacheResetFrequency);
      if (freshState) {
        try {
          if (daemon) await bed.stopBuildkitd(daemon);
          daemon = undefined;
          daemon = await bed.startBuildkitd(plan.image);
          if (attempt === 1) run.buildkitVersion = await bed.buildkitVersion(daemon);
        } catch (error) {
          const cause = `starting a fresh buildkitd failed: ${(error as Error).message}`;
          run.records.push({ attempt, freshState, durationMs: 0, outcome: { kind: 'error', cause } });
          log.info(describe(run.records[run.records.length - 1] as AttemptRecord));
          break;
        }
      }
      // The policy always resets before attempt 1, so a daemon is there from then on.
      if (!daemon) throw new Error('no buildkitd for the attempt');

      const buildStarted = performance.now();
      const outcome = await oneAttempt(daemon, plan, attempt);
      const record: AttemptRecord = {
        attempt,
        freshState,
        durationMs: Math.round(performance.now() - buildStarted),
        outcome,
      };
      run.records.push(record);
      log.info(describe(record));
      if (outcome.kind === 'error') {
        run.daemonLogFiles.push(await saveDaemonLogs(bed, daemon, plan.workDir));
        break;
      }
      if (outcome.kind === 'lost') break;
    }
  } finally {
    if (daemon) await bed.stopBuildkitd(daemon);
  }
  return run;
}

async function oneAttempt(daemon: Buildkitd, plan: AttemptPlan, attempt: number): Promise<AttemptOutcome> {
  const tarball = path.join(plan.workDir, `attempt-${attempt}.tar`);
  const build = await daemon.buildctl.build({
    context: plan.context,
    dockerfile: plan.dockerfile,
    importCache: plan.importCache,
    output: `type=tar,dest=${tarball}`,
  });
  if (build.exitCode !== 0) {
    fs.rmSync(tarball, { force: true });
    return { kind: 'error', cause: `buildctl build exited ${build.exitCode}: ${lastLines(build.stderr, 3)}` };
  }
  try {
    const contents = await inspectTarball(tarball, plan.expectPaths);
    if (contents.missingPaths.length > 0)
      return { kind: 'lost', missingPaths: contents.missingPaths, tarball };
    fs.rmSync(tarball, { force: true });
    return { kind: 'intact' };
  } catch (error) {
    if (error instanceof InspectionError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { kind: 'error', cause: (error as Error).message };
    }
    throw error;
  }
}

async function saveDaemonLogs(bed: TestBed, daemon: Buildkitd, workDir: string): Promise<string> {
  const file = path.join(workDir, `${daemon.container}.log`);
  const running = await bed.isRunning(daemon);
  fs.writeFileSync(
    file,
    `# ${daemon.container} (${running ? 'running' : 'stopped'})\n${await bed.daemonLogs(daemon)}`,
  );
  return file;
}

function describe(record: AttemptRecord): string {
  const reset = record.freshState ? ' (fresh buildkitd state)' : '';
  const head = `attempt ${record.attempt}${reset}: `;
  const seconds = `${(record.durationMs / 1000).toFixed(2)} s`;
  switch (record.outcome.kind) {
    case 'intact':
      return `${head}intact, ${seconds}`;
    case 'lost':
      return `${head}LAYER LOST — missing ${record.outcome.missingPaths.join(', ')}, ${seconds}`;
    case 'error':
      return `${head}infrastructure error: ${record.outcome.cause}`;
  }
}
