import { type CacheBackend, IN_THE_RUN_REGISTRY, runRegistryCache } from './backend.js';
import { exportAttributes } from './options.js';

/**
 * The cache inside the image itself (its config's moby.buildkit.cache.v0), pushed to the run's registry and
 * imported from it by name, as `docker build --cache-from image` does. Inline has min mode only: the records
 * of the image's own steps.
 */
export const inlineBackend: CacheBackend = {
  usage: "inside the image pushed to the run's registry, mode=min",
  since: 'v0.4.0',
  // BuildKit's inline exporter reads no attribute but min mode (ignore-error, too, goes unread there).
  options: ['mode'],
  modes: ['min'],
  ...IN_THE_RUN_REGISTRY,
  specs: (settings, place) => {
    const { ref, at } = runRegistryCache(place);
    return {
      export: `type=inline${exportAttributes(settings.cacheOptions, undefined)}`,
      import: `type=registry,ref=${ref}`,
      pushedImage: ref,
      location: { kind: 'inline', ...at },
    };
  },
};
