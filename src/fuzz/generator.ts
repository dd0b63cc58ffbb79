import {
  CONSTRUCTS,
  type BuildInput,
  type Construct,
  type ContextEntry,
  type FuzzCase,
} from './case-model.js';
import { applyChanges } from './changes.js';
import { initialContext } from './context-gen.js';
import { configEmitters } from './emit-config.js';
import { COPY_EMITTERS, linkStage, simpleCopy } from './emit-copy.js';
import { RUN_EMITTERS, simpleRun } from './emit-run.js';
import {
  BASE_IMAGE,
  MAX_INSTRUCTIONS,
  MIN_INSTRUCTIONS,
  newState,
  room,
  type Emitter,
  type KeptStep,
  type GenState,
  type StageState,
} from './gen-state.js';
import { caseRandom } from './random.js';

export { constructsFor } from './frontend-support.js';

export interface GenerateOptions {
  /** The constructs a case may use; all by default. */
  constructs?: readonly Construct[];
  /** The probability that a case has a changed version; 0.5 by default. */
  changedShare?: number;
}

/** Each construct and how it is written: the compiler refuses a construct with no emitter. */
/** A RUN that writes nothing, a COPY of a file, a RUN that writes nothing: see 'between-empty-steps'. */
const BETWEEN_EMPTY_STEPS: Emitter = {
  cost: 3,
  emit: (state) => {
    simpleRun(state);
    if (!simpleCopy(state)) return false;
    return simpleRun(state);
  },
};

function emitters(target: number): Readonly<Record<Construct, Emitter>> {
  return {
    ...COPY_EMITTERS,
    ...RUN_EMITTERS,
    ...configEmitters(target),
    'between-empty-steps': BETWEEN_EMPTY_STEPS,
  };
}

/**
 * How often each construct is drawn, against 1 for the others: a stage needs room after it and a repeat
 * across stages needs a stage before it, so drawn evenly they would be rare.
 */
const WEIGHTS: Readonly<Partial<Record<Construct, number>>> = {
  stages: 3,
  'copy-from': 2,
  'repeat-across-stages': 4,
  // Placed at the end of the last stage instead (see endBetweenEmptySteps).
  'between-empty-steps': 0,
};

/** The share of cases that end in a step between two empty ones. */
const ENDS_BETWEEN_EMPTY_STEPS = 0.4;

/**
 * Ends the last stage, for some cases, with a step that makes a layer between two that write nothing: where
 * the image ends, the record that comes to share the layer's result is the one an importer loads for the
 * image (moby/buildkit#2198 on v0.8–v0.9 needs it there; in the middle a later step's own record hides it).
 */
function endBetweenEmptySteps(state: GenState): void {
  // Links to unreached stages come first: they may take the room left.
  if (room(state, BETWEEN_EMPTY_STEPS.cost) && BETWEEN_EMPTY_STEPS.emit(state))
    state.used.add('between-empty-steps');
}

/** Draws constructs until the Dockerfile reaches its length (or nothing more fits). */
function fill(state: GenState, allowed: readonly Construct[], target: number): void {
  const table = emitters(target);
  const draws = allowed.flatMap((c) => Array<Construct>(WEIGHTS[c] ?? 1).fill(c));
  for (let tries = 0; state.lines.length < target && tries < 200 && draws.length > 0; tries++) {
    const construct = state.rng.pick(draws);
    const emitter = table[construct];
    // Until the last stage reaches a RUN, COPY or ADD, one line stays free for one.
    if (!room(state, emitter.cost + (buildsAStep(state) ? 0 : 1))) continue;
    if (emitter.emit(state)) state.used.add(construct);
  }
  // Constructs that all failed to fit (or none allowed): still at least three instructions.
  while (state.lines.length < MIN_INSTRUCTIONS) {
    table['run-nowrite'].emit(state);
    state.used.add('run-nowrite');
  }
}

