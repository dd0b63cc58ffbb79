// The fault soak's schedule (scripts/soak.ts): each round's release, backend, lanes and its one fault, from
// (seed, round) alone, so that any round of a long soak can be run again by itself. Pure: no Docker here.
import * as semver from 'semver';
import type { CacheType } from '../../src/backends/backends.js';
import { hashString } from '../../src/fuzz/random.js';
import type { Phase } from '../../src/log.js';
import { seededRandom } from './seeded-random.js';

/** The phases a fault can wait for: every phase line a run writes. */
export type FaultPhase = Phase;

/** Faults that break something the run uses (a container, a server, its disk) while its main step goes on. */
export type RunFault =
  | 'kill-cache'
  | 'kill-mirror'
  | 'kill-buildkitd'
  | 'pause-buildkitd'
  | 'pause-cache'
  | 'pause-mirror'
  | 'stop-backend'
  | 'registry-500'
  | 'fill-disk';
/** Faults that end the main step itself, as a cancelled job does (in a CLI round, the CLI: Ctrl-C, a kill). */
export type SignalFault = 'sigint-main' | 'sigterm-main' | 'sigkill-main';
/** Faults that signal the post step as its cleanup starts, as a job cancelled then does. */
export type PostFault = 'sigint-post' | 'sigterm-post' | 'sigkill-post';
export type FaultKind = 'none' | RunFault | SignalFault | PostFault;

export interface FaultSpec {
  /** What the soak does, in words (scripts/lib/soak-run.ts does it). */
  does: string;
  /** What it reaches: the run's services, the main step's process, the post step's, or nothing (control). */
  reaches: 'nothing' | 'run' | 'main-process' | 'post-process';
  phases: readonly FaultPhase[];
  /** Only these backends: the others do not use what it breaks, so it could not touch the run. */
  backends?: readonly CacheType[];
  /** Inputs the round needs so that the run ends at all. */
  inputs?: Readonly<Record<string, string>>;
  signal?: NodeJS.Signals;
  /** It kills or pauses a buildkitd: that daemon can judge no image after it. */
  silencesDaemon?: true;
  /** It fills the run's disk: the round's RUNNER_TEMP is a tmpfs of its own, not the machine's disk. */
  ownDisk?: true;
  /**
   * A run can get through it unharmed: an attempt judged intact frees its output, and the next attempt then
   * has room on a full disk. A hit allows the untouched verdict too (each image read is checked whole).
   */
  outlivable?: true;
}

// Minimization comes only after a lost layer: a round that waits for it runs a release that loses layers.
const DURING_RUN: readonly FaultPhase[] = ['cache-build', 'reset', 'attempt', 'minimize'];
const WHOLE_MAIN: readonly FaultPhase[] = ['set-up', ...DURING_RUN];

/** Every fault kind and what it does; a kind added to FaultKind must be described here (and acted in soak-run). */
export const FAULTS: Readonly<Record<FaultKind, FaultSpec>> = {
  none: { does: 'nothing (a control round)', reaches: 'nothing', phases: [] },
  'kill-cache': {
    does: 'docker kill lost-layer-<run>-cache',
    reaches: 'run',
    phases: DURING_RUN,
    // The run starts its cache registry for every backend, but only these keep the cache there.
    backends: ['registry', 'inline'],
  },
  'kill-mirror': { does: 'docker kill lost-layer-<run>-mirror', reaches: 'run', phases: DURING_RUN },
  'kill-buildkitd': {
    does: "docker kill the run's running buildkitd (each lane's with two lanes)",
    reaches: 'run',
    silencesDaemon: true,
    phases: DURING_RUN,
  },
  'pause-buildkitd': {
    does: "docker pause the run's running buildkitd (each lane's with two lanes)",
    reaches: 'run',
    silencesDaemon: true,
    phases: DURING_RUN,
    // A paused daemon never answers: the run ends only through attempt-timeout.
    inputs: { 'attempt-timeout': '20' },
  },
  // A paused registry accepts connections and never answers them: the run ends only through attempt-timeout.
  'pause-cache': {
    does: 'docker pause lost-layer-<run>-cache',
    reaches: 'run',
    phases: DURING_RUN,
    backends: ['registry', 'inline'],
    inputs: { 'attempt-timeout': '20' },
  },
  'pause-mirror': {
    does: 'docker pause lost-layer-<run>-mirror',
    reaches: 'run',
    phases: DURING_RUN,
    inputs: { 'attempt-timeout': '20' },
  },
  'stop-backend': {
    does: "kill the cache backend's server process",
    reaches: 'run',
    phases: DURING_RUN,
    backends: ['s3', 'azblob', 'gha'],
  },
  'registry-500': {
    does: "turn the cache registry's storage into a file: it answers 500 to every read and write, for a while",
    reaches: 'run',
    phases: DURING_RUN,
    backends: ['registry', 'inline'],
  },
  'fill-disk': {
    does: "fill the run's disk (RUNNER_TEMP, a tmpfs of the round) to the last byte, for a while",
    reaches: 'run',
    phases: DURING_RUN,
    ownDisk: true,
    outlivable: true,
    // A build whose write failed while the disk was full may wait without end once it has room again
    // (buildctl v0.9.1 and v0.34.2 seen): only attempt-timeout ends it, 600 s by default.
    inputs: { 'attempt-timeout': '60' },
  },
  'sigint-main': {
    does: 'SIGINT to the main step',
    reaches: 'main-process',
    phases: WHOLE_MAIN,
    signal: 'SIGINT',
  },
  'sigterm-main': {
    does: 'SIGTERM to the main step',
    reaches: 'main-process',
    phases: WHOLE_MAIN,
    signal: 'SIGTERM',
  },
  'sigkill-main': {
    does: 'SIGKILL to the main step',
    reaches: 'main-process',
    phases: WHOLE_MAIN,
    signal: 'SIGKILL',
  },
  'sigint-post': {
    does: 'SIGINT to the post step as its cleanup starts',
    reaches: 'post-process',
    phases: ['cleanup'],
    signal: 'SIGINT',
  },
  'sigterm-post': {
    does: 'SIGTERM to the post step as its cleanup starts',
    reaches: 'post-process',
    phases: ['cleanup'],
    signal: 'SIGTERM',
  },
  'sigkill-post': {
    does: 'SIGKILL to the post step as its cleanup starts',
    reaches: 'post-process',
    phases: ['cleanup'],
    signal: 'SIGKILL',
  },
};

