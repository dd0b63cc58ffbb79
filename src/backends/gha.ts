import {
  type BackendInputs,
  type CacheBackend,
  type CachePlace,
  type CacheServer,
  ON_A_SERVER,
  serverSpecs,
} from './backend.js';
import { daemonEndpoint, isLoopbackUrl } from './endpoints.js';
import { type GhaPlace, GhaStore, indexKeys } from '../stores/gha-store.js';

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

export function ghaPlace(
  gha: GhaSettings,
  createCache: boolean,
  place: Pick<CachePlace, 'runId' | 'tag'>,
): GhaPlace {
  const { url, api, token } = gha;
  return { url, api, token, scope: createCache ? ghaRunScope(place.runId, place.tag) : gha.scope };
}

// No comma or '=', which would split BuildKit's attribute list.
const SCOPE = /^[A-Za-z0-9._/-]+$/;

/**
 * The job's cache service, as the runner sets it in every JavaScript action's environment (the CLI takes
 * the same variables); one input, the scope of a pipeline's cache.
 */
const ghaInputs: BackendInputs<GhaSettings> = {
  entries: [
    {
      name: 'cache-gha-scope',
      usage: 'with cache-type gha and create-cache false: the scope to check (default: buildkit)',
    },
  ],
  read: (given, createCache) => {
    const token = given.variable('ACTIONS_RUNTIME_TOKEN');
    const api = ['true', '1'].includes(given.variable('ACTIONS_CACHE_SERVICE_V2').toLowerCase()) ? 2 : 1;
    const urlVariable = api === 2 ? 'ACTIONS_RESULTS_URL' : 'ACTIONS_CACHE_URL';
    const urlText = given.variable(urlVariable);
    if (!token || !urlText)
      given.fail(
        'cache-type',
        `gha needs the job's cache service: ACTIONS_RUNTIME_TOKEN and ${urlVariable} are not both set (a runner sets them for JavaScript actions)`,
      );
    // The v1 service's URL has a path of its own (…/<id>/); v2's none.
    const url = given.serverUrl(urlVariable, urlText, { path: 'allowed' });
    if (api === 1 && given.variable('GITHUB_SERVER_URL') === 'https://github.com')
      given.fail(
        'cache-type',
        'gha: github.com shut the v1 cache service down in 2025, and ACTIONS_CACHE_SERVICE_V2 is not set: is this an old runner?',
      );
    const scope = given.text('cache-gha-scope');
    if (scope && createCache)
      given.fail(
        'cache-gha-scope',
        'names a cache made earlier, read with create-cache false; the run scopes its own',
      );
    if (scope && !SCOPE.test(scope))
      given.fail('cache-gha-scope', `"${scope}" has characters BuildKit's attributes do not take`);
    return { token, url, api, scope: scope || 'buildkit' };
  },
};

/** The newest index entry of a scope: BuildKit saves the cache config under it. */
async function latestIndex(place: GhaPlace): Promise<Buffer | undefined> {
  const store = new GhaStore(place);
  for (const key of indexKeys(place)) {
    const bytes = await store.latest(key);
    if (bytes) return bytes;
  }
  return undefined;
}

/**
 * The job's cache service. Its entries cannot be removed with the runtime token (and blobs are shared by
 * content with the repository's other caches): the run's scope is left to GitHub's eviction.
 */
const ghaServer: CacheServer<GhaSettings> = {
  problem: async (gha, createCache) => {
    const place = ghaPlace(gha, false, { runId: '', tag: '' });
    try {
      // A run that exports asks for a key nobody has (a miss is an answer); one that reads, for the pipeline's.
      if (createCache) await new GhaStore(place).latest('lost-layer-service-check');
      else if (!(await latestIndex(place)))
        return `create-cache is false and the gha scope ${place.scope} holds no cache`;
    } catch (error) {
      return `the GitHub Actions cache service does not answer: ${(error as Error).message}`;
    }
    return undefined;
  },
  describeRun: (_gha, runId) => `the gha scope lost-layer-${runId}-*`,
  removeRun: () => Promise.resolve([]),
};

/** The GitHub Actions cache (mode=max by default), through the job's own cache service. */
export const ghaBackend: CacheBackend<GhaSettings> = {
  usage: "the job's GitHub Actions cache service, mode=max, in a scope of the run's own",
  since: GHA_API_SINCE[1],
  inputs: ghaInputs,
  releaseNeed: (gha) =>
    gha.api === 2
      ? { since: GHA_API_SINCE[2], what: 'the GitHub Actions cache service v2 (ACTIONS_CACHE_SERVICE_V2)' }
      : undefined,
  ...ON_A_SERVER,
  // The token goes as an attribute (buildctl before v0.11 reads no variable for it): it is redacted.
  secrets: (gha) => [gha.token],
  daemonAccess: (gha) => ({ secretEnv: {}, hostGateway: isLoopbackUrl(gha.url) }),
  specs: (settings, place) => {
    const at = ghaPlace(settings.own, settings.createCache, place);
    const attributes = [
      `${at.api === 2 ? 'url_v2' : 'url'}=${daemonEndpoint(at.url)}/`,
      `token=${at.token}`,
      `scope=${at.scope}`,
    ];
    return serverSpecs('gha', attributes, settings, {
      kind: 'server',
      where: `the GitHub Actions cache, scope ${at.scope}`,
      readConfig: () => latestIndex(at),
    });
  },
  server: ghaServer,
};
