import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OciImage } from './oci-image.js';
import { CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './oci-types.js';
import { InspectionError } from './tarball.js';
import {
  type CacheLocation,
  describeLocation as describe,
  type ServerCacheLocation,
} from '../backends/backends.js';
import { registryGet } from '../stores/registry-fetch.js';
import type { SharedResult } from '../model/run-result.js';
import type { Log } from '../log.js';

/**
 * The cause of moby/buildkit#2198 and #1980, read from the exported cache itself. BuildKit's cache config
 * (media type application/vnd.buildkit.cacheconfig.v0) lists layer chains and records; each record (one
 * build step's cache key) names the chain that is its result. When a cache is exported with empty layers
 * dropped (v0.8.0 on, until v0.10), an empty step after a COPY gets the COPY's chain as its result: two
 * records share one result. An importer before v0.9.1 then loads the parents of only one of them, picked in
 * Go map order, that is at random, and can lose the COPY layer. A cache in which no records share a result
 * cannot trigger this bug, whatever release imports it.
 */

export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.buildkit.cacheconfig.v0';

export interface CacheConfig {
  layers: { blob: string; parent: number }[];
  /** Each result is a list of layer chains: one for a plain result, several for a chained one. */
  records: { digest: string; results: number[][] }[];
}

/** The documents a cache's root or index may point at. */
const DOCUMENT_TYPES: readonly string[] = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES];

/**
 * Reads the cache config from where the cache was exported. Two layouts occur: an index that lists the
 * layers and the config blob (the registry exporter up to the releases that made it optional), and an image
 * manifest whose config is the cache config (newer releases). An inline cache is in the image's own config,
 * base64 under moby.buildkit.cache.v0. Every blob is checked against its digest.
 */
export async function readCacheConfig(location: CacheLocation): Promise<CacheConfig> {
  // One case per kind of place: the compiler refuses a new one that has no reader here.
  switch (location.kind) {
    case 'server':
      return serverCacheConfig(location);
    case 'inline': {
      const store = registryStore(location);
      const { document, match: config } = await imageManifest(store, location);
      return inlineCacheConfig(document, await store.blob(config), location);
    }
    case 'local':
    case 'registry': {
      const store = location.kind === 'local' ? localStore(location.dir) : registryStore(location);
      const found = await walkDocuments(store, cacheConfigDescriptor);
      if (found) return parseCacheConfig(await store.blob(found.match));
      throw new InspectionError(`no ${CACHE_CONFIG_MEDIA_TYPE} blob in the cache at ${describe(location)}`);
    }
    default:
      return unreachable(location);
  }
}

/** A place the types say cannot be: never quoted, as it may hold credentials. */
function unreachable(_location: never): never {
  throw new Error('no reader for this kind of cache place');
}

/**
 * A cache on a server (s3, azblob, gha): its backend reads the manifest, which is the cache config itself
 * (no index, and no digest of the config to check it against).
 */
async function serverCacheConfig(location: ServerCacheLocation): Promise<CacheConfig> {
  const bytes = await location.readConfig().catch((error: unknown) => {
    throw new InspectionError(`cannot read the cache at ${location.where}: ${(error as Error).message}`);
  });
  if (!bytes) throw new InspectionError(`no cache manifest at ${location.where}`);
  return parseCacheConfig(bytes);
}

/** The layer blobs of the image an inline cache was pushed with, in order. */
export async function pushedImageLayers(
  location: Extract<CacheLocation, { kind: 'inline' }>,
): Promise<string[]> {
  return layerDigests((await imageManifest(registryStore(location), location)).document);
}

/**
 * From the root document down the manifests it points at (at most three levels), the first document for
 * which `match` finds something, with what it found.
 */
async function walkDocuments<T>(
  store: BlobStore,
  match: (document: unknown) => T | undefined,
): Promise<{ document: unknown; match: T } | undefined> {
  let document = await store.root();
  for (let depth = 0; depth < 3; depth++) {
    const found = match(document);
    if (found !== undefined) return { document, match: found };
    const next = firstManifest(document);
    if (!next) return undefined;
    document = JSON.parse((await store.blob(next)).toString('utf8')) as unknown;
  }
  return undefined;
}

