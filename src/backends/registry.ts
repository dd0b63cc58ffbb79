import { CACHE_OUTLIVING_A_RUN, CACHE_REPOSITORY, type CacheBackend } from './backend.js';
import { CACHE_OPTION_NAMES, exportAttributes } from './options.js';

/** The cache as its own manifest in the run's registry (mode=max by default: every step's result). */
export const registryBackend: CacheBackend = {
  usage: "the run's own registry, mode=max",
  since: 'v0.4.0',
  options: CACHE_OPTION_NAMES,
  modes: ['max', 'min'],
  problem: (settings) =>
    settings.createCache ? undefined : { input: 'create-cache', reason: CACHE_OUTLIVING_A_RUN },
  keptDir: () => undefined,
  runPaths: () => [],
  specs: (settings, place) => {
    const ref = `${place.registryHost}/${CACHE_REPOSITORY}:${place.tag}`;
    return {
      export: `type=registry,ref=${ref}${exportAttributes(settings.cacheOptions, 'max')}`,
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
