import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasJobSummaries } from '../../src/runner.js';

describe('hasJobSummaries', () => {
  it('is true on github.com, on GHE.com and when the runner names no server', () => {
    assert.equal(hasJobSummaries('https://github.com'), true);
    assert.equal(hasJobSummaries('https://octo.ghe.com'), true);
    assert.equal(hasJobSummaries(undefined), true);
    assert.equal(hasJobSummaries(''), true);
    assert.equal(hasJobSummaries('not a url'), true, 'an address that is no URL does not stop the summary');
  });

  it('is false on a GitHub Enterprise Server', () => {
    assert.equal(hasJobSummaries('https://github.example.com'), false);
    assert.equal(hasJobSummaries('https://ghes.internal:8443'), false);
  });
});
