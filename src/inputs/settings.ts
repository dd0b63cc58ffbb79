import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseShellWords } from 'shell-quote';
import { parse as parseToml } from 'smol-toml';
import { MAX_PARALLEL } from '../attempts/lanes.js';
import { buildkitdToml } from '../services/buildkitd-config.js';

/** Where the bundled reproduction lives, and where relative paths start from. */
export interface PathContext {
  /** GITHUB_WORKSPACE for the action, the current directory for the CLI. */
  workspace: string;
  /** The seed's Dockerfile and context shipped with this action (fixtures/repro). */
  bundledRepro: string;
}

export type CacheType = 'registry' | 'local';
/** restart: a new buildkitd container and state volume (the seed's reset); prune: `buildctl prune --all`. */
export type ResetMode = 'restart' | 'prune';
/** oci: the image itself, compared layer by layer with the reference; tar: its filesystem, as the seed. */
export type OutputType = 'oci' | 'tar';

export interface MirrorImage {
  /** An image the local Docker engine already has. */
  source: string;
  /** Its name in the mirror, as BuildKit asks Docker Hub for it (library/alpine:latest). */
  target: string;
}

/** Everything a run needs, checked: the engine never reads raw inputs. */
export interface Settings {
  buildkitImage: string;
  cacheBuildkitImage: string;
  buildctlVersion: string;
  buildctlUrl: string;
  /** Expected SHA-256 of the buildctl release tarball ('' : the GitHub release digest, when published). */
  buildctlSha256: string;
  githubToken: string;
  retries: number;
  /** A fresh buildkitd state before attempt 1 and then every N attempts; 0: only before attempt 1. */
  cacheResetFrequency: number;
  cacheType: CacheType;
  /** Local cache folder kept after the run ('' : one in the run's work folder, removed with it). */
  cacheDir: string;
  createCache: boolean;
  runAttempts: boolean;
  cleanup: boolean;
  dockerfile: string;
  context: string;
  expectPaths: string[];
  registryImage: string;
  /** The mirror registry pulls through from here; '' makes it a plain registry filled from mirrorImages. */
  mirrorUpstream: string;
  mirrorImages: MirrorImage[];
  buildkitdFlags: string[];
  /** Contents of buildkitd.toml from buildkitd-config or buildkitd-config-inline ('' when none). */
  buildkitdConfig: string;
  /** `docker run` options for the buildkitd container; undefined: our defaults for the image's kind. */
  buildkitdContainerOptions: string[] | undefined;
  failOnReproduce: boolean;
  outputType: OutputType;
  /** Go on after a lost layer, to measure how often it happens. */
  keepGoing: boolean;
  /** Seconds one build may take (the cache build and each attempt) before it counts as hung. */
  attemptTimeoutSeconds: number;
  /** How a reset empties buildkitd's state. */
  cacheResetMode: ResetMode;
  /** After a lost layer, shrink the Dockerfile and its context to the smallest that still loses one. */
  minimize: boolean;
  /** The chance that a candidate reproducing at the original's rate shows a loss before it is called clean. */
  minimizeConfidence: number;
  /** The search's time budget; the smallest candidate found by then is reported, not proven minimal. */
  minimizeTimeoutSeconds: number;
  /** Daemons that run attempts at the same time; 0: auto (see lanesFor). */
  parallel: number;
}

/** The inputs of action.yml, in its order; the CLI takes the same names as flags. */
export const INPUT_NAMES = [
  'buildkit-image',
  'cache-buildkit-image',
  'buildctl-version',
  'buildctl-url',
  'buildctl-sha256',
  'github-token',
  'retries',
  'cache-reset-frequency',
  'cache-reset-mode',
  'cache-type',
  'cache-dir',
  'create-cache',
  'run-attempts',
  'cleanup',
  'dockerfile',
  'context',
  'expect-paths',
  'registry-image',
  'mirror-upstream',
  'mirror-images',
  'buildkitd-flags',
  'buildkitd-config',
  'buildkitd-config-inline',
  'buildkitd-container-options',
  'fail-on-reproduce',
  'output-type',
  'keep-going',
  'attempt-timeout',
  'minimize',
  'minimize-confidence',
  'minimize-timeout',
  'parallel',
] as const;

