import { isLoopbackHost } from '../backends/endpoints.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseShellWords } from 'shell-quote';

/* Checks and decoders of one input's text: each throws an InputError that names the input. */

export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`input "${input}": ${message}`);
    this.name = 'InputError';
  }
}

// A reference as `docker run` takes it: [registry[:port]/]path[:tag][@digest], lower-case path.
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const RELEASE_VERSION = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/**
 * The whole tag of an image reference, '' when it has none: moby/buildkit:v0.9.0-rootless → v0.9.0-rootless,
 * moby/buildkit:master → master. versionFromImageTag keeps only a final release of it, to pick a buildctl; the
 * bisect table keeps every tag (a rootless job, an rc or master is a row of its own).
 */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
}

export function releaseVersion(input: string, text: string): string {
  if (!RELEASE_VERSION.test(text)) throw new InputError(input, `"${text}" is not a release tag like v0.9.1`);
  return text;
}

export function imageReference(input: string, reference: string): string {
  if (!IMAGE_REFERENCE.test(reference)) {
    throw new InputError(input, `"${reference}" is not an image reference like moby/buildkit:v0.9.0`);
  }
  return reference;
}

export function integer(input: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text))
    throw new InputError(input, `"${text}" is not a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new InputError(input, `${text} is outside ${min} to ${max}`);
  return n;
}

/** A chance written as a decimal fraction, like 0.99: from 0.5 (a coin) to 0.999999. */
export function probability(input: string, text: string): number {
  const n = /^(?:0?\.\d+|1(?:\.0*)?)$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0.5 && n <= 0.999_999)) {
    throw new InputError(input, `"${text}" is not a chance from 0.5 to 0.999999, like 0.99`);
  }
  return n;
}

// The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput takes them.
export function boolean(input: string, text: string): boolean {
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new InputError(input, `"${text}" is not true or false`);
}

export function oneOf<T extends string>(input: string, text: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === text);
  if (!found) throw new InputError(input, `"${text}" is not one of ${allowed.join(', ')}`);
  return found;
}

/** One item a line or comma, as Docker's actions take lists. */
export function list(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function archivePath(input: string, p: string): string {
  const normalized = path.posix.normalize(p.replace(/^\/+/, ''));
  if (normalized === '.' || normalized === '..' || normalized.startsWith('../') || /[\0\r\n]/.test(p)) {
    throw new InputError(input, `"${p}" is not a path inside the image`);
  }
  return normalized;
}

/** alpine:latest → library/alpine:latest, as Docker Hub names official images. */
export function dockerHubPath(reference: string): string {
  const named =
    /:[\w][\w.-]*$/.test(reference) || reference.includes('@') ? reference : `${reference}:latest`;
  return named.includes('/') ? named : `library/${named}`;
}

export function resolveInside(input: string, p: string, workspace: string): string {
  if (/[\0\r\n]/.test(p)) throw new InputError(input, 'must not contain control characters');
  const resolved = path.resolve(workspace, p);
  const relative = path.relative(workspace, resolved);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new InputError(input, `"${p}" is outside the workspace ${workspace}`);
  }
  return resolved;
}

export function mustExist(input: string, p: string, kind: 'file' | 'directory'): void {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat || (kind === 'file' ? !stat.isFile() : !stat.isDirectory())) {
    throw new InputError(input, `${p} is not a ${kind}`);
  }
}

/**
 * An https URL, or plain http where the traffic stays on this machine: on its loopback (the runner fetches
 * it) or, for a URL a container fetches, on a private network (RFC 1918, IPv6 unique local).
 */
export function httpUrl(
  input: string,
  text: string,
  { plainHttp }: { plainHttp: 'loopback' | 'private-network' },
) {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(input, `"${text}" is not a URL`);
  }
  const loopback = isLoopbackHost(url.hostname);
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
export function shellWords(input: string, text: string): string[] {
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

export function sha256Input(input: string, text: string): string {
  const hex = text.replace(/^sha256:/, '').toLowerCase();
  if (hex !== '' && !/^[a-f0-9]{64}$/.test(hex))
    throw new InputError(input, `"${text}" is not a SHA-256 (64 hex digits)`);
  return hex;
}

/** moby/buildkit:v0.9.0-rootless → v0.9.0; latest, master or a digest → undefined. */
export function versionFromImageTag(image: string): string | undefined {
  return /^(v\d+\.\d+\.\d+)(?:-rootless)?$/.exec(imageTag(image))?.[1];
}

/**
 * The URL of a cache server both this process and buildkitd reach: https, or plain http on this host's
 * loopback (buildkitd then reaches it as host.docker.internal, so https there would fail its certificate's
 * name). No credentials or query in it: they would reach logs, or split BuildKit's attribute list.
 */
export function cacheServerUrl(input: string, text: string, { path }: { path: 'none' | 'allowed' }): string {
  httpUrl(input, text, { plainHttp: 'loopback' });
  const url = new URL(text);
  if (url.username || url.password)
    throw new InputError(input, 'must not carry credentials: give them in their own inputs');
  if (url.search || url.hash || text.includes(','))
    throw new InputError(input, `"${text}" must not have a query, a fragment or a comma`);
  if (path === 'none' && url.pathname !== '/') throw new InputError(input, `"${text}" must not have a path`);
  if (isLoopbackHost(url.hostname) && url.protocol === 'https:')
    throw new InputError(
      input,
      `"${text}": buildkitd reaches a server on loopback as host.docker.internal, which no certificate names: use http there`,
    );
  return text.replace(/\/+$/, '');
}
