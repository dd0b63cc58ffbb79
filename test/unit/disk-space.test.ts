import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../../src/services/command.js';
import { fullDisk, fullDiskWatch, namingFullDisk } from '../../src/services/disk-space.js';

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

  it('stops a build only when its disk stays full: two looks in a row, a look that finds room starts over', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-watch-'));
    // Every disk is "full" under this threshold; a folder that is gone says nothing (fullDisk's rule).
    const watch = fullDiskWatch(dir, { everyMs: 10, checks: 2, minFreeBytes: Number.MAX_SAFE_INTEGER });
    assert.equal(watch.reason(), undefined, 'one look');
    fs.rmSync(dir, { recursive: true });
    assert.equal(watch.reason(), undefined, 'a look that finds nothing full');
    fs.mkdirSync(dir);
    assert.equal(watch.reason(), undefined, 'the first look again');
    assert.match(watch.reason() ?? '', /^the disk of \S+ is full \(\d+ KiB free\)$/);
    const roomy = fullDiskWatch(dir, { minFreeBytes: 1 });
    assert.deepEqual([roomy.reason(), roomy.reason(), roomy.reason()], [undefined, undefined, undefined]);
    fs.rmSync(dir, { recursive: true });
  });

  it('kills a command its watch stops, and says why, long before its time limit', async () => {
    const started = Date.now();
    let looks = 0;
    const result = await runCommand('sleep', ['30'], {
      allowFailure: true,
      timeoutMs: 60_000,
      stopWhen: {
        everyMs: 20,
        reason: () => (++looks >= 3 ? 'the disk of /x is full (0 KiB free)' : undefined),
      },
    });
    assert.equal(result.stoppedBecause, 'the disk of /x is full (0 KiB free)');
    assert.equal(result.timedOut, false);
    assert.notEqual(result.exitCode, 0);
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    const calm = await runCommand('true', [], { stopWhen: { everyMs: 5, reason: () => undefined } });
    assert.equal(calm.stoppedBecause, undefined);
  });
});
