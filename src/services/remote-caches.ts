/*
 * Caches that live outside the run's containers, on a server of the user's: checked before the cache build
 * (a bucket that does not answer is a set-up error, not a failed import), and the run's own part removed
 * with the run. A cache made earlier (create-cache false) is read, never removed.
 */
import { type CacheType, s3RunPrefix } from '../backends/backends.js';
import type { Settings } from '../inputs/settings.js';
import { S3Store } from '../stores/s3-store.js';

type RemoteSettings = Pick<Settings, 'cacheType' | 'createCache' | 's3'>;

interface RemoteCache {
  /** Why the cache's server cannot be used, or undefined when it answers. */
  problem(settings: RemoteSettings): Promise<string | undefined>;
  /** Where the run's part is, for a person to remove it by hand. */
  describe(settings: RemoteSettings, runId: string): string;
  /** Removes what the run wrote there; returns what is left, named for a warning. */
  removeRun(settings: RemoteSettings, runId: string): Promise<string[]>;
}

function s3Store(settings: RemoteSettings): S3Store {
  if (!settings.s3) throw new Error('cache-type s3 without its settings');
  return new S3Store(settings.s3);
}

const REMOTE_CACHES: Partial<Record<CacheType, RemoteCache>> = {
  s3: {
    problem: async (settings) => {
      const store = s3Store(settings);
      const problem = await store.problem();
      if (problem) return `the S3 bucket does not answer: ${problem}`;
      if (settings.createCache || !settings.s3) return undefined;
      // Attempts that import a cache that is not there build from scratch and equal the reference: "clean"
      // for a cache never read.
      const key = `${settings.s3.prefix}manifests/${settings.s3.name}`;
      if (!(await store.get(key)))
        return `create-cache is false and s3://${settings.s3.bucket}/${key} holds no cache`;
      return undefined;
    },
    describe: (settings, runId) =>
      `every key below s3://${settings.s3?.bucket ?? ''}/${s3RunPrefix(settings.s3 ?? { prefix: '' }, runId)}`,
    removeRun: async (settings, runId) => {
      const prefix = s3RunPrefix(settings.s3 ?? { prefix: '' }, runId);
      const left = await s3Store(settings).removeAll(prefix);
      return left.map((key) => `s3://${settings.s3?.bucket ?? ''}/${key}`);
    },
  },
};

export async function remoteCacheProblem(settings: RemoteSettings): Promise<string | undefined> {
  return REMOTE_CACHES[settings.cacheType]?.problem(settings);
}

/** What the run left on the cache's server after removing its part (nothing for a cache made earlier). */
export async function removeRemoteCache(settings: RemoteSettings, runId: string): Promise<string[]> {
  const remote = REMOTE_CACHES[settings.cacheType];
  if (!remote || !settings.createCache) return [];
  try {
    return await remote.removeRun(settings, runId);
  } catch (error) {
    return [
      `what the run wrote to its cache's server, unchecked: ${remote.describe(settings, runId)} (${(error as Error).message})`,
    ];
  }
}
