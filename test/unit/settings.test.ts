import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BUILDCTL_URL, type RawInputs } from '../../src/inputs/input-table.js';
import {
  expandUrl,
  parseSettings,
  type PathContext,
  versionFromImageTag,
} from '../../src/inputs/settings.js';
import { InputError } from '../../src/inputs/validators.js';
import { ownSettings } from '../../src/backends/backends.js';

const bundledRepro = fileURLToPath(new URL('../../fixtures/repro', import.meta.url));

/** root/ws is the workspace; root/outside.toml and root/Dockerfile lie beside it, outside it. */
let root: string;
let paths: PathContext;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-test-'));
  const workspace = path.join(root, 'ws');
  fs.mkdirSync(workspace);
  paths = { workspace, bundledRepro };
  fs.mkdirSync(path.join(workspace, 'ctx'));
  fs.writeFileSync(path.join(workspace, 'ctx', 'Dockerfile'), 'FROM alpine:latest\n');
  fs.writeFileSync(path.join(workspace, 'ctx', 'Other.Dockerfile'), 'FROM busybox\n');
  fs.mkdirSync(path.join(workspace, 'ctx-without-dockerfile'));
  fs.mkdirSync(path.join(workspace, 'cache-made-earlier'));
  fs.writeFileSync(path.join(workspace, 'cache-made-earlier', 'index.json'), '{"schemaVersion":2}\n');
  fs.mkdirSync(path.join(workspace, 'cache-empty'));
  fs.writeFileSync(path.join(workspace, 'a-file.txt'), 'not a directory\n');
  fs.writeFileSync(path.join(workspace, 'buildkitd.toml'), 'debug = true\n[worker.oci]\ngc = false\n');
  fs.writeFileSync(path.join(workspace, 'broken.toml'), 'debug = = true\n');
  fs.writeFileSync(path.join(root, 'outside.toml'), 'debug = true\n');
  fs.writeFileSync(path.join(root, 'Dockerfile'), 'FROM alpine:latest\n');
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const parse = (raw: RawInputs) => parseSettings(raw, paths);

describe('parseSettings defaults', () => {
  it('fills every setting from its default when no input is given', () => {
    const s = parse({});
    assert.equal(s.buildkitImage, 'moby/buildkit:v0.9.0-rootless');
    assert.equal(s.cacheBuildkitImage, 'moby/buildkit:v0.9.0-rootless');
    assert.equal(s.buildctlVersion, 'v0.9.0');
    assert.equal(
      s.buildctlUrl,
      'https://github.com/moby/buildkit/releases/download/{version}/buildkit-{version}.linux-{arch}.tar.gz',
    );
    assert.equal(s.githubToken, '');
    assert.equal(s.retries, 20);
    assert.equal(s.cacheResetFrequency, 4);
    assert.equal(s.cacheType, 'registry');
    assert.equal(s.cacheDir, '');
    assert.deepEqual(s.cacheOptions, {}, 'no export option given: the backend and BuildKit decide');
    assert.equal(s.createCache, true);
    assert.equal(s.runAttempts, true);
    assert.equal(s.cleanup, true);
    assert.deepEqual(s.expectPaths, ['repro.txt']);
    assert.equal(s.registryImage, 'registry:2');
    assert.equal(s.mirrorUpstream, 'https://registry-1.docker.io');
    assert.deepEqual(s.mirrorImages, []);
    assert.deepEqual(s.buildkitdFlags, []);
    assert.equal(s.buildkitdConfig, '');
    assert.equal(s.buildkitdContainerOptions, undefined);
    assert.deepEqual(s.failOn, ['lost-layer', 'content-differs', 'config-differs']);
    assert.equal(s.minimize, false);
    assert.equal(s.minimizeConfidence, 0.99);
    assert.equal(s.minimizeTimeoutSeconds, 1800);
    assert.equal(s.context, bundledRepro);
    assert.equal(s.dockerfile, path.join(bundledRepro, 'Dockerfile'));
    assert.ok(fs.statSync(s.dockerfile).isFile());
  });

  it('resets by pruning, every 4 attempts, and gives each attempt 600 s', () => {
    const s = parse({});
    assert.equal(s.cacheResetMode, 'prune');
    assert.equal(s.cacheResetFrequency, 4);
    assert.equal(s.attemptTimeoutSeconds, 600);
    assert.equal(parse({ 'cache-reset-mode': 'restart' }).cacheResetMode, 'restart');
  });

  it('treats empty and blank inputs as missing', () => {
    const blank = Object.fromEntries(
      [
        'buildkit-image',
        'retries',
        'cache-type',
        'expect-paths',
        'registry-image',
        'create-cache',
        'context',
      ].map((name) => [name, '  ']),
    );
    assert.deepEqual(parse(blank), parse({}));
    assert.deepEqual(parse({ 'buildkit-image': '', retries: '' }), parse({}));
  });

  it('makes the cache with buildkit-image unless cache-buildkit-image says otherwise', () => {
    const same = parse({ 'buildkit-image': 'moby/buildkit:v0.10.6' });
    assert.equal(same.cacheBuildkitImage, 'moby/buildkit:v0.10.6');
    const other = parse({
      'buildkit-image': 'moby/buildkit:v0.10.6',
      'cache-buildkit-image': 'moby/buildkit:v0.8.3',
    });
    assert.equal(other.buildkitImage, 'moby/buildkit:v0.10.6');
    assert.equal(other.cacheBuildkitImage, 'moby/buildkit:v0.8.3');
  });

  it('takes buildctl-version from the tag of buildkit-image', () => {
    assert.equal(parse({ 'buildkit-image': 'moby/buildkit:v0.10.6' }).buildctlVersion, 'v0.10.6');
    assert.equal(parse({ 'buildkit-image': 'moby/buildkit:v0.8.3-rootless' }).buildctlVersion, 'v0.8.3');
  });

  for (const image of [
    'moby/buildkit:latest',
    'moby/buildkit:master',
    `moby/buildkit@sha256:${'a'.repeat(64)}`,
  ]) {
    it(`pins buildctl v0.9.1 for ${image}, whose tag names no release`, () => {
      assert.equal(parse({ 'buildkit-image': image }).buildctlVersion, 'v0.9.1');
    });
  }

  it('lets an explicit buildctl-version win over the image tag', () => {
    assert.equal(
      parse({ 'buildkit-image': 'moby/buildkit:v0.9.0', 'buildctl-version': 'v0.12.5' }).buildctlVersion,
      'v0.12.5',
    );
    assert.equal(
      parse({ 'buildkit-image': 'moby/buildkit:master', 'buildctl-version': 'v0.11.0-rc1' }).buildctlVersion,
      'v0.11.0-rc1',
    );
  });
});

