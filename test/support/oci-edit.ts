import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import {
  IMAGE_CONFIG,
  type ImageConfig,
  INDEX,
  type Index,
  MANIFEST,
  type Manifest,
} from '../../src/inspection/oci-types.js';

/*
 * Edits of real OCI layout tarballs for tests of the reader's checks: read a layout into memory (fixtures are
 * about 1 MB), change a blob or a document, point the descriptors at the new blobs and digest manifest and
 * index again, so that what is broken is only what the test means to break; then write a new tarball.
 */

/** A layout as its tarball holds it: each file's bytes by path, in the tarball's order. */
export interface Layout {
  files: Map<string, Buffer>;
}

/** The three documents of a single-image layout, parsed with the reader's own schemas. */
export interface ImageDocs {
  index: Index;
  manifest: Manifest;
  config: ImageConfig;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${digest.replace(/^sha256:/, '')}`;
}

export async function readLayout(file: string): Promise<Layout> {
  const files = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') files.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
      next();
    });
  });
  reader.end(fs.readFileSync(file));
  await done;
  return { files };
}

/** Writes the layout as a tarball in `dir`; `endMarker: false` leaves out the two zero blocks that end it. */
export async function writeLayout(
  layout: Layout,
  dir: string,
  name: string,
  options: { endMarker?: boolean } = {},
): Promise<string> {
  const tar = await tarOf([
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...[...layout.files].map(([file, body]) => ({ name: file, body })),
  ]);
  const file = path.join(dir, name);
  fs.writeFileSync(file, options.endMarker === false ? withoutEndMarker(tar) : tar);
  return file;
}

export function blob(layout: Layout, digest: string): Buffer {
  const bytes = layout.files.get(blobPath(digest));
  if (!bytes) throw new Error(`no blob ${digest} in the layout`);
  return bytes;
}

export function putBlob(layout: Layout, bytes: Buffer): { digest: string; size: number } {
  const digest = digestOf(bytes);
  layout.files.set(blobPath(digest), bytes);
  return { digest, size: bytes.length };
}

export function readDocs(layout: Layout): ImageDocs {
  const json = (bytes: Buffer | undefined) => JSON.parse(String(bytes)) as unknown;
  const index = INDEX.parse(json(layout.files.get('index.json')));
  const manifestRef = index.manifests[0];
  if (!manifestRef) throw new Error('index.json lists no manifest');
  const manifest = MANIFEST.parse(json(blob(layout, manifestRef.digest)));
  const config = IMAGE_CONFIG.parse(json(blob(layout, manifest.config.digest)));
  return { index, manifest, config };
}

/**
 * Lets `edit` change the documents, then writes them back consistent: the config as a new blob that the
 * manifest's config descriptor points at, the manifest as a new blob that index.json's first entry points at.
 * Layer descriptors and diff_ids stay as `edit` left them (see setLayer).
 */
export function editImage(layout: Layout, edit: (docs: ImageDocs) => void): ImageDocs {
  const docs = readDocs(layout);
  edit(docs);
  Object.assign(docs.manifest.config, putBlob(layout, Buffer.from(JSON.stringify(docs.config))));
  const manifestRef = docs.index.manifests[0];
  if (!manifestRef) throw new Error('index.json lists no manifest');
  Object.assign(manifestRef, putBlob(layout, Buffer.from(JSON.stringify(docs.manifest))));
  layout.files.set('index.json', Buffer.from(JSON.stringify(docs.index)));
  return docs;
}

/**
 * Makes `tar` the layer at `position` (1-based; one past the last appends it): gzipped as a new blob, its
 * descriptor pointing at it, its diff_id the digest of `tar`.
 */
/** How setLayer stores a layer: gzip by default, as BuildKit does. */
export interface LayerEncoding {
  compress(tar: Buffer): Buffer;
  mediaType: string;
}

export const GZIP_LAYER: LayerEncoding = {
  compress: (tar) => gzipSync(tar),
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
export const PLAIN_LAYER: LayerEncoding = {
  compress: (tar) => tar,
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
};
export const ZSTD_LAYER: LayerEncoding = {
  compress: zstdRawFrame,
  mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

export function setLayer(
  layout: Layout,
  docs: ImageDocs,
  position: number,
  tar: Buffer,
  encoding: LayerEncoding = GZIP_LAYER,
): void {
  const { digest, size } = putBlob(layout, encoding.compress(tar));
  docs.manifest.layers[position - 1] = { mediaType: encoding.mediaType, digest, size };
  docs.config.rootfs.diff_ids[position - 1] = digestOf(tar);
}

/**
 * A zstd frame that stores `bytes` in raw blocks (RFC 8878: magic, a single-segment header with a 4-byte
 * content size, blocks of at most 128 KiB, the last one flagged): valid zstd without a compressor, which
 * Node 20 lacks.
 */
export function zstdRawFrame(bytes: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xa0; // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag
  header.writeUInt32LE(bytes.length, 5);
  const blocks: Buffer[] = [];
  const max = 128 * 1024;
  for (let at = 0; at < bytes.length || blocks.length === 0; at += max) {
    const part = bytes.subarray(at, at + max);
    const last = at + max >= bytes.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((part.length << 3) | last, 0, 3); // Block_Type 0: raw
    blocks.push(blockHeader, part);
  }
  return Buffer.concat([header, ...blocks]);
}

/** The uncompressed tarball of the layer at `position` (1-based). */
export function layerTar(layout: Layout, docs: ImageDocs, position: number): Buffer {
  const ref = docs.manifest.layers[position - 1];
  if (!ref) throw new Error(`no layer ${position}`);
  return gunzipSync(blob(layout, ref.digest));
}

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

/** A tarball written by tar-stream, its entries named exactly as given (mtime: the epoch unless given). */
export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const packer = pack();
  for (const { body, ...given } of entries) {
    const header = { mtime: new Date(0), ...given };
    if (header.type === undefined || header.type === 'file') packer.entry(header, body ?? '');
    else packer.entry(header);
  }
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of packer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The archive's entries without the zero blocks after them: a tar cut exactly where its end marker starts. */
export function withoutEndMarker(tar: Buffer): Buffer {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = parseInt(
      header
        .subarray(124, 136)
        .toString('ascii')
        .replace(/[\0 ]+/g, '') || '0',
      8,
    );
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return tar.subarray(0, offset);
}
