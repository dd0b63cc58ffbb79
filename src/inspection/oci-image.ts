import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { EndOfArchive, InspectionError, normalizeArchivePath } from './tarball.js';

export interface ImageLayer {
  /** 1-based position in the manifest. */
  position: number;
  digest: string;
  /** Compressed size, as the manifest gives it. */
  size: number;
  mediaType: string;
  /** Digest of the uncompressed tarball (the config's rootfs.diff_ids): the same content however compressed. */
  diffId: string;
  /** Paths the layer's tarball holds, in its order (whiteouts included). */
  files: string[];
}

export interface HistoryEntry {
  /** The instruction, without BuildKit's `# buildkit` suffix. */
  createdBy: string;
  emptyLayer: boolean;
}

export interface OciImage {
  manifestDigest: string;
  configDigest: string;
  layers: ImageLayer[];
  history: HistoryEntry[];
}

/** JSON documents are small; layers are not kept, only their file lists. */
const MAX_JSON_BLOB = 4 * 1024 * 1024;

interface Blob {
  json?: unknown;
  files?: string[];
}

/**
 * Reads an OCI layout tarball (`buildctl --output type=oci`) as one stream, nothing extracted: every blob's
 * digest is checked, small blobs are kept as JSON, gzip blobs are listed as tarballs; then index →
 * manifest → config → layers.
 */
export async function readOciImage(file: string): Promise<OciImage> {
  const blobs = new Map<string, Blob>();
  let index: unknown;
  const reader = extract();
  reader.on('entry', (header, entry, next) => {
    // tar-stream's entries are streamx streams, which Node's stream functions take as they are.
    const stream = entry as unknown as Readable;
    const name = normalizeArchivePath(header.name);
    const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    const work =
      name === 'index.json'
        ? readAll(stream).then((bytes) => {
            index = parseJson(bytes, 'index.json');
          })
        : blob
          ? readBlob(stream, `sha256:${blob[1]}`).then((read) => void blobs.set(`sha256:${blob[1]}`, read))
          : drain(stream);
    work.then(() => next(), next);
  });
  const end = new EndOfArchive();
  try {
    await pipeline(fs.createReadStream(file), end, reader);
  } catch (error) {
    throw new InspectionError(`cannot read ${file} as an OCI layout tarball: ${(error as Error).message}`);
  }
  if (!end.reached)
    throw new InspectionError(`${file} ends before the tar end-of-archive marker: it was cut off`);

  const manifestRef = descriptor(field(index, 'manifests', 'index.json'), 0, 'index.json');
  const manifest = jsonBlob(blobs, manifestRef.digest, 'manifest');
  const configRef = descriptorOf(field(manifest, 'config', 'manifest'), 'manifest config');
  const config = jsonBlob(blobs, configRef.digest, 'config');
  const layerRefs = field(manifest, 'layers', 'manifest');
  if (!Array.isArray(layerRefs)) throw new InspectionError('the manifest has no list of layers');
  const diffIds = field(field(config, 'rootfs', 'config'), 'diff_ids', 'config rootfs');
  if (!Array.isArray(diffIds) || diffIds.length !== layerRefs.length) {
    throw new InspectionError('the config does not list one diff_id for every layer of the manifest');
  }
  const layers = layerRefs.map((_, i): ImageLayer => {
    const ref = descriptor(layerRefs, i, 'manifest layers');
    const files = blobs.get(ref.digest)?.files;
    if (!files)
      throw new InspectionError(
        `layer ${i + 1} (${ref.digest}) is not in the tarball, or not a gzip tarball`,
      );
    return {
      position: i + 1,
      digest: ref.digest,
      size: ref.size,
      mediaType: ref.mediaType,
      diffId: String(diffIds[i]),
      files,
    };
  });
  const history = field(config, 'history', 'config');
  return {
    manifestDigest: manifestRef.digest,
    configDigest: configRef.digest,
    layers,
    history: Array.isArray(history) ? history.map(historyEntry) : [],
  };
}

