import type { Settings } from '../inputs/settings.js';
import type { BuiltOutput, ReferenceKind } from '../inspection/output-types.js';
import type { DifferenceClass } from '../model/classes.js';

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
  | 'cacheType'
  | 'cacheOptions'
> &
  Partial<Pick<Settings, 'cacheSettings'>> & {
    image: string;
    importCache: string;
    /** The output built without a cache: every attempt is held to it. */
    reference: BuiltOutput;
    /** The release that built the reference: config and history are compared only when the attempts' is the same. */
    referenceVersion?: string;
    /** The reference was built again now, not with the cache: outputs are compared by their files (see Reference). */
    referenceKind?: ReferenceKind;
    workDir: string;
    /** Daemons that run attempts at the same time (1 when unset). */
    lanes?: number;
    /** The classes that stop the attempts (unless keepGoing); the verdict's own by default (see CLASSES). */
    stopOn?: readonly DifferenceClass[];
  };
