// One round of the fault soak (scripts/soak.ts) on the test bed: the backend's server, the bundled action
// run as the runner runs it (or the CLI, scripts/lib/soak-cli.ts) with the round's fault, the facts the
// oracle judges, and then the round's traces removed, so that the next round starts from nothing of this one.
import { type ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAction, type RunnerDirs, runnerDirs, type StepResult } from '../../test/support/action-runner.js';
import { leftovers, mirrorTags } from '../../test/support/leftovers.js';
import { Docker } from '../../src/services/docker.js';
import { removeRun } from '../../src/services/run-services.js';
import { AzuriteServer } from './azurite-server.js';
import { ghaEnvironment, GhaCacheServer } from './gha-cache-server.js';
import type { ReleaseServer } from './release-server.js';
import { S3Server } from './s3-server.js';
import { runCli } from './soak-cli.js';
import { MainWatch, type PostEnd, watchPost } from './soak-faults.js';
import { type RoundFacts, runIdIn, toolCacheLeftovers } from './soak-oracle.js';
import { FAULTS, MINIMIZE_INPUTS, type RoundPlan } from './soak-plan.js';
import { bedInputs, type TestBedFacts } from './testbed.js';

/** What a round's run needs of its backend's server, and what the run left there. */
interface RoundBackend {
  inputs: Record<string, string>;
  env: Record<string, string>;
  /** Kills the server (stop-backend): the round's own, never the shared one. */
  stop?: () => Promise<void>;
  /** Keys or blobs of the run still on the server (none can be asked of a stopped one). */
  left(runId: string): Promise<string[]>;
  /** After the round: a server started for it alone goes. */
  done(): Promise<void>;
}

/**
 * The remote backends' servers, as test/e2e/backends.test.ts runs them: one of each, shared and started
 * when first asked for; a round whose fault stops the server gets one of its own.
 */
export class BackendServers {
  private s3: Promise<S3Server> | undefined;
  private azurite: Promise<AzuriteServer> | undefined;
  private gha: Promise<GhaCacheServer> | undefined;

  async forRound(plan: RoundPlan): Promise<RoundBackend> {
    const own = plan.fault.kind === 'stop-backend';
    const none = {
      inputs: { 'cache-type': plan.backend },
      env: {},
      left: async () => [],
      done: async () => {},
    };
    if (plan.backend === 's3') {
      const server = await (own
        ? S3Server.start()
        : (this.s3 ??= retryable(S3Server.start(), () => (this.s3 = undefined))));
      return this.store(own, server, server.inputs(), (prefix) => server.keys(prefix), 's3');
    }
    if (plan.backend === 'azblob') {
      const server = await (own
        ? AzuriteServer.start()
        : (this.azurite ??= retryable(AzuriteServer.start(), () => (this.azurite = undefined))));
      return this.store(own, server, server.inputs(), (prefix) => server.store().names(prefix), 'azblob');
    }
    if (plan.backend === 'gha') {
      const server = await (own
        ? GhaCacheServer.start()
        : (this.gha ??= retryable(GhaCacheServer.start(), () => (this.gha = undefined))));
      let stopped: Promise<void> | undefined;
      const stop = () => (stopped ??= server.stop());
      // Its entries are left to the service's eviction by design (README): nothing to ask of it.
      return { ...none, env: ghaEnvironment(server, plan.release), ...(own ? { stop, done: stop } : {}) };
    }
    return none;
  }

  private store(
    own: boolean,
    server: { stop(): void },
    inputs: Record<string, string>,
    names: (prefix: string) => Promise<string[]>,
    type: 's3' | 'azblob',
  ): RoundBackend {
    let stopped = false;
    const stop = async () => {
      stopped = true;
      server.stop();
    };
    return {
      inputs: { 'cache-type': type, ...inputs },
      env: {},
      ...(own ? { stop } : {}),
      left: async (runId) =>
        stopped ? [] : (await names(`lost-layer-${runId}/`)).map((name) => `${type} ${name}`),
      done: async () => (own ? stop() : undefined),
    };
  }