/** A bucket on a server beside the runner, as the test bed has it. */
const S3: RawInputs = {
  'cache-type': 's3',
  'buildkit-image': 'moby/buildkit:v0.34.2',
  'cache-s3-bucket': 'ci-cache',
  'cache-s3-region': 'eu-west-1',
  'cache-s3-endpoint-url': 'http://127.0.0.1:9000',
  'cache-s3-use-path-style': 'true',
  'cache-s3-access-key-id': 'AKIAEXAMPLE',
  'cache-s3-secret-access-key': 'secret/example',
};

/** Azurite beside the runner, as the test bed has it. */
const AZ: RawInputs = {
  'cache-type': 'azblob',
  'buildkit-image': 'moby/buildkit:v0.34.2',
  'cache-azblob-account-url': 'http://127.0.0.1:10000/devstoreaccount1',
  'cache-azblob-secret-access-key': 'a2V5',
};

interface BadCase {
  why: string;
  inputs: RawInputs;
  /** The input the error must name (default: the only key of `inputs`). */
  names?: string;
}

const badCases: BadCase[] = [
  // retries
  { why: 'negative retries', inputs: { retries: '-1' } },
  { why: 'zero retries', inputs: { retries: '0' } },
  { why: 'huge retries', inputs: { retries: '100001' } },
  { why: 'non-numeric retries', inputs: { retries: 'abc' } },
  { why: 'float retries', inputs: { retries: '1.5' } },
  { why: 'hex retries', inputs: { retries: '0x10' } },
  { why: 'exponent retries', inputs: { retries: ' 1e3' } },
  // cache-reset-frequency
  { why: 'negative cache-reset-frequency', inputs: { 'cache-reset-frequency': '-4' } },
  { why: 'non-numeric cache-reset-frequency', inputs: { 'cache-reset-frequency': 'often' } },
  {
    why: 'cache-reset-frequency above retries',
    inputs: { retries: '4', 'cache-reset-frequency': '5' },
    names: 'cache-reset-frequency',
  },
  {
    why: 'default cache-reset-frequency (4) above retries 3',
    inputs: { retries: '3' },
    names: 'cache-reset-frequency',
  },
  // cache-type
  { why: 'unknown cache-type', inputs: { 'cache-type': 'azure' } },
  {
    why: "cache-type gha with no runner's cache service in the environment",
    inputs: { 'cache-type': 'gha' },
  },
  { why: 'cache-gha-scope with another cache-type', inputs: { 'cache-gha-scope': 'main' } },
  { why: 'cache-type in capitals', inputs: { 'cache-type': 'Registry' } },
  // image references
  { why: 'upper-case repository path', inputs: { 'buildkit-image': 'moby/BuildKit:v0.9.0' } },
  { why: 'upper-case path after an upper-case host', inputs: { 'buildkit-image': 'UPPER/Case' } },
  { why: 'image with a space', inputs: { 'buildkit-image': 'a b' } },
  { why: 'image with a shell command', inputs: { 'buildkit-image': 'img;rm -rf /' } },
  { why: 'image with a newline', inputs: { 'buildkit-image': 'img\nother' } },
  { why: 'image with a short digest', inputs: { 'buildkit-image': 'image@sha256:short' } },
  {
    why: 'image followed by a docker flag',
    inputs: { 'buildkit-image': 'moby/buildkit:v0.9.0 --privileged' },
  },
  { why: 'cache image that is a flag', inputs: { 'cache-buildkit-image': '--privileged' } },
  { why: 'registry image with a command', inputs: { 'registry-image': 'registry:2;id' } },
  { why: 'registry image with an empty tag', inputs: { 'registry-image': 'registry:' } },
  // buildctl-version
  { why: 'buildctl-version latest', inputs: { 'buildctl-version': 'latest' } },
  { why: 'buildctl-version without v', inputs: { 'buildctl-version': '0.9.1' } },
  { why: 'buildctl-version with two numbers', inputs: { 'buildctl-version': 'v0.9' } },
  { why: 'buildctl-version with a path', inputs: { 'buildctl-version': 'v0.9.1/../../x' } },
  // the cache
  {
    why: 'create-cache false with the registry cache',
    inputs: { 'create-cache': 'false' },
    names: 'create-cache',
  },
  {
    why: 'create-cache false with a local cache but no cache-dir',
    inputs: { 'create-cache': 'false', 'cache-type': 'local' },
    names: 'create-cache',
  },
  {
    why: 'create-cache false with a cache-dir that holds no index.json',
    inputs: { 'create-cache': 'false', 'cache-type': 'local', 'cache-dir': 'cache-empty' },
    names: 'cache-dir',
  },
  { why: 'cache-dir with the registry cache', inputs: { 'cache-dir': 'cache-made-earlier' } },
  {
    why: 'cache-dir with the inline cache',
    inputs: { 'cache-type': 'inline', 'cache-dir': 'cache-made-earlier' },
    names: 'cache-dir',
  },
  {
    why: 'create-cache false with the inline cache',
    inputs: { 'cache-type': 'inline', 'create-cache': 'false' },
    names: 'create-cache',
  },
  { why: 'cache-mode not a mode', inputs: { 'cache-mode': 'maximum' }, names: 'cache-mode' },
  {
    why: 'cache-compression estargz',
    inputs: { 'cache-compression': 'estargz' },
    names: 'cache-compression',
  },
  {
    why: 'cache-force-compression not a boolean',
    inputs: { 'cache-force-compression': 'yes' },
    names: 'cache-force-compression',
  },
  {
    why: 'cache-mode max with the inline cache',
    inputs: { 'cache-type': 'inline', 'cache-mode': 'max' },
    names: 'cache-mode',
  },
  {
    why: 'cache-compression with the inline cache',
    inputs: { 'cache-type': 'inline', 'cache-compression': 'zstd' },
    names: 'cache-compression',
  },
  {
    why: 'cache-image-manifest true without OCI media types',
    inputs: { 'cache-image-manifest': 'true', 'cache-oci-mediatypes': 'false' },
    names: 'cache-image-manifest',
  },
  {
    why: 'cache-compression for a cache maker before v0.10',
    inputs: { 'buildkit-image': 'moby/buildkit:v0.9.1', 'cache-compression': 'zstd' },
    names: 'cache-buildkit-image',
  },
  {
    why: 'a zstd cache for attempts before v0.10 (the maker newer)',
    inputs: {
      'buildkit-image': 'moby/buildkit:v0.9.1',
      'cache-buildkit-image': 'moby/buildkit:v0.10.6',
      'cache-compression': 'zstd',
    },
    names: 'buildkit-image',
  },
  {
    why: 'cache-ignore-error with a kept cache-dir',
    inputs: { 'cache-type': 'local', 'cache-dir': 'new-cache', 'cache-ignore-error': 'true' },
    names: 'cache-ignore-error',
  },
  {
    why: 'cache-image-manifest for a cache maker before v0.12',
    inputs: { 'cache-buildkit-image': 'moby/buildkit:v0.11.6-rootless', 'cache-image-manifest': 'true' },
    names: 'cache-buildkit-image',
  },
  {
    why: 'a release older than its cache backend',
    inputs: {
      'cache-type': 'inline',
      'buildkit-image': 'moby/buildkit:v0.3.3',
      'cache-buildkit-image': 'moby/buildkit:v0.9.0',
    },
    names: 'buildkit-image',
  },
  {
    why: 'a cache maker older than its cache backend',
    inputs: { 'cache-type': 'local', 'cache-buildkit-image': 'moby/buildkit:v0.3.3-rootless' },
    names: 'cache-buildkit-image',
  },
  {
    why: 'cache-dir outside the workspace',
    inputs: { 'cache-type': 'local', 'cache-dir': '../elsewhere' },
    names: 'cache-dir',
  },
  // booleans
  { why: 'create-cache yes', inputs: { 'create-cache': 'yes' } },
  { why: 'cleanup 1', inputs: { cleanup: '1' } },
  { why: 'run-attempts on', inputs: { 'run-attempts': 'on' } },
  { why: 'fail-on-reproduce no', inputs: { 'fail-on-reproduce': 'no' } },
  { why: 'fail-on a word that is no class', inputs: { 'fail-on': 'lost' } },
  { why: 'fail-on none beside a class', inputs: { 'fail-on': 'none,lost-layer' } },
  { why: 'fail-on only commas', inputs: { 'fail-on': ',' } },
  {
    why: 'fail-on and the fail-on-reproduce it replaced, both',
    inputs: { 'fail-on': 'lost-layer', 'fail-on-reproduce': 'false' },
    names: 'fail-on-reproduce',
  },
  // the build
  { why: 'dockerfile above the workspace', inputs: { dockerfile: '../Dockerfile' } },
  { why: 'dockerfile at an absolute path outside', inputs: { dockerfile: '/etc/passwd' } },
  { why: 'dockerfile that does not exist', inputs: { dockerfile: 'ctx/Missing.Dockerfile' } },
  { why: 'dockerfile that is a directory', inputs: { dockerfile: 'ctx' } },
  { why: 'context above the workspace', inputs: { context: '..' } },
  { why: 'context at an absolute path outside', inputs: { context: '/etc' } },
  { why: 'context that does not exist', inputs: { context: 'no-such-dir' } },
  { why: 'context that is a file', inputs: { context: 'a-file.txt' } },
  {
    why: 'context without a Dockerfile and no dockerfile input',
    inputs: { context: 'ctx-without-dockerfile' },
    names: 'dockerfile',
  },
  // expect-paths
  { why: 'expect-paths above the root', inputs: { 'expect-paths': '../etc' } },
  { why: 'expect-paths the root itself', inputs: { 'expect-paths': '/' } },
  { why: 'expect-paths climbing out through a folder', inputs: { 'expect-paths': 'a/../../etc/passwd' } },
  { why: 'expect-paths only separators', inputs: { 'expect-paths': ', ,\n' } },
  // buildctl-url
  {
    why: 'buildctl-url over http to another host',
    inputs: { 'buildctl-url': 'http://example.com/{version}/{arch}.tgz' },
  },
  {
    why: 'buildctl-url over http to a host named like localhost',
    inputs: { 'buildctl-url': 'http://localhost.example.com/{version}.tgz' },
  },
  { why: 'buildctl-url over ftp', inputs: { 'buildctl-url': 'ftp://example.com/{version}/{arch}.tgz' } },
  { why: 'buildctl-url not a URL', inputs: { 'buildctl-url': 'buildkit {version} tarball' } },
  {
    why: 'buildctl-url without {version}',
    inputs: { 'buildctl-url': 'https://example.com/buildkit-{arch}.tgz' },
  },
  { why: 'buildctl-url file://', inputs: { 'buildctl-url': 'file:///tmp/{version}.tgz' } },
  // the mirror
  { why: 'mirror-upstream over http', inputs: { 'mirror-upstream': 'http://registry.example.com' } },
  { why: 'mirror-upstream not a URL', inputs: { 'mirror-upstream': 'registry-1.docker.io' } },
  { why: 'mirror-upstream over http to a public address', inputs: { 'mirror-upstream': 'http://8.8.8.8' } },
  { why: 'mirror-upstream over http to 172.32/16', inputs: { 'mirror-upstream': 'http://172.32.0.1' } },
  {
    why: 'mirror-upstream over http, an octet above 255',
    inputs: { 'mirror-upstream': 'http://10.0.0.256' },
  },
  { why: 'mirror-upstream over http to localhost', inputs: { 'mirror-upstream': 'http://localhost:5000' } },
  {
    why: 'mirror-images with the pull-through mirror',
    inputs: { 'mirror-images': 'my/alpine:3=alpine:latest' },
  },
  {
    why: 'mirror-images with two equals signs',
    inputs: { 'mirror-upstream': 'none', 'mirror-images': 'a=b=c' },
    names: 'mirror-images',
  },
  {
    why: 'mirror-images naming a malformed source',
    inputs: { 'mirror-upstream': 'none', 'mirror-images': 'My Image=alpine:latest' },
    names: 'mirror-images',
  },
  {
    why: 'mirror-images naming a malformed target',
    inputs: { 'mirror-upstream': 'none', 'mirror-images': 'my/alpine:3=Alpine' },
    names: 'mirror-images',
  },
  // buildkitd
  { why: 'buildkitd-flags with ;', inputs: { 'buildkitd-flags': '--debug; rm -rf /' } },
  { why: 'buildkitd-flags with a pipe', inputs: { 'buildkitd-flags': '--x | y' } },
  { why: 'buildkitd-flags with &&', inputs: { 'buildkitd-flags': 'a && b' } },
  { why: 'buildkitd-flags with a command substitution', inputs: { 'buildkitd-flags': '$(id)' } },
  { why: 'buildkitd-flags with a redirection', inputs: { 'buildkitd-flags': '--debug > /tmp/out' } },
  {
    why: 'buildkitd-container-options with ;',
    inputs: { 'buildkitd-container-options': '--privileged; id' },
  },
  {
    why: 'buildkitd-config-inline that is not TOML',
    inputs: { 'buildkitd-config-inline': 'debug = = true' },
  },
  {
    why: 'buildkitd-config-inline whose registry is not a table (valid TOML, but no place for our mirror)',
    inputs: { 'buildkitd-config-inline': 'registry = "oops"' },
  },
  {
    why: 'buildkitd-config-inline that is YAML',
    inputs: { 'buildkitd-config-inline': 'debug: true\nworker:\n  gc: no' },
  },
  {
    why: 'both buildkitd-config and buildkitd-config-inline',
    inputs: { 'buildkitd-config': 'buildkitd.toml', 'buildkitd-config-inline': 'debug = true' },
    names: 'buildkitd-config-inline',
  },
  { why: 'buildkitd-config above the workspace', inputs: { 'buildkitd-config': '../outside.toml' } },
  { why: 'buildkitd-config that does not exist', inputs: { 'buildkitd-config': 'missing.toml' } },
  { why: 'buildkitd-config that is not TOML', inputs: { 'buildkitd-config': 'broken.toml' } },
  // buildkitd-container-options: the container's name, network, ports, labels and life are the run's
  ...[
    '--network host',
    '--net=host',
    '--name other',
    '-p 1234:1234',
    '--publish=80:80',
    '--label a=b',
    '--rm',
    '-d',
  ].map((options) => ({
    why: `a container option the run owns (${options})`,
    inputs: { 'buildkitd-container-options': options },
  })),
  { why: 'an unknown container option', inputs: { 'buildkitd-container-options': '--no-such-option' } },
  {
    why: 'a container option without its value',
    inputs: { 'buildkitd-container-options': '--privileged --cap-add' },
  },
  {
    why: 'a container option smuggling a command',
    inputs: { 'buildkitd-container-options': '--entrypoint sh' },
  },
  {
    why: 'a newline-separated shell command',
    inputs: { 'buildkitd-container-options': '--privileged\nrm -rf /' },
  },
  // attempt-timeout
  { why: 'zero attempt-timeout', inputs: { 'attempt-timeout': '0' } },
  { why: 'a day and more of attempt-timeout', inputs: { 'attempt-timeout': '86401' } },
  { why: 'attempt-timeout with a unit', inputs: { 'attempt-timeout': '10m' } },
  { why: 'unknown output-type', inputs: { 'output-type': 'docker' } },
  { why: 'unknown cache-reset-mode', inputs: { 'cache-reset-mode': 'reboot' } },
  { why: 'keep-going not a boolean', inputs: { 'keep-going': 'sometimes' } },
  { why: 'cache-binary not a boolean', inputs: { 'cache-binary': 'yes' } },
  { why: 'minimize not a boolean', inputs: { minimize: 'yes' } },
  {
    why: 'minimize without attempts',
    inputs: { minimize: 'true', 'run-attempts': 'false' },
    names: 'minimize',
  },
  {
    why: 'minimize with a cache made from other inputs (two Dockerfiles to shrink)',
    inputs: { minimize: 'true', 'cache-context': 'ctx' },
    names: 'minimize',
  },
  {
    why: 'cache-context with create-cache false (an earlier cache is not made again)',
    inputs: {
      'create-cache': 'false',
      'cache-type': 'local',
      'cache-dir': 'cache-made-earlier',
      'cache-context': 'ctx',
    },
    names: 'cache-context',
  },
  {
    why: 'cache-dockerfile with create-cache false',
    inputs: {
      'create-cache': 'false',
      'cache-type': 'local',
      'cache-dir': 'cache-made-earlier',
      'cache-dockerfile': 'ctx/Other.Dockerfile',
    },
    names: 'cache-dockerfile',
  },
  { why: 'cache-context that is a file', inputs: { 'cache-context': 'a-file.txt' }, names: 'cache-context' },
  {
    why: 'cache-context with no Dockerfile and no cache-dockerfile',
    inputs: { 'cache-context': 'ctx-without-dockerfile' },
    names: 'cache-dockerfile',
  },
  { why: 'cache-dockerfile outside the workspace', inputs: { 'cache-dockerfile': '../Dockerfile' } },
  { why: 'minimize-confidence as a percentage', inputs: { 'minimize-confidence': '99%' } },
  {
    why: 'minimize-confidence of 1 (certainty needs endless attempts)',
    inputs: { 'minimize-confidence': '1' },
  },
  { why: 'minimize-confidence below a coin', inputs: { 'minimize-confidence': '0.4' } },
  { why: 'minimize-confidence not a number', inputs: { 'minimize-confidence': '0.9x' } },
  { why: 'minimize-timeout under a minute', inputs: { 'minimize-timeout': '59' } },
  { why: 'parallel 0 (auto is the word)', inputs: { parallel: '0' } },
  { why: 'parallel above 16', inputs: { parallel: '17' } },
  { why: 'parallel not a number', inputs: { parallel: 'many' } },
  // cache-type s3 (S3 is the base of each row; bucket, region and keys are all it needs)
  ...s3BadCases(),
  // cache-type azblob (AZ is the base of each row)
  ...azblobBadCases(),
  // cache-ref: a pipeline's registry cache
  {
    why: 'cache-ref with create-cache true (the run makes its own)',
    inputs: { 'cache-ref': 'ghcr.io/org/app:buildcache' },
    names: 'cache-ref',
  },
  {
    why: 'cache-ref with cache-type local',
    inputs: { 'cache-ref': 'ghcr.io/org/app:buildcache', 'cache-type': 'local', 'create-cache': 'false' },
    names: 'cache-ref',
  },
  {
    why: 'cache-ref that names no registry',
    inputs: { 'cache-ref': 'org/app:buildcache', 'create-cache': 'false' },
    names: 'cache-ref',
  },
  ...[
    'https://ghcr.io/org/app:cache',
    'ghcr.io/Org/App:cache',
    'user:pw@ghcr.io/org/app:cache',
    `ghcr.io/org/app:cache@sha256:${'a'.repeat(64)}`,
    'ghcr.io/org/app,mode=max:cache',
  ].map((ref) => ({
    why: `cache-ref not a registry reference (${ref})`,
    inputs: { 'cache-ref': ref, 'create-cache': 'false' },
    names: 'cache-ref',
  })),
  {
    why: 'cache-ref without a tag',
    inputs: { 'cache-ref': 'ghcr.io/org/app', 'create-cache': 'false' },
    names: 'cache-ref',
  },
  { why: 'cache-username without cache-ref', inputs: { 'cache-username': 'me' } },
  { why: 'cache-password without cache-ref', inputs: { 'cache-password': 'pw' } },
  {
    why: 'cache-username without cache-password',
    inputs: { 'cache-ref': 'ghcr.io/org/app:c', 'create-cache': 'false', 'cache-username': 'me' },
    names: 'cache-password',
  },
  {
    why: 'create-cache false with the run registry and no cache-ref',
    inputs: { 'create-cache': 'false' },
    names: 'create-cache',
  },
];

