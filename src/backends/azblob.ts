import {
  type BackendInputs,
  type CacheBackend,
  type CachePlace,
  type CacheServer,
  namePart,
  ON_A_SERVER,
  pipelineCacheName,
  serverSpecs,
} from './backend.js';
import { daemonEndpoint, isLoopbackUrl } from './endpoints.js';
import { type AzblobPlace, AzblobStore } from '../stores/azblob-store.js';

/** An Azure Blob Storage container (Azure, or Azurite) that the user's cache lives in or the run's goes to. */
export interface AzblobSettings {
  /** https://ACCOUNT.blob.core.windows.net, or a path-style URL whose path names the account (Azurite). */
  accountUrl: string;
  accountName: string;
  /** The account key (Shared Key): BuildKit takes it only as an attribute, so it is redacted. */
  secretAccessKey: string;
  container: string;
  /** The user's blob-name prefix: the run's cache goes below it, in a folder of its own. */
  prefix: string;
  /** The cache's name (BuildKit's `name`) that create-cache false imports. */
  name: string;
}

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

// Azure's container naming rules (lowercase, digits, single hyphens, 3 to 63).
const CONTAINER = /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;
// Blob-name characters kept simple; no comma or '=', which would split BuildKit's attribute list.
const NAME_PART = /^[A-Za-z0-9!_.*'()/-]+$/;

/** The container's inputs; an http account URL only on loopback (Azurite beside the runner). */
const azblobInputs: BackendInputs<AzblobSettings> = {
  entries: [
    {
      name: 'cache-azblob-account-url',
      usage: 'with cache-type azblob: the account URL (BuildKit v0.11+; a path-style one, v0.12+)',
    },
    {
      name: 'cache-azblob-account-name',
      usage: 'with cache-type azblob: the account (default: from the URL)',
    },
    {
      name: 'cache-azblob-secret-access-key',
      usage: 'with cache-type azblob: the account key, masked (default: AZURE_STORAGE_KEY)',
      environment: ['AZURE_STORAGE_KEY'],
    },
    {
      name: 'cache-azblob-container',
      usage: 'with cache-type azblob: the container (default: buildkit-cache)',
    },
    {
      name: 'cache-azblob-prefix',
      usage: "with cache-type azblob: blob-name prefix; the run's cache goes below it and is removed",
    },
    {
      name: 'cache-azblob-name',
      usage: 'with cache-type azblob and create-cache false: the cache to check (default: buildkit)',
    },
  ],
  read: (given, createCache) => {
    // A path is allowed: Azurite's URL names the account there.
    const accountUrlText = given.required('cache-azblob-account-url');
    const accountUrl = given.serverUrl('cache-azblob-account-url', accountUrlText, { path: 'allowed' });
    const url = new URL(accountUrl);
    // A path-style URL (Azurite) names the account in its path, Azure's own in its host.
    const fromUrl = url.pathname.split('/').filter(Boolean)[0] ?? url.hostname.split('.')[0] ?? '';
    const accountName = given.text('cache-azblob-account-name') || fromUrl;
    if (!/^[a-z0-9]{3,24}$/.test(accountName))
      given.fail('cache-azblob-account-name', `"${accountName}" is not a storage account name`);
    const secretAccessKey = given.required('cache-azblob-secret-access-key');
    const container = given.text('cache-azblob-container') || 'buildkit-cache';
    if (!CONTAINER.test(container))
      given.fail('cache-azblob-container', `"${container}" is not a container name (3-63 of a-z 0-9 -)`);
    const prefix = namePart(given, 'cache-azblob-prefix', NAME_PART, 'a blob name');
    const name = pipelineCacheName(given, 'cache-azblob-name', NAME_PART, 'a blob name', createCache);
    return {
      accountUrl,
      accountName,
      secretAccessKey,
      container,
      prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
      name: name || 'buildkit',
    };
  },
};

/** The container as this process reads and cleans it, through Azure's SDK with the account key. */
const azblobServer: CacheServer<AzblobSettings> = {
  problem: async (azblob, createCache) => {
    const store = new AzblobStore(azblob);
    const problem = await store.problem(createCache);
    if (problem) return `the Azure Blob Storage account does not answer: ${problem}`;
    const manifest = azblobManifestName(azblob);
    if (!createCache && !(await store.get(manifest)))
      return `create-cache is false and ${azblob.container}/${manifest} holds no cache`;
    return undefined;
  },
  describeRun: (azblob, runId) => `every blob below ${azblob.container}/${azblobRunPrefix(azblob, runId)}`,
  removeRun: async (azblob, runId) => {
    const left = await new AzblobStore(azblob).removeAll(azblobRunPrefix(azblob, runId));
    return left.map((name) => `${azblob.container}/${name}`);
  },
};

/** The cache as blobs of an Azure Blob Storage container (mode=max by default), BuildKit v0.11+. */
export const azblobBackend: CacheBackend<AzblobSettings> = {
  usage:
    'an Azure Blob Storage container (cache-azblob-*), mode=max; the run writes below a prefix of its own',
  since: 'v0.11.0',
  inputs: azblobInputs,
  releaseNeed: (azblob) =>
    accountNameInHost(azblob)
      ? undefined
      : {
          since: AZBLOB_ACCOUNT_NAME_SINCE,
          what: 'an account URL that does not start with the account name',
        },
  ...ON_A_SERVER,
  secrets: (azblob) => [azblob.secretAccessKey],
  daemonAccess: (azblob) => ({ secretEnv: {}, hostGateway: isLoopbackUrl(azblob.accountUrl) }),
  specs: (settings, place) => {
    const at = azblobPlace(settings.own, settings.createCache, place);
    const attributes = [
      `account_url=${daemonEndpoint(at.accountUrl)}`,
      ...(accountNameInHost(at) ? [] : [`account_name=${at.accountName}`]),
      `secret_access_key=${at.secretAccessKey}`,
      `container=${at.container}`,
      ...(at.prefix ? [`prefix=${at.prefix}`] : []),
      `name=${at.name}`,
    ];
    return serverSpecs('azblob', attributes, settings, {
      kind: 'server',
      where: `${at.accountUrl}/${at.container}/${azblobManifestName(at)}`,
      readConfig: () => new AzblobStore(at).get(azblobManifestName(at)),
    });
  },
  server: azblobServer,
};
