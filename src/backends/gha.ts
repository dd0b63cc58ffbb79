import type { GhaPlace, GhaSettings } from './remote-settings.js';
import {
  type BackendSettings,
  type CacheBackend,
  type CachePlace,
  ON_A_SERVER,
  serverSpecs,
} from './backend.js';
import { daemonEndpoint, isLoopbackUrl } from './endpoints.js';

/** The oldest release with each API's client. */
export const GHA_API_SINCE = { 1: 'v0.9.0', 2: 'v0.20.0' } as const;

/** The run's own scope: entries it writes never replace a pipeline's (scopes keep caches apart). */
export function ghaRunScope(runId: string, tag: string): string {
  return `lost-layer-${runId}-${tag}`;
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
  ...ON_A_SERVER,
  // The token goes as an attribute (buildctl before v0.11 reads no variable for it): it is redacted.
  secrets: (settings) => [requireGha(settings).token],
  daemonAccess: (settings) => ({
    secretEnv: {},
    hostGateway: isLoopbackUrl(requireGha(settings).url),
  }),
  specs: (settings, place) => {
    const at = ghaPlace(requireGha(settings), settings.createCache, place);
    const url = `${daemonEndpoint(at.url)}/`;
    const attributes = [
      `${at.api === 2 ? 'url_v2' : 'url'}=${url}`,
      `token=${at.token}`,
      `scope=${at.scope}`,
    ];
    return serverSpecs('gha', attributes, settings, { kind: 'gha', ...at });
  },
};
