/*
 * The pure parts of one fuzz case: the settings it runs with, what its result says in the fuzzer's words,
 * and where its time went.
 */
import type { CaseResult, CaseSeconds } from './fuzz-result.js';
import type { Settings } from '../inputs/settings.js';
import { DIFFERENCE_CLASSES } from '../model/classes.js';
import type { ImageDifference } from '../model/difference.js';
import type { RunResult } from '../model/run-result.js';
import type { Verdict } from '../model/verdict.js';
import { differenceText } from '../model/wording.js';

/**
 * A path every generated image holds (the base image's shell): expect-paths needs one, and a lost layer is
 * told by the layers, not by a path, with an OCI output.
 */
export const FUZZ_EXPECT_PATH = 'bin/sh';

/**
 * The settings of one case: the run's, with the case's inputs (and the version its cache is made from,
 * when it has one), its cache-type, the attempts stopping at the first difference of any class. The
 * minimizer shrinks one Dockerfile, so a case whose cache is made from other inputs is not minimized.
 */
export function caseSettings(
  base: Settings,
  cacheType: Settings['cacheType'],
  inputs: { dockerfile: string; context: string },
  cacheInputs: { dockerfile: string; context: string } | undefined,
): Settings {
  return {
    ...base,
    cacheType,
    cacheSettings: cacheType === base.cacheType ? base.cacheSettings : undefined,
    cacheDir: '',
    createCache: true,
    dockerfile: inputs.dockerfile,
    context: inputs.context,
    cacheDockerfile: cacheInputs?.dockerfile ?? '',
    cacheContext: cacheInputs?.context ?? '',
    expectPaths: [FUZZ_EXPECT_PATH],
    failOn: [...DIFFERENCE_CLASSES],
    keepGoing: false,
    minimize: base.minimize && !cacheInputs,
    fuzz: undefined,
  };
}

/** A finding's class and account, or an error's cause, in one line each. */
export function verdictDetail(
  run: Pick<RunResult, 'verdict'>,
): Pick<CaseResult, 'differenceClass' | 'detail' | 'attempts'> {
  const verdict = run.verdict;
  switch (verdict.kind) {
    case 'reproduced': {
      const lost = verdict.lostLayers.map((l) => l.createdBy || l.digest).join(', ');
      return {
        differenceClass: 'lost-layer',
        detail: `attempt ${verdict.failedAttempt} lost ${lost || 'a layer'}`,
        attempts: verdict.attemptsRun,
      };
    }
    case 'content-differs':
    case 'config-differs':
      return {
        differenceClass: verdict.kind,
        detail: `attempt ${verdict.firstAttempt}: ${differenceText(verdict.kind, verdict.difference)}`,
        attempts: verdict.attemptsRun,
      };
    case 'clean':
      return { detail: '', attempts: verdict.attemptsRun };
    case 'error':
      return { detail: verdict.cause, attempts: verdict.attemptsRun };
    case 'not-run':
      return { detail: 'no attempt ran', attempts: 0 };
  }
}

/** An instruction as a grouping word: its keyword and flags, no arguments ("COPY --link", "RUN"). */
export function instructionWord(createdBy: string): string {
  // History entries read "RUN /bin/sh -c …" or "COPY a /b # buildkit"; older ones "/bin/sh -c #(nop) …".
  const text = createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').trim();
  const [keyword = '', ...rest] = text.split(/\s+/);
  const flags = rest.filter((part) => part.startsWith('--')).map((flag) => flag.replace(/=.*$/, ''));
  return [keyword.toUpperCase(), ...flags].join(' ') || 'an unnamed layer';
}

/** What a finding's difference touches, as words that group one bug found many times (see CaseResult). */
export function involvedOf(verdict: Verdict): string[] {
  const difference: ImageDifference | undefined =
    verdict.kind === 'content-differs' || verdict.kind === 'config-differs' ? verdict.difference : undefined;
  const words =
    verdict.kind === 'reproduced'
      ? verdict.lostLayers.map((layer) => instructionWord(layer.createdBy))
      : [
          ...(difference?.layerChanges ?? []).map((c) =>
            instructionWord(c.reference?.createdBy ?? c.attempt?.createdBy ?? ''),
          ),
          // "history 3 created_by" and "history 5 created_by" are one kind of difference.
          ...(difference?.config ?? []).map((c) => c.field.replace(/\s*\(.*\)$/, '').replace(/\d+/g, 'N')),
          ...((difference?.files.length ?? 0) > 0 ? ['files'] : []),
        ];
  return [...new Set(words)].sort();
}

/**
 * Where the case's time went: the attempts (their builds and resets; with lanes, until the last ended),
 * the minimization, and the rest before them (services, the cache and reference builds).
 */
export function caseSeconds(run: Pick<RunResult, 'records' | 'minimization'>, total: number): CaseSeconds {
  const ends = run.records.map((r) => r.endedMs ?? 0);
  const serial = run.records.reduce((sum, r) => sum + r.durationMs + r.resetMs, 0);
  const attempts = Math.min(
    total,
    (ends.length > 0 && Math.max(...ends) > 0 ? Math.max(...ends) : serial) / 1000,
  );
  const m = run.minimization;
  const minimize = m && m.kind !== 'skipped' ? Math.min(total - attempts, m.seconds) : 0;
  return { setup: Math.max(0, total - attempts - minimize), attempts, minimize, total };
}