/** The image manifest at an inline cache's place (the one whose config is an image's), and that config. */
async function imageManifest(
  store: BlobStore,
  location: CacheLocation,
): Promise<{ document: unknown; match: Descriptor }> {
  const found = await walkDocuments(store, imageConfigDescriptor);
  if (!found) throw new InspectionError(`no image manifest at ${describe(location)}`);
  return found;
}

function layerDigests(manifest: unknown): string[] {
  return ((manifest as { layers?: { digest?: string }[] }).layers ?? []).map((layer) => layer.digest ?? '');
}

/** The key of an image config under which BuildKit's inline exporter puts the cache config. */
export const INLINE_CACHE_KEY = 'moby.buildkit.cache.v0';

/**
 * An inline cache: BuildKit writes only the records (a JSON array, base64 in the config, from v0.4 to the
 * newest); their layer indexes are the image's own layers, each the parent of the next.
 */
function inlineCacheConfig(manifest: unknown, configBytes: Buffer, location: CacheLocation): CacheConfig {
  const encoded = (JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>)[INLINE_CACHE_KEY];
  if (typeof encoded !== 'string' || encoded === '') {
    throw new InspectionError(
      `the image at ${describe(location)} carries no inline cache (${INLINE_CACHE_KEY})`,
    );
  }
  const parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as unknown;
  if (!Array.isArray(parsed)) {
    throw new InspectionError(
      `the inline cache at ${describe(location)} is not the list of records BuildKit writes`,
    );
  }
  const layers = layerDigests(manifest).map((blob, index) => ({ blob, parent: index - 1 }));
  return { layers, records: cacheConfigOf({ records: parsed as RawCacheConfig['records'] }).records };
}

/** Every set of two or more records whose result is the same chain, the steps named when possible. */
export function sharedResults(config: CacheConfig, reference?: OciImage): SharedResult[] {
  // A result is its list of chains; records share one when the lists are the same.
  const byResult = new Map<string, { layer: number; records: string[] }>();
  for (const record of config.records) {
    for (const key of new Set(record.results.map((layers) => layers.join(',')))) {
      const entry = byResult.get(key) ?? { layer: Number(key.split(',').pop()), records: [] };
      entry.records.push(record.digest);
      byResult.set(key, entry);
    }
  }
  return [...byResult.values()]
    .filter(({ records }) => records.length > 1)
    .map(({ layer, records }) => {
      const chain = chainOf(config, layer);
      return {
        steps: reference ? stepsMaking(chain, reference) : [],
        records,
        layer: { blob: chain[chain.length - 1] ?? '', chainLength: chain.length },
      };
    });
}

/** The blobs of a chain, from its base to the layer. */
function chainOf(config: CacheConfig, layer: number): string[] {
  const chain: string[] = [];
  for (let index = layer; index >= 0 && chain.length <= config.layers.length;) {
    const entry = config.layers[index];
    if (!entry) break;
    chain.unshift(entry.blob);
    index = entry.parent;
  }
  return chain;
}

/**
 * The instructions whose result is this chain in the reference image: the one that added its top layer and
 * the empty ones right after it. The chain must be the first layers of the reference, blob for blob.
 */
function stepsMaking(chain: string[], reference: OciImage): string[] {
  const matches = chain.every((blob, i) => reference.layers[i]?.digest === blob);
  if (!matches || chain.length === 0) return [];
  let nonEmpty = 0;
  return reference.history.flatMap((entry) => {
    if (!entry.emptyLayer) nonEmpty += 1;
    return nonEmpty === chain.length && entry.createdBy ? [entry.createdBy] : [];
  });
}

/**
 * The cache config as BuildKit writes it: `parent` left out means 0, -1 means none; a record's plain results
 * under `layers` ({layer}), its chained results under `chains` ({layers: [index…]}).
 */
export function parseCacheConfig(bytes: Buffer): CacheConfig {
  return cacheConfigOf(JSON.parse(bytes.toString('utf8')) as RawCacheConfig);
}

/** The cache config as BuildKit's JSON has it, every field optional. */
interface RawCacheConfig {
  layers?: { blob?: string; parent?: number }[];
  records?: { digest?: string; layers?: { layer?: number }[]; chains?: { layers?: number[] }[] }[];
}

