import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backendProblem,
  CACHE_BACKENDS,
  CACHE_TYPES,
  type CachePlace,
  releaseProblem,
} from '../../src/backends/backends.js';

const place: CachePlace = {
  registryHost: 'run-cache:5000',
  registryAddress: '127.0.0.1:5999',
  dir: '/work/run',
  tag: 'candidate-3',
};
const made = { cacheDir: '', createCache: true };

describe('the cache backends, one entry per cache-type word', () => {
  it('the words are the map keys, in the order the inputs list them', () => {
    assert.deepEqual(CACHE_TYPES, ['registry', 'local', 'inline']);
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
    const kept = { cacheDir: '/work/space/cache', createCache: false };
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
      { cacheDir: string; createCache: boolean },
      string | undefined,
    ][] = [
      ['registry', made, undefined],
      ['registry', { cacheDir: '/c', createCache: true }, 'cache-dir'],
      ['registry', { cacheDir: '', createCache: false }, 'create-cache'],
      ['inline', made, undefined],
      ['inline', { cacheDir: '/c', createCache: true }, 'cache-dir'],
      ['inline', { cacheDir: '', createCache: false }, 'create-cache'],
      ['local', made, undefined],
      ['local', { cacheDir: '/c', createCache: true }, undefined],
      ['local', { cacheDir: '/c', createCache: false }, undefined],
      ['local', { cacheDir: '', createCache: false }, 'create-cache'],
    ];
    for (const [type, settings, input] of rows) {
      assert.equal(backendProblem(type, settings)?.input, input, `${type} ${JSON.stringify(settings)}`);
    }
    assert.match(
      backendProblem('inline', { cacheDir: '/c', createCache: true })?.reason ?? '',
      /cache-type: inline/,
    );
  });

  it('a release older than the backend is refused, by its version; a daemon that names none is not', () => {
    for (const type of CACHE_TYPES) {
      assert.equal(releaseProblem(type, CACHE_BACKENDS[type].since), undefined);
      assert.equal(releaseProblem(type, 'v0.34.2'), undefined);
      assert.equal(releaseProblem(type, 'unknown'), undefined);
      assert.equal(
        releaseProblem(type, 'v0.3.3'),
        `cache-type ${type} needs BuildKit ${CACHE_BACKENDS[type].since} or newer; v0.3.3 has none`,
      );
    }
  });
});
