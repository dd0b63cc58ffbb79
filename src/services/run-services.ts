import type { Log } from '../log.js';
import { buildkitdToml } from '../inputs/buildkitd-config.js';
import { type DaemonAccess, HOST_FROM_CONTAINERS } from '../backends/backends.js';
import { Buildctl } from './buildctl.js';
import { Docker, type ImageFacts, RUN_LABEL } from './docker.js';
import { DaemonStartError, InfrastructureError, waitUntil } from './readiness.js';
import { removeRemoteCache } from './remote-caches.js';
import {
  declaredVolumes,
  REGISTRY_PORT,
  type Registries,
  registriesProblem,
  runPrefix,
} from './registries.js';

/** The run's first line: what it labels, so that whatever a killed run left can be found and removed. */
export function runLabelLine(runId: string): string {
  return `run ${runId}: containers, volumes and network are labelled ${RUN_LABEL}=${runId}`;
}

export { DaemonStartError, InfrastructureError } from './readiness.js';

const BUILDKITD_PORT = 1234;
const CONFIG_PATH = '/etc/lost-layer/buildkitd.toml';
const READY_TIMEOUT_MS = 60_000;
/** How long `buildkitd --version` may take in a container of its own. */
const VERSION_TIMEOUT_MS = 30_000;

export interface DaemonOptions {
  runId: string;
  buildkitdConfig: string;
  buildkitdFlags: string[];
  buildkitdContainerOptions: string[] | undefined;
  /** The installed buildctl that talks to every daemon. */
  buildctlBinary: string;
  /** What the set-up read of the images: a daemon start (a reset, with restart) asks Docker no more. */
  imageFacts: ReadonlyMap<string, ImageFacts>;
  /** What the daemons need to reach a cache outside the run's containers (an S3 bucket). */
  daemonAccess?: DaemonAccess | undefined;
  /** The run's Docker config folder holding a registry login, for every buildctl (DOCKER_CONFIG). */
  dockerConfigDir?: string | undefined;
}

export interface Buildkitd {
  container: string;
  volume: string;
  image: string;
  buildctl: Buildctl;
}

/**
 * The services of one run, once its registries answer and buildctl is installed: buildkitd daemons on the
 * run's network, all named after the run and labelled with its id, so that cleanup removes exactly these.
 */
export class RunServices {
  private generation = 0;
  readonly runId: string;
  private readonly config: string;
  /** Each image's BuildKit version, once asked. */
  private readonly versions = new Map<string, Promise<string>>();
  /** The volumes made for a container's declared VOLUMEs, removed with it. */
  private readonly extraVolumes = new Map<string, string[]>();

  constructor(
    private readonly docker: Docker,
    private readonly options: DaemonOptions,
    readonly registries: Registries,
    private readonly log: Log,
  ) {
    this.runId = options.runId;
    this.config = buildkitdToml(options.buildkitdConfig, {
      mirror: registries.mirrorHost,
      cache: registries.cacheHost,
      plainHttp: options.daemonAccess?.plainHttpRegistries ?? [],
    });
  }

  /** Why the registries could not serve a build right now, or undefined when both answer. */
  registriesProblem(): Promise<string | undefined> {
    return registriesProblem(this.docker, this.options.runId, this.registries);
  }

  /**
   * A buildkitd with a new, empty state volume, answering on 127.0.0.1. When it does not come up, the
   * DaemonStartError names its container, whose logs tell why.
   */
  async startBuildkitd(image: string): Promise<Buildkitd> {
    this.generation += 1;
    const container = `${runPrefix(this.options.runId)}-buildkitd-${this.generation}`;
    try {
      return await this.createBuildkitd(image, container);
    } catch (error) {
      throw new DaemonStartError(container, (error as Error).message);
    }
  }

  private async createBuildkitd(image: string, container: string): Promise<Buildkitd> {
    const facts = this.facts(image);
    const rootless = facts.user !== '' && !['0', 'root', '0:0', 'root:root'].includes(facts.user);
    const home = facts.env['HOME'] ?? '/home/user';
    const statePath = rootless ? `${home}/.local/share/buildkit` : '/var/lib/buildkit';
    const volume = `${container}-state`;
    const flags = [...this.options.buildkitdFlags];
    const access = this.options.daemonAccess;
    // Without --privileged a rootless daemon cannot make a PID namespace per step.
    if (rootless && !flags.includes('--oci-worker-no-process-sandbox'))
      flags.push('--oci-worker-no-process-sandbox');
    await this.docker.createVolume(volume, this.options.runId);
    const extra = await declaredVolumes(this.docker, this.options.runId, container, facts, [statePath]);
    this.extraVolumes.set(
      container,
      extra.map((v) => v.source),
    );
    await this.docker.createContainer({
      name: container,
      image,
      network: `${runPrefix(this.options.runId)}-net`,
      runId: this.options.runId,
      publish: [{ containerPort: BUILDKITD_PORT }],
      volumes: [{ source: volume, target: statePath }, ...extra],
      options: this.options.buildkitdContainerOptions ?? defaultContainerOptions(rootless),
      ...(access ? { secretEnv: access.secretEnv } : {}),
      ...(access?.hostGateway ? { hosts: [`${HOST_FROM_CONTAINERS}:host-gateway`] } : {}),
      args: ['--addr', `tcp://0.0.0.0:${BUILDKITD_PORT}`, '--config', CONFIG_PATH, ...flags],
    });
    await this.docker.writeFiles(container, [{ path: CONFIG_PATH, content: this.config }]);
    await this.docker.start(container);
    const address = await this.docker.publishedAddress(container, BUILDKITD_PORT);
    const { dockerConfigDir } = this.options;
    const buildctl = new Buildctl(
      this.options.buildctlBinary,
      `tcp://${address}`,
      dockerConfigDir ? { DOCKER_CONFIG: dockerConfigDir } : undefined,
    );
    // Docker is asked only while the daemon does not answer yet: whether it stopped, so as not to wait in vain.
    await waitUntil(`buildkitd ${container}`, READY_TIMEOUT_MS, async () => {
      if (await buildctl.hasWorkers()) return true;
      if (!(await this.docker.isRunning(container))) {
        throw new InfrastructureError(
          `buildkitd ${container} stopped:\n${await this.docker.logs(container)}`,
        );
      }
      return false;
    });
    return { container, volume, image, buildctl };
  }

