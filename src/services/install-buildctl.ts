import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tc from '@actions/tool-cache';
import { expandUrl } from '../inputs/settings.js';
import type { InstalledBuildctl } from '../model/run-result.js';
import { type ToolCacheWork, withToolCacheLock } from './tool-cache-lock.js';

export interface BuildctlSource {
  version: string;
  urlTemplate: string;
  token: string;
  /** buildctl-sha256: the tarball's expected digest, '' when not given. */
  sha256: string;
  /** The GitHub API to ask for the release asset's digest (GITHUB_API_URL on a runner). */
  apiUrl: string;
  /** cache-binary: keep it in the runner's tool cache; false puts it into `runDir`, removed with the run. */
  cacheBinary: boolean;
  runDir: string;
}

/** A download whose bytes are not the ones expected: never installed, never cached. */
export class VerificationError extends Error {
  override name = 'VerificationError';
}

const VERIFICATION_FILE = 'verification.json';

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

/**
 * buildctl from the runner's tool cache, or downloaded from a release-shaped tarball (retried with back-off
 * by @actions/tool-cache), checked against a SHA-256 when one is known, and only then cached.
 */
export async function installBuildctl(source: BuildctlSource): Promise<InstalledBuildctl> {
  if (!source.cacheBinary) return downloadInto(source, source.runDir);
  // Two jobs on one self-hosted runner share its tool cache: one fills it, the other waits and finds it.
  return withToolCacheLock(buildctlToolCacheWork(source.version), () => findOrDownload(source));
}

/** The tool-cache entry of a buildctl release (as @actions/tool-cache names it) and the lock that guards it. */
export function buildctlToolCacheWork(version: string): ToolCacheWork {
  const dir = process.env['RUNNER_TOOL_CACHE'];
  if (!dir) throw new Error('RUNNER_TOOL_CACHE is not set');
  const arch = releaseArch();
  return {
    lockTarget: path.join(dir, `.buildctl-${version}-${arch}`),
    entry: path.join(dir, 'buildctl', toolVersionOf(version), arch),
  };
}

const toolVersionOf = (version: string) => version.replace(/^v/, '');

