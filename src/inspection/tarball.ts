import * as fs from 'node:fs';
import { type FileEntry, normalizeArchivePath, readTarEntries } from './tar-entries.js';

export { EndOfArchive, type FileEntry, type FileType, normalizeArchivePath } from './tar-entries.js';

export interface TarballContents {
  entries: number;
  missingPaths: string[];
  /** Every entry in the archive's order, each regular file's content hashed on the way. */
  files: FileEntry[];
}

/** A tarball that cannot be read to its end: an infrastructure fault, not a lost layer. */
export class InspectionError extends Error {
  override name = 'InspectionError';
}

/** Reads a rootfs tarball as a stream (nothing is extracted) and tells which expected paths it lacks. */
export async function inspectTarball(
  file: string,
  expectedPaths: readonly string[],
): Promise<TarballContents> {
  let listing;
  try {
    listing = await readTarEntries(fs.createReadStream(file));
  } catch (error) {
    throw new InspectionError(`cannot read ${file} as a tarball: ${(error as Error).message}`);
  }
  const files = listing.entries;
  if (files.length === 0)
    throw new InspectionError(`${file} is an empty tarball: the build wrote no filesystem`);
  // tar-stream accepts an archive cut off between two entries; cut before the last layer's files, it
  // would look exactly like a lost layer. Only an archive that reaches its end marker is judged.
  if (!listing.endReached)
    throw new InspectionError(`${file} ends before the tar end-of-archive marker: it was cut off`);
  const present = new Set(files.map((entry) => entry.path));
  return {
    entries: files.length,
    missingPaths: expectedPaths.filter((p) => !present.has(normalizeArchivePath(p))),
    files,
  };
}