  async close(): Promise<void> {
    const settled = async <T>(server: Promise<T> | undefined) => server?.catch(() => undefined);
    (await settled(this.s3))?.stop();
    (await settled(this.azurite))?.stop();
    await (await settled(this.gha))?.stop();
  }
}

/** A shared server whose start failed is forgotten: a later round starts it again. */
function retryable<T>(starting: Promise<T>, forget: () => void): Promise<T> {
  return starting.catch((error: unknown) => {
    forget();
    throw error;
  });
}

export interface SoakBed {
  bed: TestBedFacts;
  releases: ReleaseServer;
  servers: BackendServers;
  /** How long a step may take before the soak kills it and calls it hung. */
  deadlineMs: number;
}

/** What a round ran: its facts, and the steps' logs (a CLI round has a main step only). */
export interface RoundRun {
  facts: RoundFacts;
  logs: { main: StepResult; post?: StepResult; outputs: Record<string, string> };
}

/**
 * Runs one round. Every round gets fresh runner folders (runnerDirs): a lock or a half-made tool-cache entry
 * is then the round's own, found after its post step and never met by a later round, and each round
 * downloads and verifies buildctl from the local release server (a set-up fault meets that too).
 */
export async function runRound(plan: RoundPlan, bed: SoakBed): Promise<RoundRun> {
  const dirs = runnerDirs();
  // A disk the fault can fill without filling the machine's: RUNNER_TEMP on a tmpfs of the round.
  const ownDisk = FAULTS[plan.fault.kind].ownDisk === true;
  if (ownDisk) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', dirs.temp]);
  let round: RoundRun | undefined;
  try {
    round = await runOn(plan, bed, dirs);
    return round;
  } finally {
    const busy = ownDisk ? unmount(dirs.temp) : undefined;
    // A process of the run that still holds its disk after the post step is a leftover of the run.
    if (busy && round) round.facts.leftovers.push(busy);
    fs.rmSync(path.dirname(dirs.temp), { recursive: true, force: true });
  }
}

/** Unmounts the round's disk; when something still holds it, says so and detaches it all the same. */
function unmount(dir: string): string | undefined {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
    return `the run's disk ${dir} still in use after post (${(error as Error).message.split('\n')[0]})`;
  }
}

async function runOn(plan: RoundPlan, bed: SoakBed, dirs: RunnerDirs): Promise<RoundRun> {
  const backend = await bed.servers.forRound(plan);
  const tagsBefore = new Set(mirrorTags());
  const startedAt = new Date();
  const watch = new MainWatch(plan, backend.stop, dirs.temp);
  let timedOut = false;
  const onMainStarted = (main: ChildProcess) => {
    // The action logs on stdout, the CLI on stderr.
    watch.attach(main, plan.entry === 'cli' ? 'stderr' : 'stdout');
    const deadline = setTimeout(() => {
      timedOut = true;
      main.kill('SIGKILL');
    }, bed.deadlineMs);
    main.on('close', () => clearTimeout(deadline));
  };
  const env = { GITHUB_API_URL: bed.releases.origin, ...backend.env };
  const inputs = roundInputs(plan, bed, backend);
  const ran = await (
    plan.entry === 'cli'
      ? runCli(inputs, dirs, { env, onStarted: onMainStarted }).then((cli) => ({ ...cli, post: undefined }))
      : runActionSteps(plan, bed, dirs, inputs, env, onMainStarted)
  ).catch(async (error: unknown) => {
    // The soak could not run the product at all: a server of the round's own must not outlive it.
    await backend.done();
    throw error;
  });
  const fault = await watch.facts();
  const runId = ran.runId;
  const left = [
    ...(runId ? leftovers(`dev.lost-layer.run=${runId}`) : leftovers('dev.lost-layer', startedAt)),
    ...mirrorTags()
      .filter((tag) => !tagsBefore.has(tag))
      .map((tag) => `mirror tag ${tag}`),
    ...toolCacheLeftovers(toolCacheEntries(dirs.toolCache)),
    ...(runId ? await backend.left(runId).catch((e: unknown) => [`remote: ${(e as Error).message}`]) : []),
  ];
  await clearRound(runId, tagsBefore, backend);
  const facts: RoundFacts = {
    plan,
    fault: ran.post?.end.killed ? postFault(plan) : fault,
    main: { exitCode: ran.main.exitCode, signal: ran.main.signal ?? null, timedOut },
    outputs: ran.outputs,
    ...(ran.post && {
      post: {
        exitCode: ran.post.step.exitCode,
        signal: ran.post.step.signal ?? null,
        timedOut: ran.post.end.timedOut,
        killedBySoak: ran.post.end.killed,
      },
    }),
    leftovers: left,
  };
  const logs = { main: ran.main, post: ran.post?.step, outputs: ran.outputs as Record<string, string> };
  return { facts, logs };
}