describe('parseSettings rejects bad inputs, naming the input', () => {
  it('has at least 30 cases', () => {
    assert.ok(badCases.length >= 30, `only ${badCases.length} cases`);
  });

  for (const { why, inputs, names } of badCases) {
    const name = names ?? Object.keys(inputs)[0] ?? '';
    it(`${why}: ${JSON.stringify(inputs)}`, () => {
      assert.throws(
        () => parse(inputs),
        (error: unknown) => {
          assert.ok(error instanceof InputError, `not an InputError: ${String(error)}`);
          assert.equal(error.input, name);
          assert.ok(error.message.includes(name), `message does not name ${name}: ${error.message}`);
          return true;
        },
      );
    });
  }

  it('rejects a buildkitd-config given as an absolute path outside the workspace', () => {
    assert.throws(
      () => parse({ 'buildkitd-config': path.join(root, 'outside.toml') }),
      (error: unknown) =>
        error instanceof InputError &&
        error.input === 'buildkitd-config' &&
        /outside the workspace/.test(error.message),
    );
  });

  it('says the dockerfile is outside the workspace, not merely missing', () => {
    assert.throws(
      () => parse({ dockerfile: '../Dockerfile' }),
      (error: unknown) => error instanceof InputError && /outside the workspace/.test(error.message),
    );
  });
});

