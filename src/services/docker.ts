import { pack } from 'tar-stream';
import { type CommandOptions, type CommandResult, runCommand } from './command.js';

/** Every container, volume and network we create carries this label... */
export const OWNER_LABEL = 'dev.lost-layer';
/** ...and this one, with the run's id, so that a run removes only its own things. */
export const RUN_LABEL = 'dev.lost-layer.run';

export interface PublishedPort {
  containerPort: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  network: string;
  runId: string;
  /** Published on 127.0.0.1 only, on a port Docker picks. */
  publish?: PublishedPort[];
  volumes?: { source: string; target: string }[];
  env?: Record<string, string>;
  /** Variables given to the container by name only: their values go through docker's environment. */
  secretEnv?: Record<string, string>;
  /** Extra /etc/hosts entries, NAME:ADDRESS (host-gateway: this host). */
  hosts?: string[];
  /** Further `docker run` options (capabilities, security options), already split into words. */
  options?: readonly string[];
  args?: readonly string[];
}

export interface ImageFacts {
  user: string;
  env: Record<string, string>;
  /** The paths the image declares as VOLUME: Docker would give each an anonymous volume. */
  volumes: string[];
}

/** A thin typed wrapper around the `docker` command line. */
export class Docker {
  constructor(private readonly binary = 'docker') {}

  private run(
    args: readonly string[],
    options?: Pick<CommandOptions, 'input' | 'allowFailure' | 'env' | 'timeoutMs'>,
  ): Promise<CommandResult> {
    return runCommand(this.binary, args, options);
  }