  /** Removes a daemon and its state: the next one starts with an empty local cache. */
  async stopBuildkitd(daemon: Buildkitd): Promise<void> {
    await this.docker.removeContainer(daemon.container);
    await this.docker.removeVolumes([daemon.volume, ...(this.extraVolumes.get(daemon.container) ?? [])]);
  }

  /** The image's facts as the set-up read them: a reset is on the per-attempt path. */
  private facts(image: string): ImageFacts {
    const facts = this.options.imageFacts.get(image);
    if (!facts) throw new InfrastructureError(`image ${image} is not on this Docker host`);
    return facts;
  }

  /** The version the daemon itself reports, e.g. v0.9.0. */
  /**
   * The version the daemon's image reports, e.g. v0.9.0, asked once per image of a container of its own.
   * Never `docker exec` into the daemon: into a paused one it waits without end, and holds the container so
   * that even its removal waits (Docker 20.10).
   */
  async buildkitVersion(daemon: Buildkitd): Promise<string> {
    let version = this.versions.get(daemon.image);
    if (!version) {
      version = imageVersion(this.docker, daemon.image, this.runId);
      this.versions.set(daemon.image, version);
      // A failed question is asked again next time.
      version.catch(() => this.versions.delete(daemon.image));
    }
    return version;
  }

  async daemonLogs(container: string): Promise<string> {
    return this.docker.logs(container);
  }

  async isRunning(container: string): Promise<boolean> {
    return this.docker.isRunning(container);
  }
}

/** The version `buildkitd --version` of an image says, e.g. v0.9.0; an error when it does not say in time. */
export async function imageVersion(
  docker: Docker,
  image: string,
  runId: string,
  timeoutMs = VERSION_TIMEOUT_MS,
): Promise<string> {
  const command = { entrypoint: 'buildkitd', args: ['--version'] };
  const result = await docker.runOnce(image, command, runId, timeoutMs);
  if (result.timedOut)
    throw new InfrastructureError(
      `buildkitd --version of ${image} did not answer within ${timeoutMs / 1000} s`,
    );
  return /\bv\d+\.\d+\.\d+\S*/.exec(result.stdout)?.[0] ?? (result.stdout.trim() || 'unknown');
}

/**
 * Removes everything a run created, found by its label, the image tags it pushed to its mirror and, given
 * the settings of a cache on a server of the user's, the run's part there; safe to call twice. Returns what is still there afterwards (empty when all went), for the caller to say.
 */
export async function removeRun(
  docker: Docker,
  runId: string,
  remote?: Parameters<typeof removeRemoteCache>[0],
): Promise<string[]> {
  const label = `${RUN_LABEL}=${runId}`;
  // A run killed while filling its mirror leaves a tag named after the mirror's published address.
  const { containers } = await docker.listLabelled(label);
  for (const mirror of containers.filter((name) => name.endsWith('-mirror'))) {
    const address = await docker.publishedAddress(mirror, REGISTRY_PORT).catch(() => undefined);
    if (address) for (const tag of await docker.imageTags(`${address}/`)) await docker.untag(tag);
  }
  await docker.removeLabelled(label);
  const left = await docker.listLabelled(label);
  const remoteLeft = remote ? await removeRemoteCache(remote, runId) : [];
  return [
    ...remoteLeft,
    ...left.containers.map((name) => `container ${name}`),
    ...left.volumes.map((name) => `volume ${name}`),
    ...left.networks.map((name) => `network ${name}`),
  ];
}

/** What a cleanup left and how to remove it by hand, or undefined when it left nothing. */
export function cleanupWarning(runId: string, left: readonly string[]): string | undefined {
  if (left.length === 0) return undefined;
  const label = `${RUN_LABEL}=${runId}`;
  // Only what Docker holds is removed by these commands; a remote cache's keys are named as they are.
  if (!left.some((item) => /^(container|volume|network) /.test(item)))
    return `cleanup left ${left.join(', ')}`;
  const commands = [
    `docker rm --force --volumes $(docker ps --all --quiet --filter label=${label})`,
    `docker volume rm $(docker volume ls --quiet --filter label=${label})`,
    `docker network rm $(docker network ls --quiet --filter label=${label})`,
  ];
  return `cleanup left ${left.join(', ')}; remove them with: ${commands.join('; ')}`;
}

/**
 * What docker/setup-buildx-action's docker-container driver uses where --privileged is allowed (GitHub's
 * runners); the rootless image needs only unconfined seccomp and AppArmor, as in BuildKit's own docs.
 */
export function defaultContainerOptions(rootless: boolean): string[] {
  return rootless
    ? ['--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined']
    : ['--privileged'];
}