describe('parseSettings accepts good inputs', () => {
  it('a cache made from other inputs: each of cache-dockerfile and cache-context defaults to the current', () => {
    const both = parse({
      context: 'ctx',
      'cache-context': 'ctx-without-dockerfile',
      'cache-dockerfile': 'ctx/Other.Dockerfile',
    });
    assert.equal(both.cacheContext, path.join(paths.workspace, 'ctx-without-dockerfile'));
    assert.equal(both.cacheDockerfile, path.join(paths.workspace, 'ctx', 'Other.Dockerfile'));
    const contextOnly = parse({
      context: 'ctx-without-dockerfile',
      dockerfile: 'ctx/Dockerfile',
      'cache-context': 'ctx',
    });
    assert.equal(
      contextOnly.cacheDockerfile,
      path.join(paths.workspace, 'ctx', 'Dockerfile'),
      "the cache context's own",
    );
    const dockerfileOnly = parse({ context: 'ctx', 'cache-dockerfile': 'ctx/Other.Dockerfile' });
    assert.equal(dockerfileOnly.cacheContext, path.join(paths.workspace, 'ctx'));
    const neither = parse({ context: 'ctx' });
    assert.deepEqual([neither.cacheContext, neither.cacheDockerfile], ['', '']);
  });

  it('accepts an upper-case first component as a registry host, as Docker does (UPPER/case)', () => {
    // Docker's reference grammar (distribution/reference splitDockerDomain) reads an upper-case first
    // component as a registry host, so UPPER/case is registry "UPPER", repository "case".
    assert.equal(parse({ 'buildkit-image': 'UPPER/case' }).buildkitImage, 'UPPER/case');
  });

  it('accepts image references with a registry port and a digest', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const s = parse({
      'buildkit-image': `localhost:5000/moby/buildkit:v0.9.0@${digest}`,
      'registry-image': 'ghcr.io/distribution/registry:2.8.3',
    });
    assert.equal(s.buildkitImage, `localhost:5000/moby/buildkit:v0.9.0@${digest}`);
    assert.equal(s.buildctlVersion, 'v0.9.0');
    assert.equal(s.registryImage, 'ghcr.io/distribution/registry:2.8.3');
  });

  it('reads parallel: a number of lanes, or auto (0)', () => {
    assert.equal(parse({}).parallel, 0);
    assert.equal(parse({ parallel: 'auto' }).parallel, 0);
    assert.equal(parse({ parallel: ' 2 ' }).parallel, 2);
    assert.equal(parse({ parallel: '16' }).parallel, 16);
  });

  it('reads the minimizer settings', () => {
    const s = parse({ minimize: 'true', 'minimize-confidence': ' .999 ', 'minimize-timeout': '600' });
    assert.equal(s.minimize, true);
    assert.equal(s.minimizeConfidence, 0.999);
    assert.equal(s.minimizeTimeoutSeconds, 600);
    assert.equal(parse({ 'minimize-confidence': '0.5' }).minimizeConfidence, 0.5);
  });

  it('reads whole numbers, trimmed', () => {
    const s = parse({ retries: ' 40 ', 'cache-reset-frequency': '0' });
    assert.equal(s.retries, 40);
    assert.equal(s.cacheResetFrequency, 0);
    assert.equal(parse({ retries: '10000', 'cache-reset-frequency': '10000' }).retries, 10000);
  });

  it('reads the YAML booleans in their three spellings', () => {
    const s = parse({ cleanup: 'False', 'run-attempts': 'FALSE', 'fail-on-reproduce': 'false' });
    assert.equal(s.cleanup, false);
    assert.equal(s.runAttempts, false);
    assert.deepEqual(s.failOn, []);
    assert.equal(parse({ cleanup: 'TRUE' }).cleanup, true);
  });

  it('takes fail-on as a list of classes, none, or the fail-on-reproduce it replaced', () => {
    assert.deepEqual(parse({ 'fail-on': 'lost-layer' }).failOn, ['lost-layer']);
    assert.deepEqual(parse({ 'fail-on': 'config-differs\ncontent-differs' }).failOn, [
      'config-differs',
      'content-differs',
    ]);
    assert.deepEqual(parse({ 'fail-on': 'lost-layer, lost-layer' }).failOn, ['lost-layer']);
    assert.deepEqual(parse({ 'fail-on': 'none' }).failOn, []);
    assert.deepEqual(parse({ 'fail-on-reproduce': 'true' }).failOn, [
      'lost-layer',
      'content-differs',
      'config-differs',
    ]);
  });

  it('serves mirror-images under their Docker Hub names', () => {
    const s = parse({
      'mirror-upstream': 'none',
      'mirror-images': 'lost-layer-testbed/alpine:latest=alpine:latest\nmy/img=other/thing:1, busybox',
    });
    assert.equal(s.mirrorUpstream, '');
    assert.deepEqual(s.mirrorImages, [
      { source: 'lost-layer-testbed/alpine:latest', target: 'library/alpine:latest' },
      { source: 'my/img', target: 'other/thing:1' },
      { source: 'busybox', target: 'library/busybox:latest' },
    ]);
  });

  it('takes mirror-upstream none as no upstream, and another https upstream as given', () => {
    assert.equal(parse({ 'mirror-upstream': 'none' }).mirrorUpstream, '');
    assert.equal(
      parse({ 'mirror-upstream': 'https://mirror.gcr.io' }).mirrorUpstream,
      'https://mirror.gcr.io',
    );
    // Plain http to a private-network address: the mirror container reaches it (the bridge's gateway).
    for (const upstream of [
      'http://172.17.0.1:5000',
      'http://10.1.2.3',
      'http://192.168.0.9:80',
      'http://[fd00::1]:5000',
    ])
      assert.equal(parse({ 'mirror-upstream': upstream }).mirrorUpstream, upstream);
  });

  it('says why plain http to 127.0.0.1 cannot be a mirror upstream: the mirror container would fetch from itself', () => {
    for (const upstream of ['http://127.0.0.1:5000', 'https://localhost:5000'])
      assert.throws(
        () => parse({ 'mirror-upstream': upstream }),
        (error: unknown) =>
          error instanceof InputError &&
          error.input === 'mirror-upstream' &&
          /127\.0\.0\.1 there is the mirror itself/.test(error.message),
      );
  });

  it('takes the container options that work where --privileged is refused', () => {
    const options =
      '--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup';
    assert.deepEqual(
      parse({ 'buildkitd-container-options': options }).buildkitdContainerOptions,
      options.split(' '),
    );
    assert.deepEqual(parse({ 'buildkitd-container-options': '--privileged' }).buildkitdContainerOptions, [
      '--privileged',
    ]);
  });

  it('keeps the cache export options given, and only those', () => {
    const s = parse({
      'cache-mode': 'min',
      'cache-compression': 'zstd',
      'cache-force-compression': 'true',
      'buildkit-image': 'moby/buildkit:v0.10.6',
    });
    assert.deepEqual(s.cacheOptions, { mode: 'min', compression: 'zstd', forceCompression: 'true' });
  });

  it('splits buildkitd-flags into words', () => {
    assert.deepEqual(parse({ 'buildkitd-flags': '--debug --oci-worker-gc=false' }).buildkitdFlags, [
      '--debug',
      '--oci-worker-gc=false',
    ]);
  });

  it('keeps quoted words together', () => {
    assert.deepEqual(
      parse({ 'buildkitd-flags': `--debug "--oci-worker-labels=a b" '--x=c d'` }).buildkitdFlags,
      ['--debug', '--oci-worker-labels=a b', '--x=c d'],
    );
  });

  it('refuses variables, which nothing here would expand, and keeps backticks as literal words', () => {
    for (const [input, text] of [
      ['buildkitd-flags', '--root=$HOME'],
      ['buildkitd-flags', '--root=${HOME}/bk'],
      ['buildkitd-container-options', '--env X=$PATH'],
    ] as const) {
      assert.throws(
        () => parse({ [input]: text }),
        (error: unknown) => error instanceof InputError && error.input === input && /\$/.test(error.message),
      );
    }
    assert.deepEqual(parse({ 'buildkitd-flags': '--x `id`' }).buildkitdFlags, ['--x', '`id`']);
  });

  it('keeps a glob character as written', () => {
    assert.deepEqual(parse({ 'buildkitd-flags': '--x=*' }).buildkitdFlags, ['--x=*']);
  });

  it('normalises expect-paths to paths inside the image, split on commas and lines', () => {
    assert.deepEqual(parse({ 'expect-paths': 'a, /b/c\n./d' }).expectPaths, ['a', 'b/c', 'd']);
    assert.deepEqual(parse({ 'expect-paths': 'x/./y/../z' }).expectPaths, ['x/z']);
  });

  it('accepts create-cache false with a local cache-dir that holds index.json', () => {
    const s = parse({ 'create-cache': 'false', 'cache-type': 'local', 'cache-dir': 'cache-made-earlier' });
    assert.equal(s.createCache, false);
    assert.equal(s.cacheType, 'local');
    assert.equal(s.cacheDir, path.join(paths.workspace, 'cache-made-earlier'));
  });

  it('takes a name that starts with two dots as inside the workspace (..cache is not ../cache)', () => {
    const s = parse({ 'cache-type': 'local', 'cache-dir': '..cache' });
    assert.equal(s.cacheDir, path.join(paths.workspace, '..cache'));
    assert.deepEqual(parse({ 'expect-paths': '..hidden' }).expectPaths, ['..hidden']);
  });

  it('resolves a local cache-dir inside the workspace, even one not made yet', () => {
    const s = parse({ 'cache-type': 'local', 'cache-dir': 'new-cache' });
    assert.equal(s.cacheDir, path.join(paths.workspace, 'new-cache'));
    assert.equal(s.createCache, true);
  });

  it('builds the Dockerfile of the given context, or the given dockerfile', () => {
    const ctx = path.join(paths.workspace, 'ctx');
    const s = parse({ context: 'ctx' });
    assert.equal(s.context, ctx);
    assert.equal(s.dockerfile, path.join(ctx, 'Dockerfile'));
    const t = parse({ context: ctx, dockerfile: 'ctx/Other.Dockerfile' });
    assert.equal(t.dockerfile, path.join(ctx, 'Other.Dockerfile'));
    const u = parse({ dockerfile: 'ctx/Other.Dockerfile' });
    assert.equal(u.context, bundledRepro);
    assert.equal(u.dockerfile, path.join(ctx, 'Other.Dockerfile'));
  });

  it('reads buildkitd-config from the workspace, and buildkitd-config-inline as given', () => {
    const fromFile = parse({ 'buildkitd-config': 'buildkitd.toml' });
    assert.equal(
      fromFile.buildkitdConfig,
      fs.readFileSync(path.join(paths.workspace, 'buildkitd.toml'), 'utf8'),
    );
    const inline = parse({ 'buildkitd-config-inline': '[worker.oci]\nmax-parallelism = 2' });
    assert.equal(inline.buildkitdConfig, '[worker.oci]\nmax-parallelism = 2');
  });

  it('accepts a buildctl-url over https, or over plain http on a loopback address', () => {
    for (const url of [
      'https://mirror.example.com/buildkit/{version}/buildkit-{version}.linux-{arch}.tar.gz',
      'http://127.0.0.1:8080/{version}/{arch}.tgz',
      'http://localhost/{version}.tgz',
      'http://[::1]:9000/{version}.tgz',
    ]) {
      assert.equal(parse({ 'buildctl-url': url }).buildctlUrl, url);
    }
  });

  it('keeps the github-token', () => {
    assert.equal(parse({ 'github-token': 'ghs_abc' }).githubToken, 'ghs_abc');
  });
});

