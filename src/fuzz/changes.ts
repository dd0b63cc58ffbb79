import * as path from 'node:path';
import { CHANGE_KINDS, type Change, type ChangeKind, type ContextEntry } from './case-model.js';
import {
  addFile,
  dirsOf,
  extensionOf,
  FILE_MODES,
  filesOf,
  freshPath,
  hasRoom,
  isTopLevel,
  linkTarget,
  symlinksOf,
  textContent,
  type FileEntry,
} from './context-gen.js';
import type { GenerationFacts } from './gen-state.js';
import type { Random } from './random.js';

/** The changed version as it is being made; `touched` keeps two changes off the same path or line. */
interface ChangeState extends GenerationFacts {
  rng: Random;
  context: ContextEntry[];
  lines: string[];
  touched: Set<string>;
}

type Applier = (state: ChangeState) => Change | undefined;

const octal = (mode: number) => mode.toString(8).padStart(3, '0');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Whether the kept step reads this context path: it, a folder above it, or a wildcard it matches at the top. */
function keptReads(s: ChangeState, entryPath: string): boolean {
  const reads = s.kept?.reads;
  if (!reads) return false;
  const under = reads.paths.some((p) => entryPath === p || entryPath.startsWith(`${p}/`));
  return under || (!entryPath.includes('/') && reads.wildcards.includes(extensionOf(entryPath)));
}

/** Files no change touched yet and the kept step does not read. */
const untouchedFiles = (s: ChangeState) =>
  filesOf(s.context).filter((f) => !s.touched.has(f.path) && !keptReads(s, f.path));
const linkTargets = (s: ChangeState) => new Set(symlinksOf(s.context).map(linkTarget));
const wildcardMatches = (s: ChangeState, ext: string) =>
  filesOf(s.context).filter((f) => isTopLevel(f) && extensionOf(f.path) === ext).length;

/** What the Dockerfile does with a file it does not name: copied by a folder or a wildcard, or nothing. */
function reach(s: ChangeState, file: FileEntry): string {
  const dir = path.posix.dirname(file.path);
  if (dir !== '.' && s.named.has(dir)) return `, inside ${dir}, which the Dockerfile copies`;
  const ext = extensionOf(file.path);
  if (isTopLevel(file) && s.wildcards.has(ext)) return `, matched by *${ext}`;
  return '';
}

/** Replaces a context path where a line names it (a COPY source, a bind mount's source=). */
function renameInLines(lines: string[], from: string, to: string): void {
  const named = new RegExp(`(?<=[\\s=,])${escapeRegExp(from)}(?=[\\s,]|$)`, 'g');
  lines.forEach((line, i) => (lines[i] = line.replace(named, to)));
}

function fileContent(s: ChangeState): Change | undefined {
  const files = untouchedFiles(s);
  if (files.length === 0) return undefined;
  const file = s.rng.pick(files);
  const before = file.content.length;
  const content = textContent(s.rng);
  file.content = content === file.content ? `${content}x` : content;
  s.touched.add(file.path);
  const description = `content of ${file.path} changed (${before} → ${file.content.length} bytes)`;
  return { kind: 'file-content', path: file.path, description };
}

/** Same folder and extension, so a wildcard still matches; files whose names image paths repeat keep them. */
function fileName(s: ChangeState): Change | undefined {
  const targets = linkTargets(s);
  const files = untouchedFiles(s).filter((f) => !s.pinned.has(f.path) && !targets.has(f.path));
  if (files.length === 0) return undefined;
  const file = s.rng.pick(files);
  const from = file.path;
  const dir = path.posix.dirname(from);
  file.path = freshPath(s.context, dir === '.' ? '' : dir, 'f', extensionOf(from));
  s.touched.add(file.path);
  let note = '; the Dockerfile does not name it';
  if (s.named.has(from)) {
    renameInLines(s.lines, from, file.path);
    s.named.delete(from);
    s.named.add(file.path);
    note = '; the Dockerfile names it and was updated to match';
  }
  if (dir !== '.' && s.named.has(dir)) note += `, still copied with folder ${dir}`;
  if (isTopLevel(file) && s.wildcards.has(extensionOf(from)))
    note += `, still matched by *${extensionOf(from)}`;
  return { kind: 'file-name', path: file.path, description: `${from} renamed to ${file.path}${note}` };
}

function fileMode(s: ChangeState): Change | undefined {
  const files = untouchedFiles(s);
  if (files.length === 0) return undefined;
  const file = s.rng.pick(files);
  const before = file.mode;
  file.mode = s.rng.pick(FILE_MODES.filter((m) => m !== before));
  s.touched.add(file.path);
  const description = `mode of ${file.path} changed from ${octal(before)} to ${octal(file.mode)}`;
  return { kind: 'file-mode', path: file.path, description };
}

