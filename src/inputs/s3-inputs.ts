import { inputText, type InputName, type RawInputs } from './input-table.js';
import { boolean, cacheServerUrl, InputError } from './validators.js';
import { isLoopbackUrl } from '../backends/backends.js';
import type { CacheType, S3Settings } from '../backends/backends.js';

/** The inputs of cache-type s3, each read only there. */
export const S3_INPUTS = [
  'cache-s3-bucket',
  'cache-s3-region',
  'cache-s3-endpoint-url',
  'cache-s3-use-path-style',
  'cache-s3-prefix',
  'cache-s3-name',
  'cache-s3-access-key-id',
  'cache-s3-secret-access-key',
  'cache-s3-session-token',
] as const satisfies readonly InputName[];

/** The environment variables AWS's own tools (and aws-actions/configure-aws-credentials) set. */
const FROM_ENVIRONMENT: Partial<Record<(typeof S3_INPUTS)[number], readonly string[]>> = {
  'cache-s3-region': ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  'cache-s3-access-key-id': ['AWS_ACCESS_KEY_ID'],
  'cache-s3-secret-access-key': ['AWS_SECRET_ACCESS_KEY'],
  'cache-s3-session-token': ['AWS_SESSION_TOKEN'],
};

// S3's bucket naming rules (lowercase, digits, dots and hyphens, 3 to 63).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Key characters S3 calls safe; no comma or '=', which would split BuildKit's attribute list.
const KEY_PART = /^[A-Za-z0-9!_.*'()/-]+$/;

/** An input, else the first of its environment variables that is set. */
function inputOrEnvironment(raw: RawInputs, environment: RawInputs, name: (typeof S3_INPUTS)[number]) {
  const given = inputText(raw, name);
  if (given) return given;
  for (const variable of FROM_ENVIRONMENT[name] ?? []) {
    const value = (environment[variable] ?? '').trim();
    if (value) return value;
  }
  return '';
}

function required(raw: RawInputs, environment: RawInputs, name: (typeof S3_INPUTS)[number]): string {
  const value = inputOrEnvironment(raw, environment, name);
  if (value) return value;
  const variables = FROM_ENVIRONMENT[name];
  throw new InputError(
    name,
    `is required with cache-type: s3${variables ? ` (or set ${variables.join(' or ')})` : ''}`,
  );
}

/**
 * The bucket settings of cache-type s3; undefined for any other type, which takes none of them. An http
 * endpoint is allowed on loopback only (a server beside the runner, such as a service container), and
 * then buildkitd reaches it as this host, which only a path-style address can name.
 */
export function s3Inputs(
  raw: RawInputs,
  environment: RawInputs,
  cacheType: CacheType,
  createCache: boolean,
): S3Settings | undefined {
  if (cacheType !== 's3') {
    const given = S3_INPUTS.find((name) => inputText(raw, name) !== '');
    if (given) throw new InputError(given, 'is used with cache-type: s3 only');
    return undefined;
  }
  const bucket = required(raw, environment, 'cache-s3-bucket');
  if (!BUCKET.test(bucket)) {
    throw new InputError('cache-s3-bucket', `"${bucket}" is not an S3 bucket name (3-63 of a-z 0-9 . -)`);
  }
  const region = required(raw, environment, 'cache-s3-region');
  if (!/^[a-z0-9-]+$/.test(region)) throw new InputError('cache-s3-region', `"${region}" is not a region`);
  const endpointText = inputText(raw, 'cache-s3-endpoint-url');
  const endpointUrl = endpointText
    ? cacheServerUrl('cache-s3-endpoint-url', endpointText, { path: 'none' })
    : '';
  const usePathStyle = boolean(
    'cache-s3-use-path-style',
    inputText(raw, 'cache-s3-use-path-style') || 'false',
  );
  if (isLoopbackUrl(endpointUrl) && !usePathStyle) {
    throw new InputError(
      'cache-s3-use-path-style',
      'must be true with an endpoint on loopback: buildkitd reaches it as this host, and a bucket-named host cannot be',
    );
  }
  const prefixText = keyPart(raw, 'cache-s3-prefix');
  // BuildKit joins S3 keys as they are (prefix + manifests/ + name): the prefix is taken verbatim.
  const prefix = prefixText;
  const nameText = keyPart(raw, 'cache-s3-name');
  if (nameText && createCache) {
    throw new InputError(
      'cache-s3-name',
      'names a cache made earlier, read with create-cache false; the run names its own',
    );
  }
  return {
    bucket,
    region,
    endpointUrl,
    usePathStyle,
    prefix,
    name: nameText || 'buildkit',
    credentials: {
      accessKeyId: required(raw, environment, 'cache-s3-access-key-id'),
      secretAccessKey: required(raw, environment, 'cache-s3-secret-access-key'),
      sessionToken: inputOrEnvironment(raw, environment, 'cache-s3-session-token'),
    },
  };
}

/** A part of an S3 key, as given ('' when not). */
function keyPart(raw: RawInputs, name: 'cache-s3-prefix' | 'cache-s3-name'): string {
  const text = inputText(raw, name);
  if (text && !KEY_PART.test(text)) {
    throw new InputError(name, `"${text}" has characters an S3 key or BuildKit's attributes do not take`);
  }
  return text;
}
