import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONSTRUCT_WORDS, type BuildInput, type ChangeKind, type FuzzCase } from './case-model.js';

/**
 * Every written entry's modification time. COPY keeps a source file's time in the layer, while BuildKit's
 * cache key leaves it out (cache/contenthash/tarsum.go: v1TarHeaderSelect drops 'mtime'): two writes of
 * one input at different times would give different layers for one cache key. A fixed time makes a
 * written input the same on every write.
 */
export const CASE_MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * Writes `dir/Dockerfile` beside `dir/context/`, every entry as modelled: files with their exact mode
 * (chmod, since the umask would mask the mode given at creation), links with their relative target as
 * written, all at CASE_MTIME. Folder modes and times are set last, deepest first, so a folder without write
 * permission is still filled and adding its children does not move its time.
 */
export function writeCaseInput(input: BuildInput, dir: string): { dockerfile: string; context: string } {
  const context = path.join(dir, 'context');
  fs.mkdirSync(context, { recursive: true });
  const dockerfile = path.join(dir, 'Dockerfile');
  fs.writeFileSync(dockerfile, input.dockerfile);
  fs.utimesSync(dockerfile, CASE_MTIME, CASE_MTIME);
  const at = (relative: string) => path.join(context, ...relative.split('/'));
  for (const entry of input.context) {
    fs.mkdirSync(path.dirname(at(entry.path)), { recursive: true });
    if (entry.type === 'dir') fs.mkdirSync(at(entry.path), { recursive: true });
    else if (entry.type === 'file') {
      fs.writeFileSync(at(entry.path), entry.content);
      fs.chmodSync(at(entry.path), entry.mode);
      fs.utimesSync(at(entry.path), CASE_MTIME, CASE_MTIME);
    } else {
      fs.symlinkSync(entry.target, at(entry.path));
      fs.lutimesSync(at(entry.path), CASE_MTIME, CASE_MTIME);
    }
  }
  const dirs = input.context.filter((e) => e.type === 'dir');
  for (const entry of dirs.sort((a, b) => b.path.split('/').length - a.path.split('/').length)) {
    fs.chmodSync(at(entry.path), entry.mode);
    fs.utimesSync(at(entry.path), CASE_MTIME, CASE_MTIME);
  }
  fs.utimesSync(context, CASE_MTIME, CASE_MTIME);
  return { dockerfile, context };
}

const CHANGE_WORDS: Readonly<Record<ChangeKind, string>> = {
  'file-content': 'content of',
  'file-name': 'name of',
  'file-mode': 'mode of',
  'symlink-target': 'target of',
  'file-added': 'added',
  'file-removed': 'removed',
  'instruction-edited': 'an instruction',
};

/** The progress line of a case: "case 17 (seed 42): 3 stages, 9 instructions, COPY --link; changed: …". */
export function describeCase(c: FuzzCase): string {
  const instructions = c.base.dockerfile.split('\n').filter((l) => l.trim() !== '');
  const stages = instructions.filter((l) => /^FROM\s/i.test(l)).length;
  const parts = [
    `${stages} stage${stages === 1 ? '' : 's'}`,
    `${instructions.length} instructions`,
    ...c.constructs.filter((k) => k !== 'stages').map((k) => CONSTRUCT_WORDS[k]),
  ];
  const changes = c.changed?.changes.map((ch) => [CHANGE_WORDS[ch.kind], ch.path].filter(Boolean).join(' '));
  const changed = changes ? `; changed: ${changes.join(', ')}` : '';
  return `case ${c.caseNumber} (seed ${c.seed}): ${parts.join(', ')}${changed}`;
}
