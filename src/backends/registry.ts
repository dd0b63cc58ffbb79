import { type CacheBackend, IN_THE_RUN_REGISTRY, runRegistryCache } from './backend.js';
import { CACHE_OPTION_NAMES, exportAttributes } from './options.js';

/** The cache as its own manifest in the run's registry (mode=max by default: every step's result). */
export const registryBackend: CacheBackend = {
  usage: "the run's own registry, mode=max",
  since: 'v0.4.0',
  options: CACHE_OPTION_NAMES,
  modes: ['max', 'min'],
  ...IN_THE_RUN_REGISTRY,
  specs: (settings, place) => {
    const { ref, at } = runRegistryCache(place);
    return {
      export: `type=registry,ref=${ref}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=registry,ref=${ref}`,
      location: { kind: 'registry', ...at },
    };
  },
};
