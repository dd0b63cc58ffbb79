/*
 * Reads one entry of the GitHub Actions cache service as BuildKit's client (tonistiigi/go-actions-cache)
 * does: by key prefix (the newest entry whose key starts with it), under the client's one version hash,
 * through API v1 (REST) or v2 (twirp, then a signed download URL). Only the cause reader uses it.
 */
import { createHash } from 'node:crypto';

/** A scope of the GitHub Actions cache service, and the job's token and the service's URL to reach it. */
export interface GhaPlace {
  url: string;
  /** v1: REST _apis/artifactcache; v2: twirp CacheService and signed blob URLs. */
  api: 1 | 2;
  scope: string;
  /** Kept in memory only, like every credential of a place. */
  token: string;
}

/** A request the service does not answer in this time is an answer: set-up and cleanup must not hang. */
const REQUEST_TIMEOUT_MS = 60_000;

export class GhaStoreError extends Error {
  override name = 'GhaStoreError';
}

/** The client hashes a constant, not the key: every entry BuildKit saves has this version. */
const CLIENT_VERSION = createHash('sha256').update('|go-actionscache-1.0').digest('hex');

/** The scopes the runtime token grants (its `ac` claim, a JSON string); the client reads it unverified. */
export function tokenScopes(token: string): { Scope: string; Permission: number }[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      ac?: unknown;
    };
    const scopes = typeof payload.ac === 'string' ? (JSON.parse(payload.ac) as unknown) : [];
    return Array.isArray(scopes) ? (scopes as { Scope: string; Permission: number }[]) : [];
  } catch {
    return [];
  }
}

/**
 * The keys BuildKit's index of a scope may have, newest layout first: `index-<scope>-1-<token scope>`, the
 * token's write scope as the first 8 hex of its sha256 (newer releases) or as it is (v0.9).
 */
export function indexKeys(place: Pick<GhaPlace, 'scope' | 'token'>): string[] {
  const writable = tokenScopes(place.token).filter((s) => (s.Permission & 2) !== 0);
  const tokenScope = writable.at(-1)?.Scope ?? '';
  const hashed = createHash('sha256').update(tokenScope).digest('hex').slice(0, 8);
  return [`index-${place.scope}-1-${hashed}`, `index-${place.scope}-1-${tokenScope}`];
}

export class GhaStore {
  constructor(private readonly place: GhaPlace) {}

  private async call(url: string, init: RequestInit): Promise<Response> {
    return fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch(
      (error: unknown) => {
        // A signed download URL carries its signature in the query: never in a message.
        const { origin, pathname } = new URL(url);
        throw new GhaStoreError(`${origin}${pathname}: ${(error as Error).message}`);
      },
    );
  }

  /** Where the newest entry whose key starts with `prefix` can be downloaded; undefined: none. */
  private async locate(prefix: string): Promise<string | undefined> {
    const { url, token, api } = this.place;
    const authorization = `Bearer ${token}`;
    if (api === 1) {
      const query = new URLSearchParams({ keys: prefix, version: CLIENT_VERSION });
      const response = await this.call(`${url}/_apis/artifactcache/cache?${query.toString()}`, {
        headers: { Authorization: authorization, Accept: 'application/json;api-version=6.0-preview.1' },
      });
      if (response.status === 204) return undefined;
      if (!response.ok) throw new GhaStoreError(`cache lookup: HTTP ${response.status}`);
      return ((await response.json()) as { archiveLocation?: string }).archiveLocation;
    }
    const response = await this.call(
      `${url}/twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL`,
      {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': 'application/json' },
        body: JSON.stringify({ key: prefix, restore_keys: [prefix], version: CLIENT_VERSION }),
      },
    );
    if (!response.ok) throw new GhaStoreError(`cache lookup: HTTP ${response.status}`);
    const found = (await response.json()) as { ok?: boolean; signed_download_url?: string };
    return found.ok ? found.signed_download_url : undefined;
  }

  /** The newest entry under a mutable key (BuildKit saves `key#1`, `key#2`…), or undefined. */
  async latest(key: string): Promise<Buffer | undefined> {
    const location = await this.locate(`${key}#`);
    if (!location) return undefined;
    const response = await this.call(location, {});
    if (!response.ok) throw new GhaStoreError(`download of ${key}: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
}
