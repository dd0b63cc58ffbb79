import * as fs from 'node:fs';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { type Blob, MAX_JSON_BLOB, readBlob, tryJson } from './oci-blobs.js';
import {
  type Descriptor,
  IMAGE_CONFIG,
  type ImageConfig,
  INDEX,
  INDEX_MEDIA_TYPES,
  type Index,
  MANIFEST,
  MANIFEST_MEDIA_TYPES,
  type Manifest,
  parseDocument,
} from './oci-types.js';
import { EndOfArchive, type FileEntry, normalizeArchivePath } from './tar-entries.js';
import { mediaTypeSays } from './layer-compression.js';
import { InspectionError } from './tarball.js';

export type { FileEntry, FileType } from './tar-entries.js';
export type { ContainerConfig, ImageConfig, Platform } from './oci-types.js';

export interface ImageLayer {
  /** 1-based position in the manifest. */
  position: number;
  digest: string;
  /** Compressed size, as the manifest gives it (and the blob has: it is checked). */
  size: number;
  mediaType: string;
  /** Digest of the uncompressed tarball (the config's rootfs.diff_ids, checked against the bytes). */
  diffId: string;
  /** Paths the layer's tarball holds, in its order (whiteouts included). */
  files: string[];
  /** The same entries with type, mode, owner, size, content hash and link target; whiteouts as they are. */
  entries: FileEntry[];
}

export interface HistoryEntry {
  /** The instruction, without BuildKit's `# buildkit` suffix. */
  createdBy: string;
  emptyLayer: boolean;
  /** The entry's comment ('' when none): `buildkit.dockerfile.v0`, `Imported from -`. */
  comment: string;
}

export interface OciImage {
  manifestDigest: string;
  configDigest: string;
  layers: ImageLayer[];
  history: HistoryEntry[];
  /** The image config as written: platform (os, architecture, …), container config, rootfs, history. */
  config: ImageConfig;
}

/** An index nested in an index (a multi-platform image, attestations) is followed this deep. */
const MAX_INDEX_DEPTH = 3;

/**
 * Reads an OCI layout tarball (`buildctl --output type=oci`) as one stream, nothing extracted: every blob's
 * digest is checked, small blobs are kept as JSON, gzip blobs are read as layer tarballs (their entries and
 * the digest of their uncompressed bytes); then index → manifest → config → layers, each document checked
 * against its schema and each descriptor's size against its blob.
 */
