/*
 * A cache backend: where BuildKit exports the cache and imports it from. Each backend is one file of this
 * folder and one entry of CACHE_BACKENDS (backends.ts): its inputs and their checks, its attributes, the
 * releases that have it, and, for a cache on a server outside the run, that server's set-up check, cleanup
 * and cache config (through stores/, which speak each server's protocol). All but the server part is pure,
 * so that the inputs check a run's settings against it before anything starts.
 */

import { type CacheOptionName, type CacheOptions, exportAttributes } from './options.js';

/** Where a run's caches go, known once its services are up. */
export interface CachePlace {
  /** The run's cache registry as buildkitd reaches it (host:port). */
  registryHost: string;
  /** The same registry as this process reaches it, to read the cache back. */
  registryAddress: string;
  /** The run's folder (or a candidate's, in the minimizer). */
  dir: string;
  /** Tells one cache of the run from another: the minimizer makes one per candidate. */
  tag: string;
  /** The run's id: a cache outside the run's containers goes below a name made from it. */
  runId: string;
}

/** Where an exported cache can be read, for its cache config (the cause). */
export type CacheLocation =
  | { kind: 'local'; dir: string }
  | {
      kind: 'registry';
      address: string;
      repository: string;
      tag: string;
      /** http for the run's registries and one on loopback; https for a user's registry. */
      scheme?: 'http' | 'https';
      /** Given with cache-ref: the reader logs in as buildctl does. */
      credentials?: { username: string; password: string };
    }
  /** An image whose config carries the cache (moby.buildkit.cache.v0). */
  | { kind: 'inline'; address: string; repository: string; tag: string }
  /** A cache on a server whose manifest is the cache config itself (s3, azblob, gha's index entry). */
  | ServerCacheLocation;

export interface ServerCacheLocation {
  kind: 'server';
  /** Where it is, as a person finds it; no credential. */
  where: string;
  /** The cache config's bytes; undefined when no cache is there. */
  readConfig(): Promise<Buffer | undefined>;
}

export interface CacheSpecs {
  /** The --export-cache value of the build that makes the cache. */
  export: string;
  /** The --import-cache value of every attempt. */
  import: string;
  /**
   * The image that build pushes, when the cache travels inside it (inline): the cache build outputs this
   * image instead of the reference, which a second build on the same daemon writes.
   */
  pushedImage?: string;
  location: CacheLocation;
}

/** The settings a backend reads: those every backend shares, and its own (`Own`: none for most). */
export interface BackendSettings<Own = unknown> {
  /** A folder that keeps the cache after the run ('' : none). */
  cacheDir: string;
  createCache: boolean;
  /** The export options the user gave (cache-mode, cache-compression…). */
  cacheOptions: CacheOptions;
  /** The backend's own settings, from its own inputs (a bucket, a token, cache-ref). */
  own: Own;
}

/** One input of a backend's own, named cache-<backend>-… (or cache-ref…), empty by default. */
export interface BackendInput {
  name: string;
  usage: string;
  /** Variables read when the input is empty, first set wins (AWS_REGION…), as the vendor's tools do. */
  environment?: readonly string[];
}

/** The inputs as a backend reads them; the inputs part implements it, so backends need nothing of it. */
export interface GivenInputs {
  /** The input as given, trimmed, else its first environment variable that is set; '' when neither. */
  text(name: string): string;
  /** As text, but an input error when neither is given. */
  required(name: string): string;
  /** A variable of the step's environment, trimmed ('' when unset). */
  variable(name: string): string;
  /** true/false (also yes/no, on/off, 1/0), else an input error; an empty input is `fallback`. */
  boolean(name: string, fallback: boolean): boolean;
  /** The URL of a cache's server: https, or http on loopback; `path` says whether it may have one. */
  serverUrl(name: string, text: string, options: { path: 'none' | 'allowed' }): string;
  /** Stops the parse with an input error naming `name`. */
  fail(name: string, reason: string): never;
}

/**
 * A part of an object's name (a prefix, a cache's name) as given, '' when not: the characters `pattern`
 * allows, and never a comma or '=', which would split BuildKit's attribute list.
 */
export function namePart(given: GivenInputs, input: string, pattern: RegExp, what: string): string {
  const text = given.text(input);
  if (text && !pattern.test(text))
    given.fail(input, `"${text}" has characters ${what} or BuildKit's attributes do not take`);
  return text;
}

/** The name of a cache a pipeline made: read with create-cache false only, the run names its own. */
export function pipelineCacheName(
  given: GivenInputs,
  input: string,
  pattern: RegExp,
  what: string,
  createCache: boolean,
): string {
  const name = namePart(given, input, pattern, what);
  if (name && createCache)
    given.fail(input, 'names a cache made earlier, read with create-cache false; the run names its own');
  return name;
}

/** A backend's own inputs and how they become its settings. */
export interface BackendInputs<Own> {
  /** In action.yml's order; each is read only with this backend's cache-type, refused with another. */
  entries: readonly BackendInput[];
  read(given: GivenInputs, createCache: boolean): Own;
}

/** The part of a backend whose cache is on a server outside the run's containers. */
export interface CacheServer<Own> {
  /** Why the server cannot be used (it does not answer, a pipeline's cache is not there); undefined: it can. */
  problem(own: Own, createCache: boolean): Promise<string | undefined>;
  /** Where the run's part is, for a person to remove it by hand. */
  describeRun(own: Own, runId: string): string;
  /** Removes what the run wrote there; returns what is left, named for a warning. */
  removeRun(own: Own, runId: string): Promise<string[]>;
}

