export type { InputEntry } from './input-entry.js';
import { BACKEND_INPUTS } from './backend-inputs.js';
import { CACHE_TYPES } from '../backends/backends.js';
import type { InputEntry, RawInputs } from './input-entry.js';

export const DEFAULT_BUILDKIT_IMAGE = 'moby/buildkit:v0.9.0-rootless';
export const DEFAULT_BUILDCTL_URL =
  'https://github.com/moby/buildkit/releases/download/{version}/buildkit-{version}.linux-{arch}.tar.gz';
export const DEFAULT_MIRROR_UPSTREAM = 'https://registry-1.docker.io';
/** An image that is not the reference fails the step, whatever the difference: intact means equal. */
export const DEFAULT_FAIL_ON = 'lost-layer,content-differs,config-differs';

/** The inputs before the backends' own, in action.yml's order. */
const FIRST_INPUTS = [
  {
    name: 'buildkit-image',
    default: DEFAULT_BUILDKIT_IMAGE,
    setting: 'buildkitImage',
    usage: 'BuildKit image whose daemon runs the attempts',
  },
  {
    name: 'cache-buildkit-image',
    default: '',
    setting: 'cacheBuildkitImage',
    usage: 'BuildKit image that makes the cache (default: buildkit-image)',
  },
  {
    name: 'buildctl-version',
    default: '',
    setting: 'buildctlVersion',
    usage: "buildctl release (default: buildkit-image's tag, else v0.9.1)",
  },
  {
    name: 'buildctl-url',
    default: DEFAULT_BUILDCTL_URL,
    setting: 'buildctlUrl',
    usage: 'release tarball address with {version} and {arch}',
  },
  {
    name: 'buildctl-sha256',
    default: '',
    setting: 'buildctlSha256',
    usage: "the tarball's SHA-256 (default: GitHub's release digest)",
  },
  {
    name: 'cache-binary',
    default: 'true',
    setting: 'cacheBinary',
    usage: 'keep buildctl in the tool cache (false: download it every run)',
  },
  {
    name: 'github-token',
    default: '',
    actionDefault: '${{ github.token }}',
    setting: 'githubToken',
    usage: 'token for the download from github.com',
  },
  { name: 'retries', default: '20', setting: 'retries', usage: 'attempts to run' },
  {
    name: 'cache-reset-frequency',
    default: '4',
    setting: 'cacheResetFrequency',
    usage: 'fresh buildkitd state every N attempts (0: only before the first)',
  },
  {
    name: 'cache-reset-mode',
    default: 'prune',
    setting: 'cacheResetMode',
    usage: 'prune or restart',
  },
  {
    name: 'cache-type',
    default: 'registry',
    setting: 'cacheType',
    usage: `${CACHE_TYPES.slice(0, -1).join(', ')} or ${CACHE_TYPES.at(-1) ?? ''}`,
  },
  {
    name: 'cache-dir',
    default: '',
    setting: 'cacheDir',
    usage: 'with cache-type local, a folder that keeps the cache',
  },
  {
    name: 'create-cache',
    default: 'true',
    setting: 'createCache',
    usage: 'build once and export the cache',
  },
  {
    name: 'cache-mode',
    default: '',
    setting: 'cacheOptions',
    usage: "min or max (default: the backend's, max; inline exports min only)",
  },
  {
    name: 'cache-compression',
    default: '',
    setting: 'cacheOptions',
    usage: "the cache's layers: gzip, zstd or uncompressed (BuildKit v0.10+)",
  },
  {
    name: 'cache-force-compression',
    default: '',
    setting: 'cacheOptions',
    usage: 'true: compress every layer so, existing ones too (BuildKit v0.10+)',
  },
  {
    name: 'cache-oci-mediatypes',
    default: '',
    setting: 'cacheOptions',
    usage: 'true or false: OCI media types in the cache manifest (BuildKit v0.8+)',
  },
  {
    name: 'cache-image-manifest',
    default: '',
    setting: 'cacheOptions',
    usage: 'true: the cache as an OCI image manifest, not an index (BuildKit v0.12+)',
  },
  {
    name: 'cache-ignore-error',
    default: '',
    setting: 'cacheOptions',
    usage: 'true: a failed cache export does not fail the build (BuildKit v0.11+)',
  },
] as const satisfies readonly InputEntry[];

