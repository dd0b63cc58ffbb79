import type { MirrorImage } from '../inputs/settings.js';
import type { Log } from '../log.js';
import { type Docker, type ImageFacts } from './docker.js';
import { InfrastructureError, waitUntil } from './readiness.js';

export const REGISTRY_PORT = 5000;
const READY_TIMEOUT_MS = 60_000;

export interface RegistryOptions {
  runId: string;
  registryImage: string;
  mirrorUpstream: string;
  mirrorImages: MirrorImage[];
  /** What the set-up read of every image the run uses (the registry image among them). */
  imageFacts: ReadonlyMap<string, ImageFacts>;
}

/** The two registries of a run, as the daemons (on the run's network) and this host (127.0.0.1) reach them. */
export interface Registries {
  /** host:port on the run's network. */
  cacheHost: string;
  mirrorHost: string;
  /** host:port published on 127.0.0.1. */
  cacheAddress: string;
  mirrorAddress: string;
}

/** Container names of a run's parts, from its id: cleanup finds them by label, people by name. */
export function runPrefix(runId: string): string {
  return `lost-layer-${runId}`;
}

/**
 * The run's network and both registries, started together; the mirror filled with `mirrorImages` when it is
 * not a pull-through. Each answers /v2/ before this returns: a build started earlier can fail.
 */
export async function startRegistries(
  docker: Docker,
  options: RegistryOptions,
  log: Log,
): Promise<Registries> {
  const prefix = runPrefix(options.runId);
  await docker.createNetwork(`${prefix}-net`, options.runId);
  const mirrorEnv: Record<string, string> = options.mirrorUpstream
    ? { REGISTRY_PROXY_REMOTEURL: options.mirrorUpstream }
    : {};
  const [cacheAddress, mirrorAddress] = await Promise.all([
    startRegistry(docker, options, `${prefix}-cache`, {}, log),
    startRegistry(docker, options, `${prefix}-mirror`, mirrorEnv, log),
  ]);
  for (const image of options.mirrorImages) await fillMirror(docker, mirrorAddress, image, log);
  return {
    cacheHost: `${prefix}-cache:${REGISTRY_PORT}`,
    mirrorHost: `${prefix}-mirror:${REGISTRY_PORT}`,
    cacheAddress,
    mirrorAddress,
  };
}

async function startRegistry(
  docker: Docker,
  options: RegistryOptions,
  name: string,
  env: Record<string, string>,
  log: Log,
): Promise<string> {
  const facts = options.imageFacts.get(options.registryImage);
  if (!facts) throw new InfrastructureError(`image ${options.registryImage} is not on this Docker host`);
  await docker.createContainer({
    name,
    image: options.registryImage,
    network: `${runPrefix(options.runId)}-net`,
    runId: options.runId,
    publish: [{ containerPort: REGISTRY_PORT }],
    volumes: await declaredVolumes(docker, options.runId, name, facts, []),
    env,
  });
  await docker.start(name);
  const address = await docker.publishedAddress(name, REGISTRY_PORT);
  // Docker is asked only while the registry does not answer yet: whether it stopped, so as not to wait in vain.
  await waitUntil(`registry ${name}`, READY_TIMEOUT_MS, async () => {
    if (await answers(address)) return true;
    if (!(await docker.isRunning(name))) {
      throw new InfrastructureError(`registry ${name} stopped: ${await docker.logs(name)}`);
    }
    return false;
  });
  log.info(`registry ${name} answers on ${address}`);
  return address;
}

/** Pushes a local image into the mirror under its Docker Hub name; the local tag it needed goes again. */
async function fillMirror(
  docker: Docker,
  mirrorAddress: string,
  image: MirrorImage,
  log: Log,
): Promise<void> {
  const pushed = `${mirrorAddress}/${image.target}`;
  await docker.tag(image.source, pushed);
  try {
    await docker.push(pushed);
  } finally {
    await docker.untag(pushed);
  }
  log.info(`mirror serves ${image.source} as docker.io/${image.target}`);
}

/**
 * Why the registries could not serve a build right now, or undefined when both run and answer: tells a
 * build that failed on its own from one that failed for the services.
 */
export async function registriesProblem(
  docker: Docker,
  runId: string,
  registries: Registries,
): Promise<string | undefined> {
  const prefix = runPrefix(runId);
  const all = [
    { name: `${prefix}-cache`, address: registries.cacheAddress },
    { name: `${prefix}-mirror`, address: registries.mirrorAddress },
  ];
  for (const { name, address } of all) {
    if (!(await docker.isRunning(name))) return `registry ${name} is not running`;
    if (!(await answers(address))) return `registry ${name} does not answer on ${address}`;
  }
  return undefined;
}

/**
 * A labelled volume of the run for each VOLUME the image declares and the run does not mount itself:
 * Docker would otherwise make anonymous volumes, which carry no label and escape the leftover check.
 */
export async function declaredVolumes(
  docker: Docker,
  runId: string,
  container: string,
  facts: ImageFacts,
  mounted: string[],
): Promise<{ source: string; target: string }[]> {
  const targets = facts.volumes.filter((target) => !mounted.includes(target));
  const volumes = targets.map((target, i) => ({ source: `${container}-volume-${i + 1}`, target }));
  for (const volume of volumes) await docker.createVolume(volume.source, runId);
  return volumes;
}

/** Whether a registry's API answers on its published address. */
async function answers(address: string): Promise<boolean> {
  const response = await fetch(`http://${address}/v2/`).catch(() => undefined);
  return response?.status === 200;
}
