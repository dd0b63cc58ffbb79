/**
 * Whether an attempt really imported the cache, read from buildctl's `--trace` file: every status message
 * the daemon sent, one JSON object a line (client.SolveStatus), unlike `--progress plain`, which prints only
 * the state a vertex had when the printer looked. Every release from v0.7 to today writes it.
 *
 * Why the trace and not the word CACHED: since v0.10 a step whose result was loaded from a cache, with its
 * layers still in the registry, is reported a second time when the exporter pulls those layers, under the
 * step's own vertex and without the cached mark; the plain printer often shows only that last state
 * ("DONE"). The trace still holds the message that marked the step cached when it was loaded.
 */

/** One vertex of the build, every message about it folded together. */
export interface TraceVertex {
  digest: string;
  name: string;
  /** Some message marked it cached: the daemon loaded its result from a cache instead of running it. */
  cached: boolean;
  /** The last error reported for it ('' when none). */
  error: string;
  /** Layer blobs pulled under this vertex (status ids such as "sha256:…" or "extracting sha256:…"). */
  blobPulls: number;
  /** Lines the step's own process wrote (RUN output). */
  logLines: number;
}

/** What the attempt's trace says about its use of the imported cache. */
export interface CacheUse {
  /** "importing cache manifest from …" vertices that failed, with their errors. */
  importErrors: string[];
  /** Dockerfile steps that ran instead of coming from a cache. */
  ran: string[];
  /** Dockerfile steps whose result came from a cache. */
  cached: string[];
}

/** Thrown when the trace cannot be read: the attempt then has no evidence either way. */
export class TraceError extends Error {
  override name = 'TraceError';
}

/**
 * Parses a trace. Field names differ between releases (Go's `Vertexes`/`Cached` up to v0.10, JSON tags
 * `vertexes`/`cached` later), so keys are matched without regard to case.
 */
export function readTrace(text: string): TraceVertex[] {
  const vertices = new Map<string, TraceVertex>();
  const vertex = (digest: string): TraceVertex => {
    let found = vertices.get(digest);
    if (!found) {
      found = { digest, name: '', cached: false, error: '', blobPulls: 0, logLines: 0 };
      vertices.set(digest, found);
    }
    return found;
  };
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new TraceError('the build trace is empty');
  for (const [index, line] of lines.entries()) {
    let status: unknown;
    try {
      status = JSON.parse(line);
    } catch {
      throw new TraceError(`line ${index + 1} of the build trace is not JSON`);
    }
    for (const v of records(field(status, 'vertexes'))) {
      const entry = vertex(asText(field(v, 'digest')));
      entry.name = asText(field(v, 'name')) || entry.name;
      if (field(v, 'cached') === true) entry.cached = true;
      const error = asText(field(v, 'error'));
      if (error) entry.error = error;
    }
    for (const s of records(field(status, 'statuses'))) {
      if (/^(extracting )?sha256:[0-9a-f]{64}$/.test(asText(field(s, 'id'))))
        vertex(asText(field(s, 'vertex'))).blobPulls += 1;
    }
    for (const l of records(field(status, 'logs'))) vertex(asText(field(l, 'vertex'))).logLines += 1;
  }
  return [...vertices.values()].filter((v) => v.name !== '');
}

/** A Dockerfile step: "[3/4] COPY repro.txt /", or "[stage-1 3/4] …" in a multi-stage build. */
const STEP = /^\[(?:[^\]]*\s)?\d+\/\d+\] (.+)$/;
const IMPORT = /^importing cache manifest from /;

/**
 * Judges the cache use of one build. A failed import is always an error, also when the steps still came
 * from the daemon's local cache (its next fresh state would build from scratch). FROM is resolved, not built.
 */
export function cacheUse(vertices: readonly TraceVertex[]): CacheUse {
  const importErrors = vertices
    .filter((v) => IMPORT.test(v.name) && v.error !== '')
    .map((v) => `${v.name}: ${v.error}`);
  const steps = vertices
    .flatMap((v) => {
      const instruction = STEP.exec(v.name)?.[1];
      return instruction && !instruction.startsWith('FROM ') ? [{ instruction, vertex: v }] : [];
    })
    // In the Dockerfile's order (by stage, then step), not the order the daemon reported them.
    .sort((a, b) => stepOrder(a.vertex.name).localeCompare(stepOrder(b.vertex.name)));
  if (steps.length === 0) throw new TraceError('the build trace names no Dockerfile step');
  const ran = steps.filter((step) => !cameFromCache(step.vertex)).map((step) => step.instruction);
  const cached = steps.filter((step) => cameFromCache(step.vertex)).map((step) => step.instruction);
  return { importErrors, ran, cached };
}

/** "[stage-1 3/4] …" as "stage-1 0003", a key that sorts steps by stage, then by number. */
function stepOrder(name: string): string {
  const match = /^\[(?:([^\]]*)\s)?(\d+)\/\d+\]/.exec(name);
  return `${match?.[1] ?? ''} ${(match?.[2] ?? '').padStart(4, '0')}`;
}

/**
 * The cached mark is the daemon's own word that it loaded the step's result (solver LoadCache). A step that
 * reported an error or wrote output ran all the same, whatever it was marked: the solver marks a step cached
 * when it starts to load a record, and runs the step when that load fails. The daemon also coalesces
 * messages of one vertex sent close together, so the mark could in principle be replaced by the later lazy
 * pull before it is sent; a step that only pulled layers under its own vertex, and wrote no output, was
 * loaded all the same: BuildKit attaches a step's own progress to its layers only when it loads its result
 * from a cache record (a step that runs pulls its inputs under their vertices, not its own).
 */
function cameFromCache(v: TraceVertex): boolean {
  if (v.error !== '' || v.logLines > 0) return false;
  return v.cached || v.blobPulls > 0;
}

function field(object: unknown, name: string): unknown {
  if (typeof object !== 'object' || object === null) return undefined;
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function records(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
