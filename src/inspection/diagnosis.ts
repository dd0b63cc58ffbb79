import type { LayerFacts } from '../model/layers.js';
import type { ImageLayer, OciImage } from './oci-image.js';

export interface Diagnosis {
  /** Layers of the reference with files that the attempt's image lacks, while it has none of its own instead. */
  lostLayers: LayerFacts[];
  /** The attempt's layers with files that the reference does not have (a step rebuilt, not taken from the cache). */
  unexpectedLayers: LayerFacts[];
  /** Layers whose tarball holds no file, in the attempt's image but not in the reference's. */
  emptyLayers: LayerFacts[];
  /** Instructions the attempt's history marks empty (or not) unlike the reference's: context only, not evidence. */
  historyChanges: { createdBy: string; referenceEmpty: boolean; attemptEmpty: boolean }[];
  referenceLayers: LayerFacts[];
  attemptLayers: LayerFacts[];
}

/**
 * Compares an attempt's image with the reference built without a cache, layer by layer, by content
 * (diff_id). A layer is lost when the attempt lacks a reference layer that holds files, while it has no
 * layer with files of its own instead: something was dropped and nothing rebuilt in its place. Layers that
 * hold no file change no filesystem and are left out of both sides: releases differ in whether they write
 * them at all (v0.8–v0.9 drop them, v0.10 on keep them), so a v0.10-made cache imported by v0.9 yields an
 * image without them that is still whole. History is not evidence: BuildKit v0.9.0 mislabels it even in
 * whole images built from the cache.
 */
export function diagnose(reference: OciImage, attempt: OciImage): Diagnosis {
  const referenceLayers = namedLayers(reference);
  const attemptLayers = namedLayers(attempt);
  const inReference = new Set(reference.layers.map((l) => l.diffId));
  const inAttempt = new Set(attempt.layers.map((l) => l.diffId));
  const holdsFiles = (l: LayerFacts) => l.files > 0;
  const unexpectedLayers = attemptLayers.filter((l) => holdsFiles(l) && !inReference.has(l.diffId));
  const missing = referenceLayers.filter((l) => holdsFiles(l) && !inAttempt.has(l.diffId));
  const historyChanges = reference.history.flatMap((entry, i) => {
    const other = attempt.history[i];
    return other && other.createdBy === entry.createdBy && other.emptyLayer !== entry.emptyLayer
      ? [{ createdBy: entry.createdBy, referenceEmpty: entry.emptyLayer, attemptEmpty: other.emptyLayer }]
      : [];
  });
  return {
    lostLayers: unexpectedLayers.length === 0 ? missing : [],
    unexpectedLayers,
    emptyLayers: attemptLayers.filter((l) => !holdsFiles(l) && !inReference.has(l.diffId)),
    historyChanges,
    referenceLayers,
    attemptLayers,
  };
}

/** Each layer with the instruction its image's history gives it: non-empty entries take layers in order. */
function namedLayers(image: OciImage): LayerFacts[] {
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
