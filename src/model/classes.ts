/*
 * What an attempt's image is, held against the reference image built without a cache. The words are the
 * `fail-on` input's; what each class does (its verdict, whether it stops the attempts, its wording) is one
 * entry of the maps keyed by these types in src/verdict/classes.ts.
 */

/** The ways an image can differ from the reference, the most severe first: a run's verdict is its first class seen. */
export const DIFFERENCE_CLASSES = ['lost-layer', 'content-differs', 'config-differs'] as const;
/**
 * - lost-layer: its non-empty layers are a strict subsequence of the reference's (moby/buildkit#2198), or,
 *   with a `tar` output, an expected path is missing;
 * - content-differs: any other difference of the non-empty layers (another layer in a place, another order,
 *   a duplicate dropped, an extra layer) or, with a `tar` output, of the filesystem;
 * - config-differs: the layers are the same, the container config or the history are not.
 */
export type DifferenceClass = (typeof DIFFERENCE_CLASSES)[number];

/** An attempt judged: equal to the reference (intact) or one class of difference. */
export type AttemptClass = DifferenceClass | 'intact';

export const ATTEMPT_CLASSES: readonly AttemptClass[] = [...DIFFERENCE_CLASSES, 'intact'];

/** How many attempts fell in each class (errors are not a class: they were not judged). */
export type ClassCounts = Record<AttemptClass, number>;

export function noClasses(): ClassCounts {
  return { 'lost-layer': 0, 'content-differs': 0, 'config-differs': 0, intact: 0 };
}
