import type { S3Place, S3Settings } from './remote-settings.js';
import {
  type BackendSettings,
  type CacheBackend,
  type CachePlace,
  ON_A_SERVER,
  serverSpecs,
} from './backend.js';
import { daemonEndpoint, isLoopbackUrl } from './endpoints.js';

/** The key folder of a run's own cache: one per run, so that cleanup removes exactly what the run wrote. */
export function s3RunPrefix(s3: Pick<S3Settings, 'prefix'>, runId: string): string {
  const folder = s3.prefix && !s3.prefix.endsWith('/') ? `${s3.prefix}/` : s3.prefix;
  return `${folder}lost-layer-${runId}/`;
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
  ...ON_A_SERVER,
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
      hostGateway: isLoopbackUrl(endpointUrl),
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
    ];
    return serverSpecs('s3', attributes, settings, { kind: 's3', ...at });
  },
};
