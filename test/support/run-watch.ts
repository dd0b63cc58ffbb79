import { type ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { type Phase, phaseLine } from '../../src/log.js';

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

/** The debug line a run writes as a phase starts (`phaseLine`), as a pattern for `runIdOf`. */
export function phaseStart(phase: Phase, detail?: string): RegExp {
  return new RegExp(`^::debug::${phaseLine(phase, detail).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
}

/** An onMainStarted hook (RunOptions) that does `then` as soon as the main step says the phase starts. */
export const onPhase =
  (phase: Phase, detail: string | undefined, then: (runId: string, child: ChildProcess) => void) =>
  (child: ChildProcess): void => {
    void runIdOf(child, phaseStart(phase, detail)).then((runId) => then(runId, child));
  };

/** The run's newest running daemon, the lane's with one lane: the cache maker's may still be on its way out. */
export function laneDaemon(runId: string): string | undefined {
  const number = (name: string) => Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
  return runningContainers(runId, /-buildkitd-\d+$/).sort((a, b) => number(b) - number(a))[0];
}

/**
 * Does `then` with the lane's daemon and the run's id as soon as the main step says attempt 2 starts: the
 * reset before it is over, its build has not yet reached the daemon.
 */
export const onAttempt2 = (then: (daemon: string, runId: string) => void) =>
  onPhase('attempt', '2', (runId) => {
    const daemon = laneDaemon(runId);
    if (daemon) then(daemon, runId);
  });

/** The engine's API socket: DOCKER_HOST's when it names one, else Docker's default. */
const dockerSocket = () =>
  /^unix:\/\/(.+)$/.exec(process.env['DOCKER_HOST'] ?? '')?.[1] ?? '/var/run/docker.sock';

function dockerApi(method: 'GET' | 'POST', apiPath: string): http.ClientRequest {
  return http.request({ socketPath: dockerSocket(), method, path: apiPath });
}

/**
 * Pauses the run's container whose name matches as soon as the engine says it started: through the
 * engine's event stream (replayed from `since`, so a start before the stream opened is seen too) and API,
 * milliseconds after its process began, long before buildkitd can answer. `paused` resolves with the
 * container's name once it is paused (the first match only); `stop` ends the watch, and `paused` then
 * rejects if nothing was paused.
 */
export function pauseOnStart(
  runId: string,
  suffix: RegExp,
  since: Date,
): { paused: Promise<string>; stop: () => void } {
  const filters = { type: ['container'], event: ['start'], label: [`dev.lost-layer.run=${runId}`] };
  const query = `since=${Math.floor(since.getTime() / 1000)}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const events = dockerApi('GET', `/events?${query}`);
  let fail: (error: Error) => void = () => undefined;
  const paused = new Promise<string>((resolve, reject) => {
    fail = reject;
    let pausing = false;
    const pause = (id: string, name: string) => {
      pausing = true;
      const request = dockerApi('POST', `/containers/${id}/pause`);
      request.on('response', (answer) => {
        answer.resume();
        if (answer.statusCode === 204) resolve(name);
        else reject(new Error(`pause ${name}: HTTP ${answer.statusCode}`));
      });
      request.on('error', reject);
      request.end();
    };
    events.on('error', reject);
    events.on('response', (response) => {
      if (response.statusCode !== 200) return reject(new Error(`docker events: HTTP ${response.statusCode}`));
      response.setEncoding('utf8');
      let partial = '';
      response.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim() !== '')) {
          let event: { id?: string; Actor?: { Attributes?: { name?: string } } };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            return reject(new Error(`docker events: not JSON: ${line.slice(0, 80)}`));
          }
          const name = event.Actor?.Attributes?.name ?? '';
          if (!pausing && event.id && suffix.test(name)) pause(event.id, name);
        }
      });
    });
    events.end();
  });
  return {
    paused,
    stop: () => {
      events.destroy();
      // Settles `paused` if nothing did: a resolved promise ignores it.
      fail(new Error(`no container of run ${runId} matching ${suffix} started`));
    },
  };
}

/** Each whole line of a step's stdout (or stderr, where the CLI logs), as it arrives. */
export function onLines(
  step: ChildProcess,
  each: (line: string) => void,
  stream: 'stdout' | 'stderr' = 'stdout',
): void {
  let partial = '';
  step[stream]?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) each(line);
  });
}

/** Writes `file` until its disk has no byte left (ENOSPC): a full disk, as a fault of the test bed. */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    // Big writes first, then smaller ones for the last free blocks.
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
