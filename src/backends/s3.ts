import type { BackendSettings, CacheBackend, CachePlace } from './backend.js';
import { exportAttributes } from './options.js';

/** Credentials of an S3 bucket; they travel to buildkitd in its environment, never in a command line. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** '' : none (long-lived keys). */
  sessionToken: string;
}

/** An S3 bucket (AWS or any S3-compatible server) that the user's cache lives in or the run's goes to. */
export interface S3Settings {
  bucket: string;
  region: string;
  /** '' : AWS's own endpoint for the region. */
  endpointUrl: string;
  usePathStyle: boolean;
  /** The user's key prefix: the run's cache goes below it, in a folder of its own. */
  prefix: string;
  /** The cache's name (BuildKit's `name`) that create-cache false imports. */
  name: string;
  credentials: S3Credentials;
}

/** The key folder of a run's own cache: one per run, so that cleanup removes exactly what the run wrote. */
export function s3RunPrefix(s3: Pick<S3Settings, 'prefix'>, runId: string): string {
  return `${s3.prefix}lost-layer-${runId}/`;
}

/** The name buildkitd uses for this host: a loopback endpoint is this host, not the daemon's container. */
export const HOST_FROM_CONTAINERS = 'host.docker.internal';

/** The endpoint as buildkitd reaches it: on loopback, the host seen from its container. */
export function daemonEndpoint(endpointUrl: string): string {
  if (!endpointUrl) return '';
  const url = new URL(endpointUrl);
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) url.hostname = HOST_FROM_CONTAINERS;
  return url.toString().replace(/\/$/, '');
}

/** Where an S3 cache is, for this process (cleanup, the cause) and for buildkitd. */
export interface S3Place {
  endpointUrl: string;
  region: string;
  bucket: string;
  usePathStyle: boolean;
  /** The key prefix of the cache's manifests and blobs. */
  prefix: string;
  name: string;
  /** Kept in memory only: a location is never written to a report or a log whole. */
  credentials: S3Credentials;
}

/** Where the run's cache goes, or with create-cache false where the user's cache is. */
export function s3Place(
  s3: S3Settings,
  createCache: boolean,
  place: Pick<CachePlace, 'runId' | 'tag'>,
): S3Place {
  const { endpointUrl, region, bucket, usePathStyle, credentials } = s3;
  const where = { endpointUrl, region, bucket, usePathStyle, credentials };
  return createCache
    ? { ...where, prefix: s3RunPrefix(s3, place.runId), name: place.tag }
    : { ...where, prefix: s3.prefix, name: s3.name };
}

function requireS3(settings: Pick<BackendSettings, 's3'>): S3Settings {
  if (!settings.s3) throw new Error('cache-type s3 without its settings');
  return settings.s3;
}

/** The cache as objects in an S3 bucket (mode=max by default), BuildKit v0.11+. */
export const s3Backend: CacheBackend = {
  usage: 'an S3 bucket (cache-s3-*), mode=max; the run writes below a prefix of its own and removes it',
  since: 'v0.11.0',
  // The S3 exporter reads no compression or media-type attribute: its blobs are BuildKit's defaults.
  options: ['mode', 'ignoreError'],
  modes: ['max', 'min'],
  problem: (settings) => {
    // A failed export to the run's own prefix would leave nothing there: the attempts would build from
    // scratch and equal the reference, a clean verdict with no cache ever imported.
    if (settings.cacheOptions.ignoreError === 'true') {
      return {
        input: 'cache-ignore-error',
        reason: 'true could hide a failed export: the attempts would then import no cache at all',
      };
    }
    return undefined;
  },
  keptDir: () => undefined,
  runPaths: () => [],
  secrets: (settings) => {
    const { accessKeyId, secretAccessKey, sessionToken } = requireS3(settings).credentials;
    return [accessKeyId, secretAccessKey, sessionToken].filter((value) => value !== '');
  },
  daemonAccess: (settings) => {
    const { credentials, endpointUrl } = requireS3(settings);
    return {
      secretEnv: {
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      },
      hostGateway: daemonEndpoint(endpointUrl).includes(HOST_FROM_CONTAINERS),
    };
  },
  specs: (settings, place) => {
    const at = s3Place(requireS3(settings), settings.createCache, place);
    const attributes = [
      `bucket=${at.bucket}`,
      `region=${at.region}`,
      ...(at.endpointUrl ? [`endpoint_url=${daemonEndpoint(at.endpointUrl)}`] : []),
      ...(at.usePathStyle ? ['use_path_style=true'] : []),
      ...(at.prefix ? [`prefix=${at.prefix}`] : []),
      `name=${at.name}`,
    ].join(',');
    return {
      export: `type=s3,${attributes}${exportAttributes(settings.cacheOptions, 'max')}`,
      import: `type=s3,${attributes}`,
      location: { kind: 's3', ...at },
    };
  },
};
