import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { readCacheConfig } from '../../src/inspection/cache-config.js';
import { CACHE_CONFIG_MEDIA_TYPE, poisonLocalCache, readTar } from '../support/poison-cache.js';

// Local cache layouts (`--export-cache type=local,mode=max`) built here in the two shapes BuildKit writes:
// index.json → an index that lists the layers and the config (v0.9 to v0.10), and index.json → an image
// manifest whose config is the cache config (the newest releases, which also list the empty layer twice).
// The COPY layer of the first is the real one of fixtures/cache-config/v0.9.0-local, as BuildKit wrote it.

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const UNCOMPRESSED = 'containerd.io/uncompressed';
const REAL_COPY_LAYER = fileURLToPath(
  new URL(
    '../../fixtures/cache-config/v0.9.0-local/blobs/sha256/c3a95172f6568280635f0a0c94eb16060a6c085253bd87565dd89632505fb34f',
    import.meta.url,
  ),
);
const OLD_TEXT = 'this file is added by the COPY layer that BuildKit v0.8.0-v0.9.0 can lose\n';
const POISON = { path: 'repro.txt', content: 'not what the build context holds\n' };

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blobFile = (dir: string, digest: string) =>
  path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));

function writeBlob(
  dir: string,
  bytes: Buffer | string,
  mediaType: string,
  annotations?: Record<string, string>,
) {
  const buffer = Buffer.from(bytes);
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(blobFile(dir, sha256(buffer)), buffer);
  const descriptor: Descriptor = { mediaType, digest: sha256(buffer), size: buffer.length };
  return annotations ? { ...descriptor, annotations } : descriptor;
}

async function tarOf(files: { name: string; body: string; mode?: number; uid?: number }[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve) => archive.on('end', () => resolve()));
  for (const file of files) {
    archive.entry(
      { name: file.name, mode: file.mode ?? 0o644, uid: file.uid ?? 0, gid: 0, mtime: new Date(1e12) },
      file.body,
    );
  }
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const entriesOf = readTar;

/** A gzip layer blob with its diff_id annotation, as BuildKit lists it. */
function layer(dir: string, gzip: Buffer): Descriptor {
  return writeBlob(dir, gzip, LAYER, {
    'buildkit/createdat': '2026-11-28T15:26:14.604495923Z',
    [UNCOMPRESSED]: sha256(gunzipSync(gzip)),
  });
}

function cacheConfig(blobs: string[], parents: number[], annotate: Descriptor[] = []) {
  return JSON.stringify({
    layers: blobs.map((blob, i) => {
      const described = annotate.find((d) => d.digest === blob);
      return {
        blob,
        parent: parents[i],
        ...(described && {
          annotations: {
            mediaType: described.mediaType,
            diffID: described.annotations?.[UNCOMPRESSED],
            size: described.size,
            createdAt: '2026-11-28T15:26:14.604495923Z',
          },
        }),
      };
    }),
    records: [
      { digest: `sha256:${'1'.repeat(64)}` },
      {
        layers: [{ layer: blobs.length - 1, createdAt: '2026-11-28T15:26:14.745602128Z' }],
        digest: `sha256:${'2'.repeat(64)}`,
        inputs: [[{ link: 0 }]],
      },
    ],
  });
}

/** index.json → index of [COPY layer, base layer, cache config] (v0.9.0's shape), gha-style annotations. */
async function indexLayout(dir: string) {
  const base = layer(dir, gzipSync(await tarOf([{ name: 'bin/sh', body: '#!busybox\n', mode: 0o755 }])));
  const copy = layer(dir, fs.readFileSync(REAL_COPY_LAYER));
  const config = writeBlob(
    dir,
    cacheConfig([copy.digest, base.digest], [1, -1], [copy, base]),
    CACHE_CONFIG_MEDIA_TYPE,
  );
  const index = writeBlob(
    dir,
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [copy, base, config] }),
    INDEX,
    { 'org.opencontainers.image.ref.name': 'latest' },
  );
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [index] }));
  return { copy, base };
}

/** index.json → image manifest, config = cache config, the empty layer twice (the newest releases' shape). */
async function manifestLayout(dir: string, baseHoldsReproTxt = false) {
  const baseFiles = [{ name: 'bin/sh', body: '#!busybox\n', mode: 0o755 }];
  if (baseHoldsReproTxt) baseFiles.push({ name: 'repro.txt', body: 'from the base\n', mode: 0o644 });
  const base = layer(dir, gzipSync(await tarOf(baseFiles)));
  const empty = layer(dir, gzipSync(await tarOf([])));
  const copy = layer(
    dir,
    gzipSync(
      await tarOf([
        { name: 'etc/motd', body: 'kept\n' },
        { name: './repro.txt', body: OLD_TEXT, mode: 0o600, uid: 1000 },
      ]),
    ),
  );
  const config = writeBlob(
    dir,
    cacheConfig([copy.digest, empty.digest, empty.digest, base.digest], [1, 3, 0, -1]),
    CACHE_CONFIG_MEDIA_TYPE,
  );
  const manifest = writeBlob(
    dir,
    JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [copy, empty, empty, base] }),
    MANIFEST,
    { 'org.opencontainers.image.ref.name': 'latest' },
  );
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [manifest] }),
  );
  return { copy, base };
}

/**
 * Walks the layout from index.json and checks that it is consistent: every blob's digest and size, every
 * layer's diff_id annotation, every cache config's layers found among the listed blobs, their annotations.
 * Returns every layer descriptor and cache config met.
 */
