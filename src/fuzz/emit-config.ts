import * as path from 'node:path';
import type { Construct } from './case-model.js';
import { simpleCopy } from './emit-copy.js';
import { simpleRun } from './emit-run.js';
import {
  BASE_IMAGE,
  current,
  emit,
  emitStep,
  fresh,
  newStage,
  resolveIn,
  token,
  type Emitter,
  type GenState,
  type StageState,
} from './gen-state.js';

/** At most this many stages: a dozen lines leave little for more. */
const MAX_STAGES = 4;

/** `FROM alpine:latest AS sN`, or `FROM sK AS sN`, which starts from sK's files, folder, user and ENV. */
function newStageLine(state: GenState, target: number): boolean {
  const index = state.stages.length;
  // A stage needs a line after its FROM, or it would only repeat the base image.
  if (index >= MAX_STAGES || state.lines.length + 2 > target) return false;
  const name = `s${index}`;
  if (state.rng.chance(0.4)) {
    const from = state.rng.int(0, index - 1);
    const parent = state.stages[from] as StageState;
    state.stages.push({
      ...structuredClone(parent),
      name,
      needs: [from],
      parent: from,
    });
    emit(state, `FROM ${parent.name} AS ${name}`);
  } else {
    state.stages.push(newStage(name));
    emit(state, `FROM ${BASE_IMAGE} AS ${name}`);
  }
  return true;
}

function workdir(state: GenState, written: string): void {
  const stage = current(state);
  stage.cwd = resolveIn(stage, written);
  emit(state, `WORKDIR ${written}`);
}

/** A folder nothing made yet: absolute, or relative to the current one (BuildKit resolves it against it). */
function workdirNew(state: GenState): boolean {
  const name = `k${fresh(state)}`;
  const written = state.rng.chance(0.4) ? name : `/${name}`;
  workdir(state, written);
  current(state).dirs.push(current(state).cwd);
  return true;
}

/** A folder of the base image or one made earlier with mode 0755, never a copied one whose mode may deny. */
function workdirExisting(state: GenState): boolean {
  const stage = current(state);
  const dir = state.rng.pick(['/etc', '/tmp', '/', ...stage.dirs]);
  const relative = path.posix.relative(stage.cwd, dir);
  const asRelative = relative !== '' && !relative.startsWith('..') && state.rng.chance(0.5);
  workdir(state, asRelative ? relative : dir);
  return true;
}

function env(state: GenState): boolean {
  const [n, t] = [fresh(state), token(state)];
  emit(state, `ENV E${n}=${t}`, t);
  current(state).envs.push(`E${n}`);
  return true;
}

function label(state: GenState): boolean {
  const [n, t] = [fresh(state), token(state)];
  emit(state, `LABEL fuzz.l${n}=${t}`, t);
  return true;
}

/** Numeric: the base image's /etc/passwd has only root. A RUN that writes switches back first. */
function user(state: GenState): boolean {
  const stage = current(state);
  if (!stage.root) return false;
  emit(state, 'USER 1000:1000');
  stage.root = false;
  return true;
}

/** The step on the last line again; or, after a line that is none, a new step written twice. */
function repeatAdjacent(state: GenState): boolean {
  const last = state.lastStep;
  if (last?.repeatable && last.stage === state.stages.length - 1) {
    emitStep(state, last);
    return true;
  }
  if (!(state.rng.chance(0.5) ? simpleCopy(state) : simpleRun(state))) return false;
  const first = state.lastStep;
  if (!first) return false;
  emitStep(state, first);
  return true;
}

/** A step an earlier stage wrote, written again in this one: the same cache key in two places. */
function repeatAcrossStages(state: GenState): boolean {
  const here = state.stages.length - 1;
  const earlier = state.steps.filter((s) => s.stage < here && s.portable);
  if (earlier.length === 0) return false;
  emitStep(state, state.rng.pick(earlier));
  return true;
}

/** `stages` needs the case's target length: a stage opened on the last line would stay empty. */
export function configEmitters(target: number) {
  return {
    stages: { cost: 1, emit: (state) => newStageLine(state, target) },
    'workdir-new': { cost: 1, emit: workdirNew },
    'workdir-existing': { cost: 1, emit: workdirExisting },
    env: { cost: 1, emit: env },
    label: { cost: 1, emit: label },
    user: { cost: 1, emit: user },
    'repeat-adjacent': { cost: 2, emit: repeatAdjacent },
    'repeat-across-stages': { cost: 2, emit: repeatAcrossStages },
  } satisfies Partial<Record<Construct, Emitter>>;
}
