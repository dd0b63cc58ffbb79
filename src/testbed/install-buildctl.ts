import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tc from '@actions/tool-cache';
import { expandUrl } from '../inputs/settings.js';

export interface InstalledBuildctl {
  path: string;
  url: string;
  fromToolCache: boolean;
}

/** Node's process.arch as BuildKit's release assets name it. */
export function releaseArch(nodeArch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm-v7',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  const name = names[nodeArch];
  if (!name) throw new Error(`BuildKit publishes no buildctl for ${nodeArch}`);
  return name;
}

/** buildctl from the runner's tool cache, or downloaded from a release-shaped tarball and cached. */
export async function installBuildctl(
  version: string,
  urlTemplate: string,
  token: string,
): Promise<InstalledBuildctl> {
  const arch = releaseArch();
  const toolVersion = version.replace(/^v/, '');
  const url = expandUrl(urlTemplate, version, arch);
  const cached = tc.find('buildctl', toolVersion, arch);
  if (cached) return { path: path.join(cached, 'buildctl'), url, fromToolCache: true };

  // The token only goes to GitHub itself, never to a mirror.
  const auth = token && new URL(url).hostname === 'github.com' ? `token ${token}` : undefined;
  const archive = await tc.downloadTool(url, undefined, auth);
  const extracted = await tc.extractTar(archive);
  const binary = path.join(extracted, 'bin', 'buildctl');
  if (!fs.existsSync(binary)) throw new Error(`${url} holds no bin/buildctl`);
  const dir = await tc.cacheFile(binary, 'buildctl', 'buildctl', toolVersion, arch);
  fs.rmSync(extracted, { recursive: true, force: true });
  fs.rmSync(archive, { force: true });
  return { path: path.join(dir, 'buildctl'), url, fromToolCache: false };
}
