/*
 * Reading reports that other jobs wrote (artifacts of a matrix): their files are hostile until read (issue
 * 22, item 5). A symbolic link is followed only to a file inside the folder given, a file over the size cap
 * is refused before it is read, only a regular file is opened, and a problem names the file and the kind of
 * problem, never its content, since the problems go into a job summary that may be public.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The largest report read: a shard of thousands of cases is a few megabytes. */
export const MAX_REPORT_BYTES = 50 * 1024 * 1024;

/** A report file found: the path to name it by, and the resolved path to read. */
export type Found = { file: string; real: string } | { problem: string };

/** Why a link cannot be resolved, in words, by its error code. */
const LINK_ERRORS: Readonly<Record<string, string>> = {
  ELOOP: 'a loop of symbolic links',
  ENOENT: 'a symbolic link to nothing',
  EACCES: 'a symbolic link to a file that cannot be reached',
};

function isInside(root: string, real: string): boolean {
  const relative = path.relative(root, real);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function resolveLink(file: string): { real: string } | { problem: string } {
  try {
    return { real: fs.realpathSync(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return {
      problem: `${file}: ${LINK_ERRORS[code] ?? `a symbolic link that cannot be resolved (${code})`}`,
    };
  }
}

/** A link to a report: read only when it leads to a file inside the folder given. */
function linkedReport(root: string, file: string): Found {
  const resolved = resolveLink(file);
  if ('problem' in resolved) return resolved;
  if (!isInside(root, resolved.real))
    return { problem: `${file}: a symbolic link that leads out of the reports folder; not followed` };
  return { file, real: resolved.real };
}

/**
 * Every report file under `dir` (a name `isReport` takes), in name order. Links to folders are not followed:
 * a folder inside is searched where it is, and a loop cannot be entered.
 */
function walk(
  root: string,
  dir: string,
  shown: string,
  isReport: (name: string) => boolean,
  found: Found[],
): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const real = path.join(dir, entry.name);
    const file = path.join(shown, entry.name);
    if (entry.isDirectory()) walk(root, real, file, isReport, found);
    else if (!isReport(entry.name)) continue;
    else if (entry.isSymbolicLink()) found.push(linkedReport(root, real));
    else if (entry.isFile()) found.push({ file, real });
    else found.push({ problem: `${file}: not a regular file; not read` });
  }
}

/** The report files of one location: a file named is read whatever its name, a folder is searched. */
export function reportFiles(location: string, isReport: (name: string) => boolean): Found[] {
  if (!fs.lstatSync(location, { throwIfNoEntry: false }))
    return [{ problem: `${location}: no such file or folder` }];
  // The location itself was named by the caller: a link there is followed, wherever it leads.
  const resolved = resolveLink(location);
  if ('problem' in resolved) return [resolved];
  if (!fs.statSync(resolved.real).isDirectory()) return [{ file: location, real: resolved.real }];
  const found: Found[] = [];
  walk(resolved.real, resolved.real, location, isReport, found);
  return found;
}

/** The file's bytes, after checking it is a regular file within the cap; a problem otherwise. */
export function readCapped(
  file: string,
  real: string,
  maxBytes: number,
): { bytes: Buffer } | { problem: string } {
  // O_NONBLOCK: a FIFO swapped in would otherwise block the open until some writer came.
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  let fd: number;
  try {
    fd = fs.openSync(real, flags);
  } catch (error) {
    return { problem: `${file}: cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { problem: `${file}: not a regular file; not read` };
    if (stat.size > maxBytes)
      return { problem: `${file}: ${stat.size} bytes, over the cap of ${maxBytes} bytes; not read` };
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return { bytes: bytes.subarray(0, read) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The JSON value of a file's bytes, or the kind of problem: never the text, which is another job's. */
export function decodeJson(file: string, bytes: Buffer): { value: unknown } | { problem: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { problem: `${file}: not UTF-8 text; not read` };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    // JSON.parse's message quotes the text around the error: only the kind of problem is said.
    return { problem: `${file}: not valid JSON` };
  }
}