  async serverVersion(): Promise<string> {
    return (await this.run(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  }

  async imageFacts(image: string): Promise<ImageFacts | undefined> {
    const result = await this.run(['image', 'inspect', '--format', '{{json .Config}}', image], {
      allowFailure: true,
    });
    if (result.exitCode !== 0) return undefined;
    const config = JSON.parse(result.stdout) as {
      User?: string;
      Env?: string[] | null;
      Volumes?: Record<string, unknown> | null;
    };
    const env = Object.fromEntries(
      (config.Env ?? []).map((entry) => [
        entry.slice(0, entry.indexOf('=')),
        entry.slice(entry.indexOf('=') + 1),
      ]),
    );
    return { user: config.User ?? '', env, volumes: Object.keys(config.Volumes ?? {}) };
  }

  async pull(image: string): Promise<void> {
    await this.run(['pull', '--quiet', image]);
  }

  async createNetwork(name: string, runId: string): Promise<void> {
    await this.run(['network', 'create', ...labelArgs(runId), name]);
  }

  async createVolume(name: string, runId: string): Promise<void> {
    await this.run(['volume', 'create', ...labelArgs(runId), name]);
  }

  /** `docker create`: the container exists, stopped, so that files can be copied in before it starts. */
  async createContainer(spec: ContainerSpec): Promise<void> {
    const args = ['create', '--name', spec.name, '--network', spec.network, ...labelArgs(spec.runId)];
    for (const port of spec.publish ?? []) args.push('--publish', `127.0.0.1::${port.containerPort}`);
    for (const volume of spec.volumes ?? []) args.push('--volume', `${volume.source}:${volume.target}`);
    for (const [key, value] of Object.entries(spec.env ?? {})) args.push('--env', `${key}=${value}`);
    for (const key of Object.keys(spec.secretEnv ?? {})) args.push('--env', key);
    for (const host of spec.hosts ?? []) args.push('--add-host', host);
    args.push(...(spec.options ?? []), spec.image, ...(spec.args ?? []));
    await this.run(args, spec.secretEnv ? { env: spec.secretEnv } : {});
  }

  async start(name: string): Promise<void> {
    await this.run(['start', name]);
  }

  /** Writes files into a container (stopped or not); parent folders are created as needed. */
  async writeFiles(name: string, files: { path: string; content: string }[]): Promise<void> {
    await this.run(['cp', '-', `${name}:/`], { input: await tarOf(files) });
  }

  /** The 127.0.0.1 address Docker published the container port on. */
  async publishedAddress(name: string, containerPort: number): Promise<string> {
    const lines = (await this.run(['port', name, `${containerPort}/tcp`])).stdout.trim().split('\n');
    const address = lines.find((line) => line.startsWith('127.0.0.1:'));
    if (!address) throw new Error(`container ${name} publishes no port ${containerPort} on 127.0.0.1`);
    return address.trim();
  }

  async isRunning(name: string): Promise<boolean> {
    const result = await this.run(['inspect', '--format', '{{.State.Running}}', name], {
      allowFailure: true,
    });
    return result.exitCode === 0 && result.stdout.trim() === 'true';
  }

  /** A program of an image, in a labelled container of its own that goes when it ends (`docker run --rm`). */
  async runOnce(
    image: string,
    command: { entrypoint: string; args: readonly string[] },
    runId: string,
    timeoutMs: number,
  ): Promise<CommandResult> {
    const args = ['run', '--rm', ...labelArgs(runId), '--entrypoint', command.entrypoint, image];
    return this.run([...args, ...command.args], { allowFailure: true, timeoutMs });
  }

  async logs(name: string): Promise<string> {
    const result = await this.run(['logs', '--tail', '200', name], { allowFailure: true });
    return result.stdout + result.stderr;
  }

  async removeContainer(name: string): Promise<void> {
    await this.run(['rm', '--force', '--volumes', name], { allowFailure: true });
  }

  async removeVolumes(names: readonly string[]): Promise<void> {
    await this.run(['volume', 'rm', '--force', ...names], { allowFailure: true });
  }

  async tag(source: string, target: string): Promise<void> {
    await this.run(['tag', source, target]);
  }

  async push(image: string): Promise<void> {
    await this.run(['push', '--quiet', image]);
  }

  async untag(image: string): Promise<void> {
    await this.run(['image', 'rm', image], { allowFailure: true });
  }

  /** Names of the containers, volumes and networks that carry a label (`key` or `key=value`). */
  async listLabelled(
    label: string,
  ): Promise<{ containers: string[]; volumes: string[]; networks: string[] }> {
    const names = async (args: string[], field: string) =>
      (await this.run([...args, '--filter', `label=${label}`, '--format', `{{.${field}}}`])).stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
    const [containers, volumes, networks] = await Promise.all([
      names(['ps', '--all'], 'Names'),
      names(['volume', 'ls'], 'Name'),
      names(['network', 'ls'], 'Name'),
    ]);
    return { containers, volumes, networks };
  }

  /** `repository:tag` of every local image tag whose name starts with the prefix. */
  async imageTags(prefix: string): Promise<string[]> {
    const result = await this.run(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], {
      allowFailure: true,
    });
    return result.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith(prefix));
  }

  /** Removes what carries the label: containers first, then the volumes and networks they used. */
  async removeLabelled(label: string): Promise<void> {
    const { containers, volumes, networks } = await this.listLabelled(label);
    if (containers.length > 0)
      await this.run(['rm', '--force', '--volumes', ...containers], { allowFailure: true });
    if (volumes.length > 0) await this.removeVolumes(volumes);
    if (networks.length > 0) await this.run(['network', 'rm', ...networks], { allowFailure: true });
  }
}

/** The labels that make a container, volume or network the run's: cleanup finds it by them. */
export function labelArgs(runId: string): string[] {
  return ['--label', `${OWNER_LABEL}=true`, '--label', `${RUN_LABEL}=${runId}`];
}

async function tarOf(files: { path: string; content: string }[]): Promise<Buffer> {
  const archive = pack();
  for (const file of files) {
    archive.entry({ name: file.path.replace(/^\/+/, ''), mode: 0o644, uid: 0, gid: 0 }, file.content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
