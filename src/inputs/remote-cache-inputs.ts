import type { InputEntry } from './input-entry.js';

/** The inputs of the caches on a server of the user's (s3) or the job's (gha), in action.yml's order. */
export const REMOTE_CACHE_INPUTS = [
  {
    name: 'cache-ref',
    default: '',
    setting: 'registryCache',
    usage: 'with create-cache false: a registry cache a pipeline made, REGISTRY/REPO:TAG',
  },
  {
    name: 'cache-username',
    default: '',
    setting: 'registryCache',
    usage: "cache-ref's registry login (default: the runner's Docker login)",
  },
  {
    name: 'cache-password',
    default: '',
    setting: 'registryCache',
    usage: "cache-ref's registry password or token, masked",
  },
  {
    name: 'cache-s3-bucket',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3: the bucket (BuildKit v0.11+)',
  },
  {
    name: 'cache-s3-region',
    default: '',
    setting: 's3',
    usage: "with cache-type s3: the bucket's region (default: AWS_REGION)",
  },
  {
    name: 'cache-s3-endpoint-url',
    default: '',
    setting: 's3',
    usage: "with cache-type s3: an S3-compatible server's https URL, or http on loopback (default: AWS)",
  },
  {
    name: 'cache-s3-use-path-style',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3: true for bucket-in-path addresses (needed on loopback)',
  },
  {
    name: 'cache-s3-prefix',
    default: '',
    setting: 's3',
    usage: "with cache-type s3: key prefix; the run's cache goes below it and is removed",
  },
  {
    name: 'cache-s3-name',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3 and create-cache false: the cache to check (default: buildkit)',
  },
  {
    name: 'cache-s3-access-key-id',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3: access key (default: AWS_ACCESS_KEY_ID)',
  },
  {
    name: 'cache-s3-secret-access-key',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3: secret key, masked (default: AWS_SECRET_ACCESS_KEY)',
  },
  {
    name: 'cache-s3-session-token',
    default: '',
    setting: 's3',
    usage: 'with cache-type s3: session token, masked (default: AWS_SESSION_TOKEN)',
  },
  {
    name: 'cache-gha-scope',
    default: '',
    setting: 'gha',
    usage: 'with cache-type gha and create-cache false: the scope to check (default: buildkit)',
  },
  {
    name: 'cache-azblob-account-url',
    default: '',
    setting: 'azblob',
    usage: 'with cache-type azblob: the account URL (BuildKit v0.11+; a path-style one, v0.12+)',
  },
  {
    name: 'cache-azblob-account-name',
    default: '',
    setting: 'azblob',
    usage: 'with cache-type azblob: the account (default: from the URL)',
  },
  {
    name: 'cache-azblob-secret-access-key',
    default: '',
    setting: 'azblob',
    usage: 'with cache-type azblob: the account key, masked (default: AZURE_STORAGE_KEY)',
  },
  {
    name: 'cache-azblob-container',
    default: '',
    setting: 'azblob',
    usage: 'with cache-type azblob: the container (default: buildkit-cache)',
  },
  {
    name: 'cache-azblob-prefix',
    default: '',
    setting: 'azblob',
    usage: "with cache-type azblob: blob-name prefix; the run's cache goes below it and is removed",
  },
  {
    name: 'cache-azblob-name',
    default: '',
    setting: 'azblob',
    usage: 'with cache-type azblob and create-cache false: the cache to check (default: buildkit)',
  },
] as const satisfies readonly InputEntry[];
