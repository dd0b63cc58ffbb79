import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';

export interface TarballContents {
  entries: number;
  missingPaths: string[];
}

/** A tarball that cannot be read to its end: an infrastructure fault, not a lost layer. */
export class InspectionError extends Error {
  override name = 'InspectionError';
}

/** Reads a rootfs tarball as a stream (nothing is extracted) and tells which expected paths it lacks. */
export async function inspectTarball(file: string, expectedPaths: readonly string[]): Promise<TarballContents> {
  const wanted = new Set(expectedPaths.map(normalize));
  let entries = 0;
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    entries += 1;
    wanted.delete(normalize(header.name));
    stream.on('end', next);
    stream.resume();
  });
  try {
    await pipeline(fs.createReadStream(file), reader);
  } catch (error) {
    throw new InspectionError(`cannot read ${file} as a tarball: ${(error as Error).message}`);
  }
  if (entries === 0) throw new InspectionError(`${file} is an empty tarball: the build wrote no filesystem`);
  return { entries, missingPaths: expectedPaths.filter((p) => wanted.has(normalize(p))) };
}

function normalize(name: string): string {
  return path.posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
}
