import * as semver from 'semver';
import type { DifferenceClass } from '../model/classes.js';
import { sighting, type ClassBoundary, type MatrixRow } from './matrix-model.js';

/*
 * Releases in order, and the boundary a bisect looks for. Only releases are ordered: a row such as "master"
 * or "latest" has no place between them, so it goes last and takes no part in a boundary.
 */

/** The release a version names (a "-rootless" tag counts as its release), or null when it names none. */
export function releaseOf(version: string): semver.SemVer | null {
  if (!/^v?\d+\.\d+/.test(version)) return null;
  return semver.coerce(version.replace(/-rootless$/, ''), { includePrerelease: true });
}

/** Releases in semver order (a "-rootless" tag counts as its release), then everything else by name. */
export function compareRows(a: MatrixRow, b: MatrixRow): number {
  const va = releaseOf(a.version);
  const vb = releaseOf(b.version);
  if (va && vb) {
    const bySemver = semver.compare(va, vb);
    if (bySemver !== 0) return bySemver;
  } else if (va) {
    return -1;
  } else if (vb) {
    return 1;
  }
  return (
    byName(a.version, b.version) ||
    byName(a.image, b.image) ||
    byRelease(a.maker, b.maker) ||
    byName(a.source ?? '', b.source ?? '')
  );
}

/** Two versions in release order when both are releases, else by name. */
export function byRelease(a: string, b: string): number {
  const ra = releaseOf(a);
  const rb = releaseOf(b);
  return ra && rb ? semver.compare(ra, rb) : byName(a, b);
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * For one class, among releases that could tell (see `sighting`): the highest release with an attempt of it, and
 * the lowest release above that without one. Rows of one release (rootful and rootless) count as that release.
 */
export function boundaryOf(rows: readonly MatrixRow[], difference: DifferenceClass): ClassBoundary {
  const told = rows.flatMap((row) => {
    const release = releaseOf(row.version);
    const seen = sighting(row, difference);
    return release && seen ? [{ version: row.version, release, seen }] : [];
  });
  const last = told
    .filter((r) => r.seen === 'seen')
    .reduce<(typeof told)[number] | undefined>(
      (high, r) => (high === undefined || semver.compare(r.release, high.release) >= 0 ? r : high),
      undefined,
    );
  if (last === undefined) return {};
  const firstWithout = told
    .filter((r) => semver.compare(r.release, last.release) > 0)
    .reduce<(typeof told)[number] | undefined>(
      (low, r) => (low === undefined || semver.compare(r.release, low.release) < 0 ? r : low),
      undefined,
    );
  return firstWithout === undefined
    ? { last: last.version }
    : { last: last.version, firstWithout: firstWithout.version };
}

/**
 * Rows of the releases strictly between two versions, or above `low` when `high` is unset. Between a class's
 * last release and its first without (or above the last, when there is none), these are releases that could
 * not tell: one that could would have been the first without.
 */
export function versionsBetween(rows: readonly MatrixRow[], low: string, high?: string): MatrixRow[] {
  const lo = releaseOf(low);
  const hi = high === undefined ? undefined : releaseOf(high);
  if (!lo || hi === null) return [];
  return rows.filter((row) => {
    const v = releaseOf(row.version);
    return v !== null && semver.compare(v, lo) > 0 && (hi === undefined || semver.compare(v, hi) < 0);
  });
}
