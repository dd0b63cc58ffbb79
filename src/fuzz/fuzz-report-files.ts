/*
 * Finding the fuzz-report.json files of every shard in the folders actions/download-artifact filled. An
 * artifact is another job's output, so its files are hostile until read (issue 22, item 5): a symbolic link
 * is followed only to a file inside the folder given, a file over the size cap is refused before it is
 * read, only a regular file is opened, and a problem names the file and the kind of problem, never its
 * content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFuzzReport } from './fuzz-report-schema.js';
import type { FuzzReport } from './fuzz-result.js';

export const REPORT_FILE_NAME = 'fuzz-report.json';
/** The largest report read: a shard of thousands of cases is a few megabytes. */
export const MAX_REPORT_BYTES = 50 * 1024 * 1024;

export interface ReadOptions {
  /** The size cap in bytes; MAX_REPORT_BYTES unless a test sets a small one. */
  maxBytes?: number;
}

/** A report file found: the path to name it by, and the resolved path to read. */
type Found = { file: string; real: string } | { problem: string };

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

/** A link named fuzz-report.json: read only when it leads to a file inside the folder given. */
function linkedReport(root: string, file: string): Found {
  const resolved = resolveLink(file);
  if ('problem' in resolved) return resolved;
  if (!isInside(root, resolved.real))
    return { problem: `${file}: a symbolic link that leads out of the reports folder; not followed` };
  return { file, real: resolved.real };
}

/**
 * Every fuzz-report.json under `dir`, in name order. Links to folders are not followed: a folder inside is
 * searched where it is, and a loop cannot be entered.
 */
function walk(root: string, dir: string, shown: string, found: Found[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const real = path.join(dir, entry.name);
    const file = path.join(shown, entry.name);
    if (entry.isDirectory()) walk(root, real, file, found);
    else if (entry.name !== REPORT_FILE_NAME) continue;
    else if (entry.isSymbolicLink()) found.push(linkedReport(root, real));
    else if (entry.isFile()) found.push({ file, real });
    else found.push({ problem: `${file}: not a regular file; not read` });
  }
}

/** The report files of one location: a file named is read whatever its name, a folder is searched. */
function reportFiles(location: string): Found[] {
  if (!fs.lstatSync(location, { throwIfNoEntry: false }))
    return [{ problem: `${location}: no such file or folder` }];
  // The location itself was named by the caller: a link there is followed, wherever it leads.
  const resolved = resolveLink(location);
  if ('problem' in resolved) return [resolved];
  if (!fs.statSync(resolved.real).isDirectory()) return [{ file: location, real: resolved.real }];
  const found: Found[] = [];
  walk(resolved.real, resolved.real, location, found);
  return found;
}

/** The file's bytes, after checking it is a regular file within the cap; a problem otherwise. */
function readCapped(file: string, real: string, maxBytes: number): { bytes: Buffer } | { problem: string } {
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
function decodeJson(file: string, bytes: Buffer): { value: unknown } | { problem: string } {
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

/** The report in one file with a problem for each case left out, or only what is wrong with it. */
function readReportFile(
  file: string,
  real: string,
  maxBytes: number,
): { report?: FuzzReport; problems: string[] } {
  const read = readCapped(file, real, maxBytes);
  if ('problem' in read) return { problems: [read.problem] };
  const decoded = decodeJson(file, read.bytes);
  if ('problem' in decoded) return { problems: [decoded.problem] };
  const parsed = parseFuzzReport(decoded.value);
  if ('problem' in parsed) return { problems: [`${file}: ${parsed.problem}`] };
  return { report: parsed.report, problems: parsed.problems.map((p) => `${file}: ${p}`) };
}

/**
 * Every fuzz report under the given files and folders (folders searched all the way down for
 * fuzz-report.json), and a problem for each file that could not be used and each case left out.
 */
export function readFuzzReports(
  locations: readonly string[],
  options: ReadOptions = {},
): { reports: FuzzReport[]; problems: string[] } {
  const maxBytes = options.maxBytes ?? MAX_REPORT_BYTES;
  const reports: FuzzReport[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const found of locations.flatMap(reportFiles)) {
    if ('problem' in found) {
      problems.push(found.problem);
      continue;
    }
    // A link inside the folder to a report also found where it is: read once.
    if (seen.has(found.real)) continue;
    seen.add(found.real);
    const read = readReportFile(found.file, found.real, maxBytes);
    if (read.report) reports.push(read.report);
    problems.push(...read.problems);
  }
  return { reports, problems };
}
