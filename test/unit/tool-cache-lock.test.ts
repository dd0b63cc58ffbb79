import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  onToolCacheWork,
  stopToolCacheWork,
  tidyToolCacheEntry,
  type ToolCacheWork,
  undoToolCacheWorkSync,
  withToolCacheLock,
} from '../../src/services/tool-cache-lock.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tool-cache-lock-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A tool cache of its own: `<root>/N/buildctl/0.9.1/amd64` and its lock `<root>/N/.buildctl-v0.9.1-amd64`. */
function workIn(): ToolCacheWork {
  const dir = path.join(root, String(++count));
  fs.mkdirSync(dir, { recursive: true });
  return {
    lockTarget: path.join(dir, '.buildctl-v0.9.1-amd64'),
    entry: path.join(dir, 'buildctl', '0.9.1', 'amd64'),
  };
}

/** What @actions/tool-cache has written so far: the folder and a file, and the marker when it is done. */
function writeEntry(work: ToolCacheWork, complete: boolean): void {
  fs.mkdirSync(work.entry, { recursive: true });
  fs.writeFileSync(path.join(work.entry, 'buildctl'), 'binary');
  if (complete) fs.writeFileSync(`${work.entry}.complete`, '');
}

const left = (work: ToolCacheWork) => ({
  lock: fs.existsSync(`${work.lockTarget}.lock`),
  entry: fs.existsSync(work.entry),
});

/** A lock folder as a killed job leaves it: its mtime no longer kept fresh, `ageMs` old. */
function deadLock(work: ToolCacheWork, ageMs: number): void {
  fs.mkdirSync(`${work.lockTarget}.lock`);
  const then = new Date(Date.now() - ageMs);
  fs.utimesSync(`${work.lockTarget}.lock`, then, then);
}

describe('the tool-cache lock', () => {
  it('is held during the work and released after it, also when the work throws', async () => {
    const work = workIn();
    const seen = await withToolCacheLock(work, async () => left(work).lock);
    assert.equal(seen, true);
    await assert.rejects(
      withToolCacheLock(work, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.deepEqual(left(work), { lock: false, entry: false });
  });

  it('takes over a lock its dead holder left', async () => {
    const work = workIn();
    deadLock(work, 60_000);
    assert.equal(await withToolCacheLock(work, async () => 'ran'), 'ran');
    assert.equal(left(work).lock, false);
  });

  it('the post step: a dead lock and a half-written entry are removed; a complete one stays', async () => {
    const partial = workIn();
    deadLock(partial, 60_000);
    writeEntry(partial, false);
    assert.match((await tidyToolCacheEntry(partial, 2000)) ?? '', /removed .*written in part/);
    assert.deepEqual(left(partial), { lock: false, entry: false });

    const complete = workIn();
    deadLock(complete, 60_000);
    writeEntry(complete, true);
    assert.equal(await tidyToolCacheEntry(complete, 2000), undefined);
    assert.deepEqual(left(complete), { lock: false, entry: true }, 'the dead lock is gone all the same');
  });

  it('the post step: nothing there, nothing done; a live lock is left to its job', async () => {
    const nothing = workIn();
    writeEntry(nothing, true);
    assert.equal(await tidyToolCacheEntry(nothing, 2000), undefined);

    const live = workIn();
    writeEntry(live, false);
    await withToolCacheLock(live, async () => {
      assert.match((await tidyToolCacheEntry(live, 1500)) ?? '', /held by a live job: left to it/);
      assert.deepEqual(left(live), { lock: true, entry: true }, 'the live job’s entry is not touched');
    });
  });

  it('tells its listener as the section starts, before the mkdir, and as it ends', async () => {
    const work = workIn();
    const told: (string | undefined)[] = [];
    onToolCacheWork((w) => told.push(w && (fs.existsSync(`${w.lockTarget}.lock`) ? 'locked' : 'entering')));
    await withToolCacheLock(work, async () => undefined);
    onToolCacheWork(() => undefined);
    assert.deepEqual(told, ['entering', undefined]);
  });

  // Last: a stopped process takes no lock again.
  it('a signal as the lock is taken: the mkdir in flight settles, then the part and the lock are removed', async () => {
    const work = workIn();
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    const writing = withToolCacheLock(work, async () => {
      writeEntry(work, false);
      await gate;
    });
    await stopToolCacheWork();
    assert.equal(left(work).lock, true, 'the attempt in flight took the lock');
    writeEntry(work, false);
    undoToolCacheWorkSync();
    assert.deepEqual(left(work), { lock: false, entry: false });
    proceed();
    await writing;
    await assert.rejects(
      withToolCacheLock(workIn(), async () => undefined),
      /stopped by a signal before the tool-cache lock was taken/,
    );
  });
});
