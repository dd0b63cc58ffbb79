/* The typed settings a run reads: what parseSettings (settings.ts) makes of the inputs. */

import type { CacheOptions, CacheSettings, CacheType } from '../backends/backends.js';
import type { DifferenceClass } from '../model/classes.js';

/** Where the bundled reproduction lives, and where relative paths start from. */
export interface PathContext {
  /** GITHUB_WORKSPACE for the action, the current directory for the CLI. */
  workspace: string;
  /** The seed's Dockerfile and context shipped with this action (fixtures/repro). */
  bundledRepro: string;
}

/*
 * The kinds an input chooses from. Each word's behaviour is one entry of a map keyed by these types (reset
 * modes in attempts/reset-modes.ts, output types in inspection/output-types.ts, cache backends in
 * backends/backends.ts, whose keys are the words): the compiler refuses a word that has no behaviour there.
 */
export { CACHE_TYPES, type CacheType } from '../backends/backends.js';
/** prune: `buildctl prune --all` on the running daemon; restart: a new container and state volume (the seed's). */
export const RESET_MODES = ['restart', 'prune'] as const;
export type ResetMode = (typeof RESET_MODES)[number];
/** oci: the image itself, compared layer by layer with the reference; tar: its filesystem, as the seed. */
export const OUTPUT_TYPES = ['oci', 'tar'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];
/** The most lanes `parallel` takes: past this, daemons only wait for each other's CPU and disk. */
export const MAX_PARALLEL = 16;

export interface MirrorImage {
  /** An image the local Docker engine already has. */
  source: string;
  /** Its name in the mirror, as BuildKit asks Docker Hub for it (library/alpine:latest). */
  target: string;
}

/** Everything a run needs, checked: the engine never reads raw inputs. */
export interface Settings {
  buildkitImage: string;
  cacheBuildkitImage: string;
  buildctlVersion: string;
  buildctlUrl: string;
  /** Expected SHA-256 of the buildctl release tarball ('' : the GitHub release digest, when published). */
  buildctlSha256: string;
  /** Keep buildctl in the runner's tool cache; false downloads it into the run's folder every time. */
  cacheBinary: boolean;
  githubToken: string;
  retries: number;
  /** A fresh buildkitd state before attempt 1 and then every N attempts; 0: only before attempt 1. */
  cacheResetFrequency: number;
  cacheType: CacheType;
  /** Local cache folder kept after the run ('' : one in the run's work folder, removed with it). */
  cacheDir: string;
  createCache: boolean;
  /** The cache export options given (cache-mode, cache-compression…); one left out takes the default. */
  cacheOptions: CacheOptions;
  /**
   * The chosen backend's own settings, from its own inputs: a bucket (s3), the job's cache service (gha), a
   * container (azblob), cache-ref (registry); undefined for a backend with none.
   */
  cacheSettings: CacheSettings;
  runAttempts: boolean;
  cleanup: boolean;
  dockerfile: string;
  context: string;
  /**
   * The Dockerfile and context the cache is made from when they are another version than those the attempts
   * build (yesterday's commit); '' : the same. The reference is then the current version without a cache.
   */
  cacheDockerfile: string;
  cacheContext: string;
  expectPaths: string[];
  registryImage: string;
  /** The mirror registry pulls through from here; '' makes it a plain registry filled from mirrorImages. */
  mirrorUpstream: string;
  mirrorImages: MirrorImage[];
  buildkitdFlags: string[];
  /** Contents of buildkitd.toml from buildkitd-config or buildkitd-config-inline ('' when none). */
  buildkitdConfig: string;
  /** `docker run` options for the buildkitd container; undefined: our defaults for the image's kind. */
  buildkitdContainerOptions: string[] | undefined;
  /** The classes of difference that fail the step (the CLI exits 1); none: only errors fail it. */
  failOn: DifferenceClass[];
  outputType: OutputType;
  /** Go on after a lost layer, to measure how often it happens. */
  keepGoing: boolean;
  /** Seconds one build may take (the cache build and each attempt) before it counts as hung. */
  attemptTimeoutSeconds: number;
  /** How a reset empties buildkitd's state. */
  cacheResetMode: ResetMode;
  /** After a lost layer, shrink the Dockerfile and its context to the smallest that still loses one. */
  minimize: boolean;
  /** The chance that a candidate reproducing at the original's rate shows a loss before it is called clean. */
  minimizeConfidence: number;
  /** The search's time budget; the smallest candidate found by then is reported, not proven minimal. */
  minimizeTimeoutSeconds: number;
  /** Daemons that run attempts at the same time; 0: auto (see lanesFor). */
  parallel: number;
  /** fuzz: true — generated cases instead of dockerfile/context; undefined otherwise. */
  fuzz: FuzzSettings | undefined;
}

/** A fuzz run: which cases, how many, on which backends. */
export interface FuzzSettings {
  seed: number;
  /** Cases this shard runs at most. */
  cases: number;
  /** One case only (a finding's), instead of a sequence. */
  onlyCase?: number;
  /** No case starts after this many seconds (0: no budget). */
  budgetSeconds: number;
  /** This job runs the case numbers n with n % count === index - 1. */
  shard: { index: number; count: number };
  /** Cases take turns with these, case n with cacheTypes[n % length]. */
  cacheTypes: CacheType[];
}
