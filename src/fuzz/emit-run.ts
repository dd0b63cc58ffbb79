import * as path from 'node:path';
import type { Construct } from './case-model.js';
import { someFile } from './context-gen.js';
import {
  current,
  emit,
  emitStep,
  fresh,
  resolveIn,
  token,
  useKnownFile,
  type Emitter,
  type GenState,
  type StepText,
} from './gen-state.js';

// Every command is deterministic and offline: busybox applets only, no clock, no randomness, no network.

type Written = StepText & { token?: string };
type Variant = (state: GenState) => Written | undefined;

const step = (text: string, needsRoot: boolean, more: Partial<Written> = {}): Written => ({
  text,
  needsRoot,
  portable: true,
  repeatable: true,
  files: [],
  dirs: [],
  ...more,
});

/** Leave the filesystem as it was: the empty layers BuildKit's cache export drops (#1739). */
const NO_WRITE: readonly Variant[] = [
  (state) => {
    const t = token(state);
    return step(`RUN echo ${t}`, false, { token: t });
  },
  () => step('RUN true', false),
  () => step('RUN cat /etc/passwd', false),
];

/** Write under / (so they run as root): new files, a copy, a mode, a link, a file from ENV or WORKDIR. */
const WRITE: readonly Variant[] = [
  (state) => {
    const [n, t] = [fresh(state), token(state)];
    return step(`RUN mkdir -p /w${n} && echo ${t} > /w${n}/f`, true, {
      token: t,
      files: [{ path: `/w${n}/f` }],
      dirs: [`/w${n}`],
    });
  },
  (state) => {
    const [n, t] = [fresh(state), token(state)];
    const file = resolveIn(current(state), `r${n}.txt`);
    return step(`RUN echo ${t} > r${n}.txt`, true, { token: t, portable: false, files: [{ path: file }] });
  },
  (state) => {
    const n = fresh(state);
    return step(`RUN mkdir -p /w${n} && cp /etc/group /w${n}/g && chmod 600 /w${n}/g`, true, {
      files: [{ path: `/w${n}/g` }],
      dirs: [`/w${n}`],
    });
  },
  // A second `ln -s` fails on the link the first one made.
  (state) => step(`RUN ln -s /etc/passwd /w${fresh(state)}`, true, { portable: false, repeatable: false }),
  (state) => {
    const files = current(state).files;
    if (files.length === 0) return undefined;
    const file = state.rng.pick(files);
    useKnownFile(state, file);
    const n = fresh(state);
    const copied = { path: `/w${n}/${path.posix.basename(file.path)}`, source: file.source };
    return step(`RUN mkdir -p /w${n} && cp ${file.path} /w${n}/`, true, { portable: false, files: [copied] });
  },
  (state) => {
    const envs = current(state).envs;
    if (envs.length === 0) return undefined;
    const n = fresh(state);
    const text = `RUN echo $${state.rng.pick(envs)} > /w${n}`;
    return step(text, true, { portable: false, files: [{ path: `/w${n}` }] });
  },
];

/**
 * The cache mount's content differs between a cache build and a clean one, so it is written and listed
 * but never copied into the image. Its folder belongs to root: these run as root.
 */
const CACHE_MOUNT: readonly Variant[] = [
  (state) => {
    const t = token(state);
    return step(`RUN --mount=type=cache,target=/mc echo ${t} >> /mc/log`, true, { token: t });
  },
  (state) => {
    const [n, t] = [fresh(state), token(state)];
    return step(`RUN --mount=type=cache,id=k${n},target=/mk echo ${t} >> /mk/log && ls /mk`, true, {
      token: t,
    });
  },
  (state) => {
    const [n, t] = [fresh(state), token(state)];
    const text = `RUN --mount=type=cache,target=/mc mkdir -p /w${n} && echo ${t} > /w${n}/f && ls /mc`;
    return step(text, true, { token: t, files: [{ path: `/w${n}/f` }], dirs: [`/w${n}`] });
  },
];

/** Reads a context file through a bind mount, as root: the file's mode may deny anyone else. */
const BIND_MOUNT: readonly Variant[] = [
  (state) => {
    const [file, n] = [someFile(state.context, state.rng), fresh(state)];
    state.named.add(file.path);
    const reads = { paths: [file.path], wildcards: [] };
    return step(`RUN --mount=type=bind,source=${file.path},target=/b${n} cat /b${n}`, true, { reads });
  },
  (state) => {
    const [file, n] = [someFile(state.context, state.rng), fresh(state)];
    state.named.add(file.path);
    const text = `RUN --mount=type=bind,source=${file.path},target=/b${n} mkdir -p /w${n} && cp /b${n} /w${n}/f`;
    const reads = { paths: [file.path], wildcards: [] };
    return step(text, true, { files: [{ path: `/w${n}/f` }], dirs: [`/w${n}`], reads });
  },
];

/** One variant the stage allows, written; false when none applies. */
function emitVariant(state: GenState, variants: readonly Variant[]): boolean {
  for (const variant of state.rng.shuffle(variants)) {
    const written = variant(state);
    if (!written) continue;
    const { token: editable, ...rest } = written;
    emitStep(state, rest, editable);
    return true;
  }
  return false;
}

/** `ARG` with a default, then a RUN that uses it (its value is part of that RUN's cache key). */
function argThenRun(state: GenState): boolean {
  const [n, t] = [fresh(state), token(state)];
  emit(state, `ARG A${n}=${t}`, t);
  const writes = state.rng.chance(0.5);
  const file = `/w${fresh(state)}`;
  const text = writes ? `RUN echo $A${n} > ${file}` : `RUN echo $A${n}`;
  emitStep(state, step(text, writes, { portable: false, files: writes ? [{ path: file }] : [] }));
  state.used.add(writes ? 'run-write' : 'run-nowrite');
  return true;
}

export const RUN_EMITTERS = {
  'run-nowrite': { cost: 1, emit: (state) => emitVariant(state, NO_WRITE) },
  'run-write': { cost: 2, emit: (state) => emitVariant(state, WRITE) },
  'run-mount-cache': { cost: 2, emit: (state) => emitVariant(state, CACHE_MOUNT) },
  'run-mount-bind': { cost: 2, emit: (state) => emitVariant(state, BIND_MOUNT) },
  arg: { cost: 3, emit: argThenRun },
} satisfies Partial<Record<Construct, Emitter>>;

/** A RUN that writes nothing, for a repeat construct with nothing earlier to repeat. */
export function simpleRun(state: GenState): boolean {
  emitVariant(state, NO_WRITE);
  state.used.add('run-nowrite');
  return true;
}
