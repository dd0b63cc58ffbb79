import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { type TestBed, TestBedError } from '../testbed/testbed.js';
import { listContextFiles, writeCandidate } from './candidate-files.js';
import { type CandidateRun, runCandidate } from './candidate-run.js';
import { attemptsForConfidence } from './confidence.js';
import { ddmin, type Judgement } from './delta-debugging.js';
import {
  buildsALayer,
  type Instruction,
  isStageStart,
  type ParsedDockerfile,
  parseDockerfile,
  renderDockerfile,
  unreachedStages,
} from './dockerfile.js';
import type { CandidateRecord, Minimization } from './minimization.js';

export interface MinimizeRequest {
  bed: TestBed;
  settings: Settings;
  /** The run's folder: candidates go to `minimize/`, the result to `minimized/`. */
  workDir: string;
  /** The run's own attempts: how many lost a layer, of how many. */
  run: { lost: number; attempts: number };
  log: Log;
}

/**
 * Shrinks a Dockerfile that lost a layer: first its instructions (every FROM stays), then the stages the
 * last one no longer reaches, then its context's files; each candidate judged by the engine itself (its own
 * cache and reference, then attempts until the first loss, at most as many as the stated risk asks for).
 * Ends with a keep-going run of the smallest.
 */
export async function minimize(request: MinimizeRequest): Promise<Minimization> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const deadline = started + request.settings.minimizeTimeoutSeconds * 1000;
  const search = new Search(request, parseDockerfile(fs.readFileSync(request.settings.dockerfile, 'utf8')));
  try {
    return await search.run(() => performance.now() > deadline, seconds);
  } catch (error) {
    const cause = (error as Error).message;
    return {
      kind: 'error',
      cause,
      candidatesJudged: search.candidates.length,
      seconds: seconds(),
      candidates: search.candidates,
    };
  }
}

class Search {
  readonly candidates: CandidateRecord[] = [];
  private runs = 0;
  private readonly removable: Instruction[];
  private readonly allFiles: string[];

  constructor(
    private readonly request: MinimizeRequest,
    private readonly parsed: ParsedDockerfile,
  ) {
    this.removable = parsed.instructions.filter((i) => !isStageStart(i));
    this.allFiles = listContextFiles(request.settings.context, request.settings.dockerfile);
  }

  async run(outOfTime: () => boolean, seconds: () => number): Promise<Minimization> {
    const { settings, log, workDir } = this.request;
    // The original as the search writes it (comments dropped, the Dockerfile out of the context), kept
    // going: the rate every "does not reproduce" is held to.
    const baseline = await this.execute(this.parsed.instructions, this.allFiles, settings.retries, true);
    if (baseline.judgement === 'invalid') {
      throw new TestBedError(
        `the original Dockerfile, as the search writes it, does not build: ${baseline.detail}`,
      );
    }
    const original = {
      lost: this.request.run.lost + baseline.measured.lost,
      attempts: this.request.run.attempts + baseline.measured.attempts,
    };
    log.info(
      `the original lost a layer in ${baseline.measured.lost} of ${baseline.measured.attempts} attempts as the search writes it (${original.lost} of ${original.attempts} with the run's own)`,
    );
    if (baseline.measured.lost === 0) {
      const reason = `the original, as the search writes it, lost no layer in ${baseline.measured.attempts} attempts: no candidate could be held to a rate`;
      return { kind: 'skipped', reason };
    }
    const attempts = attemptsForConfidence(original.lost / original.attempts, settings.minimizeConfidence);
    log.info(
      `a candidate that does not lose a layer in ${attempts} attempts is judged not to reproduce: at the original's rate it would have with a chance of at least ${settings.minimizeConfidence}`,
    );

    const byInstructions = await ddmin({
      items: this.removable,
      judge: (kept) => this.judge('instructions', this.withStageStarts(kept), this.allFiles, attempts),
      outOfTime,
    });
    const instructions = await this.withoutUnreachedStages(
      this.withStageStarts(byInstructions.smallest),
      attempts,
      outOfTime,
    );
    const byFiles =
      this.allFiles.length > 0 && !outOfTime()
        ? await ddmin({
            items: this.allFiles,
            judge: (files) => this.judge('context', instructions, files, attempts),
            outOfTime,
          })
        : { smallest: this.allFiles, proven: this.allFiles.length === 0, judged: 0, invalid: 0 };

    const confirming = await this.execute(instructions, byFiles.smallest, settings.retries, true);
    const text = this.render(instructions);
    const result = writeCandidate(path.join(workDir, 'minimized'), text, settings.context, byFiles.smallest);
    fs.rmSync(path.join(workDir, 'minimize'), { recursive: true, force: true });
    return {
      kind: 'minimized',
      proven: byInstructions.proven && byFiles.proven,
      dockerfile: text,
      dockerfilePath: result.dockerfile,
      contextDir: result.context,
      files: byFiles.smallest,
      instructionsBefore: this.parsed.instructions.length,
      instructionsAfter: instructions.length,
      filesBefore: this.allFiles.length,
      filesAfter: byFiles.smallest.length,
      candidatesJudged: this.candidates.length,
      invalidCandidates: this.candidates.filter((c) => c.judgement === 'invalid').length,
      seconds: seconds(),
      confidence: settings.minimizeConfidence,
      attemptsPerCandidate: attempts,
      original,
      baseline: baseline.measured,
      confirming: confirming.measured,
      candidates: this.candidates,
    };
  }

  /** A candidate keeps every FROM, in the original order. */
  private withStageStarts(kept: readonly Instruction[]): Instruction[] {
    return this.parsed.instructions.filter((i) => isStageStart(i) || kept.includes(i));
  }

  /** A stage the last one no longer reaches is never built; it goes too when the candidate without it still loses. */
  private async withoutUnreachedStages(
    instructions: Instruction[],
    attempts: number,
    outOfTime: () => boolean,
  ): Promise<Instruction[]> {
    const unreached = unreachedStages(instructions);
    if (unreached.length === 0 || outOfTime()) return instructions;
    const without = instructions.filter((i) => !unreached.includes(i));
    return (await this.judge('stages', without, this.allFiles, attempts)) === 'reproduces'
      ? without
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
    const started = performance.now();
    // Nothing in it makes a layer: nothing could be lost, and no build is needed to say so.
    const outcome: CandidateRun = buildsALayer(instructions)
      ? await this.execute(instructions, files, attempts, false)
      : {
          judgement: 'invalid',
          detail: 'no RUN, COPY or ADD that the last stage builds',
          measured: { lost: 0, attempts: 0 },
        };
    const record: CandidateRecord = {
      number: this.candidates.length + 1,
      phase,
      instructions: instructions.length,
      files: files.length,
      judgement: outcome.judgement,
      attempts: outcome.measured.attempts,
      detail: outcome.detail,
      seconds: Math.round((performance.now() - started) / 100) / 10,
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
    const { bed, settings, workDir, log } = this.request;
    this.runs += 1;
    const request = {
      number: this.runs,
      dockerfileText: this.render(instructions),
      files,
      attempts,
      keepGoing,
    };
    // A candidate's own set-up and attempts say nothing the one line per candidate does not.
    return runCandidate(bed, settings, workDir, request, quietLog(log));
  }
}

function quietLog(log: Log): Log {
  return {
    info: () => undefined,
    warning: (message) => log.warning(message),
    group: (_title, work) => work(),
  };
}
