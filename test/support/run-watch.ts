import { type ChildProcess, execFileSync } from 'node:child_process';

/** Names of one run's running containers whose name ends so: never another run's, also when runs overlap. */
export function runningContainers(runId: string, suffix: RegExp): string[] {
  const names = execFileSync(
    'docker',
    ['ps', '--filter', `label=dev.lost-layer.run=${runId}`, '--format', '{{.Names}}'],
    { encoding: 'utf8' },
  );
  return names.split('\n').filter((name) => suffix.test(name));
}

/** Waits until a container of the run whose name matches runs, and returns its name. */
export async function waitForContainer(runId: string, suffix: RegExp, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [name] = runningContainers(runId, suffix);
    if (name) return name;
    if (Date.now() > deadline)
      throw new Error(`no container of run ${runId} matching ${suffix} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Resolves with the run id once the process (the action's main step or the CLI) has logged it, as part of
 * its containers' names (lost-layer-<id>-…), and a line that matches `after` (any line by default).
 */
export function runIdOf(child: ChildProcess, after = /^/m): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    const watch = (chunk: Buffer) => {
      seen += chunk.toString();
      const runId = /lost-layer-([0-9a-f]{8})-/.exec(seen)?.[1];
      if (!runId || !after.test(seen)) return;
      child.stdout?.off('data', watch);
      child.stderr?.off('data', watch);
      resolve(runId);
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
  });
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' });
}

/**
 * An onMainStarted hook (RunOptions) that does `then` with the daemon's container once the main step has
 * logged the start of attempt 2: its daemon answered, attempts run.
 */
export const onAttempt2 =
  (then: (daemon: string) => void) =>
  (child: ChildProcess): void => {
    void runIdOf(child, /^attempt 2: /m)
      .then((runId) => waitForContainer(runId, /-buildkitd-2$/))
      .then(then);
  };
