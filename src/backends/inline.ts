import { CACHE_REPOSITORY, type CacheBackend } from './backend.js';

/**
 * The cache inside the image itself (its config's moby.buildkit.cache.v0), pushed to the run's registry and
 * imported from it by name, as `docker build --cache-from image` does. Inline has min mode only: the records
 * of the image's own steps.
 */
export const inlineBackend: CacheBackend = {
  usage: "inside the image pushed to the run's registry, mode=min",
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
      export: 'type=inline',
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
