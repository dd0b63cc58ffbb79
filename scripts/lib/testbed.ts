import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestBedFacts {
  registryImage: string;
  baseImage: string;
  releasesDir: string;
  versions: string[];
  rootfulOptions: string;
  rootlessOptions: string;
  /** moto's S3 server, installed by `up`; the tests start it. */
  s3Server: string;
  /** nektos/act, built by `up`: a runner that is not ours. */
  act: string;
  /** Azurite's blob server, installed by `up`; the tests start it. */
  azblobServer: string;
  buildkitImage(version: string, variant: 'rootful' | 'rootless'): string;
}

/** What `scripts/testbed.sh env` says about the bed that `scripts/testbed.sh up` built (for `versions`). */
export function testBed(versions?: readonly string[]): TestBedFacts {
  const output = execFileSync('bash', [path.join(repoRoot, 'scripts', 'testbed.sh'), 'env'], {
    encoding: 'utf8',
    env: versions ? { ...process.env, TESTBED_BUILDKIT_VERSIONS: versions.join(' ') } : process.env,
  });
  const env = Object.fromEntries(
    output
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const need = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`scripts/testbed.sh env printed no ${key}`);
    return value;
  };
  const namespace = need('TESTBED_IMAGE_NAMESPACE');
  return {
    registryImage: need('TESTBED_REGISTRY_IMAGE'),
    baseImage: need('TESTBED_BASE_IMAGE'),
    releasesDir: need('TESTBED_RELEASES_DIR'),
    versions: need('TESTBED_BUILDKIT_VERSIONS').split(/\s+/),
    rootfulOptions: need('TESTBED_ROOTFUL_OPTIONS'),
    rootlessOptions: need('TESTBED_ROOTLESS_OPTIONS'),
    s3Server: need('TESTBED_S3_SERVER'),
    azblobServer: need('TESTBED_AZBLOB_SERVER'),
    act: need('TESTBED_ACT'),
    buildkitImage: (version, variant) =>
      `${namespace}/buildkit:${version}${variant === 'rootless' ? '-rootless' : ''}`,
  };
}

/** The inputs that point a run at the offline bed: our images, the mirror filled with the alpine stand-in. */
export function bedInputs(
  bed: TestBedFacts,
  version: string,
  variant: 'rootful' | 'rootless',
  buildctlUrl: string,
) {
  return {
    'buildkit-image': bed.buildkitImage(version, variant),
    'registry-image': bed.registryImage,
    'mirror-upstream': 'none',
    'mirror-images': `${bed.baseImage}=library/alpine:latest`,
    'buildkitd-container-options': variant === 'rootful' ? bed.rootfulOptions : bed.rootlessOptions,
    'buildctl-url': buildctlUrl,
    // One daemon at a time, as the seed: the suites pin the sequential meaning of "stops at the first
    // loss"; lanes (and the default, auto) have their own suite, test/e2e/lanes.test.ts.
    parallel: '1',
  };
}
