import { inputText, type RawInputs } from './input-table.js';
import { cacheServerUrl, InputError } from './validators.js';
import type { CacheType, GhaSettings } from '../backends/backends.js';

// No comma or '=', which would split BuildKit's attribute list.
const SCOPE = /^[A-Za-z0-9._/-]+$/;

/**
 * The job's GitHub Actions cache service, as the runner sets it in every JavaScript action's environment
 * (the CLI takes the same variables); undefined for any other cache-type, which takes no gha input.
 */
export function ghaInputs(
  raw: RawInputs,
  environment: RawInputs,
  cacheType: CacheType,
  createCache: boolean,
): GhaSettings | undefined {
  const scopeText = inputText(raw, 'cache-gha-scope');
  if (cacheType !== 'gha') {
    if (scopeText) throw new InputError('cache-gha-scope', 'is used with cache-type: gha only');
    return undefined;
  }
  const variable = (name: string) => (environment[name] ?? '').trim();
  const token = variable('ACTIONS_RUNTIME_TOKEN');
  const api = ['true', '1'].includes(variable('ACTIONS_CACHE_SERVICE_V2').toLowerCase()) ? 2 : 1;
  const urlVariable = api === 2 ? 'ACTIONS_RESULTS_URL' : 'ACTIONS_CACHE_URL';
  const urlText = variable(urlVariable);
  if (!token || !urlText) {
    throw new InputError(
      'cache-type',
      `gha needs the job's cache service: ACTIONS_RUNTIME_TOKEN and ${urlVariable} are not both set (a runner sets them for JavaScript actions)`,
    );
  }
  // The v1 service's URL has a path of its own (…/<id>/); v2's none.
  const url = cacheServerUrl(urlVariable, urlText, { path: 'allowed' });
  if (api === 1 && variable('GITHUB_SERVER_URL') === 'https://github.com') {
    throw new InputError(
      'cache-type',
      'gha: github.com shut the v1 cache service down in 2025, and ACTIONS_CACHE_SERVICE_V2 is not set: is this an old runner?',
    );
  }
  if (scopeText && createCache) {
    throw new InputError(
      'cache-gha-scope',
      'names a cache made earlier, read with create-cache false; the run scopes its own',
    );
  }
  if (scopeText && !SCOPE.test(scopeText)) {
    throw new InputError(
      'cache-gha-scope',
      `"${scopeText}" has characters BuildKit's attributes do not take`,
    );
  }
  return { token, url, api, scope: scopeText || 'buildkit' };
}