/** What buildkitd needs to reach a cache outside the run's containers. */
export interface DaemonAccess {
  /** Variables of the daemon's environment, passed by name so that no value is on a command line. */
  secretEnv: Record<string, string>;
  /** The cache's server is on this host's loopback: the daemon reaches it as host.docker.internal. */
  hostGateway: boolean;
  /** Registries (host:port as the daemon names them) it reaches in plain http. */
  plainHttpRegistries?: string[];
  /** A registry login buildctl hands to the daemon (through a Docker config of the run's, not arguments). */
  registryLogin?: { host: string; username: string; password: string };
  /** Registry names as buildkitd gives them → as the runner's Docker login knows them (a loopback registry). */
  registryAliases?: Record<string, string>;
}

/** A setting this backend cannot take: the input to name and why. */
export interface BackendProblem {
  input: string;
  reason: string;
}

// Methods, not function properties: a backend of its own settings stands in the map of all of them.
export interface CacheBackend<Own = undefined> {
  /** What the word means, in the input's usage and the README. */
  usage: string;
  /** The oldest BuildKit release whose exporter and importer have this backend. */
  since: string;
  /** Its own inputs; none: it takes none. */
  inputs?: BackendInputs<Own>;
  /** A newer release these settings need, and what needs it (gha's v2 API). */
  releaseNeed?(own: Own): { since: string; what: string } | undefined;
  /** Values in its attributes or settings that no log, report or summary may show. */
  secrets?(own: Own): string[];
  /** The export options it takes; any other given is an input error. */
  options: readonly CacheOptionName[];
  /** The modes it exports, the first its default. */
  modes: readonly ['min' | 'max', ...('min' | 'max')[]];
  /** Settings this backend cannot take (checked with the other inputs, before anything starts). */
  problem(settings: BackendSettings<Own>): BackendProblem | undefined;
  /** The folder holding a cache that outlives the run, made earlier or kept for later; undefined: none. */
  keptDir(settings: Pick<BackendSettings, 'cacheDir'>): string | undefined;
  /** Paths of the run's folder the cache takes, removed with the run (a kept cache-dir is not one). */
  runPaths(settings: Pick<BackendSettings, 'cacheDir'>, place: Pick<CachePlace, 'dir'>): string[];
  /** What the daemons need to reach the cache; undefined: nothing beyond the run's network. */
  daemonAccess?(own: Own): DaemonAccess | undefined;
  specs(settings: BackendSettings<Own>, place: CachePlace): CacheSpecs;
  /** Its server, checked before the cache build and cleaned after the run; none: the cache is in the run. */
  server?: CacheServer<Own>;
}

/** The repository the run's own registry keeps caches in. */
export const CACHE_REPOSITORY = 'lost-layer/cache';

/** Why create-cache false needs another backend: the run's registry goes with the run. */
export const CACHE_OUTLIVING_A_RUN =
  "false needs a cache that outlives a run, and the run's registry goes with it: give cache-ref (a registry cache a pipeline made), or cache-type local with a cache-dir, s3 or gha";

/** What the backends that keep their cache in the run's registry share: it goes with the run. */
export const IN_THE_RUN_REGISTRY = {
  problem: (settings: Pick<BackendSettings, 'createCache'>): BackendProblem | undefined =>
    settings.createCache ? undefined : { input: 'create-cache', reason: CACHE_OUTLIVING_A_RUN },
  keptDir: (): string | undefined => undefined,
  runPaths: (): string[] => [],
} satisfies Partial<CacheBackend<unknown>>;

/** The image reference of this run's cache in its registry, and where this process reads it. */
export function runRegistryCache(place: CachePlace) {
  return {
    ref: `${place.registryHost}/${CACHE_REPOSITORY}:${place.tag}`,
    at: { address: place.registryAddress, repository: CACHE_REPOSITORY, tag: place.tag },
  };
}

/**
 * What the backends on a server outside the run share: options read from the cache's server, not BuildKit's
 * layer settings; ignore-error refused, since a failed export to the run's own place would leave nothing
 * there, and attempts that import nothing equal the reference; nothing in the run's folder.
 */
export const ON_A_SERVER = {
  options: ['mode', 'ignoreError'],
  modes: ['max', 'min'],
  problem: (settings: Pick<BackendSettings, 'cacheOptions'>): BackendProblem | undefined =>
    settings.cacheOptions.ignoreError === 'true'
      ? {
          input: 'cache-ignore-error',
          reason: 'true could hide a failed export: the attempts would then import no cache at all',
        }
      : undefined,
  keptDir: (): string | undefined => undefined,
  runPaths: (): string[] => [],
} satisfies Partial<CacheBackend<unknown>>;

/**
 * The export and import values of a cache on a server: the same attributes both ways, the export options on
 * the export only, and no export at all for a pipeline's cache (create-cache false), which is only read.
 */
export function serverSpecs(
  type: string,
  attributes: readonly string[],
  settings: Pick<BackendSettings, 'createCache' | 'cacheOptions'>,
  location: CacheLocation,
): CacheSpecs {
  const spec = `type=${type},${attributes.join(',')}`;
  return {
    export: settings.createCache ? `${spec}${exportAttributes(settings.cacheOptions, 'max')}` : '',
    import: spec,
    location,
  };
}
