// The fault soak's hands (scripts/soak.ts): watching the main step's lines for the phase a round's fault
// waits for, doing the fault, and watching the post step to signal it. Every docker call takes an argument array.
import { type ChildProcess, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { phaseLine } from '../../src/log.js';
import { fillDisk, onLines } from '../../test/support/run-watch.js';
import {
  attemptEnded,
  faultTiming,
  type FaultFacts,
  type LineEvent,
  phaseOfLine,
  runIdIn,
} from './soak-oracle.js';
import {
  FAULTS,
  type FaultKind,
  type FaultPoint,
  phaseDetail,
  type PostFault,
  type RoundPlan,
} from './soak-plan.js';

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args, { encoding: 'utf8' })).stdout;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ended = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** The fault could not act (its target was gone): the round then counts as one without a fault. */
class NotFired extends Error {}

/** What a fault acts on; `stopBackend` kills the round's own cache server, where it has one. */
export interface FaultTarget {
  runId: string;
  main: ChildProcess;
  plan: RoundPlan;
  stopBackend?: () => Promise<void>;
  /** RUNNER_TEMP of the round: a tmpfs of its own when the fault fills it. */
  tempDir: string;
  /** Called just before the fault breaks anything: its timing starts there, not at the phase line. */
  acting: () => void;
  /** Called once it is broken, by a fault that then lasts a while (its timing ends there). */
  acted: () => void;
  /** How long a fault that passes lasts: until an attempt that started after `acted` has its result. */
  passes: () => Promise<void>;
}

/** Does the fault; returns what it hit. */
type FaultAction = (target: FaultTarget) => Promise<string[]>;

const onRegistry =
  (verb: 'kill' | 'pause', part: 'cache' | 'mirror'): FaultAction =>
  async ({ runId }) => {
    const name = `lost-layer-${runId}-${part}`;
    await docker(verb, name);
    return [name];
  };

/**
 * The run's running daemons. As a phase that starts one begins (the cache build, a lane's first reset, the
 * minimization's first candidate), there may be none yet: then it waits for one. With two lanes the soak
 * cannot tell from outside which lane takes the next attempt, so it acts on each lane's daemon, and the next
 * phase surely meets one it broke.
 */
async function runningDaemons({ runId, main, plan }: FaultTarget): Promise<string[]> {
  const at = plan.fault.at;
  const starting =
    at?.phase === 'cache-build' || at?.phase === 'minimize' || (at?.phase === 'reset' && at.occurrence === 1);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const names = (
      await docker('ps', '--filter', `label=dev.lost-layer.run=${runId}`, '--format', '{{.Names}}')
    )
      .split('\n')
      .filter((name) => /-buildkitd-\d+$/.test(name))
      // The run's first daemon makes the cache; once the attempts begin it is only on its way out.
      .filter((name) => at?.phase === 'cache-build' || !name.endsWith('-buildkitd-1'));
    if (names.length > 0) return names;
    if (!starting || ended(main) || Date.now() > deadline)
      throw new NotFired('no running buildkitd of the run');
    await sleep(50);
  }
}

const onDaemons =
  (verb: 'kill' | 'pause'): FaultAction =>
  async (target) => {
    const daemons = await runningDaemons(target);
    target.acting();
    await docker(verb, ...daemons);
    return daemons;
  };

const signalMain =
  (signal: NodeJS.Signals): FaultAction =>
  async ({ main }) => {
    if (ended(main) || !main.kill(signal)) throw new NotFired('the main step had ended');
    return [`main step (${signal})`];
  };

/** The host folder of a registry container's storage (its labelled volume). */
async function registryStorage(name: string): Promise<string> {
  const format = '{{range .Mounts}}{{if eq .Destination "/var/lib/registry"}}{{.Source}}{{end}}{{end}}';
  const source = (await docker('inspect', '--format', format, name)).trim();
  if (!source) throw new NotFired(`${name} has no storage volume`);
  return source;
}

/**
 * A registry whose storage fails: its `docker/registry/v2` folder becomes a file, so that every read and write
 * of a repository gets ENOTDIR, which the registry answers with 500.
 */
