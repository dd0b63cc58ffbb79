import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DaemonAccess } from '../backends/backends.js';

/** The run's own Docker config folder: buildctl reads a registry login from it (DOCKER_CONFIG). */
export const DOCKER_CONFIG_DIR = 'docker-config';

/**
 * Writes the login buildctl hands to the daemon, readable by this user only, into the run's folder (removed
 * with the run's outputs); returns the folder, or undefined when the run has no login of its own and
 * buildctl reads the runner's (~/.docker/config.json, as docker/login-action writes it).
 */
export function writeDockerConfig(workDir: string, login: DaemonAccess['registryLogin']): string | undefined {
  if (!login) return undefined;
  const dir = path.join(workDir, DOCKER_CONFIG_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const auth = Buffer.from(`${login.username}:${login.password}`).toString('base64');
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    `${JSON.stringify({ auths: { [login.host]: { auth } } })}\n`,
    {
      mode: 0o600,
    },
  );
  return dir;
}
