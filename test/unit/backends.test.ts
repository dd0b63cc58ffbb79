import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backendProblem,
  CACHE_BACKENDS,
  CACHE_TYPES,
  type CacheOptions,
  type CachePlace,
  describeLocation,
  exportAttributes,
  releaseProblem,
} from '../../src/backends/backends.js';

const place: CachePlace = {
  registryHost: 'run-cache:5000',
  registryAddress: '127.0.0.1:5999',
  dir: '/work/run',
  tag: 'candidate-3',
  runId: 'r1',
};
const made = { cacheDir: '', createCache: true, cacheOptions: {}, own: undefined };

describe('the cache backends, one entry per cache-type word', () => {
  it('the words are the map keys, in the order the inputs list them', () => {
    assert.deepEqual(CACHE_TYPES, ['registry', 'local', 'inline', 's3', 'gha', 'azblob']);
  });

  const s3 = {
    bucket: 'ci-cache',
    region: 'eu-west-1',
    endpointUrl: 'http://127.0.0.1:9000',
    usePathStyle: true,
    prefix: 'team/',
    name: 'buildkit',
    credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secret', sessionToken: '' },
  };

  it("s3: the run's cache below a prefix of its own, the endpoint on loopback reached as the host, no key in the attributes", () => {
    const specs = CACHE_BACKENDS.s3.specs({ ...made, own: s3 }, place);
    const attributes =
      'bucket=ci-cache,region=eu-west-1,endpoint_url=http://host.docker.internal:9000,use_path_style=true,prefix=team/lost-layer-r1/,name=candidate-3';
    assert.equal(specs.export, `type=s3,${attributes},mode=max`);
    assert.equal(specs.import, `type=s3,${attributes}`);
    assert.doesNotMatch(specs.export + specs.import, /AKIA1|secret/);
    assert.equal(specs.location.kind, 'server');
    assert.equal(describeLocation(specs.location), 's3://ci-cache/team/lost-layer-r1/manifests/candidate-3');
    assert.deepEqual(CACHE_BACKENDS.s3.daemonAccess?.(s3), {
      secretEnv: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 'secret' },
      hostGateway: true,
    });
  });

  it("registry with cache-ref: a pipeline's cache imported, never exported; on loopback in plain http as the host", () => {
    const registryCache = {
      ref: '127.0.0.1:5999/team/app:buildcache',
      username: 'me',
      password: 'pw-secret',
    };
    const specs = CACHE_BACKENDS.registry.specs({ ...made, createCache: false, own: registryCache }, place);
    assert.equal(specs.import, 'type=registry,ref=host.docker.internal:5999/team/app:buildcache');
    assert.equal(specs.export, '');
    assert.deepEqual(specs.location, {
      kind: 'registry',
      address: '127.0.0.1:5999',
      repository: 'team/app',
      tag: 'buildcache',
      scheme: 'http',
      credentials: { username: 'me', password: 'pw-secret' },
    });
    assert.deepEqual(CACHE_BACKENDS.registry.daemonAccess?.(registryCache), {
      secretEnv: {},
      hostGateway: true,
      plainHttpRegistries: ['host.docker.internal:5999'],
      registryAliases: { 'host.docker.internal:5999': '127.0.0.1:5999' },
      registryLogin: { host: 'host.docker.internal:5999', username: 'me', password: 'pw-secret' },
    });
    assert.deepEqual(CACHE_BACKENDS.registry.secrets?.(registryCache), ['pw-secret']);
    const ghcr = { ref: 'ghcr.io/org/app:buildcache', username: '', password: '' };
    assert.equal(
      CACHE_BACKENDS.registry.specs({ ...made, createCache: false, own: ghcr }, place).import,
      'type=registry,ref=ghcr.io/org/app:buildcache',
    );
    assert.deepEqual(CACHE_BACKENDS.registry.daemonAccess?.(ghcr), {
      secretEnv: {},
      hostGateway: false,
      plainHttpRegistries: [],
    });
  });

  it("gha: the run's own scope, the service on loopback reached as the host, v2 by url_v2; the token redacted", () => {
    const gha = {
      token: 'runtime-token-123',
      url: 'http://127.0.0.1:7777',
      api: 1 as const,
      scope: 'buildkit',
    };
    const specs = CACHE_BACKENDS.gha.specs({ ...made, own: gha }, place);
    const attributes =
      'url=http://host.docker.internal:7777/,token=runtime-token-123,scope=lost-layer-r1-candidate-3';
    assert.equal(specs.export, `type=gha,${attributes},mode=max`);
    assert.equal(specs.import, `type=gha,${attributes}`);
    assert.deepEqual(CACHE_BACKENDS.gha.secrets?.(gha), ['runtime-token-123']);
    assert.equal(CACHE_BACKENDS.gha.daemonAccess?.(gha)?.hostGateway, true);
    const v2 = { ...gha, url: 'https://results.example.com', api: 2 as const, scope: 'main' };
    assert.equal(
      CACHE_BACKENDS.gha.specs({ ...made, createCache: false, own: v2 }, place).import,
      'type=gha,url_v2=https://results.example.com/,token=runtime-token-123,scope=main',
    );
    assert.equal(releaseProblem('gha', 'v0.19.0', {}, 'importer', v2)?.includes('v0.20.0'), true);
    assert.equal(releaseProblem('gha', 'v0.19.0', {}, 'importer', gha), undefined, 'v1 from v0.9');
  });

  it('azblob: the account name told only when the URL does not start with it; the key redacted', () => {
    const azblob = {
      accountUrl: 'http://127.0.0.1:10000/devstoreaccount1',
      accountName: 'devstoreaccount1',
      secretAccessKey: 'a2V5LXNlY3JldA==',
      container: 'cc',
      prefix: 'team/',
      name: 'buildkit',
    };
    const specs = CACHE_BACKENDS.azblob.specs({ ...made, own: azblob }, place);
    assert.equal(
      specs.import,
      'type=azblob,account_url=http://host.docker.internal:10000/devstoreaccount1,account_name=devstoreaccount1,secret_access_key=a2V5LXNlY3JldA==,container=cc,prefix=team/lost-layer-r1/,name=candidate-3',
    );
    assert.deepEqual(CACHE_BACKENDS.azblob.secrets?.(azblob), ['a2V5LXNlY3JldA==']);
    assert.equal(
      describeLocation(specs.location),
      'http://127.0.0.1:10000/devstoreaccount1/cc/team/lost-layer-r1/manifests/candidate-3',
    );
    const azure = {
      ...azblob,
      accountUrl: 'https://ciacct.blob.core.windows.net',
      accountName: 'ciacct',
      prefix: '',
    };
    const user = CACHE_BACKENDS.azblob.specs({ ...made, createCache: false, own: azure }, place);
    assert.equal(
      user.import,
      'type=azblob,account_url=https://ciacct.blob.core.windows.net,secret_access_key=a2V5LXNlY3JldA==,container=cc,name=buildkit',
    );
    assert.equal(releaseProblem('azblob', 'v0.11.6', {}, 'maker', azure), undefined);
    assert.match(releaseProblem('azblob', 'v0.11.6', {}, 'maker', azblob) ?? '', /v0\.12\.0/);
  });

  it("s3 with create-cache false: the user's cache where they put it; AWS's endpoint needs no host mapping", () => {
    const aws = {
      ...s3,
      endpointUrl: '',
      usePathStyle: false,
      name: 'main',
      credentials: { ...s3.credentials, sessionToken: 'tok' },
    };
    const specs = CACHE_BACKENDS.s3.specs({ ...made, createCache: false, own: aws }, place);
    assert.equal(specs.import, 'type=s3,bucket=ci-cache,region=eu-west-1,prefix=team/,name=main');
    assert.deepEqual(CACHE_BACKENDS.s3.daemonAccess?.(aws), {
      secretEnv: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'tok' },
      hostGateway: false,
    });
    assert.equal(
      CACHE_BACKENDS.registry.daemonAccess?.(undefined),
      undefined,
      'the run registry needs nothing more',
    );
  });

  it('registry: its own manifest in the run registry, mode=max, under the tag asked for', () => {
    const specs = CACHE_BACKENDS.registry.specs(made, place);
    assert.equal(specs.export, 'type=registry,ref=run-cache:5000/lost-layer/cache:candidate-3,mode=max');
    assert.equal(specs.import, 'type=registry,ref=run-cache:5000/lost-layer/cache:candidate-3');
    assert.equal(specs.pushedImage, undefined);
    assert.deepEqual(specs.location, {
      kind: 'registry',
      address: '127.0.0.1:5999',
      repository: 'lost-layer/cache',
      tag: 'candidate-3',
    });
  });

  it('local: a folder of the run, removed with it, or the cache-dir, kept', () => {
    const inRun = CACHE_BACKENDS.local.specs(made, place);
    assert.equal(inRun.export, 'type=local,dest=/work/run/cache,mode=max');
    assert.equal(inRun.import, 'type=local,src=/work/run/cache');
    assert.deepEqual(CACHE_BACKENDS.local.runPaths(made, place), ['/work/run/cache']);
    assert.equal(CACHE_BACKENDS.local.keptDir(made), undefined);
    const kept = { cacheDir: '/work/space/cache', createCache: false, cacheOptions: {}, own: undefined };
    assert.deepEqual(CACHE_BACKENDS.local.specs(kept, place).location, {
      kind: 'local',
      dir: '/work/space/cache',
    });
    assert.deepEqual(CACHE_BACKENDS.local.runPaths(kept, place), []);
    assert.equal(CACHE_BACKENDS.local.keptDir(kept), '/work/space/cache');
  });

  it('inline: exported inside the pushed image, imported from that image by name, read from its config', () => {
    const specs = CACHE_BACKENDS.inline.specs(made, place);
    assert.equal(specs.export, 'type=inline');
    assert.equal(specs.pushedImage, 'run-cache:5000/lost-layer/cache:candidate-3');
    assert.equal(specs.import, `type=registry,ref=${specs.pushedImage}`);
    assert.equal(specs.location.kind, 'inline');
    assert.deepEqual(CACHE_BACKENDS.inline.runPaths(made, place), []);
  });

  it('settings a backend cannot take name their input', () => {
    const rows: [
      keyof typeof CACHE_BACKENDS,
      { cacheDir: string; createCache: boolean; cacheOptions: CacheOptions; own: undefined },
      string | undefined,
    ][] = [
      ['registry', made, undefined],
      ['registry', { cacheDir: '/c', createCache: true, cacheOptions: {}, own: undefined }, 'cache-dir'],
      ['registry', { cacheDir: '', createCache: false, cacheOptions: {}, own: undefined }, 'create-cache'],
      ['inline', made, undefined],
      ['inline', { cacheDir: '/c', createCache: true, cacheOptions: {}, own: undefined }, 'cache-dir'],
      ['inline', { cacheDir: '', createCache: false, cacheOptions: {}, own: undefined }, 'create-cache'],
      ['local', made, undefined],
      ['local', { cacheDir: '/c', createCache: true, cacheOptions: {}, own: undefined }, undefined],
      ['local', { cacheDir: '/c', createCache: false, cacheOptions: {}, own: undefined }, undefined],
      ['local', { cacheDir: '', createCache: false, cacheOptions: {}, own: undefined }, 'create-cache'],
    ];
    for (const [type, settings, input] of rows) {
      assert.equal(backendProblem(type, settings)?.input, input, `${type} ${JSON.stringify(settings)}`);
    }
    assert.match(
      backendProblem('inline', { cacheDir: '/c', createCache: true, cacheOptions: {}, own: undefined })
        ?.reason ?? '',
      /cache-type: inline/,
    );
  });

  it('a release older than the backend is refused, by its version; a daemon that names none is not', () => {
    for (const type of CACHE_TYPES) {
      assert.equal(releaseProblem(type, CACHE_BACKENDS[type].since), undefined);
      assert.equal(releaseProblem(type, 'v0.34.2'), undefined);
      assert.equal(releaseProblem(type, 'unknown'), undefined);
      assert.equal(releaseProblem(type, 'v0.0.0+unknown'), undefined);
      assert.equal(
        releaseProblem(type, 'v0.3.3'),
        `cache-type ${type} needs BuildKit ${CACHE_BACKENDS[type].since} or newer; v0.3.3 has none`,
      );
    }
  });

  it("the export options given go on the export value in one order; the backend's mode when none is given", () => {
    assert.equal(exportAttributes({}, 'max'), ',mode=max');
    assert.equal(exportAttributes({}, undefined), '');
    assert.equal(
      exportAttributes(
        { ignoreError: 'true', compression: 'zstd', mode: 'min', imageManifest: 'true' },
        'max',
      ),
      ',mode=min,compression=zstd,image-manifest=true,ignore-error=true',
    );
    const specs = CACHE_BACKENDS.local.specs(
      { ...made, cacheOptions: { compression: 'uncompressed' } },
      place,
    );
    assert.equal(specs.export, 'type=local,dest=/work/run/cache,mode=max,compression=uncompressed');
    assert.equal(specs.import, 'type=local,src=/work/run/cache', 'export options never go on the import');
    assert.equal(
      CACHE_BACKENDS.inline.specs({ ...made, cacheOptions: { mode: 'min' } }, place).export,
      'type=inline,mode=min',
    );
  });

  it('an export option its backend does not take, or a pair BuildKit refuses, names its input', () => {
    const rows: [keyof typeof CACHE_BACKENDS, CacheOptions, string | undefined][] = [
      ['registry', { mode: 'min', compression: 'zstd', forceCompression: 'true' }, undefined],
      ['local', { ociMediatypes: 'true', imageManifest: 'true', ignoreError: 'true' }, undefined],
      ['inline', { mode: 'min' }, undefined],
      ['inline', { ignoreError: 'true' }, 'cache-ignore-error'],
      ['inline', { mode: 'max' }, 'cache-mode'],
      ['inline', { compression: 'zstd' }, 'cache-compression'],
      ['inline', { imageManifest: 'true' }, 'cache-image-manifest'],
      ['registry', { imageManifest: 'true', ociMediatypes: 'false' }, 'cache-image-manifest'],
      ['inline', { mode: 'min' }, undefined],
    ];
    for (const [type, cacheOptions, input] of rows) {
      const problem = backendProblem(type, { cacheDir: '', createCache: true, cacheOptions, own: undefined });
      assert.equal(problem?.input, input, `${type} ${JSON.stringify(cacheOptions)}: ${problem?.reason}`);
    }
    assert.equal(
      backendProblem('inline', {
        cacheDir: '',
        createCache: true,
        cacheOptions: { mode: 'max' },
        own: undefined,
      })?.reason,
      'max: cache-type inline exports mode min',
    );
  });

  it('an export option newer than the release is refused, naming the option and the release', () => {
    const rows: [string, CacheOptions, string | undefined][] = [
      [
        'v0.7.2',
        { ociMediatypes: 'true' },
        'cache-oci-mediatypes needs BuildKit v0.8.0 or newer; v0.7.2 has no oci-mediatypes attribute',
      ],
      ['v0.8.3', { ociMediatypes: 'true' }, undefined],
      [
        'v0.9.1',
        { compression: 'zstd' },
        'cache-compression needs BuildKit v0.10.0 or newer; v0.9.1 has no compression attribute',
      ],
      [
        'v0.9.1',
        { forceCompression: 'true' },
        'cache-force-compression needs BuildKit v0.10.0 or newer; v0.9.1 has no force-compression attribute',
      ],
      ['v0.10.6', { compression: 'zstd', forceCompression: 'true' }, undefined],
      [
        'v0.10.6',
        { ignoreError: 'true' },
        'cache-ignore-error needs BuildKit v0.11.0 or newer; v0.10.6 has no ignore-error attribute',
      ],
      [
        'v0.11.6',
        { imageManifest: 'true' },
        'cache-image-manifest needs BuildKit v0.12.0 or newer; v0.11.6 has no image-manifest attribute',
      ],
      ['v0.12.5', { imageManifest: 'true', ignoreError: 'true' }, undefined],
      ['latest', { imageManifest: 'true' }, undefined],
      // A dev build (BuildKit's default version) and a commit name no release: nothing to hold them to.
      ['v0.0.0+unknown', { imageManifest: 'true' }, undefined],
      ['0a1b2c3', { ignoreError: 'true' }, undefined],
    ];
    for (const [release, options, problem] of rows) {
      assert.equal(
        releaseProblem('registry', release, options),
        problem,
        `${release} ${JSON.stringify(options)}`,
      );
    }
  });

  it('ignore-error with a kept cache-dir is refused: a failed export would leave the earlier cache to import', () => {
    const kept = { cacheDir: '/work/space/cache', createCache: true, own: undefined };
    assert.equal(
      backendProblem('local', { ...kept, cacheOptions: { ignoreError: 'true' } })?.input,
      'cache-ignore-error',
    );
    assert.equal(backendProblem('local', { ...kept, cacheOptions: { ignoreError: 'false' } }), undefined);
    assert.equal(
      backendProblem('local', {
        cacheDir: '',
        createCache: true,
        cacheOptions: { ignoreError: 'true' },
        own: undefined,
      }),
      undefined,
      "the run's own folder starts empty: a failed export leaves nothing to import",
    );
  });

  it('an importer older than what the cache needs is refused (zstd from v0.10, an image-manifest cache from v0.12)', () => {
    const rows: [string, CacheOptions, string | undefined][] = [
      [
        'v0.9.3',
        { compression: 'zstd' },
        'cache-compression zstd needs an importer of BuildKit v0.10.0 or newer; v0.9.3 cannot read such a cache',
      ],
      ['v0.9.3', { compression: 'gzip', forceCompression: 'true', ignoreError: 'true' }, undefined],
      ['v0.10.6', { compression: 'zstd' }, undefined],
      [
        'v0.11.6',
        { imageManifest: 'true' },
        'cache-image-manifest true needs an importer of BuildKit v0.12.0 or newer; v0.11.6 cannot read such a cache',
      ],
      ['v0.11.6', { imageManifest: 'false' }, undefined],
      ['v0.12.5', { imageManifest: 'true' }, undefined],
    ];
    for (const [release, options, problem] of rows) {
      assert.equal(
        releaseProblem('registry', release, options, 'importer'),
        problem,
        `${release} ${JSON.stringify(options)}`,
      );
    }
  });

  it('an export option with create-cache false (nothing is exported) names its input', () => {
    const problem = backendProblem('local', {
      cacheDir: '/work/space/cache',
      createCache: false,
      cacheOptions: { compression: 'zstd' },
      own: undefined,
    });
    assert.deepEqual(problem, {
      input: 'cache-compression',
      reason: 'changes an export, and create-cache false exports nothing',
    });
  });
});
