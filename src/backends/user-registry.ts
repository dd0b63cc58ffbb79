import type { CacheLocation } from './backend.js';
import { daemonHost, isLoopbackHost } from './endpoints.js';

/** A registry cache a pipeline made (cache-ref), with the credentials to read it. */
export interface RegistryCacheSettings {
  /** host[:port]/repository:tag as the user gave it. */
  ref: string;
  /** '' : the runner's Docker login (docker/login-action writes ~/.docker/config.json, which buildctl reads). */
  username: string;
  password: string;
}

// The distribution reference grammar, as Docker checks it: a host (with a dot or a port, or localhost), a
// lowercase repository path, a tag. No digest: a cache is found by its tag.
const HOST = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[::1\])(?::\d+)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const REFERENCE = new RegExp(String.raw`^(${HOST})/(${COMPONENT}(?:/${COMPONENT})*):([\w][\w.-]{0,127})$`);

/** The parts of a reference whose registry is named; undefined for anything else. */
export function splitReference(ref: string): { host: string; repository: string; tag: string } | undefined {
  const match = REFERENCE.exec(ref);
  if (!match) return undefined;
  const [, host = '', repository = '', tag = ''] = match;
  if (!/[.:]/.test(host) && host !== 'localhost') return undefined;
  return { host, repository, tag };
}

/** The import spec and the location of a user's registry cache. */
export function userRegistryCache(cache: RegistryCacheSettings): {
  import: string;
  location: Extract<CacheLocation, { kind: 'registry' }>;
} {
  const parts = splitReference(cache.ref);
  if (!parts) throw new Error(`cache-ref ${cache.ref} names no registry`);
  const loopback = isLoopbackHost(parts.host);
  return {
    import: `type=registry,ref=${daemonHost(parts.host)}/${parts.repository}:${parts.tag}`,
    location: {
      kind: 'registry',
      address: parts.host,
      repository: parts.repository,
      tag: parts.tag,
      scheme: loopback ? 'http' : 'https',
      ...(cache.username ? { credentials: { username: cache.username, password: cache.password } } : {}),
    },
  };
}
