import type { CacheLocation } from './backend.js';
import { daemonEndpoint } from './s3.js';

/** A registry cache a pipeline made (cache-ref), with the credentials to read it. */
export interface RegistryCacheSettings {
  /** host[:port]/repository:tag as the user gave it. */
  ref: string;
  /** '' : the runner's Docker login (docker/login-action writes ~/.docker/config.json, which buildctl reads). */
  username: string;
  password: string;
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** The parts of a reference whose registry is named (host with a dot or a port, or localhost). */
export function splitReference(ref: string): { host: string; repository: string; tag: string } | undefined {
  const match = /^([^/]+)\/(.+):([\w][\w.-]{0,127})$/.exec(ref);
  if (!match) return undefined;
  const [, host = '', repository = '', tag = ''] = match;
  if (!/[.:]/.test(host) && host !== 'localhost') return undefined;
  return { host, repository, tag };
}

/** A registry on this host's loopback: buildkitd reaches it as the host, in plain http. */
export function isLoopbackRegistry(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}

/** The registry host as buildkitd names it. */
export function daemonRegistryHost(host: string): string {
  return isLoopbackRegistry(host) ? new URL(daemonEndpoint(`http://${host}`)).host : host;
}

/** The import spec and the location of a user's registry cache. */
export function userRegistryCache(cache: RegistryCacheSettings): {
  import: string;
  location: Extract<CacheLocation, { kind: 'registry' }>;
} {
  const parts = splitReference(cache.ref);
  if (!parts) throw new Error(`cache-ref ${cache.ref} names no registry`);
  const loopback = isLoopbackRegistry(parts.host);
  return {
    import: `type=registry,ref=${daemonRegistryHost(parts.host)}/${parts.repository}:${parts.tag}`,
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
