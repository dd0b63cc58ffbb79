import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { buildkitdToml } from './buildkitd-config.js';
import { containerOptions } from './container-options.js';
import { DEFAULT_FAIL_ON, type InputName, inputText, type RawInputs } from './input-table.js';
import { cacheInputs } from './cache-inputs.js';
import { fuzzInputs } from './fuzz-inputs.js';
import { DIFFERENCE_CLASSES, type DifferenceClass } from '../model/classes.js';
import {
  archivePath,
  boolean,
  dockerHubPath,
  httpUrl,
  imageReference,
  InputError,
  integer,
  list,
  mustExist,
  oneOf,
  probability,
  releaseVersion,
  resolveInside,
  sha256Input,
  shellWords,
  versionFromImageTag,
} from './validators.js';
import {
  MAX_PARALLEL,
  type MirrorImage,
  OUTPUT_TYPES,
  type PathContext,
  RESET_MODES,
  type Settings,
} from './settings-types.js';

export * from './settings-types.js';
export { versionFromImageTag } from './validators.js';

/** buildctl for images whose tag names no release (latest, master, a digest). */
export const PINNED_BUILDCTL_VERSION = 'v0.9.1';
const MAX_RETRIES = 10_000;

/**
 * The classes that fail the step. fail-on-reproduce, the input fail-on replaced, still works alone: false
 * was "a finding does not fail the step", which is fail-on none now.
 */
function failOn(raw: RawInputs): DifferenceClass[] {
  const text = inputText(raw, 'fail-on');
  const old = inputText(raw, 'fail-on-reproduce');
  if (old !== '') {
    if (text !== DEFAULT_FAIL_ON) {
      throw new InputError('fail-on-reproduce', 'is replaced by fail-on: give fail-on only');
    }
    return boolean('fail-on-reproduce', old) ? [...DIFFERENCE_CLASSES] : [];
  }
  if (text === 'none') return [];
  const words = list(text);
  if (words.length === 0) throw new InputError('fail-on', 'give one or more classes, or none');
  return [...new Set(words.map((word) => oneOf('fail-on', word, DIFFERENCE_CLASSES)))];
}

/** Parses and checks every input; the first bad one throws an InputError naming it, before anything starts. */
export function parseSettings(raw: RawInputs, paths: PathContext, environment: RawInputs = {}): Settings {
  const buildkit = buildkitInputs(raw);
  const attempts = attemptInputs(raw);
  const cache = cacheInputs(raw, workspacePath(raw, 'cache-dir', paths) ?? '', buildkit, environment);
  const build = buildInputs(raw, paths, attempts.runAttempts);
  if (!cache.createCache && (build.cacheContext || build.cacheDockerfile)) {
    throw new InputError(
      inputText(raw, 'cache-dockerfile') ? 'cache-dockerfile' : 'cache-context',
      'says what the run makes its cache from, and create-cache false makes none',
    );
  }
  const fuzz = fuzzInputs(raw, { ...buildkit, ...cache });
  return {
    fuzz,
    ...buildkit,
    ...attempts,
    ...cache,
    ...build,
    ...registryInputs(raw),
    ...daemonInputs(raw, paths),
  };
}

type Part<K extends keyof Settings> = Pick<Settings, K>;

/** The images and the buildctl that talks to their daemons. */
function buildkitInputs(
  raw: RawInputs,
): Part<
  | 'buildkitImage'
  | 'cacheBuildkitImage'
  | 'buildctlVersion'
  | 'buildctlUrl'
  | 'buildctlSha256'
  | 'cacheBinary'
  | 'githubToken'
> {
  const buildkitImage = imageReference('buildkit-image', inputText(raw, 'buildkit-image'));
  const cacheBuildkitImage = imageReference(
    'cache-buildkit-image',
    inputText(raw, 'cache-buildkit-image') || buildkitImage,
  );
  const buildctlVersion = releaseVersion(
    'buildctl-version',
    inputText(raw, 'buildctl-version') || versionFromImageTag(buildkitImage) || PINNED_BUILDCTL_VERSION,
  );
  const buildctlUrl = inputText(raw, 'buildctl-url');
  if (!buildctlUrl.includes('{version}')) throw new InputError('buildctl-url', 'must contain {version}');
  httpUrl('buildctl-url', expandUrl(buildctlUrl, buildctlVersion, 'amd64'), { plainHttp: 'loopback' });
  return {
    buildkitImage,
    cacheBuildkitImage,
    buildctlVersion,
    buildctlUrl,
    buildctlSha256: sha256Input('buildctl-sha256', inputText(raw, 'buildctl-sha256')),
    cacheBinary: boolean('cache-binary', inputText(raw, 'cache-binary')),
    githubToken: inputText(raw, 'github-token'),
  };
}

