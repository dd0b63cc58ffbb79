import type { Log } from '../log.js';
import type { MirrorImage } from '../inputs/settings.js';
import { Buildctl } from './buildctl.js';
import { buildkitdToml } from './buildkitd-config.js';
import { Docker, type ImageFacts, RUN_LABEL } from './docker.js';

const REGISTRY_PORT = 5000;
const BUILDKITD_PORT = 1234;
const CONFIG_PATH = '/etc/lost-layer/buildkitd.toml';
const READY_TIMEOUT_MS = 60_000;

export interface RunServicesOptions {
  runId: string;
  registryImage: string;
  mirrorUpstream: string;
  mirrorImages: MirrorImage[];
  buildkitdConfig: string;
  buildkitdFlags: string[];
  buildkitdContainerOptions: string[] | undefined;
}

export interface Buildkitd {
  container: string;
  volume: string;
  image: string;
  buildctl: Buildctl;
}

/** An infrastructure step that failed: never a verdict on BuildKit's output. */
export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}

/**
 * The services of one run: a network, a cache registry, a Docker Hub mirror and buildkitd daemons, all
 * named after the run and labelled with its id, so that cleanup removes exactly these.
 */
export class RunServices {
  readonly prefix: string;
  readonly network: string;
  private generation = 0;
  private config = '';
  private buildctlBinary = '';
  /** The daemon started last, also when it failed to answer: its logs tell why. */
  lastDaemonContainer: string | undefined;
  private readonly imageFactsCache = new Map<string, ImageFacts>();
  private cacheAddress = '';
  private mirrorAddress = '';
  /** The volumes made for a container's declared VOLUMEs, removed with it. */
  private readonly extraVolumes = new Map<string, string[]>();

  constructor(
    private readonly docker: Docker,
    private readonly options: RunServicesOptions,
    private readonly log: Log,
  ) {
    this.prefix = `lost-layer-${options.runId}`;
    this.network = `${this.prefix}-net`;
  }

  get cacheRegistryHost(): string {
    return `${this.prefix}-cache:${REGISTRY_PORT}`;
  }

  /** The cache registry as this host reaches it (published on 127.0.0.1), once started. */
  get cacheRegistryAddress(): string {
    if (!this.cacheAddress) throw new Error('the cache registry has not started');
    return this.cacheAddress;
  }

  get mirrorHost(): string {
    return `${this.prefix}-mirror:${REGISTRY_PORT}`;
  }

  /** The network and both registries, started together; the mirror filled when it is not a pull-through. */
  async start(): Promise<void> {
    this.config = buildkitdToml(this.options.buildkitdConfig, {
      mirror: this.mirrorHost,
      cache: this.cacheRegistryHost,
    });
    await this.docker.createNetwork(this.network, this.options.runId);
    const mirrorEnv: Record<string, string> = this.options.mirrorUpstream
      ? { REGISTRY_PROXY_REMOTEURL: this.options.mirrorUpstream }
      : {};
    const [cacheAddress, mirrorAddress] = await Promise.all([
      this.startRegistry(`${this.prefix}-cache`, {}),
      this.startRegistry(`${this.prefix}-mirror`, mirrorEnv),
    ]);
    this.cacheAddress = cacheAddress;
    this.mirrorAddress = mirrorAddress;
    for (const image of this.options.mirrorImages) await this.fillMirror(mirrorAddress, image);
  }

  private async startRegistry(name: string, env: Record<string, string>): Promise<string> {
    await this.docker.createContainer({
      name,
      image: this.options.registryImage,
      network: this.network,
      runId: this.options.runId,
      publish: [{ containerPort: REGISTRY_PORT }],
      volumes: await this.declaredVolumes(name, await this.facts(this.options.registryImage), []),
      env,
    });
    await this.docker.start(name);
    const address = await this.docker.publishedAddress(name, REGISTRY_PORT);
    // A build started before the registry answers can fail: wait for its API.
    await waitUntil(`registry ${name}`, READY_TIMEOUT_MS, async () => {
      if (!(await this.docker.isRunning(name))) {
        throw new InfrastructureError(`registry ${name} stopped: ${await this.docker.logs(name)}`);
      }
      return answers(address);
    });
    this.log.info(`registry ${name} answers on ${address}`);
    return address;
  }

  private async fillMirror(mirrorAddress: string, image: MirrorImage): Promise<void> {
    const pushed = `${mirrorAddress}/${image.target}`;
    await this.docker.tag(image.source, pushed);
    try {
      await this.docker.push(pushed);
    } finally {
      await this.docker.untag(pushed);
    }
    this.log.info(`mirror serves ${image.source} as docker.io/${image.target}`);
  }

  /**
   * Why the registries could not serve a build right now, or undefined when both run and the cache
   * registry answers: tells a build that failed on its own from one that failed for the services.
   */
  async registriesProblem(): Promise<string | undefined> {
    const registries = [
      { name: `${this.prefix}-cache`, address: this.cacheRegistryAddress },
      { name: `${this.prefix}-mirror`, address: this.mirrorAddress },
    ];
    for (const { name, address } of registries) {
      if (!(await this.docker.isRunning(name))) return `registry ${name} is not running`;
      if (!(await answers(address))) return `registry ${name} does not answer on ${address}`;
    }
    return undefined;
  }

  /** The buildctl that talks to the daemons, once installed. */
  useBuildctl(binary: string): void {
    this.buildctlBinary = binary;
  }

