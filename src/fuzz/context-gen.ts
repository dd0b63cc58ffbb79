import * as path from 'node:path';
import type { ContextEntry } from './case-model.js';
import { MAX_CONTEXT_ENTRIES } from './gen-state.js';
import type { Random } from './random.js';

export type FileEntry = Extract<ContextEntry, { type: 'file' }>;
export type DirEntry = Extract<ContextEntry, { type: 'dir' }>;
export type SymlinkEntry = Extract<ContextEntry, { type: 'symlink' }>;

export const FILE_MODES = [0o644, 0o600, 0o755, 0o640, 0o444, 0o664] as const;
/** Each keeps the owner's rwx, so that the files inside can be written before the mode is set. */
const DIR_MODES = [0o755, 0o750, 0o700, 0o775] as const;
/** No archive extension: ADD would unpack an archive, and text never is one. */
export const EXTENSIONS = ['.txt', '.dat', '.md', '.cfg'] as const;
const WORDS = [
  'alpha',
  'beta',
  'cache',
  'delta',
  'layer',
  'stage',
  'blob',
  'echo',
  'zeta',
  'omega',
  'x',
  '7',
];

export const filesOf = (context: readonly ContextEntry[]) =>
  context.filter((e): e is FileEntry => e.type === 'file');
export const dirsOf = (context: readonly ContextEntry[]) =>
  context.filter((e): e is DirEntry => e.type === 'dir');
export const symlinksOf = (context: readonly ContextEntry[]) =>
  context.filter((e): e is SymlinkEntry => e.type === 'symlink');

export const isTopLevel = (entry: ContextEntry) => !entry.path.includes('/');
export const extensionOf = (p: string) => path.posix.extname(p);

/** The context path a link points at. */
export function linkTarget(link: SymlinkEntry): string {
  return path.posix.join(path.posix.dirname(link.path), link.target);
}

/** Text of a few bytes to a few KB, from the stream alone. */
export function textContent(rng: Random): string {
  const size = rng.pick([
    () => rng.int(1, 64),
    () => rng.int(1, 64),
    () => rng.int(65, 1024),
    () => rng.int(1025, 4096),
  ])();
  let text = '';
  while (text.length < size) text += rng.pick(WORDS) + (rng.chance(0.15) ? '\n' : ' ');
  return text.slice(0, size);
}

/** `dir/prefixN.ext` for the first N no entry of the folder has with any extension (no f1.txt beside f1.md). */
export function freshPath(context: readonly ContextEntry[], dir: string, prefix: string, ext = ''): string {
  const stem = (p: string) => p.slice(0, p.length - extensionOf(p).length);
  const taken = new Set(context.map((e) => stem(e.path)));
  for (let n = 1; ; n++) {
    const candidate = dir ? `${dir}/${prefix}${n}` : `${prefix}${n}`;
    if (!taken.has(candidate)) return `${candidate}${ext}`;
  }
}

export const hasRoom = (context: readonly ContextEntry[], entries = 1) =>
  context.length + entries <= MAX_CONTEXT_ENTRIES;

/** A new text file at the top or inside `dir`. */
export function addFile(context: ContextEntry[], rng: Random, dir = ''): FileEntry {
  const file: FileEntry = {
    type: 'file',
    path: freshPath(context, dir, 'f', rng.pick(EXTENSIONS)),
    content: textContent(rng),
    mode: rng.pick(FILE_MODES),
  };
  context.push(file);
  return file;
}

/** A new folder, with a file inside when there is room. */
export function addDir(context: ContextEntry[], rng: Random): DirEntry {
  const dir: DirEntry = { type: 'dir', path: freshPath(context, '', 'd'), mode: rng.pick(DIR_MODES) };
  context.push(dir);
  if (hasRoom(context) && rng.chance(0.85)) addFile(context, rng, dir.path);
  return dir;
}

/** A new link to a file of the context, relative, at the top or in a folder. */
export function addSymlink(context: ContextEntry[], rng: Random): SymlinkEntry | undefined {
  const files = filesOf(context);
  if (files.length === 0) return undefined;
  const target = rng.pick(files).path;
  const dirs = dirsOf(context);
  const where = dirs.length > 0 && rng.chance(0.3) ? rng.pick(dirs).path : '';
  const linkPath = freshPath(context, where, 'l');
  const link: SymlinkEntry = {
    type: 'symlink',
    path: linkPath,
    target: path.posix.relative(path.posix.dirname(linkPath), target),
  };
  context.push(link);
  return link;
}

/** One to four entries, a file at the top first: every wildcard then has something to match. */
export function initialContext(rng: Random): ContextEntry[] {
  const context: ContextEntry[] = [];
  addFile(context, rng);
  const count = rng.int(1, 4);
  while (context.length < count) {
    const kind = rng.pick(['file', 'file', 'dir', 'symlink'] as const);
    const dirs = dirsOf(context);
    if (kind === 'file') addFile(context, rng, dirs.length > 0 && rng.chance(0.3) ? rng.pick(dirs).path : '');
    else if (kind === 'dir') addDir(context, rng);
    else addSymlink(context, rng);
  }
  return context;
}

/** An existing entry of the kind, or a new one when there is room and the stream says so (or none exists). */
export function someFile(context: ContextEntry[], rng: Random): FileEntry {
  const files = filesOf(context);
  if (files.length > 0 && (!hasRoom(context) || rng.chance(0.7))) return rng.pick(files);
  return addFile(
    context,
    rng,
    rng.chance(0.25) && dirsOf(context).length > 0 ? rng.pick(dirsOf(context)).path : '',
  );
}

export function someDir(context: ContextEntry[], rng: Random): DirEntry | undefined {
  const dirs = dirsOf(context);
  if (dirs.length > 0 && (!hasRoom(context) || rng.chance(0.7))) return rng.pick(dirs);
  return hasRoom(context) ? addDir(context, rng) : undefined;
}

export function someSymlink(context: ContextEntry[], rng: Random): SymlinkEntry | undefined {
  const links = symlinksOf(context);
  if (links.length > 0 && (!hasRoom(context) || rng.chance(0.7))) return rng.pick(links);
  return hasRoom(context) ? addSymlink(context, rng) : undefined;
}

/** Regular files under a folder, by their path inside it. */
export function filesUnder(context: readonly ContextEntry[], dir: string): FileEntry[] {
  return filesOf(context).filter((f) => f.path.startsWith(`${dir}/`));
}
