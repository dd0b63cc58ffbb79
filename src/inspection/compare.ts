import type { LayerComparison, LayerFacts } from '../model/layers.js';
import type { ConfigComparison, ImageDifference, LayerChange, LayerRelation } from '../model/difference.js';
import { compareConfig } from './compare-config.js';
import { compareTrees } from './compare-files.js';
import { type ImageLayer, mergedTree, type OciImage } from './oci-image.js';
import { normalizeArchivePath } from './tarball.js';

export type { ConfigComparison } from '../model/difference.js';

/**
 * The account of an attempt's image against the reference built without a cache. Layers are compared by
 * content (diff_id, which the reader checked against the bytes), non-empty ones only: releases differ in
 * whether they write a layer for a step that changes no file (v0.8–v0.9 drop it, v0.10 on keep it). When
 * the layers differ, the merged filesystems are compared path by path to say what that changed.
 */
export function compareImages(
  reference: OciImage,
  attempt: OciImage,
  expectPaths: readonly string[],
  config: ConfigComparison,
): ImageDifference {
  const layers: LayerComparison = { reference: namedLayers(reference), attempt: namedLayers(attempt) };
  const alignment = align(layers.reference.filter(holdsFiles), layers.attempt.filter(holdsFiles));
  const attemptTree = mergedTree(attempt);
  const files =
    alignment.relation === 'equal'
      ? { changes: [], omitted: 0 }
      : compareTrees(mergedTree(reference), attemptTree);
  return {
    layerRelation: alignment.relation,
    missingPaths: expectPaths.filter((p) => !attemptTree.has(normalizeArchivePath(p))),
    lostLayers: alignment.lost,
    layerChanges: alignment.changes,
    files: files.changes,
    filesOmitted: files.omitted,
    config: config.compared ? compareConfig(reference, attempt) : [],
    ...(config.compared ? {} : { configNotCompared: config.reason }),
    layers,
  };
}

function holdsFiles(layer: LayerFacts): boolean {
  return layer.files > 0;
}

interface Alignment {
  relation: Exclude<LayerRelation, 'not-compared'>;
  /** Reference layers the attempt left out whose content it has nowhere else. */
  lost: LayerFacts[];
  changes: LayerChange[];
}

/**
 * The two sequences of non-empty layers aligned by their longest common subsequence: what the attempt
 * keeps, what it leaves out, what it has instead.
 */
function align(reference: readonly LayerFacts[], attempt: readonly LayerFacts[]): Alignment {
  const same = (a: LayerFacts, b: LayerFacts) => a.diffId === b.diffId;
  if (reference.length === attempt.length && reference.every((l, i) => same(l, attempt[i] as LayerFacts))) {
    return { relation: 'equal', lost: [], changes: [] };
  }
  const kept = commonSubsequence(reference, attempt, same);
  const changes: LayerChange[] = [];
  let r = 0;
  let a = 0;
  for (const [ri, ai] of [...kept, [reference.length, attempt.length] as const]) {
    // Between two kept layers, the left-out reference layers and the attempt's own, paired by place.
    const gone = reference.slice(r, ri);
    const added = attempt.slice(a, ai);
    for (let i = 0; i < Math.max(gone.length, added.length); i++) {
      // A layer the reference has is placed in the reference's sequence, an extra one in the attempt's.
      const change: LayerChange = { place: gone[i] ? r + i + 1 : a + i + 1 };
      if (gone[i]) change.reference = gone[i];
      if (added[i]) change.attempt = added[i];
      changes.push(change);
    }
    r = ri + 1;
    a = ai + 1;
  }
  const subsequence = kept.length === attempt.length;
  const inAttempt = new Set(attempt.map((l) => l.diffId));
  const lost = subsequence
    ? changes.flatMap((c) => (c.reference && !inAttempt.has(c.reference.diffId) ? [c.reference] : []))
    : [];
  return { relation: subsequence ? 'strict-subsequence' : 'differs', lost, changes };
}

/** Index pairs of a longest common subsequence (layers are few: the quadratic table is fine). */
function commonSubsequence<T>(
  a: readonly T[],
  b: readonly T[],
  same: (x: T, y: T) => boolean,
): [number, number][] {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] = same(a[i] as T, b[j] as T)
        ? ((table[i + 1] as number[])[j + 1] as number) + 1
        : Math.max((table[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    if (same(a[i] as T, b[j] as T)) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (((table[i + 1] as number[])[j] as number) >= ((table[i] as number[])[j + 1] as number)) i++;
    else j++;
  }
  return pairs;
}

/** Each layer with the instruction its image's history gives it: non-empty entries take layers in order. */
export function namedLayers(image: OciImage): LayerFacts[] {
  const instructions = image.history.filter((h) => !h.emptyLayer).map((h) => h.createdBy);
  const named = instructions.length === image.layers.length;
  return image.layers.map((layer: ImageLayer, i) => ({
    position: layer.position,
    digest: layer.digest,
    diffId: layer.diffId,
    size: layer.size,
    files: layer.files.length,
    createdBy: named ? (instructions[i] ?? '') : '',
  }));
}

/**
 * Config and history are compared only between images of one release: releases differ in what they write
 * there (v0.10 stopped dropping empty layers, so the history's empty_layer marks changed), and an image
 * from a cache another release made would differ for that alone.
 */
export function configComparisonFor(
  referenceVersion: string | undefined,
  attemptsVersion: string,
): ConfigComparison {
  if (referenceVersion === undefined || referenceVersion === '')
    return { compared: false, reason: 'the release that built the reference is not known' };
  if (referenceVersion !== attemptsVersion) {
    return {
      compared: false,
      reason: `the reference was built by BuildKit ${referenceVersion} and the attempts by ${attemptsVersion}: releases write config and history differently`,
    };
  }
  return { compared: true };
}
