import type { ResetMode } from '../inputs/settings.js';
import type { Buildkitd } from '../services/run-services.js';

/** A lane's daemon as a reset sees it. */
export interface LaneDaemon {
  /** The daemon the lane has now; none before its first attempt. */
  current: Buildkitd | undefined;
  /** Starts a new daemon with a new, empty state volume for the lane; the old one is removed. */
  replace(): Promise<Buildkitd>;
}

/**
 * What each cache-reset-mode does before an attempt that starts from an empty state, and returns the daemon
 * that then runs it. A lane's first reset always starts a daemon: there is none yet.
 */
export const RESETS: Readonly<
  Record<ResetMode, (lane: LaneDaemon, timeoutMs: number) => Promise<Buildkitd>>
> = {
  /** `buildctl prune --all` on the running daemon: its local cache goes, the daemon stays (the cheaper). */
  prune: async (lane, timeoutMs) => {
    if (!lane.current) return lane.replace();
    await lane.current.buildctl.pruneAll(timeoutMs);
    return lane.current;
  },
  /** A new container and state volume for every reset, as the seed does. */
  restart: (lane) => lane.replace(),
};