function storageFailure(root: string): Breakage {
  const v2 = path.join(root, 'docker', 'registry', 'v2');
  const away = `${v2}.soak-away`;
  return {
    breakIt: () => {
      // A volume gone (the run ended while the soak asked for it) must not be made again by the soak.
      if (!fs.existsSync(root)) throw new NotFired(`${root} is gone`);
      fs.mkdirSync(path.dirname(v2), { recursive: true });
      if (fs.existsSync(v2)) fs.renameSync(v2, away);
      fs.writeFileSync(v2, '');
    },
    undo: () => {
      // The post step may have removed the volume already.
      fs.rmSync(v2, { force: true });
      if (fs.existsSync(away)) fs.renameSync(away, v2);
    },
  };
}

/** Something a fault breaks for a while, and how it is mended (also after a break that failed halfway). */
interface Breakage {
  breakIt(): void;
  undo(): void;
}

/** Breaks something, marks it broken, waits for the fault to pass, undoes it (also when anything fails). */
async function forAWhile(target: FaultTarget, { breakIt, undo }: Breakage): Promise<void> {
  target.acting();
  try {
    breakIt();
    target.acted();
    await target.passes();
  } finally {
    undo();
  }
}

/** The faults the main step's watch fires; `none` does nothing, the post step's watch sends the others. */
type MainFault = Exclude<FaultKind, 'none' | PostFault>;
const isMainFault = (kind: FaultKind): kind is MainFault =>
  kind !== 'none' && FAULTS[kind].reaches !== 'post-process';

/** Each kind's action. `none` does nothing; the post step's signals are sent by its watch (watchPost). */
export const FAULT_ACTIONS: Readonly<Record<MainFault, FaultAction>> = {
  'kill-cache': onRegistry('kill', 'cache'),
  'kill-mirror': onRegistry('kill', 'mirror'),
  'kill-buildkitd': onDaemons('kill'),
  'pause-buildkitd': onDaemons('pause'),
  'pause-cache': onRegistry('pause', 'cache'),
  'pause-mirror': onRegistry('pause', 'mirror'),
  'stop-backend': async ({ stopBackend }) => {
    if (!stopBackend) throw new NotFired('the backend has no server of the soak');
    await stopBackend();
    return ['the cache server'];
  },
  'registry-500': async (target) => {
    const name = `lost-layer-${target.runId}-cache`;
    await forAWhile(target, storageFailure(await registryStorage(name)));
    return [`${name} (500s)`];
  },
  'fill-disk': async (target) => {
    const filler = path.join(target.tempDir, 'soak-filler');
    await forAWhile(target, {
      breakIt: () => fillDisk(filler),
      undo: () => fs.rmSync(filler, { force: true }),
    });
    return [`${target.tempDir} (full)`];
  },
  'sigint-main': signalMain('SIGINT'),
  'sigterm-main': signalMain('SIGTERM'),
  'sigkill-main': signalMain('SIGKILL'),
};

/** A fault that acted, from when to when (ms on the soak's clock), or why it did not. */
type Firing = { targets: string[]; began: number; done: number } | { why: string };

/**
 * When each attempt of the main step started and ended, from its lines: how long a fault that passes lasts
 * (until one attempt lived wholly inside it).
 */
export class AttemptClock {
  private ended = false;
  /** Each attempt's phase line, when it arrived. */
  private readonly starts = new Map<number, number>();
  /** Called with the start of each attempt that has its result line, and once the step has ended. */
  private readonly listeners = new Set<(startedAt?: number) => void>();

  line(line: string, atMs: number): void {
    const started = /^attempt (\d+)$/.exec(phaseOfLine(line) ?? '')?.[1];
    if (started !== undefined) this.starts.set(Number(started), atMs);
    const ended = attemptEnded(line);
    const startedAt = ended === undefined ? undefined : this.starts.get(ended);
    if (startedAt !== undefined) for (const listener of [...this.listeners]) listener(startedAt);
  }