function checkConsistent(dir: string) {
  const layers: Descriptor[] = [];
  const configs: { layers: { blob: string; annotations?: { diffID?: string; size?: number } }[] }[] = [];
  const read = (d: Descriptor) => {
    const bytes = fs.readFileSync(blobFile(dir, d.digest));
    assert.equal(sha256(bytes), d.digest, `digest of ${d.digest}`);
    assert.equal(bytes.length, d.size, `size of ${d.digest}`);
    return bytes;
  };
  const visit = (document: { manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor }) => {
    const listed = [...(document.manifests ?? []), ...(document.layers ?? [])];
    for (const d of [...listed, ...(document.config ? [document.config] : [])]) {
      const bytes = read(d);
      if (d.mediaType === INDEX || d.mediaType === MANIFEST) {
        visit(JSON.parse(bytes.toString('utf8')) as typeof document);
      } else if (d.mediaType === CACHE_CONFIG_MEDIA_TYPE) {
        const config = JSON.parse(bytes.toString('utf8')) as (typeof configs)[number];
        configs.push(config);
        for (const entry of config.layers) {
          const described = listed.find((l) => l.digest === entry.blob);
          assert.ok(described, `cache config layer ${entry.blob} is listed beside it`);
          if (entry.annotations) {
            assert.equal(entry.annotations.diffID, described.annotations?.[UNCOMPRESSED]);
            assert.equal(entry.annotations.size, described.size);
          }
        }
      } else {
        assert.equal(sha256(gunzipSync(bytes)), d.annotations?.[UNCOMPRESSED], `diff_id of ${d.digest}`);
        layers.push(d);
      }
    }
  };
  visit(JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as Parameters<typeof visit>[0]);
  return { layers, configs };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'poison-cache-test-'));
}

describe('poisonLocalCache', () => {
  for (const [shape, build] of [
    ['index layout (v0.9.0 shape, real COPY layer, gha-style config annotations)', indexLayout],
    ['image-manifest layout (newest shape, empty layer listed twice)', manifestLayout],
  ] as const) {
    it(`${shape}: replaces the COPY layer and leaves the cache consistent`, async () => {
      const dir = tempDir();
      try {
        const { copy, base } = await build(dir);
        const oldEntries = await entriesOf(gunzipSync(fs.readFileSync(blobFile(dir, copy.digest))));
        const result = await poisonLocalCache(dir, POISON);

        assert.equal(result.oldBlob, copy.digest);
        assert.equal(result.oldDiffId, copy.annotations?.[UNCOMPRESSED]);
        assert.notEqual(result.newBlob, result.oldBlob);
        const { layers, configs } = checkConsistent(dir);
        const poisoned = layers.filter((l) => l.digest === result.newBlob);
        assert.ok(poisoned.length >= 1, 'the new blob is listed');
        assert.ok(!layers.some((l) => l.digest === result.oldBlob), 'the old blob is listed nowhere');
        assert.ok(
          layers.some((l) => l.digest === base.digest),
          'the base layer is untouched',
        );
        for (const l of poisoned) assert.equal(l.annotations?.[UNCOMPRESSED], result.newDiffId);
        for (const l of poisoned)
          assert.equal(l.annotations?.['buildkit/createdat'], copy.annotations?.['buildkit/createdat']);
        assert.equal(configs.length, 1);
        assert.ok(configs[0]?.layers.some((l) => l.blob === result.newBlob));
        assert.ok(!configs[0]?.layers.some((l) => l.blob === result.oldBlob));

        // The new layer: the same entries, repro.txt with the new bytes and its old mode, owner and time.
        const tar = gunzipSync(fs.readFileSync(blobFile(dir, result.newBlob)));
        assert.equal(sha256(tar), result.newDiffId);
        const newEntries = await entriesOf(tar);
        assert.deepEqual(
          newEntries.map((e) => e.header.name.replace(/^\.\//, '')),
          oldEntries.map((e) => e.header.name.replace(/^\.\//, '')),
        );
        for (const [i, entry] of newEntries.entries()) {
          const old = oldEntries[i];
          assert.ok(old);
          const isTarget = entry.header.name.replace(/^\.\//, '') === POISON.path;
          assert.equal(entry.body.toString(), isTarget ? POISON.content : old.body.toString());
          for (const key of ['mode', 'uid', 'gid', 'type', 'uname', 'gname'] as const)
            assert.equal(entry.header[key], old.header[key], `${entry.header.name} ${key}`);
          assert.equal(entry.header.mtime.getTime(), old.header.mtime.getTime());
        }
        assert.ok(oldEntries.some((e) => e.body.toString() === OLD_TEXT));

        // The project's own reader (every blob checked against its digest) sees the new chain.
        const read = await readCacheConfig({ kind: 'local', dir });
        assert.ok(read.layers.some((l) => l.blob === result.newBlob));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('says so when no layer holds the path, and changes nothing', async () => {
    const dir = tempDir();
    try {
      await manifestLayout(dir);
      const before = fs.readFileSync(path.join(dir, 'index.json'));
      await assert.rejects(poisonLocalCache(dir, { path: 'not/there.txt', content: 'x' }), (error: Error) => {
        assert.match(
          error.message,
          /no layer of the cache at .* holds not\/there\.txt \(looked in 3 layers\)/,
        );
        return true;
      });
      assert.deepEqual(fs.readFileSync(path.join(dir, 'index.json')), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to guess when two layers hold the path, and to write what is already there', async () => {
    const dir = tempDir();
    try {
      await manifestLayout(dir, true);
      await assert.rejects(poisonLocalCache(dir, POISON), /2 layers of the cache .* hold repro\.txt/);
      await assert.rejects(
        poisonLocalCache(dir, { path: '/usr/../bin/sh', content: '#!busybox\n' }),
        /bin\/sh already holds that content/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
