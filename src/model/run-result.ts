import type { AttemptRecord } from './attempt.js';
import type { ConfigComparison } from './difference.js';
import type { LossRate } from './loss-rate.js';
import type { Minimization } from './minimization.js';
import type { Verdict } from './verdict.js';

/** What made the cache the attempts imported. */
export type CacheMaker =
  /** buildkitVersion is unset when the cache build failed before its daemon said it. */
  | { kind: 'this-run'; image: string; buildkitVersion?: string }
  /** create-cache: false: a cache an earlier run made; cacheDir is where: its folder, or an S3 URL. */
  | { kind: 'earlier-run'; cacheDir: string };

/** Records of the cache whose result is one and the same layer chain. */
export interface SharedResult {
  /** The steps that make this chain, from the reference image's history; [] when it cannot tell. */
  steps: string[];
  /** The cache records (cache keys) that share it. */
  records: string[];
  /** The chain: its top blob and how many layers it has. */
  layer: { blob: string; chainLength: number };
}

export interface InstalledBuildctl {
  path: string;
  url: string;
  fromToolCache: boolean;
  /** SHA-256 of the release tarball the binary came from. */
  sha256: string;
  /** What the tarball was checked against: 'buildctl-sha256', 'GitHub release digest', or '' (not verified). */
  verifiedBy: string;
  /** Why it was not verified, when it was not. */
  unverifiedBecause?: string;
}

export interface RunResult {
  runId: string;
  /** Unset when the cache could not be made. */
  cacheMaker?: CacheMaker;
  /** Records of the cache that share one result (see cache-config.ts); unset when it could not be read. */
  cacheSharedResults?: SharedResult[];
  /** Whether the attempts' config and history were held to the reference's, or why not (unset when none ran). */
  configComparison?: ConfigComparison;
  verdict: Verdict;
  records: AttemptRecord[];
  buildkitVersion: string;
  buildctl?: InstalledBuildctl;
  startedAt: string;
  finishedAt: string;
  daemonLogFiles: string[];
  /** Set when the attempts were a fixed-size sample (see measuredLossRate). */
  lossRate?: LossRate;
  /** Set when minimize was asked for. */
  minimization?: Minimization;
  /** Daemons that ran attempts at once (unset when no attempt ran). */
  lanes?: number;
}
