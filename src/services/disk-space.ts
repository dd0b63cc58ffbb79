import * as fs from 'node:fs';
import type { CommandWatch } from './command.js';

/**
 * Below this many free bytes the disk is taken as full. A build whose output met a full disk either fails
 * ("failed to solve: EOF") or, on some releases, exits 0 with a cut-off file: either way the cause to name
 * is the disk, and a partial output still on it keeps its free space near zero.
 */
export const FULL_DISK_BYTES = 1024 * 1024;

/** `the disk of DIR is full (N KiB free)` when the disk holding `dir` has less than `minFreeBytes` free. */
export function fullDisk(dir: string, minFreeBytes = FULL_DISK_BYTES): string | undefined {
  try {
    const { bavail, bsize } = fs.statfsSync(dir);
    const free = bavail * bsize;
    return free < minFreeBytes
      ? `the disk of ${dir} is full (${Math.floor(free / 1024)} KiB free)`
      : undefined;
  } catch {
    // A folder that cannot be asked about says nothing about the disk.
    return undefined;
  }
}

/**
 * A failed build's or read's cause with the full disk named first, when the disk holding `dir` is full; else
 * the cause as it was. Never for a timeout: a full disk does not make one.
 */
export function withFullDisk(cause: string, dir: string): string {
  const full = fullDisk(dir);
  return full ? `${full}: ${cause}` : cause;
}

/** The error, its message passed through withFullDisk; its class kept. */
export function namingFullDisk<E>(error: E, dir: string): E {
  if (error instanceof Error) error.message = withFullDisk(error.message, dir);
  return error;
}

/**
 * Below this many free bytes a build writing to the disk is stopped (fullDiskWatch): a write that failed
 * leaves about nothing free, while an output that still fits leaves more than this (no image is this small).
 */
export const STOP_BUILD_BYTES = 64 * 1024;

/**
 * A watch for a build that writes to `dir`: the disk found full at `checks` looks in a row stops it. Some
 * releases' buildctl never ends once a write of its output failed (v0.9.1 waits without end); on every
 * release nothing more can be written, so the build cannot succeed.
 */
export function fullDiskWatch(
  dir: string,
  { everyMs = 2000, checks = 2, minFreeBytes = STOP_BUILD_BYTES } = {},
): CommandWatch {
  let inARow = 0;
  return {
    everyMs,
    reason: () => {
      const full = fullDisk(dir, minFreeBytes);
      inARow = full === undefined ? 0 : inARow + 1;
      return inARow >= checks ? full : undefined;
    },
  };
}