/** How many attempts, how they reset, what stops them, how many run at once. */
function attemptInputs(
  raw: RawInputs,
): Part<
  | 'retries'
  | 'cacheResetFrequency'
  | 'cacheResetMode'
  | 'runAttempts'
  | 'keepGoing'
  | 'attemptTimeoutSeconds'
  | 'failOn'
  | 'parallel'
  | 'cleanup'
> {
  const retries = integer('retries', inputText(raw, 'retries'), 1, MAX_RETRIES);
  const cacheResetFrequency = integer(
    'cache-reset-frequency',
    inputText(raw, 'cache-reset-frequency'),
    0,
    MAX_RETRIES,
  );
  if (cacheResetFrequency > retries) {
    throw new InputError(
      'cache-reset-frequency',
      `${cacheResetFrequency} is above retries (${retries}); use 0 to reset only before the first attempt`,
    );
  }
  const parallel = inputText(raw, 'parallel');
  return {
    retries,
    cacheResetFrequency,
    cacheResetMode: oneOf('cache-reset-mode', inputText(raw, 'cache-reset-mode'), RESET_MODES),
    runAttempts: boolean('run-attempts', inputText(raw, 'run-attempts')),
    keepGoing: boolean('keep-going', inputText(raw, 'keep-going')),
    attemptTimeoutSeconds: integer('attempt-timeout', inputText(raw, 'attempt-timeout'), 1, 86_400),
    failOn: failOn(raw),
    parallel: parallel === 'auto' ? 0 : integer('parallel', parallel, 1, MAX_PARALLEL),
    cleanup: boolean('cleanup', inputText(raw, 'cleanup')),
  };
}

/** What is built and what every built image must hold; the minimizer that shrinks it. */
function buildInputs(
  raw: RawInputs,
  paths: PathContext,
  runAttempts: boolean,
): Part<
  | 'context'
  | 'dockerfile'
  | 'cacheContext'
  | 'cacheDockerfile'
  | 'expectPaths'
  | 'outputType'
  | 'minimize'
  | 'minimizeConfidence'
  | 'minimizeTimeoutSeconds'
> {
  const context = workspacePath(raw, 'context', paths) ?? paths.bundledRepro;
  const dockerfile = workspacePath(raw, 'dockerfile', paths) ?? path.join(context, 'Dockerfile');
  mustExist('context', context, 'directory');
  mustExist('dockerfile', dockerfile, 'file');
  const { cacheContext, cacheDockerfile } = cacheSource(raw, paths, { context, dockerfile });
  const expectPaths = list(inputText(raw, 'expect-paths')).map((p) => archivePath('expect-paths', p));
  if (expectPaths.length === 0) throw new InputError('expect-paths', 'needs at least one path');
  const minimize = boolean('minimize', inputText(raw, 'minimize'));
  if (minimize && !runAttempts) {
    throw new InputError('minimize', 'needs run-attempts: true (only attempts can show a lost layer)');
  }
  if (minimize && (cacheContext || cacheDockerfile)) {
    throw new InputError(
      'minimize',
      'shrinks one Dockerfile and context; with cache-dockerfile or cache-context the cache is made from another',
    );
  }
  return {
    context,
    dockerfile,
    cacheContext,
    cacheDockerfile,
    expectPaths,
    outputType: oneOf('output-type', inputText(raw, 'output-type'), OUTPUT_TYPES),
    minimize,
    minimizeConfidence: probability('minimize-confidence', inputText(raw, 'minimize-confidence')),
    minimizeTimeoutSeconds: integer('minimize-timeout', inputText(raw, 'minimize-timeout'), 60, 86_400),
  };
}

/**
 * The version of the inputs the cache is made from, when it is not the one the attempts build: both default
 * to the current ones (a Dockerfile in the cache's context when only cache-context is given); '' each when
 * the cache is made from the current inputs.
 */
