import { createHash } from 'node:crypto';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { type FileEntry, readTarEntries, Sha256PassThrough } from './tar-entries.js';

/** JSON documents are small; a bigger blob that is not a layer is hashed and counted, not kept. */
export const MAX_JSON_BLOB = 4 * 1024 * 1024;

/** A gzip layer as read: its entries and the digest of its uncompressed bytes. */
export interface LayerListing {
  entries: FileEntry[];
  /** `sha256:<hex>` of the uncompressed tarball: what the config's rootfs.diff_ids must say. */
  diffId: string;
}

/** One blob of the layout, its digest checked: its byte count, and its JSON or its layer listing. */
export interface Blob {
  size: number;
  json?: unknown;
  layer?: LayerListing;
}

/** Reads one blob stream to its end; rejects when its bytes do not match `digest`. */
export async function readBlob(stream: Readable, digest: string): Promise<Blob> {
  const sink = new BlobSink(digest);
  await pipeline(stream, sink);
  return sink.result;
}

/**
 * Takes one blob: hashes it and counts it; keeps it when it is small (a JSON document); when it starts as
 * gzip, reads it as a layer tarball on the way (its uncompressed bytes hashed for the diff_id), with the
 * gunzip's own pace as back-pressure.
 */
class BlobSink extends Writable {
  result: Blob = { size: 0 };
  private readonly hash = createHash('sha256');
  private head: Buffer[] = [];
  private size = 0;
  private gunzip: Gunzip | undefined;
  private layer: Promise<LayerListing> | undefined;

  constructor(private readonly digest: string) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    if (this.size === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
      this.gunzip = createGunzip();
      this.layer = readLayer(this.gunzip, this.digest);
      this.layer.catch(() => undefined); // awaited in _final; no unhandled rejection meanwhile
    }
    this.size += chunk.length;
    if (this.gunzip && this.layer) {
      // A layer that failed to read has closed its gunzip: report why, not that it is closed.
      if (this.gunzip.destroyed) this.layer.then(() => callback(new Error('layer stream closed')), callback);
      else this.gunzip.write(chunk, (error) => callback(error ?? null));
      return;
    }
    if (this.size <= MAX_JSON_BLOB) this.head.push(chunk);
    else this.head = [];
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (`sha256:${this.hash.digest('hex')}` !== this.digest) {
      callback(new Error(`blob ${this.digest} does not match its digest`));
      return;
    }
    if (!this.gunzip || !this.layer) {
      const json = this.size <= MAX_JSON_BLOB ? tryJson(Buffer.concat(this.head)) : undefined;
      this.result = { size: this.size, ...(json === undefined ? {} : { json }) };
      callback();
      return;
    }
    this.gunzip.end();
    this.layer.then((layer) => {
      this.result = { size: this.size, layer };
      callback();
    }, callback);
  }
}

async function readLayer(gunzip: Gunzip, digest: string): Promise<LayerListing> {
  const uncompressed = new Sha256PassThrough();
  const listing = await readTarEntries(gunzip, uncompressed);
  // tar-stream takes a tar cut between two entries as whole: files would be missing, silently.
  if (!listing.endReached)
    throw new Error(`layer ${digest} holds a tarball that ends before its end-of-archive marker`);
  return { entries: listing.entries, diffId: uncompressed.digest };
}

export function tryJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
