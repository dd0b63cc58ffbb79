import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';

export type FileType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** One entry of a tar archive: what the filesystem gets from it, never its bytes. */
export interface FileEntry {
  /** normalizeArchivePath of the tar name. */
  path: string;
  type: FileType;
  /** Permission bits with setuid, setgid and sticky (the header's mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** A regular file's byte count, else 0. */
  size: number;
  /** Hex SHA-256 of a regular file's content, else ''. */
  sha256: string;
  /** A symlink's target as written; a hardlink's target as an archive path (normalised); else ''. */
  linkname: string;
}

export interface TarListing {
  entries: FileEntry[];
  /** Whether the two zero blocks that end an archive came: without them the archive may be cut short. */
  endReached: boolean;
}

/**
 * Reads a tar stream to its end, one FileEntry per entry in the archive's order, each regular file hashed as
 * it passes; nothing is kept but the entries. `through` are pass-through stages put in front of the reader
 * (a gunzip, a hash of the whole stream).
 */
export async function readTarEntries(source: Readable, ...through: Transform[]): Promise<TarListing> {
  const entries: FileEntry[] = [];
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    // tar-stream's entries are streamx streams: async iterable like Node's.
    readEntry(header, stream as unknown as AsyncIterable<Buffer>).then((entry) => {
      entries.push(entry);
      next();
    }, next);
  });
  const end = new EndOfArchive();
  await pipeline([source, ...through, end, reader]);
  return { entries, endReached: end.reached };
}

async function readEntry(header: Header, stream: AsyncIterable<Buffer>): Promise<FileEntry> {
  const type = fileType(header.type);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  const regular = type === 'file';
  return {
    path: normalizeArchivePath(header.name),
    type,
    mode: (header.mode ?? 0) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    size: regular ? size : 0,
    sha256: regular ? hash.digest('hex') : '',
    linkname: linkTarget(type, header.linkname ?? ''),
  };
}

/** tar-stream gives null for a type flag it does not know. */
function fileType(type: string | null | undefined): FileType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null:
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** A hardlink names another entry of the archive, so it is an archive path; a symlink's text is the link's. */
function linkTarget(type: FileType, linkname: string): string {
  if (type === 'hardlink') return normalizeArchivePath(linkname);
  return type === 'symlink' ? linkname : '';
}

/** A tar entry's name as a path inside the image: no ./ or / in front, no / behind. */
export function normalizeArchivePath(name: string): string {
  return path.posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
}

/** Passes the bytes through unchanged and hashes them: the digest of a stream read once. */
export class Sha256PassThrough extends Transform {
  /** `sha256:<hex>`, set when the stream has ended. */
  digest = '';
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = `sha256:${this.hash.digest('hex')}`;
    callback();
  }
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
