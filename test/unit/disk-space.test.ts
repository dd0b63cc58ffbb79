import assert from 'node:assert/strict';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import { fullDisk, namingFullDisk } from '../../src/services/disk-space.js';

describe('a full disk named as the cause', () => {
  it('names the disk only under the threshold, with its free space', () => {
    assert.equal(fullDisk(os.tmpdir(), 1), undefined);
    assert.match(
      fullDisk(os.tmpdir(), Number.MAX_SAFE_INTEGER) ?? '',
      /^the disk of \S+ is full \(\d+ KiB free\)$/,
    );
    assert.equal(fullDisk('/no/such/folder', Number.MAX_SAFE_INTEGER), undefined);
  });

  it('leaves an error alone when nothing says the disk is full, and keeps its class', () => {
    class Special extends Error {}
    const error = namingFullDisk(new Special('failed to solve: EOF'), '/no/such/folder');
    assert.ok(error instanceof Special);
    assert.equal(error.message, 'failed to solve: EOF');
    assert.equal(namingFullDisk('not an error', '/'), 'not an error');
  });
});
