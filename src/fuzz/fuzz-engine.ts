/*
 * The fuzz run on the real engine, as the CLI and the action run it: each case one engine check with a run
 * of its own (labelled, and removed as soon as the case ends, also on a signal), its findings written as
 * bug-report folders, the report and the summary at the end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFindingFolder } from './finding-folder.js';
import { buildFuzzReport } from './fuzz-report.js';
import type { FuzzReport } from './fuzz-result.js';
import { type FuzzSeams, runFuzz } from './run-fuzz.js';
import { runCheck } from '../engine.js';
import type { FuzzSettings, Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { newRunId } from '../paths.js';
import { removeDockerConfig } from '../services/docker-config.js';
import { Docker } from '../services/docker.js';
import { cleanupWarning, removeRun } from '../services/run-services.js';

export interface FuzzContext {
  /** Findings, case folders and fuzz-report.json go here. */
  outDir: string;
  log: Log;
  docker?: Docker;
  githubApiUrl?: string | undefined;
  /** Told of each case's run as it starts, so that a signal handler can remove the one running. */
  onRunStarted?: (run: { runId: string; workDir: string; settings: Settings } | undefined) => void;
  /** True once the run was asked to stop (the CLI's SIGINT): no case starts after it, no report is written. */
  stopped?: () => boolean;
}

/** The engine's lines of one case go to the log only as warnings: the fuzzer prints one line a case. */
function quiet(log: Log): Log {
  return {
    info: () => undefined,
    warning: (message) => log.warning(message),
    group: (_title, work) => work(),
    phase: (phase, detail) => log.phase?.(phase, detail),
  };
}

/** Runs the fuzz cases on this machine's Docker engine; writes fuzz-report.json into outDir. */
export async function fuzzOnEngine(
  settings: Settings,
  fuzz: FuzzSettings,
  context: FuzzContext,
): Promise<{ report: FuzzReport; reportPath: string }> {
  const docker = context.docker ?? new Docker();
  const { outDir, log } = context;
  fs.mkdirSync(outDir, { recursive: true });
  const seams: FuzzSeams = {
    check: async (caseSettings, caseDir) => {
      const runId = newRunId();
      const workDir = path.join(caseDir, 'work');
      context.onRunStarted?.({ runId, workDir, settings: caseSettings });
      try {
        return await runCheck(caseSettings, {
          runId,
          workDir,
          log: quiet(log),
          docker,
          ...(context.githubApiUrl ? { githubApiUrl: context.githubApiUrl } : {}),
        });
      } finally {
        const left = await removeRun(docker, runId, caseSettings);
        removeDockerConfig(workDir);
        const warning = cleanupWarning(runId, left);
        if (warning) log.warning(warning);
        context.onRunStarted?.(undefined);
      }
    },
    writeFinding: (fuzzCase, result, run) => {
      const m = run.minimization;
      return writeFindingFolder(outDir, {
        fuzzCase,
        result,
        facts: { buildkitImage: settings.buildkitImage, retries: settings.retries },
        ...(m?.kind === 'minimized'
          ? { minimized: { dockerfilePath: m.dockerfilePath, contextDir: m.contextDir } }
          : {}),
      });
    },
    now: () => Date.now(),
    log,
    ...(context.stopped ? { stopped: context.stopped } : {}),
  };
  const ran = await runFuzz(settings, fuzz, outDir, seams);
  const report = buildFuzzReport(ran.run, ran.cases);
  // The case the stop cut short failed of its own removal: a report would take that for its result.
  if (context.stopped?.()) return { report, reportPath: '' };
  const reportPath = path.join(outDir, 'fuzz-report.json');
  fs.writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return { report, reportPath };
}
