import type { OutputType } from '../inputs/settings.js';
import { diagnose } from './diagnosis.js';
import { imagePaths, type OciImage, readOciImage } from './oci-image.js';
import { inspectTarball } from './tarball.js';
import type { LayerComparison, LayerFacts, LayerNotes } from '../model/layers.js';

export interface OutputCheck {
  missingPaths: string[];
  lostLayers: LayerFacts[];
  /** Set when the comparison with the reference saw anything worth a note. */
  notes?: LayerNotes;
  /** Both images' layers, when there was a reference to compare with. */
  layers?: LayerComparison;
  image?: OciImage;
}

/**
 * Reads a build's output as a stream: the expected paths for both kinds, and for an OCI image also the
 * layers against the reference's. Throws InspectionError when the output cannot be read to its end.
 */
export async function inspectOutput(
  file: string,
  outputType: OutputType,
  expectPaths: readonly string[],
  reference?: OciImage,
): Promise<OutputCheck> {
  if (outputType === 'tar') {
    return { missingPaths: (await inspectTarball(file, expectPaths)).missingPaths, lostLayers: [] };
  }
  const image = await readOciImage(file);
  const paths = imagePaths(image);
  const missingPaths = expectPaths.filter((p) => !paths.has(p));
  if (!reference) return { missingPaths, lostLayers: [], image };
  const diagnosis = diagnose(reference, image);
  const { unexpectedLayers, emptyLayers, historyChanges } = diagnosis;
  const noteworthy = unexpectedLayers.length + emptyLayers.length + historyChanges.length > 0;
  return {
    missingPaths,
    lostLayers: diagnosis.lostLayers,
    notes: noteworthy ? { unexpectedLayers, emptyLayers, historyChanges } : undefined,
    layers: { reference: diagnosis.referenceLayers, attempt: diagnosis.attemptLayers },
    image,
  };
}

/** The file name of a build's output. */
export function outputFileName(base: string, outputType: OutputType): string {
  return `${base}.${outputType === 'oci' ? 'oci.tar' : 'tar'}`;
}
