import * as core from '@actions/core';

/** A tool-cache lock's path and the entry it guards, as services/tool-cache-lock.ts names them. */
interface ToolCacheWork {
  lockTarget: string;
  entry: string;
}

/** What the main step leaves for the post step, through the runner's saved state. */
export const isPost = core.getState('isPost') === 'true';
export const runId = core.getState('runId');
export const workDir = core.getState('workDir');
export const cleanup = core.getState('cleanup') !== 'false';
/** The logs of daemons whose attempt failed, saved by the main step for the post step to print. */
export const daemonLogFiles: string[] = savedList('daemonLogFiles');

export function markPost(): void {
  core.saveState('isPost', 'true');
}

/** Saved before anything is created, so that a cancelled main step is still cleaned up. */
export function saveRun(run: { runId: string; workDir: string; cleanup: boolean }): void {
  core.saveState('runId', run.runId);
  core.saveState('workDir', run.workDir);
  core.saveState('cleanup', String(run.cleanup));
}

/** A list the main step saved; a broken entry must not stop the post step before its cleanup. */
function savedList(name: string): string[] {
  try {
    const value: unknown = JSON.parse(core.getState(name) || '[]');
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Saved again as each log is written: a cancelled or crashed main step still leaves them to print. */
export function saveDaemonLogs(files: readonly string[]): void {
  core.saveState('daemonLogFiles', JSON.stringify(files));
}

/** Saved as buildctl's install enters the tool-cache lock section, and cleared as it leaves it. */
export function saveToolCacheWork(work: ToolCacheWork | undefined): void {
  core.saveState('toolCacheWork', work ? JSON.stringify(work) : '');
}

/** The lock section a killed main step was in, if it was: the post step tidies it. */
export const toolCacheWork: ToolCacheWork | undefined = savedToolCacheWork();

function savedToolCacheWork(): ToolCacheWork | undefined {
  try {
    const value = JSON.parse(core.getState('toolCacheWork') || 'null') as Partial<ToolCacheWork> | null;
    return typeof value?.lockTarget === 'string' && typeof value.entry === 'string'
      ? { lockTarget: value.lockTarget, entry: value.entry }
      : undefined;
  } catch {
    return undefined;
  }
}
