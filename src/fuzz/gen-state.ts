import * as path from 'node:path';
import type { Construct, ContextEntry } from './case-model.js';
import type { Random } from './random.js';

export const BASE_IMAGE = 'alpine:latest';
export const MIN_INSTRUCTIONS = 3;
export const MAX_INSTRUCTIONS = 12;
export const MAX_CONTEXT_ENTRIES = 8;

/**
 * A regular file a stage's filesystem holds for sure. `source`: the context path its image path was named
 * after (`COPY f1.txt /c3/` gives /c3/f1.txt): a line that names the image path pins that context name.
 */
export interface KnownFile {
  path: string;
  source?: string;
}

export interface StageState {
  name: string;
  cwd: string;
  root: boolean;
  files: KnownFile[];
  /** Folders made with mode 0755 by root or WORKDIR: safe to enter as any user. */
  dirs: string[];
  envs: string[];
  /** The earlier stages it builds on (FROM) or copies from. */
  needs: number[];
  /** The stage it starts from (`FROM sK`); none when it starts from the base image. */
  parent?: number;
}

/** What a step reads from the context: the paths it names (a folder's whole tree, a link and its target), and
 * the extensions it copies by `*.ext` from the top. */
export interface ContextReads {
  paths: string[];
  wildcards: string[];
}

/** A RUN, COPY or ADD as written, kept so that a later step can repeat it. */
export interface Step {
  stage: number;
  text: string;
  needsRoot: boolean;
  /** Right in any stage: it names only context paths and absolute paths it makes itself. */
  portable: boolean;
  /** Right twice in a row (`ln -s` is not). */
  repeatable: boolean;
  files: KnownFile[];
  dirs: string[];
  /** What it reads from the context; nothing when absent. */
  reads?: ContextReads;
  /** It copies from another stage (COPY --from): its cache key follows that stage's files. */
  fromStage?: boolean;
  /** Its line in the Dockerfile (0-based). */
  line: number;
}

/** A step as an emitter writes it: `emitStep` gives it its stage and line. */
export type StepText = Omit<Step, 'stage' | 'line'>;

/**
 * The first step of the last stage's FROM chain, with every line up to it: a changed version leaves it and
 * what it reads alone, so the cache always has a step to give and the case tests an import, not a rebuild.
 */
export interface KeptStep {
  throughLine: number;
  reads: ContextReads;
}

/** A word of a line that an "edited instruction" change may replace; unique in the Dockerfile. */
export interface Editable {
  line: number;
  token: string;
}

/** What the changes need to know of the base: which context paths the Dockerfile depends on, and how. */
export interface GenerationFacts {
  /** Context paths the Dockerfile names explicitly (COPY sources, bind-mount sources). */
  named: Set<string>;
  /** Context paths whose names the Dockerfile repeats in image paths: they must keep their name. */
  pinned: Set<string>;
  /** Extensions the Dockerfile copies by `*.ext` from the top of the context. */
  wildcards: Set<string>;
  editable: Editable[];
  /** None when the last stage's first step copies from another stage: then no case has a changed version. */
  kept?: KeptStep;
}

export interface GenState extends GenerationFacts {
  rng: Random;
  /** The constructs the caller allows; a step built of several records each it uses. */
  allowed: ReadonlySet<Construct>;
  context: ContextEntry[];
  lines: string[];
  stages: StageState[];
  used: Set<Construct>;
  counter: number;
  steps: Step[];
  /** The step on the last line, if the last line is one. */
  lastStep?: Step;
}

/** How one construct is written: `emit` writes at most `cost` lines, or none and says false when it cannot. */
export interface Emitter {
  cost: number;
  emit: (state: GenState) => boolean;
}

export function newState(rng: Random, allowed: ReadonlySet<Construct>, context: ContextEntry[]): GenState {
  return {
    rng,
    allowed,
    context,
    lines: [`FROM ${BASE_IMAGE}`],
    stages: [newStage('s0')],
    used: new Set(),
    counter: 0,
    steps: [],
    named: new Set(),
    pinned: new Set(),
    wildcards: new Set(),
    editable: [],
  };
}

export function newStage(name: string): StageState {
  return { name, cwd: '/', root: true, files: [], dirs: [], envs: [], needs: [] };
}

export function current(state: GenState): StageState {
  const stage = state.stages[state.stages.length - 1];
  if (!stage) throw new Error('no stage');
  return stage;
}

/** A number not used before in this case: keeps every generated name and token unique. */
export function fresh(state: GenState): number {
  state.counter += 1;
  return state.counter;
}

const LETTERS = 'abcdefghijkmnpqrstuvwxyz';

/** A word unique in the Dockerfile (so a change can replace exactly it), e.g. `v7qk`. */
export function token(state: GenState): string {
  const n = fresh(state);
  const tail = [0, 1].map(() => state.rng.pick([...LETTERS])).join('');
  return `v${n}${tail}`;
}

export function emit(state: GenState, line: string, editableToken?: string): void {
  state.lines.push(line);
  state.lastStep = undefined;
  if (editableToken) state.editable.push({ line: state.lines.length - 1, token: editableToken });
}

/** Whether `lines` more lines fit in the Dockerfile. */
export function room(state: GenState, lines: number): boolean {
  return state.lines.length + lines <= MAX_INSTRUCTIONS;
}

/** `USER 0` when the stage runs as 1000: a RUN that writes under / needs root. */
export function becomeRoot(state: GenState): void {
  const stage = current(state);
  if (stage.root) return;
  emit(state, 'USER 0');
  stage.root = true;
}

/** Writes a layer step and records what it makes, so later steps can read it and repeat it. */
export function emitStep(state: GenState, step: StepText, editableToken?: string): void {
  if (step.needsRoot) becomeRoot(state);
  emit(state, step.text, editableToken);
  const recorded = { ...step, stage: state.stages.length - 1, line: state.lines.length - 1 };
  state.steps.push(recorded);
  state.lastStep = recorded;
  const stage = current(state);
  stage.files.push(...step.files);
  stage.dirs.push(...step.dirs);
}

/** An absolute path from one written relative to the stage's working folder. */
export function resolveIn(stage: StageState, written: string): string {
  return path.posix.resolve(stage.cwd, written);
}

/** Uses a file the stage holds by its image path: its context source must keep its name. */
export function useKnownFile(state: GenState, file: KnownFile): void {
  if (file.source) state.pinned.add(file.source);
}