export const FAULT_KINDS = Object.keys(FAULTS) as readonly FaultKind[];

/** Where a fault fires: a phase line, and for a reset which lane's and which of its resets. */
export type FaultPoint =
  | { phase: 'set-up' | 'cache-build' | 'minimize' | 'cleanup' }
  | { phase: 'reset'; lane: number; occurrence: number }
  | { phase: 'attempt'; attempt: number };

export interface FaultPlan {
  kind: FaultKind;
  /** Absent for `none`. */
  at?: FaultPoint;
}

/** How the round runs the product: the bundled action (main, then post, as a runner does) or the CLI. */
export const ENTRIES = ['action', 'cli'] as const;
export type Entry = (typeof ENTRIES)[number];

export interface RoundPlan {
  seed: number;
  round: number;
  /** Absent in the facts of a soak from before the CLI had rounds: those ran the action. */
  entry?: Entry;
  release: string;
  variant: 'rootful' | 'rootless';
  backend: CacheType;
  parallel: 1 | 2;
  retries: number;
  resetFrequency: number;
  /** The run minimizes the Dockerfile after a lost layer: its fault waits for that phase. */
  minimize: boolean;
  fault: FaultPlan;
}

/** The inputs of a round that minimizes: bounded, so that a round stays a few minutes. */
export const MINIMIZE_INPUTS: Readonly<Record<string, string>> = {
  minimize: 'true',
  'minimize-timeout': '60',
  'minimize-confidence': '0.9',
};

export interface PlanOptions {
  /** The test bed's releases (testBed().versions). */
  releases: readonly string[];
  /** The backends to draw from: the caller narrows them (--backends). */
  backends: readonly CacheType[];
  retries?: number;
  resetFrequency?: number;
  /** The share of control rounds, with no fault. */
  controlShare?: number;
  /** Only these fault kinds (control rounds still come): to soak a few faults harder. */
  kinds?: readonly FaultKind[];
  /** Only these entries (default both: a third of the rounds that can run the CLI do). */
  entries?: readonly Entry[];
}

/**
 * The first release each backend runs on the bed: CACHE_BACKENDS' `since`, except azblob, whose Azurite URL
 * is path-style (v0.12.0, AZBLOB_ACCOUNT_NAME_SINCE). Kept here so that the schedule needs no backend code;
 * test/unit/soak.test.ts holds it to the product's table.
 */
export const BED_BACKEND_SINCE: Readonly<Record<CacheType, string>> = {
  registry: 'v0.4.0',
  local: 'v0.4.0',
  inline: 'v0.4.0',
  s3: 'v0.11.0',
  gha: 'v0.9.0',
  azblob: 'v0.12.0',
};

/** The releases of the list that can carry a backend's cache. */
export function releasesWith(backend: CacheType, releases: readonly string[]): string[] {
  return releases.filter((r) => semver.valid(r) !== null && semver.gte(r, BED_BACKEND_SINCE[backend]));
}

/** The lanes a run really uses: the product's usableLanes (src/attempts/run-attempts.ts), the unit test checks. */
export function lanesOf(plan: Pick<RoundPlan, 'parallel' | 'retries' | 'resetFrequency'>): number {
  const perLane = Math.max(plan.resetFrequency, 2);
  return Math.max(1, Math.min(plan.parallel, Math.floor(plan.retries / perLane)));
}

/** How many resets a lane surely starts: its first, then one every `resetFrequency` of its own attempts. */
export function resetsPerLane(plan: Pick<RoundPlan, 'parallel' | 'retries' | 'resetFrequency'>): number {
  if (plan.resetFrequency <= 0) return 1;
  return Math.max(1, Math.ceil(Math.floor(plan.retries / lanesOf(plan)) / plan.resetFrequency));
}