/** Another file of the context, still relative and inside it. */
function symlinkTarget(s: ChangeState): Change | undefined {
  const links = symlinksOf(s.context).filter((l) => !s.touched.has(l.path) && !keptReads(s, l.path));
  for (const link of s.rng.shuffle(links)) {
    const targets = filesOf(s.context).filter((f) => f.path !== linkTarget(link));
    if (targets.length === 0) continue;
    const before = link.target;
    link.target = path.posix.relative(path.posix.dirname(link.path), s.rng.pick(targets).path);
    s.touched.add(link.path);
    const description = `symlink ${link.path} now points to ${link.target} instead of ${before}`;
    return { kind: 'symlink-target', path: link.path, description };
  }
  return undefined;
}

function fileAdded(s: ChangeState): Change | undefined {
  if (!hasRoom(s.context)) return undefined;
  const dirs = dirsOf(s.context);
  const dir = dirs.length > 0 && s.rng.chance(0.4) ? s.rng.pick(dirs).path : '';
  const file = addFile(s.context, s.rng, dir);
  if (keptReads(s, file.path)) {
    s.context.splice(s.context.indexOf(file), 1);
    return undefined;
  }
  s.touched.add(file.path);
  const description = `added ${file.path} (${file.content.length} bytes${reach(s, file)})`;
  return { kind: 'file-added', path: file.path, description };
}

/**
 * Only a file the build does not need: not named, not a link's target, not a wildcard's last match; and
 * never the last file, so the context keeps at least one entry.
 */
function fileRemoved(s: ChangeState): Change | undefined {
  if (filesOf(s.context).length < 2) return undefined;
  const targets = linkTargets(s);
  const files = untouchedFiles(s).filter((f) => {
    const ext = extensionOf(f.path);
    const lastMatch = isTopLevel(f) && s.wildcards.has(ext) && wildcardMatches(s, ext) <= 1;
    return !s.named.has(f.path) && !s.pinned.has(f.path) && !targets.has(f.path) && !lastMatch;
  });
  if (files.length === 0) return undefined;
  const file = s.rng.pick(files);
  s.context.splice(s.context.indexOf(file), 1);
  s.touched.add(file.path);
  const reached = reach(s, file);
  const still = reached.includes('matched by') ? ', which still matches another file' : '';
  const description = `removed ${file.path} (the Dockerfile does not name it${reached}${still})`;
  return { kind: 'file-removed', path: file.path, description };
}

/** A RUN's echoed word, an ENV, ARG or LABEL value: each generated unique, so exactly it changes. */
function instructionEdited(s: ChangeState): Change | undefined {
  const kept = s.kept?.throughLine ?? -1;
  const edits = s.editable.filter((e) => !s.touched.has(`line:${e.line}`) && e.line > kept);
  if (edits.length === 0) return undefined;
  const edit = s.rng.pick(edits);
  const before = s.lines[edit.line] ?? '';
  const replacement = `u${s.rng.int(10, 99)}${s.rng.pick([...'abcdefgh'])}`;
  s.lines[edit.line] = before.replace(edit.token, replacement);
  s.touched.add(`line:${edit.line}`);
  const description = `line ${edit.line + 1} edited: "${before}" → "${s.lines[edit.line]}"`;
  return { kind: 'instruction-edited', description };
}

const APPLIERS: Readonly<Record<ChangeKind, Applier>> = {
  'file-content': fileContent,
  'file-name': fileName,
  'file-mode': fileMode,
  'symlink-target': symlinkTarget,
  'file-added': fileAdded,
  'file-removed': fileRemoved,
  'instruction-edited': instructionEdited,
};

/**
 * One to three changes of different paths or lines, each kind drawn evenly among those that apply; none
 * touches the kept step or what it reads. None at all when the kept step reads every file and no room is left.
 */
export function applyChanges(
  rng: Random,
  context: readonly ContextEntry[],
  lines: readonly string[],
  facts: GenerationFacts,
): { context: ContextEntry[]; lines: string[]; changes: Change[] } {
  const state: ChangeState = {
    rng,
    context: structuredClone([...context]),
    lines: [...lines],
    named: new Set(facts.named),
    pinned: new Set(facts.pinned),
    wildcards: new Set(facts.wildcards),
    editable: [...facts.editable],
    kept: facts.kept,
    touched: new Set(),
  };
  const changes: Change[] = [];
  const count = rng.int(1, 3);
  for (let i = 0; i < count; i++) {
    const change = rng
      .shuffle(CHANGE_KINDS)
      .reduce<Change | undefined>((found, kind) => found ?? APPLIERS[kind](state), undefined);
    if (change) changes.push(change);
  }
  return { context: state.context, lines: state.lines, changes };
}
