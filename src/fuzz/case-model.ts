/** What the generator can put in a Dockerfile, each a cache-relevant shape of the Dockerfile frontend. */
export const CONSTRUCTS = [
  /** More than one stage: `FROM alpine:latest AS sN` or `FROM sK AS sN`. */
  'stages',
  /** `COPY --from=<earlier stage>`. */
  'copy-from',
  /** A RUN that leaves the filesystem as it was (`RUN echo 7`, `RUN true`): the empty layer of #2198. */
  'run-nowrite',
  /** A RUN that writes files, deterministically. */
  'run-write',
  /**
   * A step that makes a layer between two that write nothing: the empty layers v0.8–v0.9 drop from an
   * exported cache sit on both sides of it, the shape whose records come to share a result.
   */
  'between-empty-steps',
  'copy-file',
  'copy-dir',
  'copy-wildcard',
  'copy-symlink',
  'add-file',
  'add-dir',
  'add-wildcard',
  'add-symlink',
  'copy-chmod',
  'copy-chown',
  'copy-link',
  'workdir-new',
  'workdir-existing',
  'env',
  /** `ARG` with a default, used by the RUN after it. */
  'arg',
  'label',
  /** `USER 1000:1000` (and `USER 0` again before a RUN that writes). */
  'user',
  'run-mount-cache',
  'run-mount-bind',
  /** The same RUN or COPY twice in a row. */
  'repeat-adjacent',
  /** A step of an earlier stage again in a later one. */
  'repeat-across-stages',
] as const;
export type Construct = (typeof CONSTRUCTS)[number];

/** How a changed version of a case differs from its base. */
export const CHANGE_KINDS = [
  'file-content',
  'file-name',
  'file-mode',
  'symlink-target',
  'file-added',
  'file-removed',
  'instruction-edited',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One entry of a build context; paths are relative, '/'-separated, of [a-z0-9._/-] only. */
export type ContextEntry =
  | { type: 'file'; path: string; content: string; mode: number }
  | { type: 'dir'; path: string; mode: number }
  /** `target` is relative to the link's folder and stays inside the context. */
  | { type: 'symlink'; path: string; target: string };

export interface BuildInput {
  dockerfile: string;
  context: ContextEntry[];
}

export interface Change {
  kind: ChangeKind;
  /** One line that says what changed, and whether the Dockerfile was updated to match. */
  description: string;
  /** The context path it changed, as it is in the changed version (its new name after a rename). */
  path?: string;
}

export interface FuzzCase {
  seed: number;
  caseNumber: number;
  /** The constructs the base Dockerfile used, in the order of CONSTRUCTS. */
  constructs: Construct[];
  base: BuildInput;
  /** Another version of the inputs, for a cache made from one and imported by a build of the other. */
  changed?: { input: BuildInput; changes: Change[] };
}

/** How each construct reads in a progress line. */
export const CONSTRUCT_WORDS: Readonly<Record<Construct, string>> = {
  stages: 'stages',
  'copy-from': 'COPY --from',
  'run-nowrite': 'RUN writing nothing',
  'run-write': 'RUN writing',
  'between-empty-steps': 'a step between two empty ones',
  'copy-file': 'COPY file',
  'copy-dir': 'COPY folder',
  'copy-wildcard': 'COPY wildcard',
  'copy-symlink': 'COPY symlink',
  'add-file': 'ADD file',
  'add-dir': 'ADD folder',
  'add-wildcard': 'ADD wildcard',
  'add-symlink': 'ADD symlink',
  'copy-chmod': 'COPY --chmod',
  'copy-chown': 'COPY --chown',
  'copy-link': 'COPY --link',
  'workdir-new': 'WORKDIR new',
  'workdir-existing': 'WORKDIR existing',
  env: 'ENV',
  arg: 'ARG',
  label: 'LABEL',
  user: 'USER',
  'run-mount-cache': 'RUN --mount=type=cache',
  'run-mount-bind': 'RUN --mount=type=bind',
  'repeat-adjacent': 'repeated step',
  'repeat-across-stages': 'step repeated in another stage',
};
