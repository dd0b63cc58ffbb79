import type { AzblobPlace, AzblobSettings } from './remote-settings.js';
import {
  type BackendSettings,
  type CacheBackend,
  type CachePlace,
  ON_A_SERVER,
  serverSpecs,
} from './backend.js';
import { daemonEndpoint, isLoopbackUrl } from './endpoints.js';

/** BuildKit before v0.12 takes the account name from the URL's host, which a path-style URL does not name. */
export const AZBLOB_ACCOUNT_NAME_SINCE = 'v0.12.0';

export function accountNameInHost(settings: Pick<AzblobSettings, 'accountUrl' | 'accountName'>): boolean {
  return new URL(settings.accountUrl).hostname.split('.')[0] === settings.accountName;
}

/** The folder of a run's own cache: one per run, so that cleanup removes exactly what the run wrote. */
export function azblobRunPrefix(azblob: Pick<AzblobSettings, 'prefix'>, runId: string): string {
  return `${azblob.prefix}lost-layer-${runId}/`;
}

export function azblobPlace(
  azblob: AzblobSettings,
  createCache: boolean,
  place: Pick<CachePlace, 'runId' | 'tag'>,
): AzblobPlace {
  const { accountUrl, accountName, container, secretAccessKey } = azblob;
  const where = { accountUrl, accountName, container, secretAccessKey };
  return createCache
    ? { ...where, prefix: azblobRunPrefix(azblob, place.runId), name: place.tag }
    : { ...where, prefix: azblob.prefix, name: azblob.name };
}

/** Where BuildKit puts a cache's manifest: path.Join(prefix, "manifests", name). */
export function azblobManifestName(place: Pick<AzblobPlace, 'prefix' | 'name'>): string {
  return [place.prefix.replace(/\/+$/, ''), 'manifests', place.name].filter((part) => part !== '').join('/');
}

function requireAzblob(settings: Pick<BackendSettings, 'azblob'>): AzblobSettings {
  if (!settings.azblob) throw new Error('cache-type azblob without its settings');
  return settings.azblob;
}

/** The cache as blobs of an Azure Blob Storage container (mode=max by default), BuildKit v0.11+. */
export const azblobBackend: CacheBackend = {
  usage:
    'an Azure Blob Storage container (cache-azblob-*), mode=max; the run writes below a prefix of its own',
  since: 'v0.11.0',
  releaseNeed: (settings) =>
    settings.azblob && !accountNameInHost(settings.azblob)
      ? { since: AZBLOB_ACCOUNT_NAME_SINCE, what: 'an account URL that does not start with the account name' }
      : undefined,
  ...ON_A_SERVER,
  secrets: (settings) => [requireAzblob(settings).secretAccessKey],
  daemonAccess: (settings) => ({
    secretEnv: {},
    hostGateway: isLoopbackUrl(requireAzblob(settings).accountUrl),
  }),
  specs: (settings, place) => {
    const azblob = requireAzblob(settings);
    const at = azblobPlace(azblob, settings.createCache, place);
    const attributes = [
      `account_url=${daemonEndpoint(at.accountUrl)}`,
      ...(accountNameInHost(at) ? [] : [`account_name=${at.accountName}`]),
      `secret_access_key=${at.secretAccessKey}`,
      `container=${at.container}`,
      ...(at.prefix ? [`prefix=${at.prefix}`] : []),
      `name=${at.name}`,
    ];
    return serverSpecs('azblob', attributes, settings, { kind: 'azblob', ...at });
  },
};