  stepEnded(): void {
    this.ended = true;
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves once an attempt whose phase line came at `fromMs` or later has its result, or the step ends. */
  attemptWithin(fromMs: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (startedAt?: number) => {
        if (startedAt !== undefined && startedAt < fromMs) return;
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }
}

/**
 * Reads the main step's log line by line, each line timed on arrival, and fires the round's fault once
 * at its phase line (for a reset, at that lane's nth). `facts` waits for the fault to finish.
 */
export class MainWatch {
  readonly events: LineEvent[] = [];
  private runId: string | undefined;
  private readonly seen = new Map<string, number>();
  private firing: Promise<Firing> | undefined;
  private mainExitedAt = Infinity;
  private readonly clock = new AttemptClock();

  constructor(
    private readonly plan: RoundPlan,
    private readonly stopBackend: (() => Promise<void>) | undefined,
    private readonly tempDir: string,
  ) {}

  /** `stream`: where the step logs; the action logs on stdout, the CLI on stderr. */
  attach(main: ChildProcess, stream: 'stdout' | 'stderr' = 'stdout'): void {
    main.on('exit', () => {
      this.mainExitedAt = performance.now();
      this.clock.stepEnded();
    });
    onLines(main, (line) => this.line(line, main), stream);
  }

  private line(line: string, main: ChildProcess): void {
    const now = performance.now();
    this.events.push({ atMs: now, line });
    this.clock.line(line, now);
    this.runId ??= runIdIn(line);
    const phase = phaseOfLine(line);
    const { kind, at } = this.plan.fault;
    if (!phase || !at || !isMainFault(kind)) return;
    const count = (this.seen.get(phase) ?? 0) + 1;
    this.seen.set(phase, count);
    if (phase !== wantedPhase(at) || count !== occurrenceOf(at) || this.firing) return;
    this.fire(kind, main);
  }

  private fire(kind: MainFault, main: ChildProcess): void {
    let began = performance.now();
    let done: number | undefined;
    const target: FaultTarget = {
      runId: this.runId ?? '',
      main,
      plan: this.plan,
      tempDir: this.tempDir,
      ...(this.stopBackend ? { stopBackend: this.stopBackend } : {}),
      acting: () => (began = performance.now()),
      acted: () => (done = performance.now()),
      passes: () => this.clock.attemptWithin(done ?? performance.now()),
    };
    this.firing = FAULT_ACTIONS[kind](target).then(
      (targets) => ({ targets, began, done: done ?? performance.now() }),
      (error: unknown) => {
        const why = (error as Error).message.split('\n')[0] ?? '';
        // A fault that broke something fired, even when its undoing then failed: the round was hit.
        return done === undefined
          ? { why }
          : { targets: [`${kind} (its undoing failed: ${why})`], began, done };
      },
    );
  }

  /** Whether and how the fault fired, once the main step is over: the lines after it count too. */
  async facts(): Promise<FaultFacts> {
    const { kind, at } = this.plan.fault;
    if (kind === 'none' || !at) return { fired: false, why: 'a control round' };
    if (FAULTS[kind].reaches === 'post-process')
      return { fired: false, why: 'the post step never said its cleanup starts' };
    if (!this.firing) return { fired: false, why: `no phase line "${wantedPhase(at)}" #${occurrenceOf(at)}` };
    const firing = await this.firing;
    if ('why' in firing) return { fired: false, why: firing.why };
    // A fault that acted once the main step was over reached at most the post step.
    if (firing.began >= this.mainExitedAt) return { fired: false, why: 'it acted after the main step ended' };
    return {
      fired: true,
      targets: firing.targets,
      timing: faultTiming(this.events, firing.began, firing.done),
    };
  }
}

/** `attempt 3`, `reset lane 1`: what phaseOfLine gives for the line the fault waits for. */
function wantedPhase(at: FaultPoint): string {
  return [at.phase, phaseDetail(at)].filter((p) => p !== undefined).join(' ');
}

const occurrenceOf = (at: FaultPoint) => (at.phase === 'reset' ? at.occurrence : 1);

/** How the post step ended, besides its exit code and signal: cut at the deadline, or signalled by the soak. */
export interface PostEnd {
  timedOut: boolean;
  /** The soak sent its signal at the cleanup line (a post-process fault). */
  killed: boolean;
}

/**
 * Watches the real post step (runAction's onPostStarted): sends it a post fault's signal as its cleanup
 * phase line arrives, and SIGKILL at the soak's deadline.
 */
export function watchPost(post: ChildProcess, plan: RoundPlan, deadlineMs: number): PostEnd {
  const end: PostEnd = { timedOut: false, killed: false };
  const spec = FAULTS[plan.fault.kind];
  const signal = spec.reaches === 'post-process' ? spec.signal : undefined;
  const cleanup = `::debug::${phaseLine('cleanup')}`;
  const deadline = setTimeout(() => {
    end.timedOut = true;
    post.kill('SIGKILL');
  }, deadlineMs);
  post.on('close', () => clearTimeout(deadline));
  onLines(post, (line) => {
    if (signal && !end.killed && line === cleanup) {
      end.killed = true;
      post.kill(signal);
    }
  });
  return end;
}