describe('versionFromImageTag', () => {
  const cases: [string, string | undefined][] = [
    ['moby/buildkit:v0.9.0-rootless', 'v0.9.0'],
    ['moby/buildkit:v0.9.0', 'v0.9.0'],
    ['moby/buildkit:v0.12.5', 'v0.12.5'],
    ['localhost:5000/moby/buildkit:v0.10.3-rootless', 'v0.10.3'],
    [`moby/buildkit:v0.9.0@sha256:${'b'.repeat(64)}`, 'v0.9.0'],
    ['moby/buildkit:latest', undefined],
    ['moby/buildkit:master', undefined],
    ['moby/buildkit:master-rootless', undefined],
    ['moby/buildkit', undefined],
    ['localhost:5000/buildkit', undefined],
    [`moby/buildkit@sha256:${'c'.repeat(64)}`, undefined],
    ['moby/buildkit:v0.9', undefined],
    ['moby/buildkit:0.9.0', undefined],
    ['moby/buildkit:v0.9.0-rc1', undefined],
  ];
  for (const [image, expected] of cases) {
    it(`${image} → ${String(expected)}`, () => {
      assert.equal(versionFromImageTag(image), expected);
    });
  }
});

describe('expandUrl', () => {
  it('fills in every {version} and {arch}', () => {
    assert.equal(
      expandUrl(DEFAULT_BUILDCTL_URL, 'v0.9.0', 'arm64'),
      'https://github.com/moby/buildkit/releases/download/v0.9.0/buildkit-v0.9.0.linux-arm64.tar.gz',
    );
    assert.equal(
      expandUrl('https://x/{arch}/{version}/{arch}', 'v1.2.3', 'amd64'),
      'https://x/amd64/v1.2.3/amd64',
    );
  });

  it('leaves a template without placeholders as it is', () => {
    assert.equal(expandUrl('https://x/y.tgz', 'v1.2.3', 'amd64'), 'https://x/y.tgz');
  });
});

