import type { OutputType } from '../inputs/settings.js';
import type { ImageDifference } from '../model/difference.js';
import { compareImages, type ConfigComparison } from './compare.js';
import { compareTrees } from './compare-files.js';
import { type FileEntry, mergedTree, type OciImage, readOciImage } from './oci-image.js';
import { InspectionError, inspectTarball, normalizeArchivePath } from './tarball.js';

/** A build's output, read to its end. */
export interface BuiltOutput {
  /** The image itself (OCI output). */
  image?: OciImage;
  /** Its filesystem, whiteouts applied. */
  tree: ReadonlyMap<string, FileEntry>;
}

/** What BuildKit's `--output type=…` writes for each output-type, and how this tool reads and compares it. */
interface OutputKind {
  /** The file name's ending, after the base. */
  extension: string;
  /** Whether layers and config are compared; otherwise the filesystem only. */
  comparesLayers: boolean;
  read(file: string): Promise<BuiltOutput>;
  compare(
    reference: BuiltOutput,
    attempt: BuiltOutput,
    expectPaths: readonly string[],
    config: ConfigComparison,
  ): ImageDifference;
}

/** Why config cannot be compared for a tar output: it has none. */
const NO_CONFIG = 'a tar output holds no image config';
/** Why layers are compared by their files when the reference was built again, not by the cache's build. */
const REBUILT =
  'the reference was built again without a cache, not by the build that made it: its layers are compared by their files (timestamps left out), config and history not at all';

export const OUTPUT_KINDS: Readonly<Record<OutputType, OutputKind>> = {
  /** The image itself: layers by content, the filesystem where they differ, config and history. */
  oci: {
    extension: 'oci.tar',
    comparesLayers: true,
    read: async (file) => {
      const image = await readOciImage(file);
      return { image, tree: mergedTree(image) };
    },
    compare: (reference, attempt, expectPaths, config) => {
      if (!reference.image || !attempt.image)
        throw new InspectionError('an OCI output was read without its image');
      return compareImages(reference.image, attempt.image, expectPaths, config);
    },
  },
  /** Its filesystem only, as the seed: the expected paths, then every path. */
  tar: {
    extension: 'tar',
    comparesLayers: false,
    read: async (file) => {
      const tree = new Map<string, FileEntry>();
      for (const entry of (await inspectTarball(file, [])).files) tree.set(entry.path, entry);
      return { tree };
    },
    compare: (reference, attempt, expectPaths) =>
      compareFilesystems(reference, attempt, expectPaths, NO_CONFIG),
  },
};

/** Reads a build's output as a stream. Throws InspectionError when it cannot be read to its end. */
export function readOutput(file: string, outputType: OutputType): Promise<BuiltOutput> {
  return OUTPUT_KINDS[outputType].read(file);
}

/**
 * How an attempt's output differs from the reference's (see OutputKind.compare); by their files alone when
 * the reference was built again, not by the build that made the cache.
 */
export function compareOutputs(
  outputType: OutputType,
  reference: BuiltOutput,
  attempt: BuiltOutput,
  expectPaths: readonly string[],
  config: ConfigComparison,
  referenceRebuilt = false,
): ImageDifference {
  if (referenceRebuilt) return compareFilesystems(reference, attempt, expectPaths, REBUILT);
  return OUTPUT_KINDS[outputType].compare(reference, attempt, expectPaths, config);
}

/** Why config and history cannot be held to the reference's, or undefined when they can. */
export function configNotComparable(outputType: OutputType, referenceRebuilt = false): string | undefined {
  if (!OUTPUT_KINDS[outputType].comparesLayers) return NO_CONFIG;
  return referenceRebuilt ? REBUILT : undefined;
}

/** Two filesystems path by path (no layers, no config): a tar output, or a reference built again. */
function compareFilesystems(
  reference: BuiltOutput,
  attempt: BuiltOutput,
  expectPaths: readonly string[],
  configNotCompared: string,
): ImageDifference {
  const files = compareTrees(reference.tree, attempt.tree);
  return {
    layerRelation: 'not-compared',
    missingPaths: missingPaths(attempt, expectPaths),
    lostLayers: [],
    layerChanges: [],
    files: files.changes,
    filesOmitted: files.omitted,
    config: [],
    configNotCompared,
  };
}

/** The expected paths an output lacks. */
export function missingPaths(output: BuiltOutput, expectPaths: readonly string[]): string[] {
  return expectPaths.filter((p) => !output.tree.has(normalizeArchivePath(p)));
}

/** The file name of a build's output. */
export function outputFileName(base: string, outputType: OutputType): string {
  return `${base}.${OUTPUT_KINDS[outputType].extension}`;
}