async function findOrDownload(source: BuildctlSource): Promise<InstalledBuildctl> {
  const arch = releaseArch();
  const toolVersion = toolVersionOf(source.version);
  const url = expandUrl(source.urlTemplate, source.version, arch);
  const cached = tc.find('buildctl', toolVersion, arch);
  const recorded = cached ? readVerification(cached) : undefined;
  // A cached binary counts when its tarball is the one asked for (or none was asked for).
  if (cached && recorded && (!source.sha256 || recorded.sha256 === source.sha256)) {
    return { path: path.join(cached, 'buildctl'), url, fromToolCache: true, ...recorded };
  }
  // Staged in the runner's temporary folder, as @actions/tool-cache stages its downloads (made if missing).
  const temp = process.env['RUNNER_TEMP'] || os.tmpdir();
  fs.mkdirSync(temp, { recursive: true });
  const stage = fs.mkdtempSync(path.join(temp, 'buildctl-'));
  try {
    const downloaded = await downloadInto(source, stage);
    fs.writeFileSync(path.join(stage, VERIFICATION_FILE), JSON.stringify(verificationOf(downloaded)));
    const dir = await tc.cacheDir(stage, 'buildctl', toolVersion, arch);
    return { ...downloaded, path: path.join(dir, 'buildctl') };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** Downloads the tarball, checks its SHA-256 when one is known, and puts bin/buildctl into `dir`. */
async function downloadInto(source: BuildctlSource, dir: string): Promise<InstalledBuildctl> {
  const url = expandUrl(source.urlTemplate, source.version, releaseArch());
  const githubHost = new URL(url).hostname === 'github.com';
  const archive = await tc.downloadTool(
    url,
    undefined,
    source.token && githubHost ? `token ${source.token}` : undefined,
  );
  try {
    const verification = await verify(source, url, archive);
    const extracted = await tc.extractTar(archive);
    try {
      const binary = path.join(extracted, 'bin', 'buildctl');
      if (!fs.existsSync(binary)) throw new Error(`${url} holds no bin/buildctl`);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(binary, path.join(dir, 'buildctl'));
      fs.chmodSync(path.join(dir, 'buildctl'), 0o755);
    } finally {
      fs.rmSync(extracted, { recursive: true, force: true });
    }
    return { path: path.join(dir, 'buildctl'), url, fromToolCache: false, ...verification };
  } finally {
    fs.rmSync(archive, { force: true });
  }
}

type Verification = Omit<InstalledBuildctl, 'path' | 'url' | 'fromToolCache'>;

function verificationOf(installed: InstalledBuildctl): Verification {
  return {
    sha256: installed.sha256,
    verifiedBy: installed.verifiedBy,
    ...(installed.unverifiedBecause ? { unverifiedBecause: installed.unverifiedBecause } : {}),
  };
}

/** The tarball's SHA-256, held to buildctl-sha256 or else the release digest; a mismatch throws. */
async function verify(source: BuildctlSource, url: string, archive: string): Promise<Verification> {
  const sha256 = await fileSha256(archive);
  const expected = source.sha256
    ? { digest: source.sha256, by: 'buildctl-sha256' }
    : await releaseDigest(source, url).then(
        (digest) => (digest ? { digest, by: 'GitHub release digest' } : undefined),
        (error: unknown) => ({ digest: '', by: '', why: (error as Error).message }),
      );
  if (expected?.digest && expected.digest !== sha256) {
    throw new VerificationError(
      `${url} has SHA-256 ${sha256}, not the ${expected.by} ${expected.digest}: not installed`,
    );
  }
  if (expected?.digest) return { sha256, verifiedBy: expected.by };
  return {
    sha256,
    verifiedBy: '',
    unverifiedBecause:
      expected && 'why' in expected
        ? `no digest: ${expected.why}`
        : 'no buildctl-sha256 and no digest published for the asset',
  };
}

/**
 * The `digest` GitHub's release API publishes for the asset of the same file name, from the repository the
 * URL names (github.com/OWNER/REPO/releases/download/...), else moby/buildkit; undefined when it has none.
 */
export async function releaseDigest(source: BuildctlSource, url: string): Promise<string | undefined> {
  const repository =
    /^https:\/\/github\.com\/([^/]+\/[^/]+)\/releases\/download\//.exec(url)?.[1] ?? 'moby/buildkit';
  const api = `${source.apiUrl.replace(/\/+$/, '')}/repos/${repository}/releases/tags/${encodeURIComponent(source.version)}`;
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
  if (source.token) headers['authorization'] = `Bearer ${source.token}`;
  const response = await fetch(api, { headers, signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`${api} answered ${response.status}`);
  const release = (await response.json()) as { assets?: { name?: string; digest?: string | null }[] };
  const name = path.posix.basename(new URL(url).pathname);
  const digest = release.assets?.find((asset) => asset.name === name)?.digest ?? undefined;
  if (digest && !/^sha256:[a-f0-9]{64}$/.test(digest))
    throw new Error(`${api} gives ${name} an unknown digest ${digest}`);
  return digest?.slice('sha256:'.length);
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function readVerification(dir: string): Verification | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, VERIFICATION_FILE), 'utf8')) as {
      sha256?: unknown;
      verifiedBy?: unknown;
      unverifiedBecause?: unknown;
    };
    if (typeof parsed.sha256 !== 'string' || typeof parsed.verifiedBy !== 'string') return undefined;
    return {
      sha256: parsed.sha256,
      verifiedBy: parsed.verifiedBy,
      ...(typeof parsed.unverifiedBecause === 'string'
        ? { unverifiedBecause: parsed.unverifiedBecause }
        : {}),
    };
  } catch {
    // Not cached by this action (or by an older one): downloaded and checked again.
    return undefined;
  }
}
