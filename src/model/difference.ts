import type { LayerComparison, LayerFacts } from './layers.js';

/* The account of how an attempt's image differs from the reference: what a report needs to be acted on. */

/** A place in the sequence of non-empty layers where the two images differ. */
export interface LayerChange {
  /** 1-based place among the non-empty layers: the reference's, or for an extra layer the attempt's. */
  place: number;
  /** The reference's layer there; unset when the attempt has more layers. */
  reference?: LayerFacts;
  /** The attempt's layer there; unset when it has fewer. */
  attempt?: LayerFacts;
}

/** What differs about one path of the merged filesystem (whiteouts applied). */
export type FileChangeKind = 'missing' | 'extra' | 'content' | 'type' | 'mode' | 'owner' | 'link';

export interface FileChange {
  path: string;
  change: FileChangeKind;
  /** The reference's side, as text (a sha256, a mode, uid:gid, a link target, a type); '' when absent. */
  reference: string;
  attempt: string;
}

/** A config field or a history entry that differs: `Env`, `history[3].empty_layer (COPY repro.txt /)`. */
export interface ConfigChange {
  field: string;
  reference: string;
  attempt: string;
}

/** How the layers compare, non-empty layers only (a layer that holds no file changes no filesystem). */
export type LayerRelation =
  /** The same diff_ids in the same order. */
  | 'equal'
  /** The attempt's are the reference's with some left out: a lost layer. */
  | 'strict-subsequence'
  /** Anything else. */
  | 'differs'
  /** A `tar` output has no layers: its filesystem is compared instead. */
  | 'not-compared';

export interface ImageDifference {
  layerRelation: LayerRelation;
  /** expect-paths that the attempt's image lacks. */
  missingPaths: string[];
  /** The reference's non-empty layers the attempt lacks (lost-layer: the strict subsequence's gaps). */
  lostLayers: LayerFacts[];
  /** Places where the non-empty layers differ (content-differs). */
  layerChanges: LayerChange[];
  /** The merged filesystems, path by path; at most a cap of them, the rest counted in filesOmitted. */
  files: FileChange[];
  filesOmitted: number;
  /** Config fields and history entries that differ, when they were compared. */
  config: ConfigChange[];
  /** Why config and history were not compared (another release built the reference, a tar output). */
  configNotCompared?: string;
  /** Both images' layers. */
  layers?: LayerComparison;
}

/** Whether config and history were compared in a run, or why not. */
export type ConfigComparison = { compared: true } | { compared: false; reason: string };
