import * as semver from 'semver';
import type { BackendProblem, BackendSettings, CacheBackend } from './backend.js';
import { inlineBackend } from './inline.js';
import { localBackend } from './local.js';
import { registryBackend } from './registry.js';

export * from './backend.js';

/** Every cache-type word and its behaviour: a new backend is its file and one line here. */
export const CACHE_BACKENDS = {
  registry: registryBackend,
  local: localBackend,
  inline: inlineBackend,
} as const satisfies Record<string, CacheBackend>;

export type CacheType = keyof typeof CACHE_BACKENDS;
export const CACHE_TYPES = Object.keys(CACHE_BACKENDS) as readonly CacheType[];

/** The problem of these settings for their backend, cache-dir's first (it belongs to one backend only). */
export function backendProblem(cacheType: CacheType, settings: BackendSettings): BackendProblem | undefined {
  if (settings.cacheDir && CACHE_BACKENDS[cacheType].keptDir(settings) === undefined) {
    return { input: 'cache-dir', reason: `is not used with cache-type: ${cacheType}` };
  }
  return CACHE_BACKENDS[cacheType].problem(settings);
}

/** Why a BuildKit release cannot use this backend (older than it), or undefined. */
export function releaseProblem(cacheType: CacheType, release: string): string | undefined {
  const since = CACHE_BACKENDS[cacheType].since;
  const version = semver.coerce(release);
  if (!version || semver.gte(version, since)) return undefined;
  return `cache-type ${cacheType} needs BuildKit ${since} or newer; ${release} has none`;
}