function s3BadCases(): BadCase[] {
  const without = (name: string): RawInputs => ({ ...S3, [name]: '' });
  return [
    { why: 'cache-type s3 without a bucket', inputs: without('cache-s3-bucket'), names: 'cache-s3-bucket' },
    {
      why: 'an S3 bucket name with capitals',
      inputs: { ...S3, 'cache-s3-bucket': 'My_Bucket' },
      names: 'cache-s3-bucket',
    },
    { why: 'cache-type s3 without a region', inputs: without('cache-s3-region'), names: 'cache-s3-region' },
    {
      why: 'an S3 region with a space',
      inputs: { ...S3, 'cache-s3-region': 'eu west' },
      names: 'cache-s3-region',
    },
    {
      why: 'cache-type s3 without an access key',
      inputs: without('cache-s3-access-key-id'),
      names: 'cache-s3-access-key-id',
    },
    {
      why: 'cache-type s3 without a secret key',
      inputs: without('cache-s3-secret-access-key'),
      names: 'cache-s3-secret-access-key',
    },
    {
      why: 'a plain-http S3 endpoint off loopback',
      inputs: { ...S3, 'cache-s3-endpoint-url': 'http://minio.example.com:9000' },
      names: 'cache-s3-endpoint-url',
    },
    ...[
      'https://127.0.0.1:9000',
      'http://key:secret@127.0.0.1:9000',
      'http://127.0.0.1:9000/?x=1',
      'https://minio.example.com/some/path',
    ].map((url) => ({
      why: `an S3 endpoint buildkitd could not use as given (${url})`,
      inputs: { ...S3, 'cache-s3-endpoint-url': url },
      names: 'cache-s3-endpoint-url',
    })),
    {
      why: 'an S3 endpoint that is no URL',
      inputs: { ...S3, 'cache-s3-endpoint-url': 'minio:9000' },
      names: 'cache-s3-endpoint-url',
    },
    {
      why: 'an S3 endpoint on loopback without path style',
      inputs: { ...S3, 'cache-s3-use-path-style': 'false' },
      names: 'cache-s3-use-path-style',
    },
    {
      why: 'cache-s3-use-path-style not a boolean',
      inputs: { ...S3, 'cache-s3-use-path-style': 'yes' },
      names: 'cache-s3-use-path-style',
    },
    {
      why: 'an S3 prefix with a comma (it would split the attributes)',
      inputs: { ...S3, 'cache-s3-prefix': 'a,b' },
      names: 'cache-s3-prefix',
    },
    {
      why: 'an S3 name with an equals sign',
      inputs: { ...S3, 'create-cache': 'false', 'cache-s3-name': 'x=y' },
      names: 'cache-s3-name',
    },
    {
      why: 'cache-s3-name with create-cache true (the run names its own)',
      inputs: { ...S3, 'cache-s3-name': 'buildkit' },
      names: 'cache-s3-name',
    },
    {
      why: 'an S3 input with another cache-type',
      inputs: { 'cache-type': 'registry', 'cache-s3-bucket': 'ci-cache' },
      names: 'cache-s3-bucket',
    },
    {
      why: 'cache-type s3 with a BuildKit before v0.11 (the cache maker, the same image, is named first)',
      inputs: { ...S3, 'buildkit-image': 'moby/buildkit:v0.10.6' },
      names: 'cache-buildkit-image',
    },
    {
      why: 'cache-type s3 with attempts before v0.11, the cache maker newer',
      inputs: {
        ...S3,
        'buildkit-image': 'moby/buildkit:v0.9.0',
        'cache-buildkit-image': 'moby/buildkit:v0.34.2',
      },
      names: 'buildkit-image',
    },
    {
      why: 'cache-type s3 with a cache maker before v0.11',
      inputs: { ...S3, 'cache-buildkit-image': 'moby/buildkit:v0.9.0-rootless' },
      names: 'cache-buildkit-image',
    },
    {
      why: 'cache-ignore-error true with s3 (a failed export would leave nothing to import)',
      inputs: { ...S3, 'cache-ignore-error': 'true' },
      names: 'cache-ignore-error',
    },
    {
      why: 'cache-compression with s3 (its exporter has no such attribute)',
      inputs: { ...S3, 'cache-compression': 'zstd' },
      names: 'cache-compression',
    },
  ];
}

