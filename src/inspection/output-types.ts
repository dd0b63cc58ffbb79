import type { OutputType } from '../inputs/settings.js';
import type { ImageDifference } from '../model/difference.js';
import { compareImages, type ConfigComparison } from './compare.js';
import { compareConfig } from './compare-config.js';
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
 * What the reference is, which decides how an attempt is held to it:
 * - `cache-build`: the build that made the cache (or that build again): layers by content, config, history;
 * - `rebuilt`: built again later without a cache (a cache kept without its reference): its steps ran
 *   again and wrote new timestamps, so files only;
 * - `other-inputs`: the cache was made from other inputs (cache-dockerfile, cache-context) and the reference
 *   is the current inputs built without a cache: the steps the change made run write new timestamps, so the
 *   files (timestamps left out) and the config and history (timestamps left out), not the layers' digests.
 */
export type ReferenceKind = 'cache-build' | 'rebuilt' | 'other-inputs';

/** Why layers are compared by their files when the cache was made from other inputs. */
const OTHER_INPUTS =
  'the cache was made from other inputs: steps that ran again wrote new timestamps, so layers are compared by their files (timestamps left out)';

const REFERENCE_KINDS: Readonly<
  Record<
    ReferenceKind,
    {
      compare(
        outputType: OutputType,
        reference: BuiltOutput,
        attempt: BuiltOutput,
        expectPaths: readonly string[],
        config: ConfigComparison,
      ): ImageDifference;
      configNotComparable(outputType: OutputType): string | undefined;
    }
  >
> = {
  'cache-build': {
    compare: (outputType, reference, attempt, expectPaths, config) =>
      OUTPUT_KINDS[outputType].compare(reference, attempt, expectPaths, config),
    configNotComparable: (outputType) => (OUTPUT_KINDS[outputType].comparesLayers ? undefined : NO_CONFIG),
  },
  rebuilt: {
    compare: (_outputType, reference, attempt, expectPaths) =>
      compareFilesystems(reference, attempt, expectPaths, REBUILT),
    configNotComparable: (outputType) => (OUTPUT_KINDS[outputType].comparesLayers ? REBUILT : NO_CONFIG),
  },
  'other-inputs': {
    compare: (_outputType, reference, attempt, expectPaths, config) => {
      if (!config.compared) return compareFilesystems(reference, attempt, expectPaths, config.reason);
      if (!reference.image || !attempt.image)
        return compareFilesystems(reference, attempt, expectPaths, OTHER_INPUTS);
      const files = compareFilesystems(reference, attempt, expectPaths, undefined);
      return { ...files, config: compareConfig(reference.image, attempt.image) };
    },
    configNotComparable: (outputType) => (OUTPUT_KINDS[outputType].comparesLayers ? undefined : NO_CONFIG),
  },
};

/** How an attempt's output differs from the reference's, as the reference's kind says (ReferenceKind). */
export function compareOutputs(
  outputType: OutputType,
  reference: BuiltOutput,
  attempt: BuiltOutput,
  expectPaths: readonly string[],
  config: ConfigComparison,
  referenceKind: ReferenceKind = 'cache-build',
): ImageDifference {
  return REFERENCE_KINDS[referenceKind].compare(outputType, reference, attempt, expectPaths, config);
}

/** Why config and history cannot be held to the reference's, or undefined when they can. */
export function configNotComparable(
  outputType: OutputType,
  referenceKind: ReferenceKind = 'cache-build',
): string | undefined {
  return REFERENCE_KINDS[referenceKind].configNotComparable(outputType);
}

/** Two filesystems path by path (no layers, no config): a tar output, or a reference built again. */
function compareFilesystems(
  reference: BuiltOutput,
  attempt: BuiltOutput,
  expectPaths: readonly string[],
  configNotCompared: string | undefined,
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
    ...(configNotCompared === undefined ? {} : { configNotCompared }),
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
