import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The files of a build context, as paths relative to it ('/'-separated, sorted): the items the context is
 * minimized over. Symbolic links count as files (copied as links); folders are kept only as the parents of
 * the files inside them. The Dockerfile itself is left out when it lies in the context: every candidate has
 * its own.
 */
export function listContextFiles(context: string, dockerfile: string): string[] {
  const skip = path.relative(context, dockerfile).split(path.sep).join('/');
  const files: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else if (relative !== skip) files.push(relative);
    }
  };
  walk(context, '');
  return files.sort();
}

/** A candidate on disk: `dir/Dockerfile` and `dir/context` holding only `files` of the original context. */
export function writeCandidate(
  dir: string,
  dockerfileText: string,
  sourceContext: string,
  files: readonly string[],
): { dockerfile: string; context: string } {
  const context = path.join(dir, 'context');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(context, { recursive: true });
  const dockerfile = path.join(dir, 'Dockerfile');
  fs.writeFileSync(dockerfile, dockerfileText);
  for (const file of files) {
    const target = path.join(context, ...file.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(path.join(sourceContext, ...file.split('/')), target, {
      verbatimSymlinks: true,
      preserveTimestamps: true,
    });
  }
  return { dockerfile, context };
}