function cacheSource(
  raw: RawInputs,
  paths: PathContext,
  current: { context: string; dockerfile: string },
): { cacheContext: string; cacheDockerfile: string } {
  const contextGiven = workspacePath(raw, 'cache-context', paths);
  const dockerfileGiven = workspacePath(raw, 'cache-dockerfile', paths);
  if (!contextGiven && !dockerfileGiven) return { cacheContext: '', cacheDockerfile: '' };
  const context = contextGiven ?? current.context;
  const dockerfile =
    dockerfileGiven ?? (contextGiven ? path.join(contextGiven, 'Dockerfile') : current.dockerfile);
  mustExist('cache-context', context, 'directory');
  mustExist('cache-dockerfile', dockerfile, 'file');
  return { cacheContext: context, cacheDockerfile: dockerfile };
}

/** The cache registry's image, and the Docker Hub mirror: a pull-through, or filled with local images. */
function registryInputs(raw: RawInputs): Part<'registryImage' | 'mirrorUpstream' | 'mirrorImages'> {
  const upstream = inputText(raw, 'mirror-upstream');
  const mirrorUpstream = upstream === 'none' ? '' : upstream;
  // The mirror container fetches from the upstream: 127.0.0.1 there is the mirror itself, so plain http is
  // for an address on a private network (a registry beside the runner, the Docker bridge's gateway).
  if (mirrorUpstream) httpUrl('mirror-upstream', mirrorUpstream, { plainHttp: 'private-network' });
  const mirrorImages = list(inputText(raw, 'mirror-images')).map(mirrorImage);
  if (mirrorUpstream && mirrorImages.length > 0) {
    throw new InputError(
      'mirror-images',
      'a pull-through mirror cannot be filled by hand: set mirror-upstream: none to serve only these images',
    );
  }
  return {
    registryImage: imageReference('registry-image', inputText(raw, 'registry-image')),
    mirrorUpstream,
    mirrorImages,
  };
}

/** How buildkitd is started: flags, its config file, its container's options. */
function daemonInputs(
  raw: RawInputs,
  paths: PathContext,
): Part<'buildkitdFlags' | 'buildkitdConfig' | 'buildkitdContainerOptions'> {
  const options = inputText(raw, 'buildkitd-container-options');
  return {
    buildkitdFlags: shellWords('buildkitd-flags', inputText(raw, 'buildkitd-flags')),
    buildkitdConfig: buildkitdConfig(raw, paths.workspace),
    buildkitdContainerOptions: options
      ? containerOptions(shellWords('buildkitd-container-options', options))
      : undefined,
  };
}

/** A path input resolved inside the workspace; undefined when it was not given. */
function workspacePath(raw: RawInputs, name: InputName, paths: PathContext): string | undefined {
  const text = inputText(raw, name);
  return text ? resolveInside(name, text, paths.workspace) : undefined;
}

/** SOURCE or SOURCE=NAME: a local image served by the mirror as docker.io/NAME. */
function mirrorImage(item: string): MirrorImage {
  const [source = '', target = source, ...rest] = item.split('=');
  if (rest.length > 0) throw new InputError('mirror-images', `"${item}" is not SOURCE or SOURCE=NAME`);
  imageReference('mirror-images', source);
  imageReference('mirror-images', target);
  return { source, target: dockerHubPath(target) };
}

/** The download address for one version and architecture. */
export function expandUrl(template: string, version: string, arch: string): string {
  return template.replaceAll('{version}', version).replaceAll('{arch}', arch);
}

function buildkitdConfig(raw: RawInputs, workspace: string): string {
  const file = inputText(raw, 'buildkitd-config');
  const inline = inputText(raw, 'buildkitd-config-inline');
  if (file && inline) {
    throw new InputError(
      'buildkitd-config-inline',
      'give buildkitd-config or buildkitd-config-inline, not both',
    );
  }
  const input = file ? 'buildkitd-config' : 'buildkitd-config-inline';
  let text = inline;
  if (file) {
    const p = resolveInside(input, file, workspace);
    mustExist(input, p, 'file');
    text = fs.readFileSync(p, 'utf8');
  }
  if (text) {
    try {
      parseToml(text);
    } catch (error) {
      throw new InputError(input, `is not TOML: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      // Valid TOML can still have a shape our registry settings cannot be merged into.
      buildkitdToml(text, { mirror: 'mirror:5000', cache: 'cache:5000' });
    } catch (error) {
      throw new InputError(input, (error as Error).message);
    }
  }
  return text;
}
