import type { AttemptPlan, DaemonServices, RunOneAttempt } from '../../src/attempts/run-attempts.js';
import type { BuiltOutput } from '../../src/inspection/output-types.js';
import type { Log } from '../../src/log.js';
import type { AttemptOutcome } from '../../src/model/attempt.js';
import type { DifferenceClass } from '../../src/model/classes.js';
import type { ImageDifference } from '../../src/model/difference.js';
import type { Buildctl } from '../../src/services/buildctl.js';
import type { Buildkitd } from '../../src/services/run-services.js';

/* Fakes for the attempt loop's seam (DaemonServices, RunOneAttempt): the loop's logic without Docker. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the fake daemons did, in order: "start d1", "prune d1", "stop d1", "version d1". */
export interface FakeDaemons extends DaemonServices {
  events: string[];
}

export interface FakeDaemonOptions {
  /** ms a start takes; a number or per start (1-based). */
  startMs?: (start: number) => number;
  pruneMs?: number;
  /** ms a removal takes. */
  stopMs?: number;
  /** Whether the n-th prune (1-based, over all daemons) of a daemon fails. */
  pruneFails?: (container: string, prune: number) => boolean;
  /** Throws from the version probe. */
  versionFails?: boolean;
  version?: string;
}

export function fakeDaemons(options: FakeDaemonOptions = {}): FakeDaemons {
  const events: string[] = [];
  let starts = 0;
  let prunes = 0;
  return {
    events,
    async startBuildkitd(image: string): Promise<Buildkitd> {
      starts += 1;
      const container = `d${starts}`;
      await sleep(options.startMs?.(starts) ?? 0);
      events.push(`start ${container}`);
      const buildctl = {
        pruneAll: async () => {
          const prune = ++prunes;
          await sleep(options.pruneMs ?? 0);
          if (options.pruneFails?.(container, prune)) throw new Error(`prune ${prune} failed`);
          events.push(`prune ${container}`);
        },
      } as unknown as Buildctl;
      return { container, volume: `${container}-state`, image, buildctl };
    },
    async stopBuildkitd(daemon) {
      await sleep(options.stopMs ?? 0);
      events.push(`stop ${daemon.container}`);
    },
    async buildkitVersion(daemon) {
      events.push(`version ${daemon.container}`);
      if (options.versionFails) throw new Error('connection refused');
      return Promise.resolve(options.version ?? 'v0.9.0');
    },
    isRunning: async () => Promise.resolve(true),
    daemonLogs: async (container) => Promise.resolve(`logs of ${container}`),
  };
}

/** A difference account: nothing differs but what `fields` say. */
export function differenceOf(fields: Partial<ImageDifference> = {}): ImageDifference {
  return {
    layerRelation: 'equal',
    missingPaths: [],
    lostLayers: [],
    layerChanges: [],
    files: [],
    filesOmitted: 0,
    config: [],
    ...fields,
  };
}

export function outcomeOf(kind: DifferenceClass | 'intact' | 'error', output = ''): AttemptOutcome {
  if (kind === 'intact') return { kind };
  if (kind === 'error') return { kind, cause: 'the build failed' };
  return {
    kind,
    difference: differenceOf({ layerRelation: 'strict-subsequence', missingPaths: ['repro.txt'] }),
    output,
  };
}

/** One attempt per call, by its number: the script says its class and how long it takes. */
export function scriptedAttempts(
  script: (attempt: number) => { kind: DifferenceClass | 'intact' | 'error'; ms?: number; throws?: string },
  onStart: (attempt: number, daemon: Buildkitd) => void = () => undefined,
): RunOneAttempt {
  return async (daemon, _plan, attempt) => {
    onStart(attempt, daemon);
    const step = script(attempt);
    await sleep(step.ms ?? 1);
    if (step.throws) throw new Error(step.throws);
    return outcomeOf(step.kind);
  };
}

export function planOf(fields: Partial<AttemptPlan> = {}): AttemptPlan {
  const reference: BuiltOutput = { tree: new Map() };
  return {
    retries: 12,
    cacheResetFrequency: 4,
    cacheResetMode: 'prune',
    context: '/context',
    dockerfile: '/context/Dockerfile',
    expectPaths: ['repro.txt'],
    outputType: 'oci',
    keepGoing: false,
    attemptTimeoutSeconds: 60,
    cacheType: 'registry',
    cacheOptions: {},
    image: 'buildkit:test',
    importCache: 'type=registry,ref=cache',
    reference,
    referenceVersion: 'v0.9.0',
    workDir: '/nonexistent',
    lanes: 1,
    ...fields,
  };
}

/** A log that keeps what it is told. */
export function recordingLog(): Log & { infos: string[]; warnings: string[] } {
  const infos: string[] = [];
  const warnings: string[] = [];
  return {
    infos,
    warnings,
    info: (message) => void infos.push(message),
    warning: (message) => void warnings.push(message),
    group: (_title, work) => work(),
  };
}