describe('cache-type s3', () => {
  it('reads the bucket, the prefix verbatim (BuildKit joins S3 keys as they are), and the default name', () => {
    const s3 = ownSettings(parse({ ...S3, 'cache-s3-prefix': 'team/ci' }), 's3');
    assert.deepEqual(s3, {
      bucket: 'ci-cache',
      region: 'eu-west-1',
      endpointUrl: 'http://127.0.0.1:9000',
      usePathStyle: true,
      prefix: 'team/ci',
      name: 'buildkit',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret/example', sessionToken: '' },
    });
    assert.equal(parse({}).cacheSettings, undefined, 'the other types have none');
  });

  it("takes the region and keys from AWS's variables when the inputs leave them out", () => {
    const environment = {
      AWS_DEFAULT_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'AKIAENV',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
      AWS_SESSION_TOKEN: 'env-token',
    };
    const inputs = {
      'cache-type': 's3',
      'buildkit-image': 'moby/buildkit:v0.34.2',
      'cache-s3-bucket': 'ci-cache',
    };
    const s3 = ownSettings(parseSettings(inputs, paths, environment), 's3');
    assert.equal(s3?.region, 'us-west-2');
    assert.equal(s3?.endpointUrl, '', "AWS's own endpoint");
    assert.deepEqual(s3?.credentials, {
      accessKeyId: 'AKIAENV',
      secretAccessKey: 'env-secret',
      sessionToken: 'env-token',
    });
    const inputsWin = parseSettings({ ...inputs, 'cache-s3-region': 'eu-west-1' }, paths, {
      ...environment,
      AWS_REGION: 'ap-south-1',
    });
    assert.equal(ownSettings(inputsWin, 's3').region, 'eu-west-1');
  });

  it('names the variables that could stand in for a missing key', () => {
    assert.throws(
      () => parse({ ...S3, 'cache-s3-secret-access-key': '' }),
      /input "cache-s3-secret-access-key": is required with cache-type: s3 \(or set AWS_SECRET_ACCESS_KEY\)/,
    );
  });

  it('takes an https endpoint anywhere, and one on loopback in http', () => {
    for (const url of ['https://minio.example.com:9000', 'http://localhost:9000', 'http://[::1]:9000'])
      assert.equal(ownSettings(parse({ ...S3, 'cache-s3-endpoint-url': `${url}/` }), 's3').endpointUrl, url);
  });
});

