import { createHash } from 'node:crypto';
import { type Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressionOf, decoderFor, type LayerCompression, SNIFF_BYTES } from './layer-compression.js';
import { type FileEntry, readTarEntries, Sha256PassThrough } from './tar-entries.js';

/** JSON documents are small; a bigger blob that is not a layer is hashed and counted, not kept. */
export const MAX_JSON_BLOB = 4 * 1024 * 1024;

/** A layer as read: its entries, the digest of its uncompressed bytes, and how it was compressed. */
export interface LayerListing {
  entries: FileEntry[];
  /** `sha256:<hex>` of the uncompressed tarball: what the config's rootfs.diff_ids must say. */
  diffId: string;
  compression: LayerCompression;
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

/** A layer being read: the decoder its bytes go into, and the listing it will give. */
interface LayerRead {
  decoder: Transform;
  listing: Promise<LayerListing>;
}

/**
 * Takes one blob: hashes it and counts it; keeps it when it is small (a JSON document). Its first bytes say
 * whether it is a layer (gzip, zstd or a plain tar, see layer-compression.ts): then it is read as a layer
 * tarball on the way (its uncompressed bytes hashed for the diff_id), the decoder's pace as back-pressure.
 */
class BlobSink extends Writable {
  result: Blob = { size: 0 };
  private readonly hash = createHash('sha256');
  private head: Buffer[] = [];
  private size = 0;
  /** Undefined until the first SNIFF_BYTES (or the whole blob, when smaller) have come. */
  private kind: { layer: LayerRead | undefined } | undefined;

  constructor(private readonly digest: string) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (!this.kind) {
      this.head.push(chunk);
      if (this.size < SNIFF_BYTES) return callback();
      this.kind = { layer: this.startLayer() };
      if (this.kind.layer) return this.feed(this.kind.layer, this.takeHead(), callback);
    } else if (this.kind.layer) return this.feed(this.kind.layer, chunk, callback);
    else if (this.size <= MAX_JSON_BLOB) this.head.push(chunk);
    if (this.size > MAX_JSON_BLOB) this.head = [];
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (`sha256:${this.hash.digest('hex')}` !== this.digest) {
      callback(new Error(`blob ${this.digest} does not match its digest`));
      return;
    }
    if (!this.kind) {
      // A blob smaller than the sniff: a JSON document, or a small gzip or zstd layer.
      this.kind = { layer: this.startLayer() };
      if (this.kind.layer) {
        const layer = this.kind.layer;
        this.feed(layer, this.takeHead(), (error) =>
          error ? callback(error) : this.finish(layer, callback),
        );
        return;
      }
    }
    if (this.kind.layer) return this.finish(this.kind.layer, callback);
    const json = this.size <= MAX_JSON_BLOB ? tryJson(Buffer.concat(this.head)) : undefined;
    this.result = { size: this.size, ...(json === undefined ? {} : { json }) };
    callback();
  }

  /** A layer read, when the head shows one. */
  private startLayer(): LayerRead | undefined {
    const compression = compressionOf(Buffer.concat(this.head));
    if (!compression) return undefined;
    const decoder = decoderFor(compression);
    const listing = readLayer(decoder, this.digest, compression);
    listing.catch(() => undefined); // awaited in _final; no unhandled rejection meanwhile
    return { decoder, listing };
  }

  /** The bytes kept so far, handed over to a layer's decoder. */
  private takeHead(): Buffer {
    const head = Buffer.concat(this.head);
    this.head = [];
    return head;
  }

  private feed(layer: LayerRead, bytes: Buffer, callback: (error?: Error | null) => void): void {
    // A decoder that fails (a corrupt stream) may never call back a write: the layer read's failure answers
    // then, once, and says why.
    let answered = false;
    const answer = (error?: Error | null) => {
      if (answered) return;
      answered = true;
      callback(error ?? null);
    };
    layer.listing.catch(answer);
    if (layer.decoder.destroyed) layer.listing.then(() => answer(new Error('layer stream closed')), answer);
    else layer.decoder.write(bytes, (error) => answer(error));
  }

  private finish(layer: LayerRead, callback: (error?: Error | null) => void): void {
    layer.decoder.end();
    layer.listing.then((listing) => {
      this.result = { size: this.size, layer: listing };
      callback();
    }, callback);
  }
}

async function readLayer(
  decoded: Readable,
  digest: string,
  compression: LayerCompression,
): Promise<LayerListing> {
  const uncompressed = new Sha256PassThrough();
  const listing = await readTarEntries(decoded, uncompressed);
  // tar-stream takes a tar cut between two entries as whole: files would be missing, silently.
  if (!listing.endReached)
    throw new Error(`layer ${digest} holds a tarball that ends before its end-of-archive marker`);
  return { entries: listing.entries, diffId: uncompressed.digest, compression };
}

export function tryJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
