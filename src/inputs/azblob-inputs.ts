import { inputText, type InputName, type RawInputs } from './input-table.js';
import { cacheServerUrl, InputError } from './validators.js';
import type { AzblobSettings, CacheType } from '../backends/backends.js';

/** The inputs of cache-type azblob, each read only there. */
export const AZBLOB_INPUTS = [
  'cache-azblob-account-url',
  'cache-azblob-account-name',
  'cache-azblob-secret-access-key',
  'cache-azblob-container',
  'cache-azblob-prefix',
  'cache-azblob-name',
] as const satisfies readonly InputName[];

// Azure's container naming rules (lowercase, digits, single hyphens, 3 to 63).
const CONTAINER = /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;
// Blob-name characters kept simple; no comma or '=', which would split BuildKit's attribute list.
const NAME_PART = /^[A-Za-z0-9!_.*'()/-]+$/;

function namePart(raw: RawInputs, input: 'cache-azblob-prefix' | 'cache-azblob-name'): string {
  const text = inputText(raw, input);
  if (text && !NAME_PART.test(text))
    throw new InputError(input, `"${text}" has characters a blob name or BuildKit's attributes do not take`);
  return text;
}

/**
 * The container settings of cache-type azblob; undefined for any other type. The account key is an input
 * (or AZURE_STORAGE_KEY); an http account URL only on loopback (Azurite beside the runner).
 */
export function azblobInputs(
  raw: RawInputs,
  environment: RawInputs,
  cacheType: CacheType,
  createCache: boolean,
): AzblobSettings | undefined {
  if (cacheType !== 'azblob') {
    const given = AZBLOB_INPUTS.find((name) => inputText(raw, name) !== '');
    if (given) throw new InputError(given, 'is used with cache-type: azblob only');
    return undefined;
  }
  const accountText = inputText(raw, 'cache-azblob-account-url');
  if (!accountText) throw new InputError('cache-azblob-account-url', 'is required with cache-type: azblob');
  // A path is allowed: Azurite's URL names the account there.
  const accountUrl = cacheServerUrl('cache-azblob-account-url', accountText, { path: 'allowed' });
  const url = new URL(accountUrl);
  // A path-style URL (Azurite) names the account in its path, Azure's own in its host.
  const fromUrl = url.pathname.split('/').filter(Boolean)[0] ?? url.hostname.split('.')[0] ?? '';
  const accountName = inputText(raw, 'cache-azblob-account-name') || fromUrl;
  if (!/^[a-z0-9]{3,24}$/.test(accountName))
    throw new InputError('cache-azblob-account-name', `"${accountName}" is not a storage account name`);
  const secretAccessKey =
    inputText(raw, 'cache-azblob-secret-access-key') || (environment['AZURE_STORAGE_KEY'] ?? '').trim();
  if (!secretAccessKey)
    throw new InputError(
      'cache-azblob-secret-access-key',
      'is required with cache-type: azblob (or set AZURE_STORAGE_KEY)',
    );
  const container = inputText(raw, 'cache-azblob-container') || 'buildkit-cache';
  if (!CONTAINER.test(container))
    throw new InputError(
      'cache-azblob-container',
      `"${container}" is not a container name (3-63 of a-z 0-9 -)`,
    );
  const prefixText = namePart(raw, 'cache-azblob-prefix');
  const name = namePart(raw, 'cache-azblob-name');
  if (name && createCache)
    throw new InputError(
      'cache-azblob-name',
      'names a cache made earlier, read with create-cache false; the run names its own',
    );
  return {
    accountUrl,
    accountName,
    secretAccessKey,
    container,
    prefix: prefixText && !prefixText.endsWith('/') ? `${prefixText}/` : prefixText,
    name: name || 'buildkit',
  };
}
