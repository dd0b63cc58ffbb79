import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../log.js';
import { type Buildkitd, DaemonStartError } from '../services/run-services.js';
import type { AttemptPlan } from './plan.js';
import { RESETS } from './reset-modes.js';

/** What the attempts need of the run's services (RunServices; fakes in the unit tests). */
export interface DaemonServices {
  startBuildkitd(image: string): Promise<Buildkitd>;
  stopBuildkitd(daemon: Buildkitd): Promise<void>;
  buildkitVersion(daemon: Buildkitd): Promise<string>;
  isRunning(container: string): Promise<boolean>;
  daemonLogs(container: string): Promise<string>;
}

/** A lane's daemon as the reset changes it, and the removals of the daemons it replaced. */
interface LaneDaemonState {
  daemon: Buildkitd | undefined;
  removals: Promise<void>[];
}

/**
 * Empties the lane's daemon's state as cache-reset-mode says (see RESETS). Returns the attempt's error and
 * the daemon whose logs tell why when it fails, undefined when the lane has a daemon with an empty state.
 */
export async function resetLane(
  services: DaemonServices,
  plan: Pick<AttemptPlan, 'image' | 'cacheResetMode' | 'attemptTimeoutSeconds'>,
  state: LaneDaemonState,
  log: Log,
): Promise<{ cause: string; container?: string } | undefined> {
  const replace = async (): Promise<Buildkitd> => {
    // The old daemon goes in the background: its container and volume are its own, and the new one need
    // not wait for them.
    if (state.daemon) state.removals.push(removeInBackground(services, state.daemon, log));
    state.daemon = undefined;
    state.daemon = await services.startBuildkitd(plan.image);
    return state.daemon;
  };
  try {
    state.daemon = await RESETS[plan.cacheResetMode](
      { current: state.daemon, replace },
      plan.attemptTimeoutSeconds * 1000,
    );
    return undefined;
  } catch (error) {
    const cause = `resetting buildkitd's state failed: ${(error as Error).message}`;
    const container =
      state.daemon?.container ?? (error instanceof DaemonStartError ? error.container : undefined);
    return { cause, ...(container ? { container } : {}) };
  }
}

/** A removal nobody awaits yet must not reject unobserved: a failure is a warning; cleanup removes the rest. */
export function removeInBackground(services: DaemonServices, daemon: Buildkitd, log: Log): Promise<void> {
  return services
    .stopBuildkitd(daemon)
    .catch((error: unknown) =>
      log.warning(`removing ${daemon.container} failed: ${(error as Error).message}`),
    );
}

/**
 * The daemon's logs, kept for the post step and told to the run as soon as they are saved. Best effort: on a
 * full disk the write fails too, and that must not hide the attempt's own error behind its own.
 */
export async function keepDaemonLogs(
  services: DaemonServices,
  shared: { onLogSaved: (file: string) => void; run: { daemonLogFiles: string[] } },
  container: string,
  workDir: string,
  log: Log,
): Promise<void> {
  const file = path.join(workDir, `${container}.log`);
  try {
    const running = await services.isRunning(container);
    fs.writeFileSync(
      file,
      `# ${container} (${running ? 'running' : 'stopped'})\n${await services.daemonLogs(container)}`,
    );
  } catch (error) {
    fs.rmSync(file, { force: true });
    log.warning(`the logs of ${container} could not be saved: ${(error as Error).message}`);
    return;
  }
  shared.run.daemonLogFiles.push(file);
  shared.onLogSaved(file);
}
