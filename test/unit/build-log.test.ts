import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { stepsNotFromCache } from '../../src/inspection/build-log.js';

// Real `buildctl build --progress plain` logs of the test bed's v0.9.0 (fixtures/README.md).
const log = (name: string) =>
  fs.readFileSync(new URL(`../../fixtures/build-logs/${name}.txt`, import.meta.url), 'utf8');

describe('stepsNotFromCache', () => {
  it('finds none in an attempt whose every step came from the imported cache', () => {
    assert.deepEqual(stepsNotFromCache(log('v0.9.0-from-cache')), []);
  });

  it('names the steps of a build that ran them', () => {
    assert.deepEqual(stepsNotFromCache(log('v0.9.0-no-cache')), [
      'COPY repro.txt /',
      'COPY repro.txt /again.txt',
    ]);
  });

  it('takes a step as cached even when its CACHED line comes after other vertices, and ignores FROM', () => {
    const text = [
      '#4 [1/3] FROM docker.io/library/alpine:latest',
      '#4 DONE 0.0s',
      '#5 [stage-1 2/3] RUN x',
      '#6 [3/3] RUN y',
      '#6 CACHED',
      '#5 CACHED',
    ].join('\n');
    assert.deepEqual(stepsNotFromCache(text), []);
    assert.deepEqual(stepsNotFromCache(text.replace('#5 CACHED', '#5 DONE 0.1s')), ['RUN x']);
  });
});
