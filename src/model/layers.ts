/** A layer as the report names it. */
export interface LayerFacts {
  position: number;
  digest: string;
  diffId: string;
  size: number;
  files: number;
  /** The instruction that made it, from its image's history ('' when unknown). */
  createdBy: string;
}

export interface LayerComparison {
  reference: LayerFacts[];
  attempt: LayerFacts[];
}