/** The inputs after the backends' own. */
const LAST_INPUTS = [
  { name: 'run-attempts', default: 'true', setting: 'runAttempts', usage: 'run the attempts' },
  { name: 'cleanup', default: 'true', setting: 'cleanup', usage: "remove the run's containers at the end" },
  {
    name: 'dockerfile',
    default: '',
    setting: 'dockerfile',
    usage: 'Dockerfile to build (default: the bundled reproduction)',
  },
  { name: 'context', default: '', setting: 'context', usage: 'build context (default: the bundled one)' },
  {
    name: 'cache-dockerfile',
    default: '',
    setting: 'cacheDockerfile',
    usage: 'the Dockerfile the cache is made from, an earlier version (default: dockerfile)',
  },
  {
    name: 'cache-context',
    default: '',
    setting: 'cacheContext',
    usage: 'the context the cache is made from, an earlier version (default: context)',
  },
  {
    name: 'expect-paths',
    default: 'repro.txt',
    setting: 'expectPaths',
    usage: 'paths every built image must hold',
  },
  {
    name: 'registry-image',
    default: 'registry:2',
    setting: 'registryImage',
    usage: 'image of the cache and mirror registries',
  },
  {
    name: 'mirror-upstream',
    default: DEFAULT_MIRROR_UPSTREAM,
    setting: 'mirrorUpstream',
    usage: "the Docker Hub mirror's upstream, or none",
  },
  {
    name: 'mirror-images',
    default: '',
    setting: 'mirrorImages',
    usage: 'with mirror-upstream none: SOURCE=NAME images to serve',
  },
  {
    name: 'buildkitd-flags',
    default: '',
    setting: 'buildkitdFlags',
    usage: 'extra buildkitd flags',
  },
  {
    name: 'buildkitd-config',
    default: '',
    setting: 'buildkitdConfig',
    usage: 'buildkitd.toml in the workspace',
  },
  {
    name: 'buildkitd-config-inline',
    default: '',
    setting: 'buildkitdConfig',
    usage: 'buildkitd.toml given inline',
  },
  {
    name: 'buildkitd-container-options',
    default: '',
    setting: 'buildkitdContainerOptions',
    usage: "docker run options for buildkitd's container",
  },
  {
    name: 'fail-on',
    default: DEFAULT_FAIL_ON,
    setting: 'failOn',
    usage: 'classes that fail the step (exit 1): lost-layer, content-differs, config-differs, or none',
  },
  {
    name: 'fail-on-reproduce',
    default: '',
    setting: 'failOn',
    usage: 'deprecated: false is fail-on none, true its default',
  },
  { name: 'output-type', default: 'oci', setting: 'outputType', usage: 'oci or tar' },
  {
    name: 'keep-going',
    default: 'false',
    setting: 'keepGoing',
    usage: 'go on after a lost layer or content difference, to measure the rate',
  },
  {
    name: 'attempt-timeout',
    default: '600',
    setting: 'attemptTimeoutSeconds',
    usage: 'seconds one build may take',
  },
  {
    name: 'minimize',
    default: 'false',
    setting: 'minimize',
    usage: 'after a difference, shrink the Dockerfile and context, keeping its class',
  },
  {
    name: 'minimize-confidence',
    default: '0.99',
    setting: 'minimizeConfidence',
    usage: 'chance a candidate with the difference shows it',
  },
  {
    name: 'minimize-timeout',
    default: '1800',
    setting: 'minimizeTimeoutSeconds',
    usage: "the search's seconds",
  },
  {
    name: 'parallel',
    default: 'auto',
    setting: 'parallel',
    usage: 'daemons running attempts at once: auto or 1-16',
  },
  {
    name: 'fuzz',
    default: 'false',
    setting: 'fuzz',
    usage:
      'true: generated Dockerfiles and contexts instead of dockerfile/context, each held to a clean build',
  },
  { name: 'fuzz-seed', default: '1', setting: 'fuzz', usage: 'the seed every case is generated from' },
  {
    name: 'fuzz-cases',
    default: '20',
    setting: 'fuzz',
    usage: 'cases to run (of this shard), each from (seed, case number) alone',
  },
  {
    name: 'fuzz-case',
    default: '',
    setting: 'fuzz',
    usage: 'one case number only, as a finding names it (default: cases from 0)',
  },
  {
    name: 'fuzz-budget',
    default: '0',
    setting: 'fuzz',
    usage: 'seconds after which no new case starts (0: none)',
  },
  {
    name: 'fuzz-shard',
    default: '1/1',
    setting: 'fuzz',
    usage: 'I/N: this job runs the cases whose number is I-1 modulo N, disjoint from the other shards',
  },
  {
    name: 'fuzz-cache-types',
    default: '',
    setting: 'fuzz',
    usage: 'cache-types the cases take turns with (default: cache-type)',
  },
] as const satisfies readonly InputEntry[];

/**
 * The inputs, in action.yml's order: the names, defaults and help of the action and the CLI come from here.
 * The backends' own (cache-s3-bucket…) are declared with their backend and read there.
 */
export const INPUTS: readonly InputEntry[] = [...FIRST_INPUTS, ...BACKEND_INPUTS, ...LAST_INPUTS];

/** The names of the inputs parseSettings reads itself. */
export type InputName = (typeof FIRST_INPUTS)[number]['name'] | (typeof LAST_INPUTS)[number]['name'];

export const INPUT_NAMES: readonly string[] = INPUTS.map((input) => input.name);

export type { RawInputs } from './input-entry.js';

/** An input's text as given, trimmed, or its default when it is missing or empty. */
export function inputText(raw: RawInputs, name: InputName): string {
  return (raw[name] ?? '').trim() || entry(name).default;
}

/**
 * Whether an input says something: given, and not its default. The runner passes every input of
 * action.yml, defaults filled in, so "given" alone cannot tell a choice from a default.
 */
export function inputGiven(raw: RawInputs, name: InputName): boolean {
  const text = (raw[name] ?? '').trim();
  return text !== '' && text !== entry(name).default;
}

function entry(name: InputName): InputEntry {
  const found = INPUTS.find((input) => input.name === name);
  if (!found) throw new Error(`no input ${name}`);
  return found;
}