describe('cache-type gha', () => {
  const v1 = { ACTIONS_RUNTIME_TOKEN: 'runtime-token', ACTIONS_CACHE_URL: 'http://127.0.0.1:9999/' };
  const v2 = {
    ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    ACTIONS_RESULTS_URL: 'https://results-receiver.actions.githubusercontent.com/',
    ACTIONS_CACHE_SERVICE_V2: 'True',
  };
  const gha = (inputs: RawInputs, environment: RawInputs) =>
    parseSettings({ 'cache-type': 'gha', ...inputs }, paths, environment);
  const refused = (inputs: RawInputs, environment: RawInputs, input: string, message: RegExp) =>
    assert.throws(
      () => gha(inputs, environment),
      (error: unknown) => error instanceof InputError && error.input === input && message.test(error.message),
    );

  it("takes the runner's token and the service's URL for the API it says, the scope buildkit by default", () => {
    assert.deepEqual(gha({ 'buildkit-image': 'moby/buildkit:v0.9.0' }, v1).cacheSettings, {
      token: 'runtime-token',
      url: 'http://127.0.0.1:9999',
      api: 1,
      scope: 'buildkit',
    });
    const withV2 = gha(
      { 'buildkit-image': 'moby/buildkit:v0.34.2', 'create-cache': 'false', 'cache-gha-scope': 'main' },
      v2,
    );
    assert.deepEqual(withV2.cacheSettings, {
      token: 'runtime-token',
      url: 'https://results-receiver.actions.githubusercontent.com',
      api: 2,
      scope: 'main',
    });
  });

  it('refuses, before anything starts, what cannot work', () => {
    refused({}, {}, 'cache-type', /ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_URL are not both set/);
    refused(
      {},
      { ...v1, GITHUB_SERVER_URL: 'https://github.com' },
      'cache-type',
      /shut the v1 cache service down/,
    );
    refused(
      { 'buildkit-image': 'moby/buildkit:v0.19.0' },
      v2,
      'cache-buildkit-image',
      /v2 .* needs BuildKit v0\.20\.0 or newer; v0\.19\.0/,
    );
    refused(
      { 'buildkit-image': 'moby/buildkit:v0.8.3' },
      v1,
      'cache-buildkit-image',
      /needs BuildKit v0\.9\.0 or newer/,
    );
    refused(
      {},
      { ...v1, ACTIONS_CACHE_URL: 'http://cache.example.com/' },
      'ACTIONS_CACHE_URL',
      /must be https/,
    );
    refused({ 'cache-gha-scope': 'main' }, v1, 'cache-gha-scope', /read with create-cache false/);
    refused({ 'create-cache': 'false', 'cache-gha-scope': 'a,b' }, v1, 'cache-gha-scope', /characters/);
    refused(
      { 'cache-ignore-error': 'true', 'buildkit-image': 'moby/buildkit:v0.34.2' },
      v1,
      'cache-ignore-error',
      /no cache at all/,
    );
  });
});

function azblobBadCases(): BadCase[] {
  return [
    {
      why: 'cache-type azblob without an account URL',
      inputs: { ...AZ, 'cache-azblob-account-url': '' },
      names: 'cache-azblob-account-url',
    },
    {
      why: 'a plain-http account URL off loopback',
      inputs: { ...AZ, 'cache-azblob-account-url': 'http://acct.blob.core.windows.net' },
      names: 'cache-azblob-account-url',
    },
    {
      why: 'cache-type azblob without an account key',
      inputs: { ...AZ, 'cache-azblob-secret-access-key': '' },
      names: 'cache-azblob-secret-access-key',
    },
    {
      why: 'an account name with capitals',
      inputs: { ...AZ, 'cache-azblob-account-name': 'MyAccount' },
      names: 'cache-azblob-account-name',
    },
    {
      why: 'a container name with two hyphens in a row',
      inputs: { ...AZ, 'cache-azblob-container': 'a--b' },
      names: 'cache-azblob-container',
    },
    {
      why: 'cache-azblob-name with create-cache true',
      inputs: { ...AZ, 'cache-azblob-name': 'main' },
      names: 'cache-azblob-name',
    },
    {
      why: 'an azblob prefix with a comma',
      inputs: { ...AZ, 'cache-azblob-prefix': 'a,b' },
      names: 'cache-azblob-prefix',
    },
    {
      why: 'an azblob input with another cache-type',
      inputs: { 'cache-azblob-container': 'c1c' },
      names: 'cache-azblob-container',
    },
    {
      why: 'azblob with a BuildKit before v0.11',
      inputs: { ...AZ, 'buildkit-image': 'moby/buildkit:v0.10.6' },
      names: 'cache-buildkit-image',
    },
    {
      why: "a path-style account URL (Azurite's) with v0.11, which reads the account from the host",
      inputs: { ...AZ, 'buildkit-image': 'moby/buildkit:v0.11.6' },
      names: 'cache-buildkit-image',
    },
  ];
}

describe('cache-type azblob', () => {
  it("reads the account from a path-style URL or Azure's host, the key from AZURE_STORAGE_KEY", () => {
    assert.deepEqual(parse(AZ).cacheSettings, {
      accountUrl: 'http://127.0.0.1:10000/devstoreaccount1',
      accountName: 'devstoreaccount1',
      secretAccessKey: 'a2V5',
      container: 'buildkit-cache',
      prefix: '',
      name: 'buildkit',
    });
    const azure = ownSettings(
      parseSettings(
        {
          'cache-type': 'azblob',
          'buildkit-image': 'moby/buildkit:v0.11.6',
          'cache-azblob-account-url': 'https://ciacct.blob.core.windows.net/',
          'cache-azblob-prefix': 'team',
        },
        paths,
        { AZURE_STORAGE_KEY: 'ZW52' },
      ),
      'azblob',
    );
    assert.equal(azure.accountName, 'ciacct', 'v0.11 is enough: the host names the account');
    assert.equal(azure.secretAccessKey, 'ZW52');
    assert.equal(azure.prefix, 'team/');
  });
});