/** The paths of the image's filesystem: every layer in order, its whiteouts hiding what lower layers hold. */
export function imagePaths(image: OciImage): Set<string> {
  const paths = new Set<string>();
  const removeUnder = (dir: string) => {
    for (const p of paths) if (dir === '' || p.startsWith(`${dir}/`)) paths.delete(p);
  };
  for (const layer of image.layers) {
    const added: string[] = [];
    for (const file of layer.files) {
      const slash = file.lastIndexOf('/');
      const dir = slash < 0 ? '' : file.slice(0, slash);
      const base = file.slice(slash + 1);
      if (base === '.wh..wh..opq') removeUnder(dir);
      else if (base.startsWith('.wh.')) {
        const gone = (dir ? `${dir}/` : '') + base.slice(4);
        paths.delete(gone);
        removeUnder(gone);
      } else added.push(file);
    }
    for (const file of added) paths.add(file);
  }
  return paths;
}

async function readBlob(stream: Readable, digest: string): Promise<Blob> {
  const sink = new BlobSink(digest);
  await pipeline(stream, sink);
  return sink.result;
}

/**
 * Takes one blob: hashes it; keeps it when it is small (a JSON document); when it starts as gzip, lists
 * it as a layer tarball on the way, with the gunzip's own pace as back-pressure.
 */
class BlobSink extends Writable {
  result: Blob = {};
  private readonly hash = createHash('sha256');
  private readonly head: Buffer[] = [];
  private size = 0;
  private gunzip: Gunzip | undefined;
  private files: Promise<string[]> | undefined;

  constructor(private readonly digest: string) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    if (this.size === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
      this.gunzip = createGunzip();
      this.files = listTarball(this.gunzip);
      this.files.catch(() => undefined); // awaited in _final; no unhandled rejection meanwhile
    }
    this.size += chunk.length;
    if (this.gunzip && this.files) {
      // A layer that failed to list has closed its gunzip: report why, not that it is closed.
      if (this.gunzip.destroyed) this.files.then(() => callback(new Error('layer stream closed')), callback);
      else this.gunzip.write(chunk, (error) => callback(error ?? null));
      return;
    }
    if (this.size <= MAX_JSON_BLOB) this.head.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (`sha256:${this.hash.digest('hex')}` !== this.digest) {
      callback(new Error(`blob ${this.digest} does not match its digest`));
      return;
    }
    if (!this.gunzip || !this.files) {
      this.result = this.size <= MAX_JSON_BLOB ? { json: tryJson(Buffer.concat(this.head)) } : {};
      callback();
      return;
    }
    this.gunzip.end();
    this.files.then((files) => {
      this.result = { files };
      callback();
    }, callback);
  }
}

async function listTarball(source: Readable): Promise<string[]> {
  const files: string[] = [];
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    files.push(normalizeArchivePath(header.name));
    stream.on('end', next);
    stream.resume();
  });
  const end = new EndOfArchive();
  await pipeline(source, end, reader);
  if (!end.reached) throw new Error('a layer tarball ends before its end-of-archive marker');
  return files;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function drain(stream: Readable): Promise<void> {
  await pipeline(stream, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
}

function tryJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  const value = tryJson(bytes);
  if (value === undefined) throw new Error(`${what} is not JSON`);
  return value;
}

function field(value: unknown, key: string, what: string): unknown {
  if (typeof value !== 'object' || value === null)
    throw new InspectionError(`the ${what} is missing or not an object`);
  return (value as Record<string, unknown>)[key];
}

function descriptor(list: unknown, i: number, what: string) {
  if (!Array.isArray(list) || list[i] === undefined)
    throw new InspectionError(`the ${what} has no entry ${i + 1}`);
  return descriptorOf(list[i], what);
}

function descriptorOf(value: unknown, what: string): { digest: string; size: number; mediaType: string } {
  const digest = field(value, 'digest', what);
  const size = field(value, 'size', what);
  const mediaType = field(value, 'mediaType', what);
  if (typeof digest !== 'string' || typeof size !== 'number') {
    throw new InspectionError(`a descriptor in the ${what} has no digest or size`);
  }
  return { digest, size, mediaType: typeof mediaType === 'string' ? mediaType : '' };
}

function jsonBlob(blobs: Map<string, Blob>, digest: string, what: string): unknown {
  const json = blobs.get(digest)?.json;
  if (json === undefined)
    throw new InspectionError(`the ${what} ${digest} is not in the tarball, or not JSON`);
  return json;
}

function historyEntry(value: unknown): HistoryEntry {
  const entry = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const createdBy = typeof entry['created_by'] === 'string' ? entry['created_by'] : '';
  return {
    createdBy: createdBy.replace(/ # buildkit$/, '').replace(/^RUN \/bin\/sh -c /, 'RUN '),
    emptyLayer: entry['empty_layer'] === true,
  };
}