function cacheConfigOf(raw: RawCacheConfig): CacheConfig {
  return {
    layers: (raw.layers ?? []).map((l) => ({ blob: l.blob ?? '', parent: l.parent ?? 0 })),
    records: (raw.records ?? []).map((r) => ({
      digest: r.digest ?? '',
      results: [
        ...(r.layers ?? []).map((l) => [l.layer ?? 0]),
        ...(r.chains ?? []).map((c) => c.layers ?? []).filter((layers) => layers.length > 0),
      ],
    })),
  };
}

interface Descriptor {
  mediaType: string;
  digest: string;
}

interface BlobStore {
  root(): Promise<unknown>;
  blob(descriptor: Descriptor): Promise<Buffer>;
}

/** A manifest's config when it is an image's (not BuildKit's cache config). */
function imageConfigDescriptor(document: unknown): Descriptor | undefined {
  const config = (document as { config?: Descriptor }).config;
  return config && (CONFIG_MEDIA_TYPES as readonly string[]).includes(config.mediaType) ? config : undefined;
}

function cacheConfigDescriptor(document: unknown): Descriptor | undefined {
  const doc = document as { config?: Descriptor; manifests?: Descriptor[] };
  if (doc.config?.mediaType === CACHE_CONFIG_MEDIA_TYPE) return doc.config;
  return doc.manifests?.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE);
}

/** The manifest an index points at: the one tagged `latest` (the tag the run exports) when it says. */
function firstManifest(document: unknown): Descriptor | undefined {
  const doc = document as { manifests?: (Descriptor & { annotations?: Record<string, string> })[] };
  const manifests = (doc.manifests ?? []).filter((m) => DOCUMENT_TYPES.includes(m.mediaType));
  return (
    manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'latest') ?? manifests[0]
  );
}

function verified(bytes: Buffer, digest: string, where: string): Buffer {
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new InspectionError(`blob ${digest} in ${where} has digest ${actual}`);
  return bytes;
}

function localStore(dir: string): BlobStore {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new InspectionError(
        `cannot read the cache's ${path.relative(dir, file)}: ${(error as Error).message}`,
      );
    }
  };
  return {
    root: () => Promise.resolve(JSON.parse(read(path.join(dir, 'index.json')).toString('utf8')) as unknown),
    blob: (d) => {
      const [algorithm, hex] = d.digest.split(':');
      if (algorithm !== 'sha256' || !hex || !/^[0-9a-f]{64}$/.test(hex))
        throw new InspectionError(`unsupported digest ${d.digest}`);
      return Promise.resolve(verified(read(path.join(dir, 'blobs', 'sha256', hex)), d.digest, dir));
    },
  };
}

function registryStore(location: Extract<CacheLocation, { kind: 'registry' | 'inline' }>): BlobStore {
  const scheme = (location.kind === 'registry' ? location.scheme : undefined) ?? 'http';
  const login = location.kind === 'registry' ? location.credentials : undefined;
  const base = `${scheme}://${location.address}/v2/${location.repository}`;
  const get = (url: string, accept?: string) =>
    registryGet(url, accept, login).catch((error: unknown) => {
      throw new InspectionError((error as Error).message);
    });
  return {
    root: async () =>
      JSON.parse(
        (await get(`${base}/manifests/${location.tag}`, DOCUMENT_TYPES.join(', '))).toString('utf8'),
      ) as unknown,
    blob: async (d) => {
      const isManifest = DOCUMENT_TYPES.includes(d.mediaType);
      const url = `${base}/${isManifest ? 'manifests' : 'blobs'}/${d.digest}`;
      return verified(await get(url, isManifest ? d.mediaType : undefined), d.digest, describe(location));
    },
  };
}

/**
 * Reads the cache's records and says which share a result: the precondition of the bug, deterministic, in
 * the cache itself. A cache that cannot be read is a warning: the attempts still decide the verdict.
 */
export async function cacheShape(
  location: CacheLocation,
  reference: OciImage | undefined,
  log: Log,
): Promise<SharedResult[] | undefined> {
  try {
    const shared = sharedResults(await readCacheConfig(location), reference);
    log.info(
      shared.length === 0
        ? 'cache: no two records share a result'
        : `cache: records share a result: ${shared.map((s) => s.steps.join(' + ') || s.layer.blob).join('; ')}`,
    );
    return shared;
  } catch (error) {
    log.warning(`cannot read the cache's records: ${(error as Error).message}`);
    return undefined;
  }
}
