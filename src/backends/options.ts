/*
 * The options that change what a cache export writes (BuildKit's --export-cache attributes), each with its
 * input, its values and the oldest release that reads it (read from BuildKit's cache/remotecache and control
 * packages at each release: compression from v0.10, ignore-error from v0.11, image-manifest from v0.12).
 */

export interface CacheOptionSpec {
  input: string;
  /** The --export-cache attribute. */
  attribute: string;
  /** The words it takes. */
  values: readonly string[];
  since: string;
  /** The oldest release that can import a cache exported with this value, when older ones cannot. */
  importerSince?: (value: string) => string | undefined;
}

const BOOLEAN = ['true', 'false'] as const;

export const CACHE_OPTIONS = {
  mode: { input: 'cache-mode', attribute: 'mode', values: ['min', 'max'], since: 'v0.4.0' },
  compression: {
    input: 'cache-compression',
    attribute: 'compression',
    values: ['gzip', 'zstd', 'uncompressed'],
    since: 'v0.10.0',
    // v0.9.x has no zstd decompressor at all.
    importerSince: (value: string) => (value === 'zstd' ? 'v0.10.0' : undefined),
  },
  forceCompression: {
    input: 'cache-force-compression',
    attribute: 'force-compression',
    values: BOOLEAN,
    since: 'v0.10.0',
  },
  ociMediatypes: {
    input: 'cache-oci-mediatypes',
    attribute: 'oci-mediatypes',
    values: BOOLEAN,
    since: 'v0.8.0',
  },
  imageManifest: {
    input: 'cache-image-manifest',
    attribute: 'image-manifest',
    values: BOOLEAN,
    since: 'v0.12.0',
    // v0.11 reads such a cache as an index with no entries, and builds without it.
    importerSince: (value: string) => (value === 'true' ? 'v0.12.0' : undefined),
  },
  ignoreError: { input: 'cache-ignore-error', attribute: 'ignore-error', values: BOOLEAN, since: 'v0.11.0' },
} as const satisfies Record<string, CacheOptionSpec>;

export type CacheOptionName = keyof typeof CACHE_OPTIONS;
export const CACHE_OPTION_NAMES = Object.keys(CACHE_OPTIONS) as readonly CacheOptionName[];

/** The options a run gives, by name: only those the user set (BuildKit's or the backend's default otherwise). */
export type CacheOptions = Partial<Record<CacheOptionName, string>>;

/** ",attr=value" for each option given, in the table's order, the backend's mode when none is. */
export function exportAttributes(options: CacheOptions, defaultMode: string | undefined): string {
  const given: CacheOptions = { ...(defaultMode ? { mode: defaultMode } : {}), ...options };
  return CACHE_OPTION_NAMES.filter((name) => given[name] !== undefined)
    .map((name) => `,${CACHE_OPTIONS[name].attribute}=${given[name] ?? ''}`)
    .join('');
}
