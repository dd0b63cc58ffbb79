import {
  type BackendInputs,
  type CacheBackend,
  CACHE_OUTLIVING_A_RUN,
  type CacheServer,
  IN_THE_RUN_REGISTRY,
  runRegistryCache,
} from './backend.js';
import { CACHE_OPTION_NAMES, exportAttributes } from './options.js';
import { daemonHost, isLoopbackHost } from './endpoints.js';
import { type RegistryCacheSettings, splitReference, userRegistryCache } from './user-registry.js';
import { registryGet } from '../stores/registry-fetch.js';

/**
 * cache-ref: a registry cache a pipeline made, with the login to read it (username and password, else the
 * runner's Docker login, which buildctl reads as docker/build-push-action's builders do); undefined: none.
 */
const registryInputs: BackendInputs<RegistryCacheSettings | undefined> = {
  entries: [
    {
      name: 'cache-ref',
      usage: 'with create-cache false: a registry cache a pipeline made, REGISTRY/REPO:TAG',
    },
    { name: 'cache-username', usage: "cache-ref's registry login (default: the runner's Docker login)" },
    { name: 'cache-password', usage: "cache-ref's registry password or token, masked" },
  ],
  read: (given) => {
    const ref = given.text('cache-ref');
    const username = given.text('cache-username');
    const password = given.text('cache-password');
    if (!ref) {
      const login = username ? 'cache-username' : password ? 'cache-password' : undefined;
      if (login) given.fail(login, 'is the login for cache-ref, which is not given');
      return undefined;
    }
    if (!splitReference(ref))
      given.fail(
        'cache-ref',
        `"${ref}" is not REGISTRY/REPOSITORY:TAG with the registry named (ghcr.io/org/app:buildcache, 127.0.0.1:5000/cache:main)`,
      );
    if (Boolean(username) !== Boolean(password))
      given.fail(
        username ? 'cache-password' : 'cache-username',
        'give cache-username and cache-password together',
      );
    return { ref, username, password };
  },
};

/** Manifest types a cache's root may have: an index (older exporters) or an image manifest. */
const CACHE_ROOT_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A pipeline's registry cache is read only; the run's own registry goes with its containers. */
const registryServer: CacheServer<RegistryCacheSettings | undefined> = {
  problem: async (cache, createCache) => {
    if (!cache || createCache) return undefined;
    const { location } = userRegistryCache(cache);
    const url = `${location.scheme ?? 'https'}://${location.address}/v2/${location.repository}/manifests/${location.tag}`;
    try {
      await registryGet(url, CACHE_ROOT_TYPES, location.credentials);
      return undefined;
    } catch (error) {
      return `create-cache is false and cache-ref ${cache.ref} cannot be read: ${(error as Error).message}`;
    }
  },
  describeRun: () => '',
  removeRun: () => Promise.resolve([]),
};

/**
 * The cache as its own manifest in the run's registry (mode=max by default: every step's result); or, with
 * create-cache false, a registry cache a pipeline made (cache-ref), read with the user's login.
 */
export const registryBackend: CacheBackend<RegistryCacheSettings | undefined> = {
  usage: "the run's own registry, mode=max; or cache-ref, a pipeline's registry cache",
  since: 'v0.4.0',
  inputs: registryInputs,
  options: CACHE_OPTION_NAMES,
  modes: ['max', 'min'],
  ...IN_THE_RUN_REGISTRY,
  problem: (settings) => {
    if (settings.own && settings.createCache) {
      return {
        input: 'cache-ref',
        reason:
          'names a cache a pipeline made, read with create-cache false; the run makes its own in its registry',
      };
    }
    return settings.createCache || settings.own
      ? undefined
      : { input: 'create-cache', reason: CACHE_OUTLIVING_A_RUN };
  },
  secrets: (cache) => (cache?.password ? [cache.password] : []),
  daemonAccess: (cache) => {
    const host = cache && splitReference(cache.ref)?.host;
    if (!cache || !host) return undefined;
    const hostForDaemon = daemonHost(host);
    return {
      secretEnv: {},
      hostGateway: isLoopbackHost(host),
      plainHttpRegistries: isLoopbackHost(host) ? [hostForDaemon] : [],
      ...(hostForDaemon !== host ? { registryAliases: { [hostForDaemon]: host } } : {}),
      ...(cache.username
        ? { registryLogin: { host: hostForDaemon, username: cache.username, password: cache.password } }
        : {}),
    };
  },
  specs: (settings, place) => {
    if (settings.own && !settings.createCache) {
      const user = userRegistryCache(settings.own);
      return { export: '', import: user.import, location: user.location };
    }
    const { ref, at } = runRegistryCache(place);
    return {
      export: `type=registry,ref=${ref}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=registry,ref=${ref}`,
      location: { kind: 'registry', ...at },
    };
  },
  server: registryServer,
};
