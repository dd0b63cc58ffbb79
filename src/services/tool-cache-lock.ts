import * as fs from 'node:fs';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';

// The runner's tool cache is shared by the jobs of a self-hosted runner: an entry is written under a lock, so
// that one job downloads a release and the others wait and find it. proper-lockfile takes the lock with an
// atomic mkdir and keeps it fresh by its mtime: a lock left by a killed job goes stale and is taken over,
// which also holds across PID namespaces (container jobs sharing a tool cache), where a pid means nothing.
// A cancelled step must leave neither the lock nor a half-written entry (@actions/tool-cache writes the
// entry's `.complete` marker last): a signal handler stops the work here (stopToolCacheWork, then
// undoToolCacheWorkSync), and the post step tidies what a SIGKILL left (tidyToolCacheEntry), told by the
// main step's saved state that it was killed inside the lock section (onToolCacheWork).

const LOCK_WAIT_MS = 10 * 60_000;
const LOCK_RETRY_MS = 250;
const STALE_MS = 30_000;
const UPDATE_MS = 10_000;

/** The lock's path and the tool-cache entry it guards (`<tool cache>/buildctl/0.9.1/amd64`). */
export interface ToolCacheWork {
  lockTarget: string;
  entry: string;
}

const lockOptions = (onCompromised: (error: Error) => void) => ({
  realpath: false,
  stale: STALE_MS,
  update: UPDATE_MS,
  onCompromised,
});

/** This process's lock: the attempt in flight, the lock held. A signal handler reads them. */
const current: {
  attempt?: Promise<unknown>;
  held?: ToolCacheWork;
  stopped: boolean;
  /** Told when the lock section starts (before the mkdir) and when it is over: the post step's cue. */
  listener?: (work: ToolCacheWork | undefined) => void;
} = { stopped: false };

/** The main step saves the section for its post step: it tidies only after a main step killed inside it. */
export function onToolCacheWork(listener: (work: ToolCacheWork | undefined) => void): void {
  current.listener = listener;
}

/** One mkdir attempt; the lock is known held in the same step that takes it, for a signal handler to see. */
function attemptLock(work: ToolCacheWork, onCompromised: (error: Error) => void) {
  const attempt = lockfile.lock(work.lockTarget, lockOptions(onCompromised)).then((release) => {
    current.held = work;
    return release;
  });
  current.attempt = attempt;
  return attempt;
}

async function takeLock(work: ToolCacheWork, onCompromised: (error: Error) => void) {
  fs.mkdirSync(path.dirname(work.lockTarget), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (current.stopped) throw new Error('stopped by a signal before the tool-cache lock was taken');
    try {
      return await attemptLock(work, onCompromised);
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      if (code !== 'ELOCKED') throw new Error(`cannot lock ${work.lockTarget}.lock: ${message}`);
      if (Date.now() > deadline)
        throw new Error(`cannot lock ${work.lockTarget}.lock within ${LOCK_WAIT_MS / 1000} s: ${message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}

/**
 * Runs `work` holding the exclusive lock on the entry. A lock still held by another job after LOCK_WAIT_MS
 * is an error rather than a wait without end.
 */
export async function withToolCacheLock<T>(target: ToolCacheWork, work: () => Promise<T>): Promise<T> {
  // A lock that could not be kept fresh (a stalled machine) is reported, not thrown from a timer: the
  // download it guards is checked against its digest all the same. It may be another job's by then: a
  // signal must not remove what that job writes.
  let compromised: Error | undefined;
  current.listener?.(target);
  try {
    const release = await takeLock(target, (error) => {
      compromised = error;
      current.held = undefined;
    });
    try {
      return await work();
    } finally {
      current.held = undefined;
      // An error of the release must not hide one of the work; a lost lock has nothing left to release.
      await release().catch(() => undefined);
      if (compromised)
        process.emitWarning(`the tool-cache lock ${target.lockTarget}.lock was lost: ${compromised.message}`);
    }
  } finally {
    current.listener?.(undefined);
  }
}

/** For a signal handler: no new lock attempt, and the one in flight (milliseconds of mkdir) has settled. */
export async function stopToolCacheWork(): Promise<void> {
  current.stopped = true;
  await current.attempt?.catch(() => undefined);
}

/**
 * For a signal handler, after stopToolCacheWork: the entry being written is removed and the lock released,
 * synchronously. The caller ends the process before it returns to the event loop (the download still going
 * on would write the entry again), and without proper-lockfile's exit hook, which has nothing left to do.
 */
export function undoToolCacheWorkSync(): void {
  const held = current.held;
  if (!held) return;
  current.held = undefined;
  if (!fs.existsSync(`${held.entry}.complete`)) fs.rmSync(held.entry, { recursive: true, force: true });
  try {
    lockfile.unlockSync(held.lockTarget, { realpath: false });
  } catch {
    // Released already, or taken over: nothing of ours is left to remove.
  }
}

/**
 * For the post step, after a main step that was killed inside the lock section: a half-written entry
 * removed, and the dead lock taken over once stale (within STALE_MS) and released. Only under the lock: a
 * live job's lock is waited for and its entry never touched. Returns what it did, or undefined.
 */
export async function tidyToolCacheEntry(
  work: ToolCacheWork,
  waitMs = STALE_MS + 15_000,
): Promise<string | undefined> {
  const lockDir = `${work.lockTarget}.lock`;
  const partial = () => fs.existsSync(work.entry) && !fs.existsSync(`${work.entry}.complete`);
  if (!partial() && !fs.existsSync(lockDir)) return undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(work.lockTarget, {
      ...lockOptions(() => undefined),
      retries: { retries: Math.ceil(waitMs / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 },
    });
  } catch (error) {
    return `the tool-cache lock ${lockDir} is held by a live job: left to it (${(error as Error).message})`;
  }
  try {
    if (!partial()) return undefined;
    fs.rmSync(work.entry, { recursive: true, force: true });
    return `removed ${work.entry}, written in part by a main step that was killed`;
  } finally {
    await release().catch(() => undefined);
  }
}
