/*
 * What a fuzz run records: one result per case, and the run's own facts. The case runner (run-fuzz.ts)
 * makes them; the findings, the report and the summary read them.
 */
import type { ChangeKind, Construct } from './case-model.js';
import type { DifferenceClass } from '../model/classes.js';

/** What one case showed, in the fuzzer's words. */
export type CaseOutcome =
  /** Every attempt's image equalled the reference. */
  | 'intact'
  /** An attempt's image was not the reference: a finding, with its folder. */
  | 'finding'
  /** An infrastructure step or the case's own build failed: nothing can be said of the cache. */
  | 'error'
  /** The changed version left the cache nothing to give (no step came from it): nothing was tested. */
  | 'untested';

/** Seconds spent in each part of a case, for the cost figures. */
export interface CaseSeconds {
  /** Services, the cache build and the reference build: everything before the first attempt. */
  setup: number;
  attempts: number;
  minimize: number;
  total: number;
}

export interface CaseResult {
  seed: number;
  caseNumber: number;
  /** describeCase's line. */
  description: string;
  constructs: Construct[];
  /** The kinds of change from the cache's inputs to the attempts' ([] : the same inputs). */
  changes: ChangeKind[];
  /** The cache-type word it ran with. */
  cacheType: string;
  buildkitVersion: string;
  outcome: CaseOutcome;
  /** The run's verdict kind (reproduced, content-differs, config-differs, clean, error). */
  verdict: string;
  /** A finding's class of difference. */
  differenceClass?: DifferenceClass;
  /** A finding's account in one line (what was lost or differs), or an error's cause. */
  detail: string;
  /**
   * What a finding's difference touches, as words that group one bug found many times: the instructions
   * of the lost or changed layers (keyword and flags, no arguments: "COPY", "COPY --link", "RUN"), the
   * config fields that differ without their numbers ("history created_by", "Env"), "files" when only files
   * differ. [] for a case that is no finding.
   */
  involved: string[];
  /** Attempts that ran, and how many showed the class. */
  attempts: number;
  /** A finding's minimized Dockerfile (its text), when the minimizer found one. */
  minimizedDockerfile?: string;
  /** Instructions of the minimized Dockerfile, FROM included. */
  minimizedInstructions?: number;
  /** What the minimizer said of a finding it was asked to shrink (minimized, unconfirmed, skipped, error). */
  minimization?: string;
  /** The folder written for a finding, relative to the run's output folder. */
  findingDir?: string;
  /** Groups one bug found many times: the class and the instructions involved. */
  signature?: string;
  seconds: CaseSeconds;
}

/** The facts of a whole fuzz run (or one shard of it). */
export interface FuzzRunFacts {
  seed: number;
  /** Shard index (1-based) and count: this shard ran the cases whose number % count === index - 1. */
  shard: { index: number; count: number };
  buildkitImage: string;
  buildkitVersion: string;
  cacheTypes: string[];
  /** Attempts each case ran (fewer when a difference stopped it). */
  retries: number;
  startedAt: string;
  finishedAt: string;
  /** Why it stopped: the case count reached, or the time budget spent. */
  stoppedBy: 'cases' | 'budget';
}

/** fuzz-report.json: every case of a run, for the merge job and for people. */
export interface FuzzReport {
  schemaVersion: 1;
  run: FuzzRunFacts;
  cases: CaseResult[];
}
