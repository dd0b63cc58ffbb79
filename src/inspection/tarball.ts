import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
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
export async function inspectTarball(
  file: string,
  expectedPaths: readonly string[],
): Promise<TarballContents> {
  const wanted = new Set(expectedPaths.map(normalizeArchivePath));
  let entries = 0;
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    entries += 1;
    wanted.delete(normalizeArchivePath(header.name));
    stream.on('end', next);
    stream.resume();
  });
  const end = new EndOfArchive();
  try {
    await pipeline(fs.createReadStream(file), end, reader);
  } catch (error) {
    throw new InspectionError(`cannot read ${file} as a tarball: ${(error as Error).message}`);
  }
  if (entries === 0) throw new InspectionError(`${file} is an empty tarball: the build wrote no filesystem`);
  // tar-stream accepts an archive cut off between two entries; cut before the last layer's files, it
  // would look exactly like a lost layer. Only an archive that reaches its end marker is judged.
  if (!end.reached)
    throw new InspectionError(`${file} ends before the tar end-of-archive marker: it was cut off`);
  return { entries, missingPaths: expectedPaths.filter((p) => wanted.has(normalizeArchivePath(p))) };
}

/** A tar entry's name as a path inside the image: no ./ or / in front, no / behind. */
export function normalizeArchivePath(name: string): string {
  return path.posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
}

const BLOCK = 512;

/**
 * Passes the bytes through unchanged while it walks the tar's blocks — a header, its data rounded up to
 * whole blocks, the next header — to see whether the two zero blocks that end an archive are there.
 */
export class EndOfArchive extends Transform {
  reached = false;
  private readonly header = Buffer.alloc(BLOCK);
  private filled = 0;
  private skip = 0;
  private zeroBlocks = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length && !this.reached) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(BLOCK - this.filled, chunk.length - i);
      chunk.copy(this.header, this.filled, i, i + n);
      this.filled += n;
      i += n;
      if (this.filled < BLOCK) break;
      this.filled = 0;
      if (this.header.every((byte) => byte === 0)) {
        this.zeroBlocks += 1;
        this.reached = this.zeroBlocks === 2;
        continue;
      }
      this.zeroBlocks = 0;
      this.skip = Math.ceil(entrySize(this.header) / BLOCK) * BLOCK;
    }
    callback(null, chunk);
  }
}

/** The size field of a tar header: octal text, or base-256 (high bit set) for large files. */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    return field.subarray(1).reduce((size, byte) => size * 256 + byte, 0);
  }
  const text = field.toString('ascii').replace(/[\0 ]+/g, '');
  return text === '' ? 0 : parseInt(text, 8);
}
