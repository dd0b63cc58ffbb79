import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DaemonAccess } from '../backends/backends.js';

/** The run's own Docker config folder: buildctl reads registry logins from it (DOCKER_CONFIG). */
export const DOCKER_CONFIG_DIR = 'docker-config';

interface DockerConfig {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The runner's Docker config as buildctl would read it without ours (what docker/login-action writes). */
function runnerConfig(): DockerConfig {
  const dir = process.env['DOCKER_CONFIG'] || path.join(os.homedir(), '.docker');
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as DockerConfig;
  } catch {
    return {};
  }
}

/**
 * Writes the logins buildctl hands to the daemon into the run's folder, readable by this user only: the
 * runner's own (so that a FROM of a private image still works), each login of a registry on loopback also
 * under the name buildkitd gives it, and the cache-ref login. Returns the folder, or undefined when the
 * runner's config serves as it is.
 */
export function writeDockerConfig(workDir: string, access: DaemonAccess | undefined): string | undefined {
  const aliases = access?.registryAliases ?? {};
  const login = access?.registryLogin;
  if (!login && Object.keys(aliases).length === 0) return undefined;
  const config = runnerConfig();
  const auths: Record<string, unknown> = { ...config.auths };
  for (const [daemonName, userName] of Object.entries(aliases))
    if (auths[userName] !== undefined) auths[daemonName] = auths[userName];
  if (login)
    auths[login.host] = { auth: Buffer.from(`${login.username}:${login.password}`).toString('base64') };
  const dir = path.join(workDir, DOCKER_CONFIG_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify({ ...config, auths })}\n`, {
    mode: 0o600,
  });
  return dir;
}

/** Removes the run's Docker config: at the run's end, and again by the post step or the CLI's exit. */
export function removeDockerConfig(workDir: string): void {
  if (workDir) fs.rmSync(path.join(workDir, DOCKER_CONFIG_DIR), { recursive: true, force: true });
}
