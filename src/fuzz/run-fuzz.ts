/*
 * The fuzz run: for each case number of this shard, a case generated from (seed, number), written to a
 * folder, put through the engine as one check (the cache made from the case's base inputs, the attempts
 * building its changed version when it has one), and judged against its own clean build. The decisions are
 * pure functions here, and the engine is a seam (`FuzzSeams.check`), so that the unit tests run them with
 * fakes; the CLI and the action give the real engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { groupKeyOf, signatureOf } from './findings.js';
import type { CaseOutcome, CaseResult, FuzzReport, FuzzRunFacts } from './fuzz-result.js';
import type { FuzzCase } from './case-model.js';
import { describeCase, writeCaseInput } from './case-files.js';
import { constructsFor } from './frontend-support.js';
import { generateCase } from './generator.js';
import { caseSettings, caseSeconds, involvedOf, verdictDetail } from './case-judgement.js';
import type { FuzzSettings, Settings } from '../inputs/settings.js';
import { versionFromImageTag } from '../inputs/validators.js';
import type { Log } from '../log.js';
import type { RunResult } from '../model/run-result.js';
import { NOTHING_FROM_THE_CACHE } from '../attempts/one-attempt.js';
import { noClasses } from '../model/classes.js';
import { minimizationLine } from '../model/wording.js';

/** A result whose time is not known yet (or was none). */
const NO_SECONDS: CaseResult['seconds'] = { setup: 0, attempts: 0, minimize: 0, total: 0 };

/** What the fuzz run needs from outside: the engine, the clock, the log, where findings go. */
export interface FuzzSeams {
  /** One check of these settings (the engine, and the cleanup of its run). */
  check(settings: Settings, caseDir: string): Promise<RunResult>;
  /** Writes a finding's folder; returns it relative to outDir. */
  writeFinding(fuzzCase: FuzzCase, result: CaseResult, run: RunResult): string;
  now(): number;
  log: Log;
  /** True once the run was asked to stop: no case starts after it. */
  stopped?(): boolean;
}

/** The case numbers this shard runs, in order: one case when asked for, else every count-th from index-1. */
export function caseNumbers(fuzz: Pick<FuzzSettings, 'cases' | 'onlyCase' | 'shard'>): number[] {
  if (fuzz.onlyCase !== undefined) return [fuzz.onlyCase];
  return Array.from({ length: fuzz.cases }, (_, i) => i * fuzz.shard.count + fuzz.shard.index - 1);
}

/** The cache-type of case n: the types take turns within a shard, so that each meets every kind of case. */
export function cacheTypeOf(
  fuzz: Pick<FuzzSettings, 'cacheTypes' | 'shard'>,
  caseNumber: number,
): Settings['cacheType'] {
  const turn = Math.floor(caseNumber / fuzz.shard.count);
  return fuzz.cacheTypes[turn % fuzz.cacheTypes.length] ?? 'registry';
}

/**
 * The fuzzer's word for a check's verdict: a difference is a finding; an error is untested when every
 * attempt says the changed inputs left the cache nothing to give (the change reached the first step).
 */
export function outcomeOf(run: Pick<RunResult, 'verdict' | 'records'>): CaseOutcome {
  switch (run.verdict.kind) {
    case 'reproduced':
    case 'content-differs':
    case 'config-differs':
      return 'finding';
    case 'clean':
      return 'intact';
    case 'error': {
      const attempts = run.records;
      const nothing = (r: (typeof attempts)[number]) =>
        r.outcome.kind === 'error' && r.outcome.cause.startsWith(NOTHING_FROM_THE_CACHE);
      return attempts.length > 0 && attempts.every(nothing) ? 'untested' : 'error';
    }
    case 'not-run':
      return 'error';
  }
}

/** How many checks a finding gets to show its signature again, with the minimizer. */
export const MINIMIZING_CHECKS = 3;

/** Runs every case of the shard, within the budget; each case's result is told to `onCase` as it ends. */
export async function runFuzz(
  base: Settings,
  fuzz: FuzzSettings,
  outDir: string,
  seams: FuzzSeams,
  onCase?: (result: CaseResult) => void,
): Promise<FuzzReport> {
  const started = seams.now();
  const version = versionFromImageTag(base.buildkitImage) ?? 'unknown';
  const constructs = constructsFor(version);
  const cases: CaseResult[] = [];
  const minimized = new Set<string>();
  let stoppedBy: FuzzRunFacts['stoppedBy'] = 'cases';
  for (const caseNumber of caseNumbers(fuzz)) {
    if (seams.stopped?.()) break;
    if (fuzz.budgetSeconds > 0 && (seams.now() - started) / 1000 >= fuzz.budgetSeconds) {
      stoppedBy = 'budget';
      break;
    }
    const fuzzCase = generateCase(fuzz.seed, caseNumber, { constructs });
    const cacheType = cacheTypeOf(fuzz, caseNumber);
    // A case that throws is an error of that case: the run goes on, and its report is still written.
    const result = await runOneCase(base, fuzzCase, cacheType, outDir, seams, minimized).catch(
      (error: unknown): CaseResult => ({
        ...caseResult(fuzzCase, cacheType, thrown(error), NO_SECONDS),
      }),
    );
    cases.push(result);
    onCase?.(result);
  }
  const facts: FuzzRunFacts = {
    seed: fuzz.seed,
    shard: fuzz.shard,
    buildkitImage: base.buildkitImage,
    buildkitVersion: cases.find((c) => c.buildkitVersion !== 'unknown')?.buildkitVersion ?? version,
    cacheTypes: fuzz.cacheTypes,
    retries: base.retries,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(seams.now()).toISOString(),
    stoppedBy,
  };
  return { schemaVersion: 1, run: facts, cases };
}

