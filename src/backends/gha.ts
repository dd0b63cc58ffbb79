import type { BackendSettings, CacheBackend, CachePlace } from './backend.js';
import { exportAttributes } from './options.js';
import { daemonEndpoint, HOST_FROM_CONTAINERS } from './s3.js';

/**
 * The GitHub Actions cache service, as the runner gives it to the steps of a job: a token and the service's
 * URL, for API v1 (ACTIONS_CACHE_URL, BuildKit v0.9–) or v2 (ACTIONS_RESULTS_URL with
 * ACTIONS_CACHE_SERVICE_V2, BuildKit v0.20–; github.com shut v1 down in 2025).
 */
export interface GhaSettings {
  token: string;
  url: string;
  api: 1 | 2;
  /** The scope of a cache a pipeline made, read with create-cache false (BuildKit's default: buildkit). */
  scope: string;
}

/** The oldest release with each API's client. */
export const GHA_API_SINCE = { 1: 'v0.9.0', 2: 'v0.20.0' } as const;

/** The run's own scope: entries it writes never replace a pipeline's (scopes keep caches apart). */
export function ghaRunScope(runId: string, tag: string): string {
  return `lost-layer-${runId}-${tag}`;
}

export interface GhaPlace {
  url: string;
  api: 1 | 2;
  scope: string;
  /** Kept in memory only, like every credential of a location. */
  token: string;
}

export function ghaPlace(
  gha: GhaSettings,
  createCache: boolean,
  place: Pick<CachePlace, 'runId' | 'tag'>,
): GhaPlace {
  const { url, api, token } = gha;
  return { url, api, token, scope: createCache ? ghaRunScope(place.runId, place.tag) : gha.scope };
}

function requireGha(settings: Pick<BackendSettings, 'gha'>): GhaSettings {
  if (!settings.gha) throw new Error("cache-type gha without the runner's cache service");
  return settings.gha;
}

/** The GitHub Actions cache (mode=max by default), through the job's own cache service. */
export const ghaBackend: CacheBackend = {
  usage: "the job's GitHub Actions cache service, mode=max, in a scope of the run's own",
  since: GHA_API_SINCE[1],
  releaseNeed: (settings) =>
    settings.gha?.api === 2
      ? { since: GHA_API_SINCE[2], what: 'the GitHub Actions cache service v2 (ACTIONS_CACHE_SERVICE_V2)' }
      : undefined,
  // The gha exporter reads no compression or media-type attribute before v0.10 and its blobs are BuildKit's.
  options: ['mode', 'ignoreError'],
  modes: ['max', 'min'],
  problem: (settings) =>
    settings.cacheOptions.ignoreError === 'true'
      ? {
          input: 'cache-ignore-error',
          reason: 'true could hide a failed export: the attempts would then import no cache at all',
        }
      : undefined,
  keptDir: () => undefined,
  runPaths: () => [],
  // The token goes as an attribute (buildctl before v0.11 reads no variable for it): it is redacted.
  secrets: (settings) => [requireGha(settings).token],
  daemonAccess: (settings) => ({
    secretEnv: {},
    hostGateway: daemonEndpoint(requireGha(settings).url).includes(HOST_FROM_CONTAINERS),
  }),
  specs: (settings, place) => {
    const at = ghaPlace(requireGha(settings), settings.createCache, place);
    const url = `${daemonEndpoint(at.url)}/`;
    const attributes = [
      `${at.api === 2 ? 'url_v2' : 'url'}=${url}`,
      `token=${at.token}`,
      `scope=${at.scope}`,
    ].join(',');
    return {
      export: `type=gha,${attributes}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=gha,${attributes}`,
      location: { kind: 'gha', ...at },
    };
  },
};