/** The action's main step, then its post step watched for a post fault, as a runner runs them. */
async function runActionSteps(
  plan: RoundPlan,
  bed: SoakBed,
  dirs: RunnerDirs,
  inputs: Record<string, string>,
  env: Record<string, string>,
  onMainStarted: (main: ChildProcess) => void,
) {
  let end: PostEnd = { timedOut: false, killed: false };
  const run = await runAction(inputs, dirs, {
    env,
    // The runner's own files stay off the disk a fault fills: it is the run's disk that is full.
    filesDir: path.dirname(dirs.temp),
    onPostStarted: (child) => (end = watchPost(child, plan, bed.deadlineMs)),
    onMainStarted,
  });
  return {
    main: run.main,
    outputs: pickOutputs(run.outputs),
    runId: run.state['runId'] ?? runIdIn(run.main.stdout),
    post: { step: run.post, end },
  };
}

/** The bed's inputs for the release, the round's shape, its backend's and what its fault needs. */
function roundInputs(plan: RoundPlan, bed: SoakBed, backend: RoundBackend): Record<string, string> {
  return {
    ...bedInputs(bed.bed, plan.release, plan.variant, bed.releases.urlTemplate),
    parallel: String(plan.parallel),
    retries: String(plan.retries),
    'cache-reset-frequency': String(plan.resetFrequency),
    ...backend.inputs,
    ...(plan.minimize ? MINIMIZE_INPUTS : {}),
    ...FAULTS[plan.fault.kind].inputs,
  };
}

const postFault = (plan: RoundPlan): RoundFacts['fault'] => ({
  fired: true,
  targets: [`post step (${FAULTS[plan.fault.kind].signal})`],
  timing: { startedBefore: [], startedBy: [], endedBefore: [], phasesAfter: [], judged: [] },
});

function pickOutputs(outputs: Record<string, string>): RoundFacts['outputs'] {
  const names = ['verdict', 'reproduced', 'failed-attempt', 'attempts'] as const;
  return Object.fromEntries(names.flatMap((name) => (name in outputs ? [[name, outputs[name]]] : [])));
}

/** The tool cache's entries three levels down (tool/version/arch), a lock folder not entered. */
export function toolCacheEntries(root: string, below = ''): { path: string; dir: boolean }[] {
  if (below.split('/').length > 3) return [];
  return fs.readdirSync(path.join(root, below), { withFileTypes: true }).flatMap((entry) => {
    const rel = below ? `${below}/${entry.name}` : entry.name;
    const here = { path: rel, dir: entry.isDirectory() };
    return entry.isDirectory() && !entry.name.endsWith('.lock')
      ? [here, ...toolCacheEntries(root, rel)]
      : [here];
  });
}

/** What the round left, removed after it was counted (a paused daemon too). */
async function clearRound(
  runId: string | undefined,
  tagsBefore: Set<string>,
  backend: RoundBackend,
): Promise<void> {
  const docker = new Docker();
  if (runId) await removeRun(docker, runId).catch(() => undefined);
  for (const tag of mirrorTags().filter((t) => !tagsBefore.has(t)))
    await docker.untag(tag).catch(() => undefined);
  await backend.done();
}
