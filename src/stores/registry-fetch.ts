/*
 * GET from a registry as a Docker client does: anonymous first, then, when the registry asks (401), with
 * Basic credentials or a Bearer token fetched from the realm it names (Docker Hub, GHCR, most registries).
 */
/** A registry that does not answer in this time is an answer: set-up and the cause must not hang. */
const REQUEST_TIMEOUT_MS = 60_000;

export class RegistryFetchError extends Error {
  override name = 'RegistryFetchError';
}

export interface RegistryLogin {
  username: string;
  password: string;
}

function basic(login: RegistryLogin): string {
  return `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
}

/** The parameters of a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge. */
function challenge(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [, name = '', value = ''] of header.matchAll(/(\w+)="([^"]*)"/g)) params[name] = value;
  return params;
}

async function bearerToken(header: string, login: RegistryLogin | undefined): Promise<string> {
  const { realm, ...query } = challenge(header);
  if (!realm) throw new RegistryFetchError(`the registry's challenge names no realm: ${header}`);
  const url = new URL(realm);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const response = await fetch(url, {
    headers: login ? { Authorization: basic(login) } : {},
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new RegistryFetchError(`the registry's token service: HTTP ${response.status}`);
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new RegistryFetchError("the registry's token service gave no token");
  return `Bearer ${token}`;
}

export async function registryGet(
  url: string,
  accept: string | undefined,
  login?: RegistryLogin,
): Promise<Buffer> {
  const headers: Record<string, string> = accept ? { Accept: accept } : {};
  const get = (authorization?: string) =>
    fetch(url, {
      headers: authorization ? { ...headers, Authorization: authorization } : headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new RegistryFetchError(`cannot reach the cache registry: ${(error as Error).message}`);
    });
  let response = await get();
  const asked = response.status === 401 ? (response.headers.get('www-authenticate') ?? '') : '';
  if (/^bearer /i.test(asked)) response = await get(await bearerToken(asked, login));
  else if (/^basic /i.test(asked) && login) response = await get(basic(login));
  if (!response.ok) throw new RegistryFetchError(`GET ${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
