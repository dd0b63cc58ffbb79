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

/** What BuildKit's `--output type=…` writes for each output-type, and how this tool reads it. */
interface OutputKind {
  /** The file name's ending, after the base. */
  extension: string;
  /** Whether a lost layer shows in its layers; otherwise only a missing expected path shows it. */
  comparesLayers: boolean;
  inspect(file: string, expectPaths: readonly string[], reference?: OciImage): Promise<OutputCheck>;
}

export const OUTPUT_KINDS: Readonly<Record<OutputType, OutputKind>> = {
  /** The image itself: the expected paths, and its layers against the reference's, by content. */
  oci: { extension: 'oci.tar', comparesLayers: true, inspect: inspectImage },
  /** Its filesystem only, as the seed: the expected paths. */
  tar: {
    extension: 'tar',
    comparesLayers: false,
    inspect: async (file, expectPaths) => ({
      missingPaths: (await inspectTarball(file, expectPaths)).missingPaths,
      lostLayers: [],
    }),
  },
};

/**
 * Reads a build's output as a stream, as its output-type says. Throws InspectionError when the output
 * cannot be read to its end.
 */
export function inspectOutput(
  file: string,
  outputType: OutputType,
  expectPaths: readonly string[],
  reference?: OciImage,
): Promise<OutputCheck> {
  return OUTPUT_KINDS[outputType].inspect(file, expectPaths, reference);
}

async function inspectImage(
  file: string,
  expectPaths: readonly string[],
  reference?: OciImage,
): Promise<OutputCheck> {
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
  return `${base}.${OUTPUT_KINDS[outputType].extension}`;
}
