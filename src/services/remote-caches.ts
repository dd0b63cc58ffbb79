/*
 * Caches that live outside the run's containers, on a server of the user's or the job's: checked before the
 * cache build (a server that does not answer, or a pipeline's cache that is not there, is a set-up error,
 * not a failed import after a reference build), and the run's own part removed with the run. The run's part
 * is its own prefix, written by the cache build or, with create-cache false, only by the minimizer's
 * candidates; a pipeline's cache is read, never removed. The map is total: each backend says what it does.
 */
import {
  azblobManifestName,
  azblobRunPrefix,
  type CacheType,
  ghaPlace,
  s3RunPrefix,
  userRegistryCache,
} from '../backends/backends.js';
import type { Settings } from '../inputs/settings.js';
import { registryGet } from '../stores/registry-fetch.js';
import { AzblobStore } from '../stores/azblob-store.js';
import { GhaStore, indexKeys } from '../stores/gha-store.js';
import { S3Store } from '../stores/s3-store.js';

type RemoteSettings = Pick<Settings, 'cacheType' | 'createCache' | 's3' | 'gha' | 'azblob' | 'registryCache'>;

interface RemoteCache {
  /** Why the cache's server cannot be used, or undefined when it answers. */
  problem(settings: RemoteSettings): Promise<string | undefined>;
  /** Where the run's part is, for a person to remove it by hand. */
  describe(settings: RemoteSettings, runId: string): string;
  /** Removes what the run wrote there; returns what is left, named for a warning. */
  removeRun(settings: RemoteSettings, runId: string): Promise<string[]>;
}

function need<T>(value: T | undefined, type: CacheType): T {
  if (value === undefined) throw new Error(`cache-type ${type} without its settings`);
  return value;
}

const s3Cache: RemoteCache = {
  problem: async ({ s3, createCache }) => {
    const settings = need(s3, 's3');
    const store = new S3Store(settings);
    const problem = await store.problem(settings.prefix);
    if (problem) return `the S3 bucket does not answer: ${problem}`;
    const key = `${settings.prefix}manifests/${settings.name}`;
    if (!createCache && !(await store.get(key)))
      return `create-cache is false and s3://${settings.bucket}/${key} holds no cache`;
    return undefined;
  },
  describe: ({ s3 }, runId) =>
    `every key below s3://${s3?.bucket ?? ''}/${s3RunPrefix(s3 ?? { prefix: '' }, runId)}`,
  removeRun: async ({ s3 }, runId) => {
    const settings = need(s3, 's3');
    const left = await new S3Store(settings).removeAll(s3RunPrefix(settings, runId));
    return left.map((key) => `s3://${settings.bucket}/${key}`);
  },
};

const azblobCache: RemoteCache = {
  problem: async ({ azblob, createCache }) => {
    const settings = need(azblob, 'azblob');
    const store = new AzblobStore(settings);
    const problem = await store.problem(createCache);
    if (problem) return `the Azure Blob Storage account does not answer: ${problem}`;
    const manifest = azblobManifestName(settings);
    if (!createCache && !(await store.get(manifest)))
      return `create-cache is false and ${settings.container}/${manifest} holds no cache`;
    return undefined;
  },
  describe: ({ azblob }, runId) =>
    `every blob below ${azblob?.container ?? ''}/${azblobRunPrefix(azblob ?? { prefix: '' }, runId)}`,
  removeRun: async ({ azblob }, runId) => {
    const settings = need(azblob, 'azblob');
    const left = await new AzblobStore(settings).removeAll(azblobRunPrefix(settings, runId));
    return left.map((name) => `${settings.container}/${name}`);
  },
};

/**
 * The job's cache service. Its entries cannot be removed with the runtime token (and blobs are shared by
 * content with the repository's other caches): the run's scope is left to GitHub's eviction.
 */
const ghaCache: RemoteCache = {
  problem: async ({ gha, createCache }) => {
    const place = ghaPlace(need(gha, 'gha'), false, { runId: '', tag: '' });
    const store = new GhaStore(place);
    // A run that exports asks for a key nobody has (a miss is an answer); one that reads, for the pipeline's.
    const keys = createCache ? ['lost-layer-service-check'] : indexKeys(place);
    try {
      for (const key of keys) if (await store.latest(key)) return undefined;
    } catch (error) {
      return `the GitHub Actions cache service does not answer: ${(error as Error).message}`;
    }
    return createCache ? undefined : `create-cache is false and the gha scope ${place.scope} holds no cache`;
  },
  describe: (_settings, runId) => `the gha scope lost-layer-${runId}-*`,
  removeRun: () => Promise.resolve([]),
};

/** A pipeline's registry cache (cache-ref) is read only; the run's own registry goes with its containers. */
const registryCache: RemoteCache = {
  problem: async ({ registryCache: cache, createCache }) => {
    if (!cache || createCache) return undefined;
    const { location } = userRegistryCache(cache);
    const url = `${location.scheme ?? 'https'}://${location.address}/v2/${location.repository}/manifests/${location.tag}`;
    try {
      await registryGet(
        url,
        'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
        location.credentials,
      );
      return undefined;
    } catch (error) {
      return `create-cache is false and cache-ref ${cache.ref} cannot be read: ${(error as Error).message}`;
    }
  },
  describe: () => '',
  removeRun: () => Promise.resolve([]),
};

/** Nothing outside the run's containers and folder. */
const inTheRun: RemoteCache = {
  problem: () => Promise.resolve(undefined),
  describe: () => '',
  removeRun: () => Promise.resolve([]),
};

const REMOTE_CACHES: Record<CacheType, RemoteCache> = {
  registry: registryCache,
  local: inTheRun,
  inline: inTheRun,
  s3: s3Cache,
  gha: ghaCache,
  azblob: azblobCache,
};

export async function remoteCacheProblem(settings: RemoteSettings): Promise<string | undefined> {
  return REMOTE_CACHES[settings.cacheType].problem(settings);
}

/** What the run left on the cache's server after removing its part. */
export async function removeRemoteCache(settings: RemoteSettings, runId: string): Promise<string[]> {
  const remote = REMOTE_CACHES[settings.cacheType];
  try {
    return await remote.removeRun(settings, runId);
  } catch (error) {
    return [
      `what the run wrote to its cache's server, unchecked: ${remote.describe(settings, runId)} (${(error as Error).message})`,
    ];
  }
}
