import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CacheUse, cacheUse, readTrace, TraceError } from '../inspection/build-trace.js';
import type { ConfigComparison } from '../inspection/compare.js';
import { compareOutputs, outputFileName, readOutput } from '../inspection/output-types.js';
import { fullDiskWatch, namingFullDisk, withFullDisk } from '../services/disk-space.js';
import { InspectionError } from '../inspection/tarball.js';
import type { AttemptOutcome } from '../model/attempt.js';
import { lastLines } from '../services/command.js';
import { redact } from '../model/secrets.js';
import type { Buildkitd } from '../services/run-services.js';
import { classify } from '../verdict/classify.js';
import type { AttemptPlan } from './plan.js';

/** The start of the cause of an attempt that took nothing from a cache made from other inputs. */
export const NOTHING_FROM_THE_CACHE = 'no step came from the imported cache';

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
    stopWhen: fullDiskWatch(plan.workDir),
    traceFile,
  });
  // The trace stays beside an output that differs or an error, as evidence; an intact attempt keeps nothing.
  const failed = (cause: string): AttemptOutcome => {
    fs.rmSync(output, { force: true });
    return { kind: 'error', cause };
  };
  if (build.timedOut)
    return failed(`buildctl build did not finish within ${plan.attemptTimeoutSeconds} s (attempt-timeout)`);
  if (build.stoppedBecause) return failed(`${build.stoppedBecause}: buildctl build stopped`);
  if (build.exitCode !== 0) {
    // Asked before the partial output goes: with it there, a full disk still shows as full.
    return failed(
      withFullDisk(`buildctl build exited ${build.exitCode}: ${lastLines(build.stderr, 3)}`, plan.workDir),
    );
  }
  const otherInputs = plan.referenceKind === 'other-inputs';
  const use = readCacheUse(traceFile, otherInputs);
  if (typeof use === 'string') return failed(use);
  // With the cache made from other inputs, the steps the change reaches run: which did is the evidence.
  const ran = otherInputs ? { stepsRan: use.ran } : {};
  try {
    const built = await readOutput(output, plan.outputType);
    const difference = compareOutputs(
      plan.outputType,
      plan.reference,
      built,
      plan.expectPaths,
      config,
      plan.referenceKind,
    );
    const kind = classify(difference);
    if (kind !== 'intact') return { kind, difference, output, ...ran };
    fs.rmSync(output, { force: true });
    fs.rmSync(traceFile, { force: true });
    return { kind: 'intact', ...ran };
  } catch (error) {
    // An output that cannot be read stays, as evidence.
    if (error instanceof InspectionError)
      return { kind: 'error', cause: namingFullDisk(error, plan.workDir).message };
    throw error;
  }
}

/**
 * Why the attempt did not test the import, or what it used when it did: the import failed, or a step ran
 * instead of coming from a cache (a failed import only warns, and the build goes on from scratch). With
 * the cache made from other inputs, steps may run, but one at least must come from the cache.
 */
function readCacheUse(traceFile: string, stepsMayRun: boolean): string | CacheUse {
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
  if (stepsMayRun) {
    return use.cached.length > 0
      ? use
      : `${NOTHING_FROM_THE_CACHE}: the inputs it was made from differ from the first step on (${use.ran.join(', ')} ran)`;
  }
  if (use.ran.length > 0) return `the imported cache was not used: ${use.ran.join(', ')} ran instead`;
  return use;
}
