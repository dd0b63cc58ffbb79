import * as fs from 'node:fs';
import * as path from 'node:path';
import { CacheBuildFailed } from '../attempts/cache-build.js';
import type { Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { InfrastructureError } from '../services/run-services.js';
import { listContextFiles, writeCandidate } from './candidate-files.js';
import { type CandidateRun, type CandidateServices, runCandidate } from './candidate-run.js';
import { attemptsForConfidence, detectionChance } from './confidence.js';
import { ddmin } from './delta-debugging.js';
import {
  buildsALayer,
  foldEmptyStages,
  type Instruction,
  isStageStart,
  type ParsedDockerfile,
  parseDockerfile,
  renderDockerfile,
  unreachedStages,
} from './dockerfile.js';
import type { DifferenceClass } from '../model/classes.js';
import type { CandidateRecord, Judgement, Minimization } from '../model/minimization.js';
import { CLASS_WORDS } from '../model/wording.js';

/**
 * The confirming run shows a loss with at least this chance for a candidate that loses at the original's rate
 * (`retries` attempts when that asks for fewer): the smallest is often as rare as the original, and a short
 * confirming run would call a true result unconfirmed (a loss in 2 of 16 attempts, as on v0.9.0, goes unseen
 * in 16 attempts one time in eight).
 */
const CONFIRMING_CONFIDENCE = 0.99;

/** A rewrite of whole stages: a smaller Dockerfile, or undefined when it has nothing to remove. */
type StageRewrite = (instructions: Instruction[]) => Instruction[] | undefined;

const withoutUnreachedStages: StageRewrite = (instructions) => {
  const unreached = unreachedStages(instructions);
  return unreached.length > 0 ? instructions.filter((i) => !unreached.includes(i)) : undefined;
};

export interface MinimizeRequest {
  /** The engine's steps on the run's services (candidateServices), or fakes. */
  services: CandidateServices;
  /** The class of difference the run found: every reproducing candidate must show it. */
  target: DifferenceClass;
  settings: Settings;
  /** The run's folder: candidates go to `minimize/`, the result to `minimized/`. */
  workDir: string;
  /**
   * The run's own attempts, when they were a fixed-size sample (keep-going): they join the rate. A run
   * that stopped at its first finding is left out: it stopped because of its result, and 1/k overstates the rate.
   */
  keptGoingRun?: { count: number; attempts: number };
  log: Log;
}

/**
 * Shrinks a Dockerfile whose image differed from the reference, keeping that class of difference: its instructions (every FROM stays), the stages the last one no
 * longer reaches, the stages left with only their FROM, then its context's files, again until nothing more goes; each candidate judged by the
 * engine itself (its own cache and reference, then attempts until the first loss, at most as many as the
 * stated risk asks for). Ends with a keep-going run of the smallest.
 */
export async function minimize(request: MinimizeRequest): Promise<Minimization> {
  const clock = stopwatch();
  const deadline = clock.started + request.settings.minimizeTimeoutSeconds * 1000;
  const search = new Search(request, parseDockerfile(fs.readFileSync(request.settings.dockerfile, 'utf8')));
  try {
    return await search.run(() => performance.now() > deadline, clock.seconds);
  } catch (error) {
    return {
      kind: 'error',
      cause: (error as Error).message,
      candidatesJudged: search.candidates.length,
      seconds: clock.seconds(),
      candidates: search.candidates,
    };
  }
}

/** The smallest seen to reproduce so far, and whether the last pass proved it 1-minimal. */
interface Smallest {
  instructions: Instruction[];
  files: string[];
  proven: boolean;
}

class Search {
  readonly candidates: CandidateRecord[] = [];
  private runs = 0;
  private readonly allFiles: string[];

  constructor(
    private readonly request: MinimizeRequest,
    private readonly parsed: ParsedDockerfile,
  ) {
    this.allFiles = listContextFiles(request.settings.context, request.settings.dockerfile);
  }

  async run(outOfTime: () => boolean, seconds: () => number): Promise<Minimization> {
    const { settings, workDir } = this.request;
    const baseline = await this.sampleThenLonger(this.parsed.instructions, this.allFiles, settings.retries);
    const rate = this.rateOf(baseline);
    if (typeof rate === 'string') return { kind: 'skipped', reason: rate };
    const attempts = attemptsForConfidence(rate.found / rate.attempts, settings.minimizeConfidence);
    const chance = detectionChance(rate.found / rate.attempts, attempts);
    this.request.log.info(
      `a candidate whose image does not show "${CLASS_WORDS[this.request.target]}" in ${attempts} attempts is judged not to reproduce: at the original's rate (${rate.found} of ${rate.attempts}) it would have with a chance of ${chance.toFixed(4)}`,
    );

    const smallest = await this.shrink(attempts, outOfTime);
    const proven = smallest.proven && !outOfTime();

    const confirming = await this.confirm(smallest, rate);
    if (confirming.judgement === 'invalid') {
      throw new InfrastructureError(
        `the confirming run of the smallest candidate did not build: ${confirming.detail}`,
      );
    }
    const text = this.render(smallest.instructions);
    // A smallest candidate that its own confirming run does not reproduce is no result to hand over.
    if (confirming.measured.found === 0) {
      fs.rmSync(path.join(workDir, 'minimize'), { recursive: true, force: true });
      return {
        kind: 'unconfirmed',
        target: this.request.target,
        dockerfile: text,
        confirming: confirming.measured,
        candidatesJudged: this.candidates.length,
        seconds: seconds(),
        candidates: this.candidates,
      };
    }
    const result = writeCandidate(path.join(workDir, 'minimized'), text, settings.context, smallest.files);
    fs.rmSync(path.join(workDir, 'minimize'), { recursive: true, force: true });
    return {
      kind: 'minimized',
      target: this.request.target,
      proven,
      dockerfile: text,
      dockerfilePath: result.dockerfile,
      contextDir: result.context,
      files: smallest.files,
      instructionsBefore: this.parsed.instructions.length,
      instructionsAfter: smallest.instructions.length,
      filesBefore: this.allFiles.length,
      filesAfter: smallest.files.length,
      candidatesJudged: this.candidates.length,
      invalidCandidates: this.candidates.filter((c) => c.judgement === 'invalid').length,
      seconds: seconds(),
      confidence: settings.minimizeConfidence,
      detectionChance: chance,
      attemptsPerCandidate: attempts,
      original: rate,
      baseline: baseline.measured,
      confirming: confirming.measured,
      candidates: this.candidates,
    };
  }

  /** A run of the smallest long enough to show a loss at the original's rate (see CONFIRMING_CONFIDENCE). */
  private confirm(smallest: Smallest, rate: { found: number; attempts: number }): Promise<CandidateRun> {
    const attempts = Math.max(
      this.request.settings.retries,
      attemptsForConfidence(rate.found / rate.attempts, CONFIRMING_CONFIDENCE),
    );
    return this.sampleThenLonger(smallest.instructions, smallest.files, attempts);
  }

  /**
   * A keep-going sample of `attempts` (its rate); when it shows none, a run three times as long that stops at
   * the first. A loss this rare comes in runs: the original did lose it (in the run, or during the search
   * for the smallest), and only a long run that never shows it may say it does not.
   */
  private async sampleThenLonger(
    instructions: readonly Instruction[],
    files: readonly string[],
    attempts: number,
  ): Promise<CandidateRun> {
    const sample = await this.execute(instructions, files, attempts, true);
    if (sample.judgement !== 'does-not-reproduce') return sample;
    const longer = await this.execute(instructions, files, attempts * 3, false);
    const measured = { ...longer.measured, attempts: sample.measured.attempts + longer.measured.attempts };
    delete measured.rate;
    return { ...longer, measured };
  }

  /** Passes until one removes nothing: a file gone can make an instruction removable, and back. */
  private async shrink(attempts: number, outOfTime: () => boolean): Promise<Smallest> {
    let smallest: Smallest = { instructions: this.parsed.instructions, files: this.allFiles, proven: false };
    for (let changed = true; changed && !outOfTime();) {
      const next = await this.pass(smallest, attempts, outOfTime);
      changed =
        next.instructions.length < smallest.instructions.length || next.files.length < smallest.files.length;
      smallest = next;
    }
    return smallest;
  }

  /**
   * The rate every "does not reproduce" is held to: a keep-going run of the original as the search writes
   * it (comments dropped, the Dockerfile out of the context), with the run's own when it kept going; or why
   * there is none.
   */
  private rateOf(baseline: CandidateRun): { found: number; attempts: number } | string {
    const written =
      'the original, as the search writes it (comments dropped, the Dockerfile out of its context),';
    if (baseline.judgement === 'invalid') return `${written} does not build: ${baseline.detail}`;
    const own = this.request.keptGoingRun ?? { count: 0, attempts: 0 };
    const rate = {
      found: own.count + baseline.measured.found,
      attempts: own.attempts + baseline.measured.attempts,
    };
    const words = CLASS_WORDS[this.request.target];
    this.request.log.info(
      `${written} showed "${words}" in ${baseline.measured.found} of ${baseline.measured.attempts} attempts${own.attempts > 0 ? `; with the run's own, ${rate.found} of ${rate.attempts}` : ''}`,
    );
    if (baseline.measured.found === 0) {
      return `${written} did not show "${words}" in ${baseline.measured.attempts} attempts: no candidate could be held to a rate`;
    }
    return rate;
  }

  /**
   * One pass: ddmin over the instructions (every FROM of the smallest so far stays), the stages nothing
   * reaches, the stages left empty, ddmin over the files.
   */
  private async pass(from: Smallest, attempts: number, outOfTime: () => boolean): Promise<Smallest> {
    const removable = from.instructions.filter((i) => !isStageStart(i));
    const withStageStarts = (kept: readonly Instruction[]) =>
      from.instructions.filter((i) => isStageStart(i) || kept.includes(i));
    const byInstructions = await ddmin({
      items: removable,
      judge: (kept) => this.judge('instructions', withStageStarts(kept), from.files, attempts),
      outOfTime,
    });
    // A stage the last one no longer reaches is never built; a stage left with only its FROM folds into the
    // stages that start from it. Each goes when the candidate without it still loses.
    const keep = (instructions: Instruction[], rewrite: StageRewrite) =>
      this.keepIfReproduces(instructions, rewrite, from.files, attempts, outOfTime);
    const reached = await keep(withStageStarts(byInstructions.smallest), withoutUnreachedStages);
    const instructions = await keep(reached, foldEmptyStages);
    if (outOfTime()) return { instructions, files: from.files, proven: false };
    const byFiles =
      from.files.length > 0
        ? await ddmin({
            items: from.files,
            judge: (files) => this.judge('context', instructions, files, attempts),
            outOfTime,
          })
        : { smallest: from.files, proven: true };
    return { instructions, files: byFiles.smallest, proven: byInstructions.proven && byFiles.proven };
  }

  /** The rewrite's smaller candidate, judged as a `stages` step and kept when it still loses. */
  private async keepIfReproduces(
    instructions: Instruction[],
    rewrite: StageRewrite,
    files: readonly string[],
    attempts: number,
    outOfTime: () => boolean,
  ): Promise<Instruction[]> {
    const candidate = rewrite(instructions);
    if (!candidate || outOfTime()) return instructions;
    return (await this.judge('stages', candidate, files, attempts)) === 'reproduces'
      ? candidate
      : instructions;
  }

  private render(instructions: readonly Instruction[]): string {
    return renderDockerfile(this.parsed.directives, instructions);
  }

  /** Judges one candidate of the search and records it, with one line in the log. */
  private async judge(
    phase: CandidateRecord['phase'],
    instructions: readonly Instruction[],
    files: readonly string[],
    attempts: number,
  ): Promise<Judgement> {
    const clock = stopwatch();
    // Nothing in it makes a layer: no layer could be lost or differ, and no build is needed to say so (a
    // config difference needs no layer).
    const needsALayer = this.request.target !== 'config-differs';
    const outcome: CandidateRun =
      !needsALayer || buildsALayer(instructions)
        ? await this.execute(instructions, files, attempts, false)
        : {
            judgement: 'invalid',
            detail: 'no RUN, COPY or ADD that the last stage builds',
            measured: { found: 0, attempts: 0 },
          };
    const record: CandidateRecord = {
      number: this.candidates.length + 1,
      phase,
      instructions: instructions.length,
      files: files.length,
      judgement: outcome.judgement,
      attempts: outcome.measured.attempts,
      detail: outcome.detail,
      seconds: clock.seconds(),
    };
    this.candidates.push(record);
    this.request.log.info(
      `candidate ${record.number} (${record.instructions} instructions, ${record.files} files): ${record.judgement} — ${record.detail}`,
    );
    return outcome.judgement;
  }

  private execute(
    instructions: readonly Instruction[],
    files: readonly string[],
    attempts: number,
    keepGoing: boolean,
  ): Promise<CandidateRun> {
    const { services, settings, workDir, target } = this.request;
    this.runs += 1;
    const dockerfileText = this.render(instructions);
    const controlBuild = () => this.controlBuild();
    const request = { number: this.runs, dockerfileText, files, attempts, keepGoing, controlBuild };
    return runCandidate(services, settings, workDir, request, target);
  }

  /** The original as the search writes it, built again: it built for the baseline, so it must now too. */
  private async controlBuild(): Promise<void> {
    const { services, settings, workDir } = this.request;
    const dir = path.join(workDir, 'minimize', 'control');
    const written = writeCandidate(
      dir,
      this.render(this.parsed.instructions),
      settings.context,
      this.allFiles,
    );
    try {
      await services.makeCache(written, dir, 'control');
    } catch (error) {
      if (!(error instanceof CacheBuildFailed)) throw error;
      throw new InfrastructureError(
        `a candidate's build failed, and so did the original's, which built before: ${error.message}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Seconds since it started, to a tenth. */
function stopwatch(): { started: number; seconds: () => number } {
  const started = performance.now();
  return { started, seconds: () => Math.round((performance.now() - started) / 100) / 10 };
}
