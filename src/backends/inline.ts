import { CACHE_OUTLIVING_A_RUN, CACHE_REPOSITORY, type CacheBackend } from './backend.js';
import { exportAttributes } from './options.js';

/**
 * The cache inside the image itself (its config's moby.buildkit.cache.v0), pushed to the run's registry and
 * imported from it by name, as `docker build --cache-from image` does. Inline has min mode only: the records
 * of the image's own steps.
 */
export const inlineBackend: CacheBackend = {
  usage: "inside the image pushed to the run's registry, mode=min",
  since: 'v0.4.0',
  options: ['mode', 'ignoreError'],
  modes: ['min'],
  problem: (settings) =>
    settings.createCache ? undefined : { input: 'create-cache', reason: CACHE_OUTLIVING_A_RUN },
  keptDir: () => undefined,
  runPaths: () => [],
  specs: (settings, place) => {
    const ref = `${place.registryHost}/${CACHE_REPOSITORY}:${place.tag}`;
    return {
      export: `type=inline${exportAttributes(settings.cacheOptions, undefined)}`,
      import: `type=registry,ref=${ref}`,
      pushedImage: ref,
      location: {
        kind: 'inline',
        address: place.registryAddress,
        repository: CACHE_REPOSITORY,
        tag: place.tag,
      },
    };
  },
};
