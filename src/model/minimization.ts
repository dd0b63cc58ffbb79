import type { LossRate } from './loss-rate.js';

/** One candidate of the search, as the report lists it. */
export interface CandidateRecord {
  number: number;
  /** What it shrank: instructions, the stages nothing reaches, or the context's files. */
  phase: 'instructions' | 'stages' | 'context';
  instructions: number;
  files: number;
  judgement: Judgement;
  /** Attempts run (0 for a candidate judged invalid). */
  attempts: number;
  /** What it lost, why it was invalid, or how many attempts showed no loss. */
  detail: string;
  seconds: number;
}

/** A keep-going run of one Dockerfile: how often it lost a layer. */
export interface MeasuredRun {
  lost: number;
  attempts: number;
  /** The loss rate with its interval (a fixed-size sample). */
  lossRate?: LossRate;
  /** The first loss, as the verdict line says it. */
  firstLoss?: string;
}

export type Minimization =
  /** Nothing to minimize: the run lost no layer, or the original as the search writes it did not. */
  | { kind: 'skipped'; reason: string }
  /** An infrastructure step failed during the search: no claim about any candidate. */
  | { kind: 'error'; cause: string; candidatesJudged: number; seconds: number; candidates: CandidateRecord[] }
  | {
      kind: 'minimized';
      /**
       * 1-minimal: in the last pass, removing any one remaining instruction (FROM aside) or context file
       * was judged and did not reproduce. False only when the time budget ended the search first.
       */
      proven: boolean;
      dockerfile: string;
      dockerfilePath: string;
      contextDir: string;
      files: string[];
      instructionsBefore: number;
      instructionsAfter: number;
      filesBefore: number;
      filesAfter: number;
      candidatesJudged: number;
      invalidCandidates: number;
      seconds: number;
      /** The stated risk asked for (minimize-confidence). */
      confidence: number;
      /**
       * The chance that a candidate losing layers at the original's rate shows a loss within
       * attemptsPerCandidate: at least `confidence`, unless the attempts hit their cap of 10 000.
       */
      detectionChance: number;
      attemptsPerCandidate: number;
      /** A keep-going run of the original as the search writes it (comments out, Dockerfile out of the context). */
      baseline: MeasuredRun;
      /** The rate candidates are held to: the baseline's, with the run's own when it kept going. */
      original: { lost: number; attempts: number };
      /** A keep-going run of the minimal Dockerfile. */
      confirming: MeasuredRun;
      candidates: CandidateRecord[];
    };

/** What one candidate showed. */
export type Judgement =
  /** A loss was seen: certain, whatever the rate. */
  | 'reproduces'
  /** No loss within the attempts the stated risk asks for. */
  | 'does-not-reproduce'
  /** The candidate cannot be judged on the bug (its build fails, it has nothing that makes a layer). */
  | 'invalid';