/** The stages the last one builds on or copies from, itself included: BuildKit builds only these. */
function reached(stages: readonly StageState[]): Set<number> {
  const seen = new Set<number>();
  const visit = (index: number) => {
    const stage = stages[index];
    if (!stage || seen.has(index)) return;
    seen.add(index);
    stage.needs.forEach(visit);
  };
  visit(stages.length - 1);
  return seen;
}

/** Whether the last stage reaches a layer step: a case without one has no cache to test. */
function buildsAStep(state: GenState): boolean {
  const stages = reached(state.stages);
  return state.steps.some((s) => stages.has(s.stage));
}

/** A stage nothing reaches is never built: the last stage copies from it while lines remain. */
function linkStages(state: GenState): void {
  if (!state.allowed.has('copy-from')) return;
  for (let index = state.stages.length - 2; index >= 0; index--) {
    if (!room(state, 1)) return;
    if (!reached(state.stages).has(index)) linkStage(state, index);
  }
}

/** See `KeptStep`: the first step of the stages the last one starts from, unless it copies from a stage. */
function keptStep(state: GenState): KeptStep | undefined {
  const chain = new Set<number>();
  for (let index: number | undefined = state.stages.length - 1; index !== undefined;) {
    chain.add(index);
    index = state.stages[index]?.parent;
  }
  const first = state.steps.find((s) => chain.has(s.stage));
  if (!first || first.fromStage) return undefined;
  return { throughLine: first.line, reads: first.reads ?? { paths: [], wildcards: [] } };
}

/** Stage 0 gets its name only when a later line refers to it, so a one-stage file reads as usual. */
function nameFirstStage(state: GenState): void {
  const named = state.stages.some((s, i) => i > 0 && s.needs.includes(0));
  if (named) state.lines[0] = `FROM ${BASE_IMAGE} AS s0`;
}

function sortedContext(context: readonly ContextEntry[]): ContextEntry[] {
  return [...context].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One case, from (seed, case number) alone: the same two numbers and options give a deep-equal case. */
export function generateCase(seed: number, caseNumber: number, options: GenerateOptions = {}): FuzzCase {
  const allowedList = CONSTRUCTS.filter((c) => (options.constructs ?? CONSTRUCTS).includes(c));
  const rng = caseRandom(seed, caseNumber);
  const state = newState(rng, new Set(allowedList), initialContext(rng));
  const target = rng.int(MIN_INSTRUCTIONS, MAX_INSTRUCTIONS);
  // Decided first, so that the instructions before leave room for the three at the end.
  const endsBetween = state.allowed.has('between-empty-steps') && rng.chance(ENDS_BETWEEN_EMPTY_STEPS);
  const tail = endsBetween ? BETWEEN_EMPTY_STEPS.cost : 0;
  fill(state, allowedList, Math.max(MIN_INSTRUCTIONS - tail, target - tail));
  linkStages(state);
  if (endsBetween) endBetweenEmptySteps(state);
  if (!buildsAStep(state)) simpleRun(state);
  nameFirstStage(state);
  const base: BuildInput = {
    dockerfile: `${state.lines.join('\n')}\n`,
    context: sortedContext(state.context),
  };
  const fuzzCase: FuzzCase = {
    seed,
    caseNumber,
    constructs: CONSTRUCTS.filter((c) => state.used.has(c)),
    base,
  };
  // Its own stream: whether a case has a changed version never alters its base.
  const changeRng = caseRandom(seed, caseNumber, 'changes');
  state.kept = keptStep(state);
  if (state.kept && changeRng.chance(options.changedShare ?? 0.5)) {
    const { context, lines, changes } = applyChanges(changeRng, state.context, state.lines, state);
    if (changes.length > 0)
      fuzzCase.changed = {
        input: { dockerfile: `${lines.join('\n')}\n`, context: sortedContext(context) },
        changes,
      };
  }
  return fuzzCase;
}
