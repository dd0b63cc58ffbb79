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
import { type S3Credentials, type S3Place, S3Store } from '../stores/s3-store.js';

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
  /** They travel to buildkitd in its environment, never on a command line. */
  credentials: S3Credentials;
}

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

/** BuildKit joins S3 keys as they are: prefix + manifests/ + name; the manifest is the cache config. */
const manifestKey = (at: Pick<S3Place, 'prefix' | 'name'>) => `${at.prefix}manifests/${at.name}`;

// S3's bucket naming rules (lowercase, digits, dots and hyphens, 3 to 63).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Key characters S3 calls safe; no comma or '=', which would split BuildKit's attribute list.
const KEY_PART = /^[A-Za-z0-9!_.*'()/-]+$/;

/**
 * The bucket's inputs, the credentials as AWS's own tools (and aws-actions/configure-aws-credentials) set
 * them. An http endpoint only on loopback (a server beside the runner), which buildkitd reaches as this
 * host: only a path-style address can name it.
 */
const s3Inputs: BackendInputs<S3Settings> = {
  entries: [
    { name: 'cache-s3-bucket', usage: 'with cache-type s3: the bucket (BuildKit v0.11+)' },
    {
      name: 'cache-s3-region',
      usage: "with cache-type s3: the bucket's region (default: AWS_REGION)",
      environment: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    },
    {
      name: 'cache-s3-endpoint-url',
      usage: "with cache-type s3: an S3-compatible server's https URL, or http on loopback (default: AWS)",
    },
    {
      name: 'cache-s3-use-path-style',
      usage: 'with cache-type s3: true for bucket-in-path addresses (needed on loopback)',
    },
    {
      name: 'cache-s3-prefix',
      usage: "with cache-type s3: key prefix; the run's cache goes below it and is removed",
    },
    {
      name: 'cache-s3-name',
      usage: 'with cache-type s3 and create-cache false: the cache to check (default: buildkit)',
    },
    {
      name: 'cache-s3-access-key-id',
      usage: 'with cache-type s3: access key (default: AWS_ACCESS_KEY_ID)',
      environment: ['AWS_ACCESS_KEY_ID'],
    },
    {
      name: 'cache-s3-secret-access-key',
      usage: 'with cache-type s3: secret key, masked (default: AWS_SECRET_ACCESS_KEY)',
      environment: ['AWS_SECRET_ACCESS_KEY'],
    },
    {
      name: 'cache-s3-session-token',
      usage: 'with cache-type s3: session token, masked (default: AWS_SESSION_TOKEN)',
      environment: ['AWS_SESSION_TOKEN'],
    },
  ],
  read: (given, createCache) => {
    const bucket = given.required('cache-s3-bucket');
    if (!BUCKET.test(bucket))
      given.fail('cache-s3-bucket', `"${bucket}" is not an S3 bucket name (3-63 of a-z 0-9 . -)`);
    const region = given.required('cache-s3-region');
    if (!/^[a-z0-9-]+$/.test(region)) given.fail('cache-s3-region', `"${region}" is not a region`);
    const endpointText = given.text('cache-s3-endpoint-url');
    const endpointUrl = endpointText
      ? given.serverUrl('cache-s3-endpoint-url', endpointText, { path: 'none' })
      : '';
    const usePathStyle = given.boolean('cache-s3-use-path-style', false);
    if (isLoopbackUrl(endpointUrl) && !usePathStyle)
      given.fail(
        'cache-s3-use-path-style',
        'must be true with an endpoint on loopback: buildkitd reaches it as this host, and a bucket-named host cannot be',
      );
    const prefix = namePart(given, 'cache-s3-prefix', KEY_PART, 'an S3 key');
    const name = pipelineCacheName(given, 'cache-s3-name', KEY_PART, 'an S3 key', createCache);
    const credentials = {
      accessKeyId: given.required('cache-s3-access-key-id'),
      secretAccessKey: given.required('cache-s3-secret-access-key'),
      sessionToken: given.text('cache-s3-session-token'),
    };
    return { bucket, region, endpointUrl, usePathStyle, prefix, name: name || 'buildkit', credentials };
  },
};

/** The bucket as this process reads and cleans it (the keys in its memory only). */
const s3Server: CacheServer<S3Settings> = {
  problem: async (s3, createCache) => {
    const store = new S3Store(s3);
    const problem = await store.problem(s3.prefix);
    if (problem) return `the S3 bucket does not answer: ${problem}`;
    const key = manifestKey(s3);
    if (!createCache && !(await store.get(key)))
      return `create-cache is false and s3://${s3.bucket}/${key} holds no cache`;
    return undefined;
  },
  describeRun: (s3, runId) => `every key below s3://${s3.bucket}/${s3RunPrefix(s3, runId)}`,
  removeRun: async (s3, runId) => {
    const left = await new S3Store(s3).removeAll(s3RunPrefix(s3, runId));
    return left.map((key) => `s3://${s3.bucket}/${key}`);
  },
};

/** The cache as objects in an S3 bucket (mode=max by default), BuildKit v0.11+. */
export const s3Backend: CacheBackend<S3Settings> = {
  usage: 'an S3 bucket (cache-s3-*), mode=max; the run writes below a prefix of its own and removes it',
  since: 'v0.11.0',
  inputs: s3Inputs,
  ...ON_A_SERVER,
  secrets: ({ credentials }) =>
    [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken].filter(Boolean),
  daemonAccess: ({ credentials, endpointUrl }) => ({
    secretEnv: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    },
    hostGateway: isLoopbackUrl(endpointUrl),
  }),
  specs: (settings, place) => {
    const at = s3Place(settings.own, settings.createCache, place);
    const attributes = [
      `bucket=${at.bucket}`,
      `region=${at.region}`,
      ...(at.endpointUrl ? [`endpoint_url=${daemonEndpoint(at.endpointUrl)}`] : []),
      ...(at.usePathStyle ? ['use_path_style=true'] : []),
      ...(at.prefix ? [`prefix=${at.prefix}`] : []),
      `name=${at.name}`,
    ];
    return serverSpecs('s3', attributes, settings, {
      kind: 'server',
      where: `s3://${at.bucket}/${manifestKey(at)}`,
      readConfig: () => new S3Store(at).get(manifestKey(at)),
    });
  },
  server: s3Server,
};
