import * as semver from 'semver';
import type {
  BackendProblem,
  BackendSettings,
  CacheBackend,
  CacheLocation,
  DaemonAccess,
} from './backend.js';
import { azblobBackend } from './azblob.js';
import { ghaBackend } from './gha.js';
import { inlineBackend } from './inline.js';
import { localBackend } from './local.js';
import { CACHE_OPTION_NAMES, CACHE_OPTIONS, type CacheOptionSpec, type CacheOptions } from './options.js';
import { registryBackend } from './registry.js';
import { s3Backend } from './s3.js';

export * from './backend.js';
export * from './options.js';
export * from './endpoints.js';
export * from './s3.js';
export * from './gha.js';
export * from './azblob.js';
export * from './user-registry.js';

/** Every cache-type word and its behaviour: a new backend is its file and one line here. */
export const CACHE_BACKENDS = {
  registry: registryBackend,
  local: localBackend,
  inline: inlineBackend,
  s3: s3Backend,
  gha: ghaBackend,
  azblob: azblobBackend,
} as const;

export type CacheType = keyof typeof CACHE_BACKENDS;
export const CACHE_TYPES = Object.keys(CACHE_BACKENDS) as readonly CacheType[];

type OwnOf<B> = B extends CacheBackend<infer Own> ? Own : never;

/** The chosen backend's own settings (a bucket, the job's cache service, cache-ref); undefined: none. */
export type CacheSettings = OwnOf<(typeof CACHE_BACKENDS)[CacheType]>;

/**
 * A backend as code that holds any backend's settings calls it. Sound as long as the settings came from the
 * same backend's inputs, which is how parseSettings makes them.
 */
export function cacheBackend(type: CacheType): CacheBackend<CacheSettings> {
  return CACHE_BACKENDS[type] as CacheBackend<CacheSettings>;
}

/** The own settings of backend T. */
export type SettingsOf<T extends CacheType> = OwnOf<(typeof CACHE_BACKENDS)[T]>;

/** The chosen backend and its own settings, as a run's settings hold them. */
export interface ChosenCache {
  cacheType: CacheType;
  cacheSettings: CacheSettings;
}

/** The chosen backend's own settings as backend `type`'s; an error when another backend is chosen. */
export function ownSettings<T extends CacheType>(chosen: ChosenCache, type: T): SettingsOf<T> {
  if (chosen.cacheType !== type) throw new Error(`cache-type ${chosen.cacheType}, not ${type}`);
  return chosen.cacheSettings as SettingsOf<T>;
}

/** The values of the chosen backend's settings that no log, report or summary may show. */
export function cacheSecrets({ cacheType, cacheSettings }: ChosenCache): string[] {
  return (cacheBackend(cacheType).secrets?.(cacheSettings) ?? []).filter((value) => value !== '');
}

/** What the daemons need to reach the chosen cache; undefined: nothing beyond the run's network. */
export function cacheDaemonAccess({ cacheType, cacheSettings }: ChosenCache): DaemonAccess | undefined {
  return cacheBackend(cacheType).daemonAccess?.(cacheSettings);
}

/**
 * The problem of these settings for their backend: cache-dir and the export options first (each belongs to
 * some backends only), then the backend's own.
 */
export function backendProblem(
  cacheType: CacheType,
  settings: BackendSettings<CacheSettings>,
): BackendProblem | undefined {
  const backend = cacheBackend(cacheType);
  if (settings.cacheDir && backend.keptDir(settings) === undefined) {
    return { input: 'cache-dir', reason: `is not used with cache-type: ${cacheType}` };
  }
  for (const name of CACHE_OPTION_NAMES.filter((n) => settings.cacheOptions[n] !== undefined)) {
    if (!settings.createCache) {
      return {
        input: CACHE_OPTIONS[name].input,
        reason: 'changes an export, and create-cache false exports nothing',
      };
    }
    if (!backend.options.includes(name)) {
      return { input: CACHE_OPTIONS[name].input, reason: `is not used with cache-type: ${cacheType}` };
    }
  }
  const { mode, imageManifest, ociMediatypes } = settings.cacheOptions;
  if (mode !== undefined && !(backend.modes as readonly string[]).includes(mode)) {
    return {
      input: 'cache-mode',
      reason: `${mode}: cache-type ${cacheType} exports mode ${backend.modes.join(' or ')}`,
    };
  }
  if (imageManifest === 'true' && ociMediatypes === 'false') {
    return {
      input: 'cache-image-manifest',
      reason: 'true needs cache-oci-mediatypes true (BuildKit refuses the pair)',
    };
  }
  return backend.problem(settings);
}

/**
 * Why a BuildKit release cannot make (`maker`) or import (`importer`) this cache: the backend, or an option
 * given, newer than it. Undefined when it can, or when the release is not a release's version (latest,
 * master, a dev build).
 */
export function releaseProblem(
  cacheType: CacheType,
  release: string,
  options: CacheOptions = {},
  role: 'maker' | 'importer' = 'maker',
  own?: CacheSettings,
): string | undefined {
  // Only a release's own version is held to the table: a dev build says v0.0.0+unknown, others a commit.
  const version = /^v\d+\.\d+\.\d+/.test(release) ? semver.coerce(release) : null;
  if (!version || semver.eq(version, '0.0.0')) return undefined;
  const backend = cacheBackend(cacheType);
  if (semver.lt(version, backend.since))
    return `cache-type ${cacheType} needs BuildKit ${backend.since} or newer; ${release} has none`;
  // Settings not known yet (a daemon's version asked early) need no more than the backend.
  const need = own === undefined ? undefined : backend.releaseNeed?.(own);
  if (need && semver.lt(version, need.since))
    return `cache-type ${cacheType} over ${need.what} needs BuildKit ${need.since} or newer; ${release} speaks an older API`;
  for (const name of CACHE_OPTION_NAMES) {
    const value = options[name];
    if (value === undefined) continue;
    const option: CacheOptionSpec = CACHE_OPTIONS[name];
    const needed = role === 'maker' ? option.since : option.importerSince?.(value);
    if (needed && semver.lt(version, needed)) {
      return role === 'maker'
        ? `${option.input} needs BuildKit ${needed} or newer; ${release} has no ${option.attribute} attribute`
        : `${option.input} ${value} needs an importer of BuildKit ${needed} or newer; ${release} cannot read such a cache`;
    }
  }
  return undefined;
}

/** Where a cache is, as a person finds it: a folder, an image reference, an S3 URL. */
export function describeLocation(location: CacheLocation): string {
  switch (location.kind) {
    case 'local':
      return location.dir;
    case 'server':
      return location.where;
    default:
      return `${location.address}/${location.repository}:${location.tag}`;
  }
}
