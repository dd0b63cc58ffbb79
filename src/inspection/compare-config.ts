import type { ConfigChange } from '../model/difference.js';
import type { OciImage } from './oci-image.js';

/**
 * The fields of the container config that decide how a container of the image runs, and the platform.
 * Left out: timestamps (`created`, history's `created`), which differ between any two builds, and
 * BuildKit's own metadata (the inline cache's `moby.buildkit.cache.v0`, `moby.buildkit.buildinfo.v1`,
 * history comments), which describes how the image was built, not what it is.
 */
const CONTAINER_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'StopSignal',
  'Healthcheck',
  'OnBuild',
  'Shell',
  'ArgsEscaped',
] as const;
const PLATFORM_FIELDS = ['os', 'architecture', 'variant', 'os.version', 'os.features'] as const;

/** Config fields and history entries that differ, reference against attempt. */
export function compareConfig(reference: OciImage, attempt: OciImage): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const differ = (field: string, r: unknown, a: unknown) => {
    const [rt, at] = [canonical(r), canonical(a)];
    if (rt !== at) changes.push({ field, reference: rt, attempt: at });
  };
  const container = (image: OciImage) => (image.config.config ?? {}) as Record<string, unknown>;
  for (const field of CONTAINER_FIELDS) differ(field, container(reference)[field], container(attempt)[field]);
  const top = (image: OciImage) => image.config as Record<string, unknown>;
  for (const field of PLATFORM_FIELDS) differ(field, top(reference)[field], top(attempt)[field]);
  const [rh, ah] = [reference.history, attempt.history];
  if (rh.length !== ah.length) differ('history length', rh.length, ah.length);
  for (let i = 0; i < Math.min(rh.length, ah.length); i++) {
    const [r, a] = [rh[i], ah[i]];
    if (!r || !a) continue;
    differ(`history ${i + 1} created_by`, r.createdBy, a.createdBy);
    differ(`history ${i + 1} empty_layer (${r.createdBy || 'no instruction'})`, r.emptyLayer, a.emptyLayer);
  }
  return changes;
}

/** A value as comparable text: JSON with sorted keys; absent, null and empty read alike ''. */
function canonical(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (Array.isArray(value) && value.length === 0) return '';
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  return JSON.stringify(sorted(value));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sorted(v)]),
  );
}