/** Inputs by their action.yml names; a missing or empty one takes its default. */
export type RawInputs = Readonly<Record<string, string | undefined>>;

export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`input "${input}": ${message}`);
    this.name = 'InputError';
  }
}

export const DEFAULT_BUILDKIT_IMAGE = 'moby/buildkit:v0.9.0-rootless';
/** buildctl for images whose tag names no release (latest, master, a digest). */
export const PINNED_BUILDCTL_VERSION = 'v0.9.1';
export const DEFAULT_BUILDCTL_URL =
  'https://github.com/moby/buildkit/releases/download/{version}/buildkit-{version}.linux-{arch}.tar.gz';
export const DEFAULT_MIRROR_UPSTREAM = 'https://registry-1.docker.io';
/**
 * The benchmark's reset study (README, "Speed"): pruning loses the layer as often as restarting the daemon
 * (13–16% of attempts either way) at about half the seconds per attempt.
 */
export const DEFAULT_RESET_MODE: ResetMode = 'prune';

const MAX_RETRIES = 10_000;

// A reference as `docker run` takes it: [registry[:port]/]path[:tag][@digest], lower-case path.
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const RELEASE_VERSION = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function parseSettings(raw: RawInputs, paths: PathContext): Settings {
  const value = (name: string): string => (raw[name] ?? '').trim();
  const orDefault = (name: string, fallback: string): string => value(name) || fallback;

  const buildkitImage = imageReference('buildkit-image', orDefault('buildkit-image', DEFAULT_BUILDKIT_IMAGE));
  const cacheBuildkitImage = imageReference(
    'cache-buildkit-image',
    orDefault('cache-buildkit-image', buildkitImage),
  );
  const buildctlVersion =
    value('buildctl-version') || versionFromImageTag(buildkitImage) || PINNED_BUILDCTL_VERSION;
  if (!RELEASE_VERSION.test(buildctlVersion)) {
    throw new InputError('buildctl-version', `"${buildctlVersion}" is not a release tag like v0.9.1`);
  }
  const retries = integer(raw, 'retries', 20, 1, MAX_RETRIES);
  const cacheResetFrequency = integer(raw, 'cache-reset-frequency', 4, 0, MAX_RETRIES);
  if (cacheResetFrequency > retries) {
    throw new InputError(
      'cache-reset-frequency',
      `${cacheResetFrequency} is above retries (${retries}); use 0 to reset only before the first attempt`,
    );
  }
  const cacheType = oneOf('cache-type', orDefault('cache-type', 'registry'), ['registry', 'local'] as const);
  const createCache = boolean(raw, 'create-cache', true);
  const cacheDir = value('cache-dir') ? resolveInside('cache-dir', value('cache-dir'), paths.workspace) : '';
  if (cacheDir && cacheType !== 'local') {
    throw new InputError('cache-dir', 'is only used with cache-type: local');
  }
  if (!createCache && !(cacheType === 'local' && cacheDir)) {
    throw new InputError(
      'create-cache',
      'false needs a cache that outlives a run: set cache-type: local and cache-dir to a cache made earlier',
    );
  }
  if (!createCache && !fs.existsSync(path.join(cacheDir, 'index.json'))) {
    throw new InputError('cache-dir', `${cacheDir} holds no cache (no index.json) and create-cache is false`);
  }

  const context = value('context')
    ? resolveInside('context', value('context'), paths.workspace)
    : paths.bundledRepro;
  const dockerfile = value('dockerfile')
    ? resolveInside('dockerfile', value('dockerfile'), paths.workspace)
    : path.join(value('context') ? context : paths.bundledRepro, 'Dockerfile');
  mustExist('context', context, 'directory');
  mustExist('dockerfile', dockerfile, 'file');

  const expectPaths = list(raw, 'expect-paths', ['repro.txt']).map((p) => archivePath('expect-paths', p));
  if (expectPaths.length === 0) throw new InputError('expect-paths', 'needs at least one path');

  const mirrorUpstream =
    value('mirror-upstream') === 'none' ? '' : orDefault('mirror-upstream', DEFAULT_MIRROR_UPSTREAM);
  // The mirror container fetches from the upstream: 127.0.0.1 there is the mirror itself, so plain http is
  // for an address on a private network (a registry beside the runner, the Docker bridge's gateway).
  if (mirrorUpstream) httpUrl('mirror-upstream', mirrorUpstream, { plainHttp: 'private-network' });
  const mirrorImages = list(raw, 'mirror-images', []).map(mirrorImage);
  if (mirrorUpstream && mirrorImages.length > 0) {
    throw new InputError(
      'mirror-images',
      'a pull-through mirror cannot be filled by hand: set mirror-upstream: none to serve only these images',
    );
  }

  const runAttempts = boolean(raw, 'run-attempts', true);
  const minimize = boolean(raw, 'minimize', false);
  if (minimize && !runAttempts) {
    throw new InputError('minimize', 'needs run-attempts: true (only attempts can show a lost layer)');
  }

  const buildctlUrl = orDefault('buildctl-url', DEFAULT_BUILDCTL_URL);
  if (!buildctlUrl.includes('{version}')) throw new InputError('buildctl-url', 'must contain {version}');
  httpUrl('buildctl-url', expandUrl(buildctlUrl, buildctlVersion, 'amd64'), { plainHttp: 'loopback' });

  return {
    buildkitImage,
    cacheBuildkitImage,
    buildctlVersion,
    buildctlUrl,
    buildctlSha256: sha256Input('buildctl-sha256', value('buildctl-sha256')),
    githubToken: value('github-token'),
    retries,
    cacheResetFrequency,
    cacheType,
    cacheDir,
    createCache,
    runAttempts,
    cleanup: boolean(raw, 'cleanup', true),
    dockerfile,
    context,
    expectPaths,
    registryImage: imageReference('registry-image', orDefault('registry-image', 'registry:2')),
    mirrorUpstream,
    mirrorImages,
    buildkitdFlags: shellWords('buildkitd-flags', value('buildkitd-flags')),
    buildkitdConfig: buildkitdConfig(raw, paths.workspace),
    buildkitdContainerOptions: value('buildkitd-container-options')
      ? containerOptions(shellWords('buildkitd-container-options', value('buildkitd-container-options')))
      : undefined,
    failOnReproduce: boolean(raw, 'fail-on-reproduce', true),
    outputType: oneOf('output-type', orDefault('output-type', 'oci'), ['oci', 'tar'] as const),
    keepGoing: boolean(raw, 'keep-going', false),
    attemptTimeoutSeconds: integer(raw, 'attempt-timeout', 600, 1, 86_400),
    cacheResetMode: oneOf('cache-reset-mode', orDefault('cache-reset-mode', DEFAULT_RESET_MODE), [
      'restart',
      'prune',
    ] as const),
    minimize,
    minimizeConfidence: probability(raw, 'minimize-confidence', 0.99),
    minimizeTimeoutSeconds: integer(raw, 'minimize-timeout', 1800, 60, 86_400),
    parallel: value('parallel') === 'auto' ? 0 : integer(raw, 'parallel', 0, 1, MAX_PARALLEL),
  };
}

