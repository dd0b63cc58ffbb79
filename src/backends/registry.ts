import { CACHE_REPOSITORY, type CacheBackend } from './backend.js';

/** The cache as its own manifest in the run's registry (mode=max: every step's result). */
export const registryBackend: CacheBackend = {
  usage: "the run's own registry, mode=max",
  since: 'v0.4.0',
  problem: (settings) =>
    settings.createCache
      ? undefined
      : {
          input: 'create-cache',
          reason: "false needs a cache that outlives a run: the run's registry goes with it",
        },
  keptDir: () => undefined,
  runPaths: () => [],
  specs: (_settings, place) => {
    const ref = `${place.registryHost}/${CACHE_REPOSITORY}:${place.tag}`;
    return {
      export: `type=registry,ref=${ref},mode=max`,
      import: `type=registry,ref=${ref}`,
      location: {
        kind: 'registry',
        address: place.registryAddress,
        repository: CACHE_REPOSITORY,
        tag: place.tag,
      },
    };
  },
};
