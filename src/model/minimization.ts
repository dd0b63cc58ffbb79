import type { DifferenceClass } from './classes.js';
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
  /** What it showed of the class, why it was invalid, or how many attempts did not show it. */
  detail: string;
  seconds: number;
}

/** A run of one Dockerfile: how often its image showed the class being minimized. */
export interface MeasuredRun {
  /** Attempts that showed the class. */
  found: number;
  attempts: number;
  /** The class's rate with its interval (a keep-going run: a fixed-size sample). */
  rate?: LossRate;
  /** The first attempt that showed it, as the log says it. */
  first?: string;
}

export type Minimization =
  /** Nothing to minimize: every image equalled the reference, or the original as the search writes it did. */
  | { kind: 'skipped'; reason: string }
  /** The search ended, but the confirming run of its smallest candidate did not show the class: no result. */
  | {
      kind: 'unconfirmed';
      target: DifferenceClass;
      dockerfile: string;
      confirming: MeasuredRun;
      candidatesJudged: number;
      seconds: number;
      candidates: CandidateRecord[];
    }
  /** An infrastructure step failed during the search: no claim about any candidate. */
  | { kind: 'error'; cause: string; candidatesJudged: number; seconds: number; candidates: CandidateRecord[] }
  | {
      kind: 'minimized';
      /** The class of difference every reproducing candidate showed: the original run's. */
      target: DifferenceClass;
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
       * The chance that a candidate showing the class at the original's rate shows it within
       * attemptsPerCandidate: at least `confidence`, unless the attempts hit their cap of 10 000.
       */
      detectionChance: number;
      attemptsPerCandidate: number;
      /** A keep-going run of the original as the search writes it (comments out, Dockerfile out of the context). */
      baseline: MeasuredRun;
      /** The rate candidates are held to: the baseline's, with the run's own when it kept going. */
      original: { found: number; attempts: number };
      /** A keep-going run of the minimal Dockerfile. */
      confirming: MeasuredRun;
      candidates: CandidateRecord[];
    };

/** What one candidate showed. */
export type Judgement =
  /** An attempt showed the class being minimized: certain, whatever the rate. */
  | 'reproduces'
  /** None within the attempts the stated risk asks for (another class does not count). */
  | 'does-not-reproduce'
  /** The candidate cannot be judged on the bug (its build fails, it has nothing that makes a layer). */
  | 'invalid';
