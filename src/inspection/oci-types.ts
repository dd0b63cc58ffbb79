import { z } from 'zod';
import { InspectionError } from './tarball.js';

/*
 * The documents of an OCI image layout (image-spec: descriptor, image index, image manifest, image config) and
 * their Docker counterparts (manifest list, image manifest v2, container image config), as far as this tool
 * reads them. Every object is loose: a field added by a later spec or by a builder (BuildKit's
 * `moby.buildkit.buildinfo.v1`) passes. Docker writes `null` for an unset container-config field, so those
 * are nullish.
 */

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export const INDEX_MEDIA_TYPES = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList] as const;
export const MANIFEST_MEDIA_TYPES = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest] as const;
export const CONFIG_MEDIA_TYPES = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig] as const;

/** Only sha256 is read: the layout's blobs are looked up under blobs/sha256/. */
const DIGEST = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'not a sha256 digest (sha256:<64 hex digits>)');
const STRINGS = z.array(z.string());
const STRING_MAP = z.record(z.string(), z.string());

export const PLATFORM = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': STRINGS.optional(),
  variant: z.string().optional(),
});

export const DESCRIPTOR = z.looseObject({
  mediaType: z.string(),
  digest: DIGEST,
  size: z.number().int().nonnegative(),
  urls: STRINGS.optional(),
  annotations: STRING_MAP.optional(),
  data: z.string().optional(),
  platform: PLATFORM.optional(),
  artifactType: z.string().optional(),
});

/** An OCI image index (index.json of a layout is one) or a Docker manifest list. */
export const INDEX = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.enum(INDEX_MEDIA_TYPES).optional(),
  manifests: z.array(DESCRIPTOR),
  annotations: STRING_MAP.optional(),
});

/** An OCI image manifest or a Docker image manifest v2. */
export const MANIFEST = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.enum(MANIFEST_MEDIA_TYPES).optional(),
  config: DESCRIPTOR.extend({ mediaType: z.enum(CONFIG_MEDIA_TYPES) }),
  layers: z.array(DESCRIPTOR),
  annotations: STRING_MAP.optional(),
});

/** The container config: what a container of the image runs, and how. */
export const CONTAINER_CONFIG = z.looseObject({
  User: z.string().nullish(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  Env: STRINGS.nullish(),
  Entrypoint: STRINGS.nullish(),
  Cmd: STRINGS.nullish(),
  Volumes: z.record(z.string(), z.unknown()).nullish(),
  WorkingDir: z.string().nullish(),
  Labels: STRING_MAP.nullish(),
  StopSignal: z.string().nullish(),
  ArgsEscaped: z.boolean().nullish(),
  Healthcheck: z
    .looseObject({
      Test: STRINGS.nullish(),
      Interval: z.number().nullish(),
      Timeout: z.number().nullish(),
      StartPeriod: z.number().nullish(),
      StartInterval: z.number().nullish(),
      Retries: z.number().nullish(),
    })
    .nullish(),
  OnBuild: STRINGS.nullish(),
  Shell: STRINGS.nullish(),
});

export const HISTORY = z.looseObject({
  created: z.string().optional(),
  created_by: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
});

/** The image config: platform, container config, the layers' diff_ids and the history. */
export const IMAGE_CONFIG = PLATFORM.extend({
  created: z.string().optional(),
  author: z.string().optional(),
  config: CONTAINER_CONFIG.nullish(),
  rootfs: z.looseObject({ type: z.literal('layers'), diff_ids: z.array(DIGEST) }),
  history: z.array(HISTORY).optional(),
});

export type Platform = z.infer<typeof PLATFORM>;
export type Descriptor = z.infer<typeof DESCRIPTOR>;
export type Index = z.infer<typeof INDEX>;
export type Manifest = z.infer<typeof MANIFEST>;
export type ContainerConfig = z.infer<typeof CONTAINER_CONFIG>;
export type History = z.infer<typeof HISTORY>;
export type ImageConfig = z.infer<typeof IMAGE_CONFIG>;

/**
 * A document checked against its schema, or an InspectionError naming it and its first wrong field:
 * "the manifest sha256:… is not an image manifest: layers[1].size: Invalid input: expected number, …".
 */
export function parseDocument<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${pathText(issue.path)}: ` : '';
  throw new InspectionError(`${what}: ${where}${issue?.message ?? 'does not match its schema'}`);
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`))
    .join('');
}