/** moby/buildkit:v0.9.0-rootless → v0.9.0; latest, master or a digest → undefined. */
export function versionFromImageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  return /^(v\d+\.\d+\.\d+)(?:-rootless)?$/.exec(tag)?.[1];
}

/** The download address for one version and architecture. */
export function expandUrl(template: string, version: string, arch: string): string {
  return template.replaceAll('{version}', version).replaceAll('{arch}', arch);
}

function imageReference(input: string, reference: string): string {
  if (!IMAGE_REFERENCE.test(reference)) {
    throw new InputError(input, `"${reference}" is not an image reference like moby/buildkit:v0.9.0`);
  }
  return reference;
}

function integer(raw: RawInputs, input: string, fallback: number, min: number, max: number): number {
  const text = (raw[input] ?? '').trim();
  if (text === '') return fallback;
  if (!/^\d+$/.test(text))
    throw new InputError(input, `"${text}" is not a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new InputError(input, `${text} is outside ${min} to ${max}`);
  return n;
}

/** A chance written as a decimal fraction, like 0.99: from 0.5 (a coin) to 0.999999. */
function probability(raw: RawInputs, input: string, fallback: number): number {
  const text = (raw[input] ?? '').trim();
  if (text === '') return fallback;
  const n = /^(?:0?\.\d+|1(?:\.0*)?)$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0.5 && n <= 0.999_999)) {
    throw new InputError(input, `"${text}" is not a chance from 0.5 to 0.999999, like 0.99`);
  }
  return n;
}

// The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput takes them.
function boolean(raw: RawInputs, input: string, fallback: boolean): boolean {
  const text = (raw[input] ?? '').trim();
  if (text === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new InputError(input, `"${text}" is not true or false`);
}

function oneOf<T extends string>(input: string, text: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === text);
  if (!found) throw new InputError(input, `"${text}" is not one of ${allowed.join(', ')}`);
  return found;
}

/** One item a line or comma, as Docker's actions take lists. */
function list(raw: RawInputs, input: string, fallback: string[]): string[] {
  const text = (raw[input] ?? '').trim();
  if (text === '') return fallback;
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function archivePath(input: string, p: string): string {
  const normalized = path.posix.normalize(p.replace(/^\/+/, ''));
  if (normalized === '.' || normalized === '..' || normalized.startsWith('../') || /[\0\r\n]/.test(p)) {
    throw new InputError(input, `"${p}" is not a path inside the image`);
  }
  return normalized;
}

function mirrorImage(item: string): MirrorImage {
  const [source = '', target = source, ...rest] = item.split('=');
  if (rest.length > 0) throw new InputError('mirror-images', `"${item}" is not SOURCE or SOURCE=NAME`);
  imageReference('mirror-images', source);
  imageReference('mirror-images', target);
  return { source, target: dockerHubPath(target) };
}

/** alpine:latest → library/alpine:latest, as Docker Hub names official images. */
function dockerHubPath(reference: string): string {
  const named =
    /:[\w][\w.-]*$/.test(reference) || reference.includes('@') ? reference : `${reference}:latest`;
  return named.includes('/') ? named : `library/${named}`;
}

function resolveInside(input: string, p: string, workspace: string): string {
  if (/[\0\r\n]/.test(p)) throw new InputError(input, 'must not contain control characters');
  const resolved = path.resolve(workspace, p);
  const relative = path.relative(workspace, resolved);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new InputError(input, `"${p}" is outside the workspace ${workspace}`);
  }
  return resolved;
}

function mustExist(input: string, p: string, kind: 'file' | 'directory'): void {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat || (kind === 'file' ? !stat.isFile() : !stat.isDirectory())) {
    throw new InputError(input, `${p} is not a ${kind}`);
  }
}

/**
 * An https URL, or plain http where the traffic stays on this machine: on its loopback (the runner fetches
 * it) or, for a URL a container fetches, on a private network (RFC 1918, IPv6 unique local).
 */
function httpUrl(input: string, text: string, { plainHttp }: { plainHttp: 'loopback' | 'private-network' }) {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(input, `"${text}" is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'https:' && !(plainHttp === 'private-network' && loopback)) return;
  if (url.protocol === 'http:' && plainHttp === 'loopback' && loopback) return;
  if (plainHttp === 'private-network' && ['http:', 'https:'].includes(url.protocol)) {
    if (url.protocol === 'http:' && isPrivateAddress(url.hostname)) return;
    if (loopback) {
      throw new InputError(
        input,
        `"${text}": the mirror container fetches from it, and 127.0.0.1 there is the mirror itself; give an address the container reaches, such as the Docker bridge's gateway (often 172.17.0.1)`,
      );
    }
    throw new InputError(input, `"${text}" must be https (plain http only to a private-network IP address)`);
  }
  throw new InputError(input, `"${text}" must be https (plain http only on 127.0.0.1 or localhost)`);
}

