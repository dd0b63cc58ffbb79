/** A layer as the report names it. */
export interface LayerFacts {
  position: number;
  digest: string;
  diffId: string;
  size: number;
  files: number;
  /** The instruction that made it, from the reference build's history ('' when unknown). */
  createdBy: string;
}

/** What else the layer comparison saw: reported, never a verdict by itself. */
export interface LayerNotes {
  unexpectedLayers: LayerFacts[];
  emptyLayers: LayerFacts[];
  historyChanges: { createdBy: string; referenceEmpty: boolean; attemptEmpty: boolean }[];
}

export interface LayerComparison {
  reference: LayerFacts[];
  attempt: LayerFacts[];
}
