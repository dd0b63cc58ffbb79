import * as path from 'node:path';
import type { Construct } from './case-model.js';
import {
  extensionOf,
  filesOf,
  filesUnder,
  isTopLevel,
  linkTarget,
  someDir,
  someFile,
  someSymlink,
} from './context-gen.js';
import {
  current,
  emitStep,
  fresh,
  resolveIn,
  useKnownFile,
  type Emitter,
  type GenState,
  type KnownFile,
} from './gen-state.js';

type SourceKind = 'file' | 'dir' | 'wildcard' | 'symlink';
const SOURCE_KINDS: readonly SourceKind[] = ['file', 'dir', 'wildcard', 'symlink'];

/** What a COPY or ADD reads from the context, and the files it puts under its destination folder. */
interface Source {
  text: string;
  files: { rel: string; source: string }[];
  /** The context path it names explicitly. */
  named?: string;
  /** The extension of a `*.ext` source. */
  wildcard?: string;
  /** Besides the named path: the file a link source points to, whose content COPY follows. */
  follows?: string;
}

const base = (p: string) => path.posix.basename(p);

/** Each kind of source, from the context (added to it when it lacks one and has room). */
const SOURCES: Readonly<Record<SourceKind, (state: GenState) => Source | undefined>> = {
  file: (state) => {
    const file = someFile(state.context, state.rng);
    return { text: file.path, files: [{ rel: base(file.path), source: file.path }], named: file.path };
  },
  // A folder's contents go into the destination; links inside stay links, so only files are known.
  dir: (state) => {
    const dir = someDir(state.context, state.rng);
    if (!dir) return undefined;
    const files = filesUnder(state.context, dir.path).map((f) => ({
      rel: f.path.slice(dir.path.length + 1),
      source: f.path,
    }));
    return { text: dir.path, files, named: dir.path };
  },
  // `*` never crosses a '/': only files at the top match, and the first context entry is one.
  wildcard: (state) => {
    const top = filesOf(state.context).filter(isTopLevel);
    const ext = extensionOf(state.rng.pick(top).path);
    const matches = top.filter((f) => extensionOf(f.path) === ext);
    return { text: `*${ext}`, files: matches.map((f) => ({ rel: f.path, source: f.path })), wildcard: ext };
  },
  // COPY follows a link it is given as a source: the destination holds the target's content.
  symlink: (state) => {
    const link = someSymlink(state.context, state.rng);
    if (!link) return undefined;
    const files = [{ rel: base(link.path), source: link.path }];
    return { text: link.path, files, named: link.path, follows: linkTarget(link) };
  },
};

/** A new folder (absolute, or relative to WORKDIR), or for one file sometimes a new file name in one. */
function destination(state: GenState, oneFile: boolean): { text: string; abs: string; isFile: boolean } {
  const n = fresh(state);
  if (oneFile && state.rng.chance(0.3)) return { text: `/c${n}/k${n}`, abs: `/c${n}/k${n}`, isFile: true };
  if (state.rng.chance(0.3))
    return { text: `c${n}/`, abs: resolveIn(current(state), `c${n}`), isFile: false };
  return { text: `/c${n}/`, abs: `/c${n}`, isFile: false };
}

function copyStep(state: GenState, keyword: 'COPY' | 'ADD', kind: SourceKind, flags: string): boolean {
  const source = SOURCES[kind](state);
  if (!source) return false;
  const dest = destination(state, kind === 'file' || kind === 'symlink');
  const files: KnownFile[] = dest.isFile
    ? [{ path: dest.abs }]
    : source.files.map((f) => ({ path: path.posix.join(dest.abs, f.rel), source: f.source }));
  if (source.named) state.named.add(source.named);
  if (source.wildcard) state.wildcards.add(source.wildcard);
  emitStep(state, {
    text: `${keyword}${flags} ${source.text} ${dest.text}`,
    needsRoot: false,
    portable: dest.text.startsWith('/'),
    repeatable: true,
    files,
    dirs: [],
    reads: {
      paths: [source.named, source.follows].filter((p): p is string => p !== undefined),
      wildcards: source.wildcard ? [source.wildcard] : [],
    },
  });
  return true;
}

