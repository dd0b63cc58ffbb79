/** What one attempt's output showed. */
export type AttemptOutcome =
  /** The build succeeded and its tarball holds every expected path. */
  | { kind: 'intact' }
  /** The build succeeded, the tarball was read to its end, and expected paths are not in it. */
  | { kind: 'lost'; missingPaths: string[]; tarball: string }
  /** The attempt could not be judged: build error, daemon gone, unreadable output. */
  | { kind: 'error'; cause: string };

export interface AttemptRecord {
  attempt: number;
  /** buildkitd started from an empty state just before this attempt. */
  freshState: boolean;
  durationMs: number;
  outcome: AttemptOutcome;
}
