import * as path from 'node:path';
import type { BackendSettings, CacheBackend } from './backend.js';
import { CACHE_OPTION_NAMES, exportAttributes } from './options.js';

/** A folder in the run's, or the cache-dir that keeps it for a later run. */
function folder(settings: Pick<BackendSettings, 'cacheDir'>, runDir: string): string {
  return settings.cacheDir || path.join(runDir, 'cache');
}

/** The cache as an OCI layout on disk (mode=max by default), the one backend whose cache can outlive the run. */
export const localBackend: CacheBackend = {
  usage: 'an OCI layout folder, mode=max; with cache-dir, kept for later runs',
  since: 'v0.4.0',
  options: CACHE_OPTION_NAMES,
  modes: ['max', 'min'],
  problem: (settings) => {
    if (!settings.createCache && !settings.cacheDir) {
      return {
        input: 'create-cache',
        reason: 'false needs a cache made earlier: set cache-dir to its folder',
      };
    }
    // A failed export that does not fail the build would leave the earlier cache there, imported by the
    // attempts and held to this run's reference.
    if (settings.cacheDir && settings.cacheOptions.ignoreError === 'true') {
      return {
        input: 'cache-ignore-error',
        reason: 'true with a cache-dir could leave an earlier cache there for the attempts to import',
      };
    }
    return undefined;
  },
  keptDir: (settings) => settings.cacheDir || undefined,
  runPaths: (settings, place) => (settings.cacheDir ? [] : [folder(settings, place.dir)]),
  specs: (settings, place) => {
    const dir = folder(settings, place.dir);
    return {
      export: `type=local,dest=${dir}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=local,src=${dir}`,
      location: { kind: 'local', dir },
    };
  },
};