  /** A buildkitd with a new, empty state volume, answering on 127.0.0.1. */
  async startBuildkitd(image: string): Promise<Buildkitd> {
    if (!this.buildctlBinary) throw new Error('no buildctl: useBuildctl() comes before startBuildkitd()');
    const facts = await this.facts(image);
    const rootless = facts.user !== '' && !['0', 'root', '0:0', 'root:root'].includes(facts.user);
    const home = facts.env['HOME'] ?? '/home/user';
    const statePath = rootless ? `${home}/.local/share/buildkit` : '/var/lib/buildkit';
    this.generation += 1;
    const container = `${this.prefix}-buildkitd-${this.generation}`;
    this.lastDaemonContainer = container;
    const volume = `${container}-state`;
    const flags = [...this.options.buildkitdFlags];
    // Without --privileged a rootless daemon cannot make a PID namespace per step.
    if (rootless && !flags.includes('--oci-worker-no-process-sandbox'))
      flags.push('--oci-worker-no-process-sandbox');
    await this.docker.createVolume(volume, this.options.runId);
    const state = { source: volume, target: statePath };
    await this.docker.createContainer({
      name: container,
      image,
      network: this.network,
      runId: this.options.runId,
      publish: [{ containerPort: BUILDKITD_PORT }],
      volumes: [state, ...(await this.declaredVolumes(container, facts, [statePath]))],
      options: this.options.buildkitdContainerOptions ?? defaultContainerOptions(rootless),
      args: ['--addr', `tcp://0.0.0.0:${BUILDKITD_PORT}`, '--config', CONFIG_PATH, ...flags],
    });
    await this.docker.writeFiles(container, [{ path: CONFIG_PATH, content: this.config }]);
    await this.docker.start(container);
    const address = await this.docker.publishedAddress(container, BUILDKITD_PORT);
    const buildctl = new Buildctl(this.buildctlBinary, `tcp://${address}`);
    await waitUntil(`buildkitd ${container}`, READY_TIMEOUT_MS, async () => {
      if (!(await this.docker.isRunning(container))) {
        throw new InfrastructureError(
          `buildkitd ${container} stopped:\n${await this.docker.logs(container)}`,
        );
      }
      return buildctl.hasWorkers();
    });
    return { container, volume, image, buildctl };
  }

  /** Removes a daemon and its state: the next one starts with an empty local cache. */
  async stopBuildkitd(daemon: Buildkitd): Promise<void> {
    await this.docker.removeContainer(daemon.container);
    await this.docker.removeVolumes([daemon.volume, ...(this.extraVolumes.get(daemon.container) ?? [])]);
  }

  /** Read once per image: a reset is on the per-attempt path. */
  private async facts(image: string): Promise<ImageFacts> {
    const facts = this.imageFactsCache.get(image) ?? (await this.docker.imageFacts(image));
    if (!facts) throw new InfrastructureError(`image ${image} is not on this Docker host`);
    this.imageFactsCache.set(image, facts);
    return facts;
  }

  /**
   * A labelled volume of the run for each VOLUME the image declares and the run does not mount itself:
   * Docker would otherwise make anonymous volumes, which carry no label and escape the leftover check.
   */
  private async declaredVolumes(
    container: string,
    facts: ImageFacts,
    mounted: string[],
  ): Promise<{ source: string; target: string }[]> {
    const targets = facts.volumes.filter((target) => !mounted.includes(target));
    const volumes = targets.map((target, i) => ({ source: `${container}-volume-${i + 1}`, target }));
    for (const volume of volumes) await this.docker.createVolume(volume.source, this.options.runId);
    this.extraVolumes.set(
      container,
      volumes.map((v) => v.source),
    );
    return volumes;
  }

  /** The version the daemon itself reports, e.g. v0.9.0. */
  async buildkitVersion(daemon: Buildkitd): Promise<string> {
    const result = await this.docker.exec(daemon.container, ['buildkitd', '--version']);
    return /\bv\d+\.\d+\.\d+\S*/.exec(result.stdout)?.[0] ?? (result.stdout.trim() || 'unknown');
  }

  async daemonLogs(container: string): Promise<string> {
    return this.docker.logs(container);
  }

  async isRunning(container: string): Promise<boolean> {
    return this.docker.isRunning(container);
  }
}

/**
 * Removes everything a run created, found by its label, and the image tags it pushed to its mirror; safe to
 * call twice. Returns what is still there afterwards (empty when all went), for the caller to say.
 */
export async function removeRun(docker: Docker, runId: string): Promise<string[]> {
  const label = `${RUN_LABEL}=${runId}`;
  // A run killed while filling its mirror leaves a tag named after the mirror's published address.
  const { containers } = await docker.listLabelled(label);
  for (const mirror of containers.filter((name) => name.endsWith('-mirror'))) {
    const address = await docker.publishedAddress(mirror, REGISTRY_PORT).catch(() => undefined);
    if (address) for (const tag of await docker.imageTags(`${address}/`)) await docker.untag(tag);
  }
  await docker.removeLabelled(label);
  const left = await docker.listLabelled(label);
  return [
    ...left.containers.map((name) => `container ${name}`),
    ...left.volumes.map((name) => `volume ${name}`),
    ...left.networks.map((name) => `network ${name}`),
  ];
}

/** What a cleanup left and how to remove it by hand, or undefined when it left nothing. */
export function cleanupWarning(runId: string, left: readonly string[]): string | undefined {
  if (left.length === 0) return undefined;
  const label = `${RUN_LABEL}=${runId}`;
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

/** Whether a registry's API answers on its published address. */
async function answers(address: string): Promise<boolean> {
  const response = await fetch(`http://${address}/v2/`).catch(() => undefined);
  return response?.status === 200;
}

async function waitUntil(what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new InfrastructureError(`${what} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
