import type { Settings } from '../inputs/settings.js';
import type { OciImage } from '../inspection/oci-image.js';

/** The settings the loop reads, and what the run made for it. */
export type AttemptPlan = Pick<
  Settings,
  | 'retries'
  | 'cacheResetFrequency'
  | 'cacheResetMode'
  | 'context'
  | 'dockerfile'
  | 'expectPaths'
  | 'outputType'
  | 'keepGoing'
  | 'attemptTimeoutSeconds'
> & {
  image: string;
  importCache: string;
  /** The image built without a cache, when this run made one (OCI output only). */
  reference?: OciImage;
  workDir: string;
  /** Daemons that run attempts at the same time (1 when unset). */
  lanes?: number;
};
