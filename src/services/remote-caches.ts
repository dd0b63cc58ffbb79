/*
 * Caches that live outside the run's containers, on a server of the user's or the job's, each backend's
 * `server` part: checked before the cache build (a server that does not answer, or a pipeline's cache that
 * is not there, is a set-up error, not a failed import after a reference build), and the run's own part
 * removed with the run. The run's part is its own prefix, written by the cache build or, with create-cache
 * false, only by the minimizer's candidates; a pipeline's cache is read, never removed.
 */
import { cacheBackend } from '../backends/backends.js';
import type { Settings } from '../inputs/settings.js';

export type RemoteSettings = Pick<Settings, 'cacheType' | 'createCache' | 'cacheSettings'>;

/** Why the cache's server cannot be used, or undefined when it answers (or the cache is in the run). */
export async function remoteCacheProblem(settings: RemoteSettings): Promise<string | undefined> {
  return cacheBackend(settings.cacheType).server?.problem(settings.cacheSettings, settings.createCache);
}

/** What the run left on the cache's server after removing its part. */
export async function removeRemoteCache(settings: RemoteSettings, runId: string): Promise<string[]> {
  const server = cacheBackend(settings.cacheType).server;
  if (!server) return [];
  try {
    return await server.removeRun(settings.cacheSettings, runId);
  } catch (error) {
    return [
      `what the run wrote to its cache's server, unchecked: ${server.describeRun(settings.cacheSettings, runId)} (${(error as Error).message})`,
    ];
  }
}
