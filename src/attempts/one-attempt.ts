import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CacheUse, cacheUse, readTrace, TraceError } from '../inspection/build-trace.js';
import type { ConfigComparison } from '../inspection/compare.js';
import { compareOutputs, outputFileName, readOutput } from '../inspection/output-types.js';
import { InspectionError } from '../inspection/tarball.js';
import type { AttemptOutcome } from '../model/attempt.js';
import { lastLines } from '../services/command.js';
import { redact } from '../model/secrets.js';
import type { Buildkitd } from '../services/run-services.js';
import { classify } from '../verdict/classify.js';
import type { AttemptPlan } from './plan.js';

/**
 * One attempt on a daemon that is ready: build with the cache imported, check from the build's trace that
 * the cache was used, read the output and hold it against the reference. Only a build that succeeded, used
 * the cache and whose output was read to its end is judged; anything else is an error of the attempt.
 */
export async function oneAttempt(
  daemon: Buildkitd,
  plan: AttemptPlan,
  attempt: number,
  config: ConfigComparison,
): Promise<AttemptOutcome> {
  const output = path.join(plan.workDir, outputFileName(`attempt-${attempt}`, plan.outputType));
  const traceFile = path.join(plan.workDir, `attempt-${attempt}.trace.json`);
  const build = await daemon.buildctl.build({
    context: plan.context,
    dockerfile: plan.dockerfile,
    importCache: plan.importCache,
    output: `type=${plan.outputType},dest=${output}`,
    timeoutMs: plan.attemptTimeoutSeconds * 1000,
    traceFile,
  });
  // The trace stays beside an output that differs or an error, as evidence; an intact attempt keeps nothing.
  const failed = (cause: string): AttemptOutcome => {
    fs.rmSync(output, { force: true });
    return { kind: 'error', cause };
  };
  if (build.timedOut || build.exitCode !== 0) {
    return failed(
      build.timedOut
        ? `buildctl build did not finish within ${plan.attemptTimeoutSeconds} s (attempt-timeout)`
        : `buildctl build exited ${build.exitCode}: ${lastLines(build.stderr, 3)}`,
    );
  }
  const cacheProblem = readCacheUse(traceFile);
  if (cacheProblem) return failed(cacheProblem);
  try {
    const built = await readOutput(output, plan.outputType);
    const difference = compareOutputs(
      plan.outputType,
      plan.reference,
      built,
      plan.expectPaths,
      config,
      plan.referenceRebuilt,
    );
    const kind = classify(difference);
    if (kind !== 'intact') return { kind, difference, output };
    fs.rmSync(output, { force: true });
    fs.rmSync(traceFile, { force: true });
    return { kind: 'intact' };
  } catch (error) {
    // An output that cannot be read stays, as evidence.
    if (error instanceof InspectionError) return { kind: 'error', cause: error.message };
    throw error;
  }
}

/**
 * Why the attempt did not test the import, or undefined when it did: the import failed, or a step ran
 * instead of coming from a cache (a failed import only warns, and the build goes on from scratch).
 */
function readCacheUse(traceFile: string): string | undefined {
  let use: CacheUse;
  try {
    use = cacheUse(readTrace(fs.readFileSync(traceFile, 'utf8')));
  } catch (error) {
    if (error instanceof TraceError || (error as NodeJS.ErrnoException).code === 'ENOENT')
      return `no evidence that the imported cache was used: ${(error as Error).message}`;
    throw error;
  }
  // BuildKit's message can quote the import's attributes, a token among them.
  if (use.importErrors.length > 0) return redact(`the cache import failed: ${use.importErrors.join('; ')}`);
  if (use.ran.length > 0) return `the imported cache was not used: ${use.ran.join(', ')} ran instead`;
  return undefined;
}
