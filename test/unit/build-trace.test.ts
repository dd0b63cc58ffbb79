import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { cacheUse, readTrace, TraceError } from '../../src/inspection/build-trace.js';

// Real `buildctl build --trace` files of the test bed's releases (fixtures/README.md).
const fixture = (name: string) =>
  fs.readFileSync(new URL(`../../fixtures/build-traces/${name}`, import.meta.url), 'utf8');
const use = (name: string) => cacheUse(readTrace(fixture(name)));

const STEPS = ['COPY repro.txt /', 'RUN echo 1', 'RUN echo 2'];

describe('cache use read from the build trace', () => {
  for (const version of ['v0.9.0', 'v0.10.6', 'v0.34.2']) {
    it(`${version}: an attempt whose steps all came from the imported cache`, () => {
      const fromCache = use(`${version}-from-cache.json`);
      assert.deepEqual({ ...fromCache, cached: [] }, { importErrors: [], ran: [], cached: [] });
      assert.deepEqual(
        fromCache.cached,
        ['RUN echo 1', 'COPY repro.txt /', 'RUN echo 2'],
        'in the Dockerfile order',
      );
    });

    it(`${version}: an import of a missing cache fails, and every step ran`, () => {
      const found = use(`${version}-wrong-ref.json`);
      assert.equal(found.importErrors.length, 1);
      assert.match(
        found.importErrors[0] ?? '',
        /^importing cache manifest from .*wrong:latest: .*not found$/,
      );
      assert.deepEqual([...found.ran].sort(), STEPS);
    });
  }

  it('a failed import is seen also when the steps came from the local cache of an earlier attempt', () => {
    const found = use('v0.34.2-wrong-ref-local-cache.json');
    assert.deepEqual(found.ran, []);
    assert.equal(found.importErrors.length, 1);
  });

  it('a build without a cache: every step ran, and there was nothing to import', () => {
    const found = use('v0.34.2-no-cache.json');
    assert.deepEqual(found.importErrors, []);
    assert.deepEqual([...found.ran].sort(), STEPS);
  });

  it('why the plain log is not enough: since v0.10 it can end a cached step in DONE', () => {
    for (const version of ['v0.10.6', 'v0.34.2']) {
      const plain = fixture(`${version}-from-cache.plain.txt`);
      const id = /^#(\d+) \[4\/4\] RUN echo 2$/m.exec(plain)?.[1];
      assert.ok(id, 'the plain log names RUN echo 2');
      assert.doesNotMatch(plain, new RegExp(`^#${id} CACHED$`, 'm'));
      assert.match(plain, new RegExp(`^#${id} DONE`, 'm'));
      assert.ok(
        readTrace(fixture(`${version}-from-cache.json`)).some(
          (v) => v.name === '[4/4] RUN echo 2' && v.cached,
        ),
      );
    }
  });

  it('a step that only pulled its own layers was loaded, even if its cached mark were lost', () => {
    // Coalesced by the daemon, the cached message of the lazily loaded step would never reach the client.
    const text = fixture('v0.34.2-from-cache.json').replace(/"cached":true/g, '"cached":false');
    const vertices = readTrace(text);
    assert.ok(vertices.every((v) => !v.cached));
    assert.deepEqual(
      cacheUse(vertices).ran.sort(),
      ['COPY repro.txt /', 'RUN echo 1'],
      'steps without pulls ran',
    );
    const lastStep = vertices.find((v) => v.name === '[4/4] RUN echo 2');
    assert.ok(lastStep && lastStep.blobPulls > 0 && lastStep.logLines === 0);
  });

  it('a step that printed output ran, whatever it pulled', () => {
    const vertices = readTrace(fixture('v0.34.2-from-cache.json')).map((v) =>
      v.name === '[4/4] RUN echo 2' ? { ...v, cached: false, logLines: 1 } : v,
    );
    assert.deepEqual(cacheUse(vertices).ran, ['RUN echo 2']);
  });

  it('a step marked cached whose load then failed, and that ran instead, ran', () => {
    // The solver marks a step cached when it starts to load a record; a failed load is reported on the
    // vertex, and the step runs (and writes its output) instead.
    const text = fixture('v0.34.2-from-cache.json');
    const step = readTrace(text).find((v) => v.name === '[4/4] RUN echo 2');
    assert.ok(step?.cached);
    const failedLoad = JSON.stringify({
      vertexes: [
        {
          digest: step.digest,
          name: step.name,
          cached: true,
          error: 'failed to load cache key: blob not found',
        },
      ],
    });
    assert.deepEqual(cacheUse(readTrace(`${text}\n${failedLoad}`)).ran, ['RUN echo 2']);
  });

  it('a trace that names no Dockerfile step is no evidence either way', () => {
    const onlyInternal = JSON.stringify({
      vertexes: [
        { digest: 'sha256:1', name: '[internal] load build definition from Dockerfile', cached: false },
      ],
    });
    assert.throws(() => cacheUse(readTrace(onlyInternal)), TraceError);
    assert.throws(() => cacheUse(readTrace(onlyInternal)), /names no Dockerfile step/);
  });

  it('reads the Go field names of old releases and the JSON tags of new ones alike', () => {
    const old = readTrace(fixture('v0.9.0-from-cache.json'));
    const current = readTrace(fixture('v0.34.2-from-cache.json'));
    assert.match(fixture('v0.9.0-from-cache.json'), /"Vertexes"/);
    assert.match(fixture('v0.34.2-from-cache.json'), /"vertexes"/);
    for (const vertices of [old, current]) {
      assert.deepEqual(vertices.filter((v) => /^\[\d\/4\] (RUN|COPY)/.test(v.name) && v.cached).length, 3);
    }
  });

  it('names an empty or broken trace instead of judging it', () => {
    assert.throws(() => readTrace(''), TraceError);
    assert.throws(() => readTrace('{"vertexes":[]}\n{not json'), /line 2 of the build trace is not JSON/);
  });

  it('takes a multi-stage step name and ignores FROM', () => {
    const line = (name: string, cached: boolean) =>
      JSON.stringify({ vertexes: [{ digest: `sha256:${name.length}${name}`, name, cached }] });
    const text = [
      line('[stage-1 1/3] FROM docker.io/library/alpine:latest', false),
      line('[stage-1 2/3] RUN x', true),
      line('[3/3] RUN y', false),
    ].join('\n');
    assert.deepEqual(cacheUse(readTrace(text)).ran, ['RUN y']);
  });
});
