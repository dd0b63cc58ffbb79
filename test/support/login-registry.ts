import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const LABEL = 'dev.lost-layer.test=login-registry';
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/**
 * A registry that asks for a login (htpasswd, Basic), as a pipeline's cache registry does: the bed's
 * registry image, published on every interface of this host (buildkitd reaches it as host.docker.internal;
 * this process as 127.0.0.1). `stop` removes it.
 */
export class LoginRegistry {
  readonly username = 'pipeline';

  private constructor(
    readonly container: string,
    readonly address: string,
    readonly password: string,
  ) {}

  static async start(image: string): Promise<LoginRegistry> {
    const container = `lost-layer-test-login-registry-${process.pid}`;
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-registry-'));
    const htpasswd = execFileSync('htpasswd', ['-Bbn', 'pipeline', password], {
      encoding: 'utf8',
    });
    fs.writeFileSync(path.join(dir, 'htpasswd'), htpasswd);
    docker(
      'create',
      '--name',
      container,
      '--label',
      LABEL,
      '--publish',
      '5000',
      '--env',
      'REGISTRY_AUTH=htpasswd',
      '--env',
      'REGISTRY_AUTH_HTPASSWD_REALM=lost-layer-test',
      '--env',
      'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd',
      image,
    );
    docker('cp', dir, `${container}:/auth`);
    fs.rmSync(dir, { recursive: true });
    docker('start', container);
    const port = /:(\d+)$/.exec(docker('port', container, '5000/tcp').split('\n')[0] ?? '')?.[1];
    const started = new LoginRegistry(container, `127.0.0.1:${port ?? ''}`, password);
    for (let i = 0; i < 100; i++) {
      const answer = await fetch(`http://${started.address}/v2/`).catch(() => undefined);
      if (answer?.status === 401) return started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    started.stop();
    throw new Error(`the login registry ${container} did not answer`);
  }

  private authorization(): string {
    return `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
  }

  /**
   * Copies a cache (its manifest, the manifests it lists, every blob) from an open registry into this one,
   * as a pipeline that exported it here would have left it.
   */
  async copyFrom(
    source: string,
    repository: string,
    tag: string,
    target: { repository: string; tag: string },
  ) {
    const get = async (kind: 'manifests' | 'blobs', reference: string) => {
      const response = await fetch(`http://${source}/v2/${repository}/${kind}/${reference}`, {
        headers: { Accept: INDEX_TYPES.join(', ') },
      });
      if (!response.ok) throw new Error(`GET ${kind}/${reference}: HTTP ${response.status}`);
      return {
        bytes: Buffer.from(await response.arrayBuffer()),
        type: response.headers.get('content-type') ?? '',
      };
    };
    const copyDocument = async (reference: string, targetReference: string): Promise<void> => {
      const { bytes, type } = await get('manifests', reference);
      const document = JSON.parse(bytes.toString('utf8')) as {
        manifests?: { digest: string; mediaType: string }[];
        layers?: { digest: string }[];
        config?: { digest: string };
      };
      for (const child of document.manifests ?? []) {
        if (INDEX_TYPES.includes(child.mediaType)) await copyDocument(child.digest, child.digest);
        else await this.putBlob(target.repository, child.digest, (await get('blobs', child.digest)).bytes);
      }
      for (const blob of [...(document.layers ?? []), ...(document.config ? [document.config] : [])])
        await this.putBlob(target.repository, blob.digest, (await get('blobs', blob.digest)).bytes);
      await this.put(`/v2/${target.repository}/manifests/${targetReference}`, bytes, type);
    };
    await copyDocument(tag, target.tag);
  }

  private async putBlob(repository: string, digest: string, bytes: Buffer): Promise<void> {
    const started = await fetch(`http://${this.address}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: this.authorization() },
    });
    if (started.status !== 202) throw new Error(`start upload of ${digest}: HTTP ${started.status}`);
    const location = new URL(started.headers.get('location') ?? '', `http://${this.address}`);
    location.searchParams.set('digest', digest);
    await this.put(location.pathname + location.search, bytes, 'application/octet-stream');
  }

  private async put(pathAndQuery: string, bytes: Buffer, type: string): Promise<void> {
    const response = await fetch(`http://${this.address}${pathAndQuery}`, {
      method: 'PUT',
      headers: { Authorization: this.authorization(), 'Content-Type': type },
      body: new Uint8Array(bytes),
    });
    if (!response.ok)
      throw new Error(`PUT ${pathAndQuery}: HTTP ${response.status} ${await response.text()}`);
  }

  stop(): void {
    execFileSync('docker', ['rm', '--force', '--volumes', this.container], { stdio: 'ignore' });
  }
}