type FlagConstruct = 'copy-chmod' | 'copy-chown' | 'copy-link';

/** Octal only: the v0.8 frontend parses --chmod with ParseUint(chmod, 8, 32). Numeric owners: the base
 * image's /etc/passwd has only root. */
const FLAGS: Readonly<Record<FlagConstruct, (state: GenState) => string>> = {
  'copy-chmod': (state) => ` --chmod=${state.rng.pick(['755', '644', '600', '0640', '700'])}`,
  'copy-chown': (state) => ` --chown=${state.rng.pick(['1000:1000', '1000:0', '0:1000'])}`,
  'copy-link': () => ' --link',
};

/** A COPY with one flag, of a source kind the caller allows (a file when it allows none). */
function flagged(state: GenState, flag: FlagConstruct): boolean {
  const kinds = SOURCE_KINDS.filter((k) => state.allowed.has(`copy-${k}`));
  const kind = kinds.length > 0 ? state.rng.pick(kinds) : 'file';
  if (!copyStep(state, 'COPY', kind, FLAGS[flag](state))) return false;
  state.used.add(`copy-${kind}`);
  return true;
}

/** A file an earlier stage holds (or one every stage has from the base image) into a new folder. */
function copyFrom(state: GenState, from?: number): boolean {
  const here = state.stages.length - 1;
  if (here === 0) return false;
  const index = from ?? state.rng.int(0, here - 1);
  const stage = state.stages[index];
  if (!stage) return false;
  const file: KnownFile =
    stage.files.length > 0 && state.rng.chance(0.8)
      ? state.rng.pick(stage.files)
      : { path: state.rng.pick(['/etc/passwd', '/etc/group']) };
  useKnownFile(state, file);
  current(state).needs.push(index);
  const dest = `/f${fresh(state)}/`;
  emitStep(state, {
    text: `COPY --from=${stage.name} ${file.path} ${dest}`,
    needsRoot: false,
    portable: false,
    repeatable: true,
    files: [{ path: `${dest}${base(file.path)}`, source: file.source }],
    dirs: [],
    fromStage: true,
  });
  return true;
}

/** Makes the last stage read an earlier one that nothing reaches, so that its steps are built at all. */
export function linkStage(state: GenState, index: number): boolean {
  if (!copyFrom(state, index)) return false;
  state.used.add('copy-from');
  return true;
}

const plain = (keyword: 'COPY' | 'ADD', kind: SourceKind): Emitter => ({
  cost: 1,
  emit: (state) => copyStep(state, keyword, kind, ''),
});

export const COPY_EMITTERS = {
  'copy-file': plain('COPY', 'file'),
  'copy-dir': plain('COPY', 'dir'),
  'copy-wildcard': plain('COPY', 'wildcard'),
  'copy-symlink': plain('COPY', 'symlink'),
  'add-file': plain('ADD', 'file'),
  'add-dir': plain('ADD', 'dir'),
  'add-wildcard': plain('ADD', 'wildcard'),
  'add-symlink': plain('ADD', 'symlink'),
  'copy-chmod': { cost: 1, emit: (state) => flagged(state, 'copy-chmod') },
  'copy-chown': { cost: 1, emit: (state) => flagged(state, 'copy-chown') },
  'copy-link': { cost: 1, emit: (state) => flagged(state, 'copy-link') },
  'copy-from': { cost: 1, emit: (state) => copyFrom(state) },
} satisfies Partial<Record<Construct, Emitter>>;

/** A plain COPY of a context file, for a repeat construct that has no earlier step to repeat. */
export function simpleCopy(state: GenState): boolean {
  if (!copyStep(state, 'COPY', 'file', '')) return false;
  state.used.add('copy-file');
  return true;
}
