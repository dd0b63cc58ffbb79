/*
 * A cache server beside the runner (a service container's published port, a test bed's server) is on this
 * host's loopback for this process, and on the host's bridge address for buildkitd in its container, which
 * reaches it by a name Docker maps to the host (--add-host NAME:host-gateway). The server must listen on
 * every interface (0.0.0.0), as a published port does.
 */

/** The name buildkitd uses for this host. */
export const HOST_FROM_CONTAINERS = 'host.docker.internal';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A URL hostname (or host:port) on this host's loopback. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.replace(/:\d+$/, ''));
}

/** A server URL on this host's loopback ('' : none): buildkitd needs the host's name mapped to reach it. */
export function isLoopbackUrl(url: string): boolean {
  return url !== '' && isLoopbackHost(new URL(url).hostname);
}

/** The URL as buildkitd reaches it: on loopback, the host seen from its container. */
export function daemonEndpoint(url: string): string {
  if (!url) return '';
  const parsed = new URL(url);
  if (isLoopbackHost(parsed.hostname)) parsed.hostname = HOST_FROM_CONTAINERS;
  return parsed.toString().replace(/\/$/, '');
}

/** host:port as buildkitd names it. */
export function daemonHost(host: string): string {
  return isLoopbackHost(host) ? new URL(daemonEndpoint(`http://${host}`)).host : host;
}
