import * as semver from 'semver';
import type { Boundary, MatrixRow } from './matrix-model.js';

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

/** The last release that lost a layer and the first clean one above it, among rows in release order. */
export function boundaryOf(rows: readonly MatrixRow[]): Boundary {
  const releases = rows.filter((row) => releaseOf(row.version) !== null);
  let lastLostIndex = -1;
  releases.forEach((row, i) => {
    if (row.verdict === 'reproduced') lastLostIndex = i;
  });
  if (lastLostIndex < 0) return {};
  const lastLost = releases[lastLostIndex]?.version;
  const firstClean = releases.slice(lastLostIndex + 1).find((row) => row.verdict === 'clean')?.version;
  return firstClean === undefined ? { lastLost } : { lastLost, firstClean };
}

/** Releases strictly between the two boundary versions that are neither reproduced nor clean. */
export function versionsBetween(rows: readonly MatrixRow[], low: string, high: string): string[] {
  const lo = releaseOf(low);
  const hi = releaseOf(high);
  if (!lo || !hi) return [];
  const found = rows.filter((row) => {
    const v = releaseOf(row.version);
    return (
      v !== null &&
      semver.compare(v, lo) > 0 &&
      semver.compare(v, hi) < 0 &&
      row.verdict !== 'reproduced' &&
      row.verdict !== 'clean'
    );
  });
  return [...new Set(found.map((row) => row.version))];
}