/** The backends of the list a fault kind can touch a run through. */
export function backendsFor(kind: FaultKind, backends: readonly CacheType[]): CacheType[] {
  return backends.filter((b) => (FAULTS[kind].backends ?? [b]).includes(b));
}

/**
 * A round's plan from (seed, round) alone: the same pair gives the same plan, whatever ran before. The kind
 * is drawn first, then a backend it can touch: every kind comes as often, also those only some backends
 * have (kill-cache, stop-backend).
 */
export function planRound(seed: number, round: number, options: PlanOptions): RoundPlan {
  const random = seededRandom(hashString(`soak:${seed}:${round}`));
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  const usable = options.backends.filter((b) => releasesWith(b, options.releases).length > 0);
  if (usable.length === 0) {
    throw new Error(
      `no release of ${options.releases.join(', ')} carries any of ${options.backends.join(', ')}`,
    );
  }
  const entries = options.entries ?? ENTRIES;
  const faults = FAULT_KINDS.filter(
    (k) =>
      k !== 'none' &&
      (options.kinds ?? [k]).includes(k) &&
      backendsFor(k, usable).length > 0 &&
      // Only the action has a post step.
      (FAULTS[k].reaches !== 'post-process' || entries.includes('action')),
  );
  if (faults.length === 0) {
    const asked = options.kinds?.join(', ') ?? 'any kind';
    throw new Error(`no fault of ${asked} touches any of ${usable.join(', ')} through ${entries.join(', ')}`);
  }
  const control = random() < (options.controlShare ?? 0.1);
  const kind = control ? 'none' : pick(faults);
  const backend = pick(backendsFor(kind, usable));
  const releases = releasesWith(backend, options.releases);
  // Minimization starts only after a lost layer: only a release that loses layers ever gets there.
  const phases = FAULTS[kind].phases.filter((p) => p !== 'minimize' || releases.some(losesLayers));
  const phase = kind === 'none' ? undefined : pick(phases);
  const minimize = phase === 'minimize';
  const shape = {
    release: pick(minimize ? releases.filter(losesLayers) : releases),
    variant: pick(['rootful', 'rootless'] as const),
    parallel: pick([1, 2] as const),
    retries: options.retries ?? 8,
    resetFrequency: options.resetFrequency ?? 4,
  };
  const fault: FaultPlan = phase === undefined ? { kind } : { kind, at: pointAt(phase, shape, pick) };
  // A third of the rounds run the CLI, the same engine; only the action has a post step to signal.
  const entry = pick(
    (['action', 'action', 'cli'] as const).filter(
      (e) => entries.includes(e) && (e === 'action' || FAULTS[kind].reaches !== 'post-process'),
    ),
  );
  return { seed, round, entry, backend, ...shape, minimize, fault };
}

function pointAt(
  phase: FaultPhase,
  shape: Pick<RoundPlan, 'parallel' | 'retries' | 'resetFrequency'>,
  pick: <T>(items: readonly T[]) => T,
): FaultPoint {
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  if (phase === 'reset')
    return { phase, lane: pick(upTo(lanesOf(shape))), occurrence: pick(upTo(resetsPerLane(shape))) };
  if (phase === 'attempt') return { phase, attempt: pick(upTo(shape.retries)) };
  return { phase };
}

/** Releases with moby/buildkit#2198: they drop empty layers on export (v0.8.0) and import wrongly (to v0.9.1). */
export function losesLayers(release: string): boolean {
  return semver.gte(release, '0.8.0') && semver.lt(release, '0.9.1');
}

/** The detail of the phase line the fault waits for (phaseLine's second argument). */
export function phaseDetail(point: FaultPoint): string | undefined {
  if (point.phase === 'reset') return `lane ${point.lane}`;
  if (point.phase === 'attempt') return String(point.attempt);
  return undefined;
}

/** `kill-cache@attempt 3`, `pause-buildkitd@reset lane 2 #1`, `none`. */
export function faultText(fault: FaultPlan): string {
  if (!fault.at) return fault.kind;
  return `${fault.kind}@${pointText(fault.at)}`;
}

export function pointText(point: FaultPoint): string {
  if (point.phase === 'reset') return `reset lane ${point.lane} #${point.occurrence}`;
  if (point.phase === 'attempt') return `attempt ${point.attempt}`;
  return point.phase;
}

/** One line of the schedule. */
export function planText(plan: RoundPlan): string {
  return [
    `round ${plan.round}`,
    entryText(plan),
    `${plan.release} ${plan.variant}`,
    plan.backend,
    `parallel ${plan.parallel}`,
    `retries ${plan.retries}${plan.minimize ? ', minimize' : ''}`,
    faultText(plan.fault),
  ].join(' | ');
}

/** `action` or `cli`; a plan saved before the CLI had rounds ran the action. */
export const entryText = (plan: Pick<RoundPlan, 'entry'>): Entry => plan.entry ?? 'action';
