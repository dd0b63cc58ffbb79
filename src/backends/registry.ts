import {
  type CacheBackend,
  CACHE_OUTLIVING_A_RUN,
  IN_THE_RUN_REGISTRY,
  runRegistryCache,
} from './backend.js';
import { CACHE_OPTION_NAMES, exportAttributes } from './options.js';
import { daemonHost, isLoopbackHost } from './endpoints.js';
import { splitReference, userRegistryCache } from './user-registry.js';

/**
 * The cache as its own manifest in the run's registry (mode=max by default: every step's result); or, with
 * create-cache false, a registry cache a pipeline made (cache-ref), read with the user's login.
 */
export const registryBackend: CacheBackend = {
  usage: "the run's own registry, mode=max; or cache-ref, a pipeline's registry cache",
  since: 'v0.4.0',
  options: CACHE_OPTION_NAMES,
  modes: ['max', 'min'],
  ...IN_THE_RUN_REGISTRY,
  problem: (settings) => {
    if (settings.registryCache && settings.createCache) {
      return {
        input: 'cache-ref',
        reason:
          'names a cache a pipeline made, read with create-cache false; the run makes its own in its registry',
      };
    }
    return settings.createCache || settings.registryCache
      ? undefined
      : { input: 'create-cache', reason: CACHE_OUTLIVING_A_RUN };
  },
  secrets: (settings) => (settings.registryCache?.password ? [settings.registryCache.password] : []),
  daemonAccess: (settings) => {
    const cache = settings.registryCache;
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
    if (settings.registryCache && !settings.createCache) {
      const user = userRegistryCache(settings.registryCache);
      return { export: '', import: user.import, location: user.location };
    }
    const { ref, at } = runRegistryCache(place);
    return {
      export: `type=registry,ref=${ref}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=registry,ref=${ref}`,
      location: { kind: 'registry', ...at },
    };
  },
};