export async function readOciImage(file: string): Promise<OciImage> {
  const { index, blobs } = await readLayoutTarball(file);
  const manifestRef = imageManifest(parseDocument(INDEX, index, 'index.json is not an image index'), blobs);
  const manifest = parseDocument(
    MANIFEST,
    jsonBlob(blobs, manifestRef, 'manifest'),
    `the manifest ${manifestRef.digest} is not an image manifest`,
  );
  const config = parseDocument(
    IMAGE_CONFIG,
    jsonBlob(blobs, manifest.config, 'config'),
    `the config ${manifest.config.digest} is not an image config`,
  );
  return {
    manifestDigest: manifestRef.digest,
    configDigest: manifest.config.digest,
    layers: imageLayers(manifest, config, blobs),
    history: (config.history ?? []).map((entry) => ({
      createdBy: (entry.created_by ?? '').replace(/ # buildkit$/, '').replace(/^RUN \/bin\/sh -c /, 'RUN '),
      emptyLayer: entry.empty_layer === true,
      comment: entry.comment ?? '',
    })),
    config,
  };
}

/**
 * The image's filesystem: every layer's entries in order, a later layer's whiteouts hiding what lower layers
 * hold (`.wh.name` the name and all under it, `.wh..wh..opq` all under its directory), a later entry of a
 * path replacing an earlier one (a file in place of a folder: the folder's contents too).
 */
export function mergedTree(image: OciImage): Map<string, FileEntry> {
  const tree = new Map<string, FileEntry>();
  const removeUnder = (dir: string) => {
    for (const p of tree.keys()) if (dir === '' || p.startsWith(`${dir}/`)) tree.delete(p);
  };
  for (const layer of image.layers) {
    // A layer's whiteouts hide lower layers only, whatever their place in its tarball.
    const added: FileEntry[] = [];
    for (const entry of layer.entries) {
      const slash = entry.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : entry.path.slice(0, slash);
      const base = entry.path.slice(slash + 1);
      if (base === '.wh..wh..opq') removeUnder(dir);
      else if (base.startsWith('.wh.')) {
        const gone = (dir ? `${dir}/` : '') + base.slice(4);
        tree.delete(gone);
        removeUnder(gone);
      } else added.push(entry);
    }
    for (const entry of added) {
      // A file or link where a lower layer had a folder replaces the folder and all it held.
      if (entry.type !== 'directory' && entry.path !== '') removeUnder(entry.path);
      tree.set(entry.path, entry);
    }
  }
  return tree;
}

/** Every blob of the layout read and checked, and index.json; the archive read to its end marker. */
async function readLayoutTarball(file: string): Promise<{ index: unknown; blobs: Map<string, Blob> }> {
  const blobs = new Map<string, Blob>();
  let index: unknown;
  const reader = extract();
  reader.on('entry', (header, entry, next) => {
    // tar-stream's entries are streamx streams, which Node's stream functions take as they are.
    const stream = entry as unknown as Readable;
    const name = normalizeArchivePath(header.name);
    const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    const work =
      name === 'index.json'
        ? readJson(stream, 'index.json').then((json) => void (index = json))
        : blob
          ? readBlob(stream, `sha256:${blob[1]}`).then((read) => void blobs.set(`sha256:${blob[1]}`, read))
          : drain(stream);
    work.then(() => next(), next);
  });
  const end = new EndOfArchive();
  try {
    await pipeline(fs.createReadStream(file), end, reader);
  } catch (error) {
    throw new InspectionError(`cannot read ${file} as an OCI layout tarball: ${(error as Error).message}`);
  }
  if (!end.reached)
    throw new InspectionError(`${file} ends before the tar end-of-archive marker: it was cut off`);
  if (index === undefined) throw new InspectionError(`${file} has no index.json: it is not an OCI layout`);
  return { index, blobs };
}

/**
 * The image manifest an index points at: its first entry that is not an attestation (BuildKit lists those
 * as platform unknown/unknown), followed through nested indexes.
 */
function imageManifest(index: Index, blobs: Map<string, Blob>, depth = 0): Descriptor {
  const ref = index.manifests.find((d) => d.platform?.os !== 'unknown');
  if (!ref) throw new InspectionError('the image index lists no image manifest');
  if ((MANIFEST_MEDIA_TYPES as readonly string[]).includes(ref.mediaType)) return ref;
  if (!(INDEX_MEDIA_TYPES as readonly string[]).includes(ref.mediaType) || depth >= MAX_INDEX_DEPTH) {
    throw new InspectionError(`the image index points at a ${ref.mediaType}, not at an image manifest`);
  }
  const nested = parseDocument(
    INDEX,
    jsonBlob(blobs, ref, 'index'),
    `the index ${ref.digest} is not an index`,
  );
  return imageManifest(nested, blobs, depth + 1);
}

/** The layers, each checked against its descriptor and the config's diff_id at its place. */
function imageLayers(manifest: Manifest, config: ImageConfig, blobs: Map<string, Blob>): ImageLayer[] {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InspectionError(
      `the config lists ${diffIds.length} diff_ids for the manifest's ${manifest.layers.length} layers: ` +
        'it does not list one diff_id for every layer',
    );
  }
  return manifest.layers.map((ref, i): ImageLayer => {
    const position = i + 1;
    const layer = checkedBlob(blobs, ref, `layer ${position}`).layer;
    if (!layer) {
      throw new InspectionError(`layer ${position} (${ref.digest}) is not a tarball, gzip, zstd or plain`);
    }
    if (!mediaTypeSays(ref.mediaType, layer.compression)) {
      throw new InspectionError(
        `layer ${position} (${ref.digest}) is ${layer.compression}, its media type says ${ref.mediaType}`,
      );
    }
    if (layer.diffId !== diffIds[i]) {
      throw new InspectionError(
        `layer ${position}'s content has diff_id ${layer.diffId}, the config says ${diffIds[i]}`,
      );
    }
    const { digest, size, mediaType } = ref;
    const files = layer.entries.map((entry) => entry.path);
    return { position, digest, size, mediaType, diffId: layer.diffId, files, entries: layer.entries };
  });
}

/** The blob a descriptor points at, there and of the size it says (its digest was checked as it was read). */
function checkedBlob(blobs: Map<string, Blob>, ref: Descriptor, what: string): Blob {
  const blob = blobs.get(ref.digest);
  if (!blob) throw new InspectionError(`the ${what} ${ref.digest} is not in the tarball`);
  if (blob.size !== ref.size) {
    throw new InspectionError(
      `the ${what} ${ref.digest} has ${blob.size} bytes, its descriptor says ${ref.size}`,
    );
  }
  return blob;
}

function jsonBlob(blobs: Map<string, Blob>, ref: Descriptor, what: string): unknown {
  const { json } = checkedBlob(blobs, ref, what);
  if (json === undefined) throw new InspectionError(`the ${what} ${ref.digest} is not JSON`);
  return json;
}

async function readJson(stream: Readable, what: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BLOB) throw new Error(`${what} is larger than ${MAX_JSON_BLOB} bytes`);
    chunks.push(chunk);
  }
  const value = tryJson(Buffer.concat(chunks));
  if (value === undefined) throw new Error(`${what} is not JSON`);
  return value;
}

async function drain(stream: Readable): Promise<void> {
  await pipeline(stream, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
}