/**
 * One case: its inputs written under outDir/cases, one check, its result; a finding gets its folder. With
 * minimize, a finding whose signature is new is checked again with the minimizer: one bug found a hundred
 * times is minimized once (on v0.8–v0.9 nearly every case shows the history shift).
 */
async function runOneCase(
  base: Settings,
  fuzzCase: FuzzCase,
  cacheType: Settings['cacheType'],
  outDir: string,
  seams: FuzzSeams,
  minimizedSignatures: Set<string>,
): Promise<CaseResult> {
  const caseDir = path.join(outDir, 'cases', `case-${fuzzCase.seed}-${fuzzCase.caseNumber}`);
  fs.rmSync(caseDir, { recursive: true, force: true });
  const cacheInputs = writeCaseInput(fuzzCase.base, path.join(caseDir, 'cache'));
  const attemptInputs = fuzzCase.changed
    ? writeCaseInput(fuzzCase.changed.input, path.join(caseDir, 'today'))
    : cacheInputs;
  const settings = caseSettings(base, cacheType, attemptInputs, fuzzCase.changed ? cacheInputs : undefined);
  const started = seams.now();
  const first = await seams.check({ ...settings, minimize: false }, caseDir);
  const firstResult = caseResult(fuzzCase, cacheType, first, NO_SECONDS);
  let run = first;
  let minimizeSeconds = 0;
  let discarded: string | undefined;
  const signature = firstResult.outcome === 'finding' ? groupKeyOf(firstResult) : undefined;
  if (settings.minimize && signature && !minimizedSignatures.has(signature)) {
    minimizedSignatures.add(signature);
    const againStarted = seams.now();
    // The run again is random too: its verdict stands only when it found the same (not, say, only the
    // history shift where the first found a lost layer); a rare loss gets a few tries, an error none.
    const shown: string[] = [];
    while (shown.length < MINIMIZING_CHECKS && !shown.includes('error')) {
      const again = await seams.check(settings, caseDir);
      const result = caseResult(fuzzCase, cacheType, again, NO_SECONDS);
      const key = result.outcome === 'finding' ? groupKeyOf(result) : result.outcome;
      if (key === signature) {
        run = again;
        break;
      }
      shown.push(key);
    }
    minimizeSeconds = (seams.now() - againStarted) / 1000;
    if (run === first)
      discarded = `checked again to be minimized, it showed ${shown.join(', then ')} instead: not minimized`;
  }
  const total = (seams.now() - started) / 1000;
  const seconds = caseSeconds(first, total - minimizeSeconds);
  const result = caseResult(fuzzCase, cacheType, run, { ...seconds, minimize: minimizeSeconds, total });
  if (result.outcome === 'finding') {
    result.signature = signatureOf(result);
    if (discarded) result.minimization = discarded;
    else if (run.minimization) result.minimization = minimizationLine(run.minimization);
    result.findingDir = seams.writeFinding(fuzzCase, result, run);
  }
  // A case that showed nothing keeps no files: a long run would fill the disk.
  else fs.rmSync(caseDir, { recursive: true, force: true });
  seams.log.info(
    `case ${fuzzCase.caseNumber} (seed ${fuzzCase.seed}, ${cacheType}): ${result.outcome}${result.differenceClass ? ` (${result.differenceClass})` : ''} in ${total.toFixed(1)} s — ${result.description}`,
  );
  return result;
}

/** A check's result in the fuzzer's words. */
function caseResult(
  fuzzCase: FuzzCase,
  cacheType: Settings['cacheType'],
  run: RunResult,
  seconds: CaseResult['seconds'],
): CaseResult {
  const outcome = outcomeOf(run);
  return {
    seed: fuzzCase.seed,
    caseNumber: fuzzCase.caseNumber,
    description: describeCase(fuzzCase),
    constructs: fuzzCase.constructs,
    changes: (fuzzCase.changed?.changes ?? []).map((change) => change.kind),
    cacheType,
    buildkitVersion: run.buildkitVersion,
    outcome,
    verdict: run.verdict.kind,
    ...verdictDetail(run),
    involved: outcome === 'finding' ? involvedOf(run.verdict) : [],
    ...minimizedOf(run),
    seconds,
  };
}

/** A check that threw, as a run whose verdict is the error. */
function thrown(error: unknown): RunResult {
  const cause = `the case could not be run: ${(error as Error).message}`;
  return {
    runId: '',
    verdict: { kind: 'error', cause, attemptsRun: 0, classes: noClasses() },
    records: [],
    buildkitVersion: 'unknown',
    startedAt: '',
    finishedAt: '',
    daemonLogFiles: [],
  };
}

function minimizedOf(run: RunResult): Pick<CaseResult, 'minimizedDockerfile' | 'minimizedInstructions'> {
  const m = run.minimization;
  if (m?.kind !== 'minimized') return {};
  return { minimizedDockerfile: m.dockerfile, minimizedInstructions: m.instructionsAfter };
}