/** 10/8, 172.16/12, 192.168/16, or an IPv6 unique local address (fc00::/7). */
function isPrivateAddress(hostname: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (v4.slice(1).some((part) => Number(part) > 255)) return false;
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  return /^\[f[cd][0-9a-f]{0,2}:/i.test(hostname);
}

/** Words as a shell would split them, but nothing a shell would do besides: no variables, no operators. */
function shellWords(input: string, text: string): string[] {
  if (/[\0]/.test(text)) throw new InputError(input, 'must not contain NUL');
  // Nothing expands variables here; refusing `$` keeps what runs identical to what was written.
  if (text.includes('$'))
    throw new InputError(input, 'variables ($) are not expanded: write the value itself');
  return parseShellWords(text).map((word) => {
    if (typeof word === 'string') return word;
    if ('op' in word && word.op === 'glob') return word.pattern; // no globbing either: the word as written
    throw new InputError(input, `shell operators are not allowed (found ${JSON.stringify(word)})`);
  });
}

function buildkitdConfig(raw: RawInputs, workspace: string): string {
  const file = (raw['buildkitd-config'] ?? '').trim();
  const inline = (raw['buildkitd-config-inline'] ?? '').trim();
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

/**
 * `docker run` options that shape what the container may do. Its name, network, ports, labels, entrypoint and
 * life are the run's own: an option that changed them would break cleanup or exposure, so it is refused.
 */
const CONTAINER_OPTIONS = new Map<string, 'flag' | 'value'>([
  ['--privileged', 'flag'],
  ['--init', 'flag'],
  ['--cap-add', 'value'],
  ['--cap-drop', 'value'],
  ['--security-opt', 'value'],
  ['--cgroupns', 'value'],
  ['--cgroup-parent', 'value'],
  ['--device', 'value'],
  ['--tmpfs', 'value'],
  ['--ulimit', 'value'],
  ['--memory', 'value'],
  ['-m', 'value'],
  ['--memory-swap', 'value'],
  ['--cpus', 'value'],
  ['--pids-limit', 'value'],
  ['--shm-size', 'value'],
  ['--userns', 'value'],
  ['--sysctl', 'value'],
  ['--group-add', 'value'],
  ['--volume', 'value'],
  ['-v', 'value'],
  ['--mount', 'value'],
  ['--env', 'value'],
  ['-e', 'value'],
  ['--dns', 'value'],
]);

function containerOptions(words: string[]): string[] {
  const input = 'buildkitd-container-options';
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const name = word.startsWith('--') && word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
    const kind = CONTAINER_OPTIONS.get(name);
    if (!kind) {
      throw new InputError(
        input,
        `"${word}" is not an option allowed here (allowed: ${[...CONTAINER_OPTIONS.keys()].join(' ')})`,
      );
    }
    if (kind === 'value' && name === word) {
      if (i + 1 >= words.length) throw new InputError(input, `${word} needs a value`);
      i += 1;
    }
  }
  return words;
}

function sha256Input(input: string, text: string): string {
  const hex = text.replace(/^sha256:/, '').toLowerCase();
  if (hex !== '' && !/^[a-f0-9]{64}$/.test(hex))
    throw new InputError(input, `"${text}" is not a SHA-256 (64 hex digits)`);
  return hex;
}
