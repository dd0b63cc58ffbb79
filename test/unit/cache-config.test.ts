import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCacheConfig, readCacheConfig, sharedResults } from '../../src/inspection/cache-config.js';
import type { OciImage } from '../../src/inspection/oci-image.js';
import { InspectionError } from '../../src/inspection/tarball.js';
import { withRegistry } from '../support/one-image-registry.js';

// Local caches (`--export-cache type=local,mode=max`) of the bundled reproduction written by the test bed's
// v0.9.0 and v0.34.2, without their big layer blobs (fixtures/README.md).
const cacheDir = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/cache-config/${name}`, import.meta.url));

const BASE = 'sha256:90a66163c0b695146951470107b965be2e75cb06a4a035a9dfea97b158c527c2';
const COPY = 'sha256:c3a95172f6568280635f0a0c94eb16060a6c085253bd87565dd89632505fb34f';

/** The image of the build that made the v0.9.0 cache, as far as naming needs it. */
function reference(layers: string[], history: [string, boolean][]): OciImage {
  return {
    manifestDigest: '',
    configDigest: '',
    layers: layers.map((digest, i) => ({
      position: i + 1,
      digest,
      diffId: digest,
      size: 1,
      mediaType: '',
      files: [],
      entries: [],
    })),
    history: history.map(([createdBy, emptyLayer]) => ({ createdBy, emptyLayer, comment: '' })),
    config: { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } },
  };
}

describe('the cache config, read from the cache', () => {
  it('v0.9.0: 6 records and 2 layers; COPY and the empty RUN after it share one result', async () => {
    const config = await readCacheConfig({ kind: 'local', dir: cacheDir('v0.9.0-local') });
    assert.equal(config.records.length, 6);
    assert.equal(config.layers.length, 2);
    const image = reference(
      [BASE, COPY],
      [
        ['', false],
        ['RUN echo 1', true],
        ['COPY repro.txt /', false],
        ['RUN echo 2', true],
      ],
    );
    const shared = sharedResults(config, image);
    assert.equal(shared.length, 1);
    assert.deepEqual(shared[0]?.steps, ['COPY repro.txt /', 'RUN echo 2']);
    assert.deepEqual(shared[0]?.layer, { blob: COPY, chainLength: 2 });
    assert.equal(shared[0]?.records.length, 2);
  });

  it('v0.34.2: an image manifest whose config is the cache config; 4 layers, no shared result', async () => {
    const config = await readCacheConfig({ kind: 'local', dir: cacheDir('v0.34.2-local') });
    assert.equal(config.layers.length, 4);
    assert.deepEqual(sharedResults(config), []);
  });

  it('without a matching reference the set is still found, its steps unnamed', async () => {
    const config = await readCacheConfig({ kind: 'local', dir: cacheDir('v0.9.0-local') });
    const [set] = sharedResults(config, reference(['sha256:other'], [['', false]]));
    assert.deepEqual(set?.steps, []);
    assert.equal(set?.records.length, 2);
  });

  it('parent left out means layer 0, -1 means none; results come under "layers"', () => {
    const config = parseCacheConfig(
      Buffer.from(
        JSON.stringify({
          layers: [{ blob: 'sha256:a', parent: -1 }, { blob: 'sha256:b' }],
          records: [
            { digest: 'r1', layers: [{ layer: 1 }] },
            { digest: 'r2', layers: [{ layer: 1 }] },
            { digest: 'r3', layers: [{ layer: 0 }] },
            { digest: 'r4' },
          ],
        }),
      ),
    );
    assert.deepEqual(config.layers, [
      { blob: 'sha256:a', parent: -1 },
      { blob: 'sha256:b', parent: 0 },
    ]);
    assert.deepEqual(sharedResults(config), [
      { steps: [], records: ['r1', 'r2'], layer: { blob: 'sha256:b', chainLength: 2 } },
    ]);
  });

  it('chained results (`chains`) are results too: records with the same list of chains share it', () => {
    const config = parseCacheConfig(
      Buffer.from(
        JSON.stringify({
          layers: [
            { blob: 'sha256:a', parent: -1 },
            { blob: 'sha256:b', parent: -1 },
          ],
          records: [
            { digest: 'r1', chains: [{ layers: [0, 1] }] },
            { digest: 'r2', chains: [{ layers: [0, 1] }] },
            { digest: 'r3', chains: [{ layers: [1] }] },
          ],
        }),
      ),
    );
    assert.deepEqual(
      sharedResults(config).map((set) => set.records),
      [['r1', 'r2']],
    );
  });

  it('a blob that does not match its digest, or a folder with no cache, is an inspection error', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-config-'));
    try {
      fs.cpSync(cacheDir('v0.9.0-local'), copy, { recursive: true });
      const config = 'ca3b5f4d93d2efb724c66c1dea0239ec5317862e20cf2a25063284b86b4e0e18';
      const file = path.join(copy, 'blobs', 'sha256', config);
      fs.chmodSync(file, 0o644);
      fs.writeFileSync(file, '{"layers":[],"records":[]}');
      await assert.rejects(readCacheConfig({ kind: 'local', dir: copy }), /has digest sha256:/);
      await assert.rejects(readCacheConfig({ kind: 'local', dir: os.tmpdir() }), InspectionError);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});

/**
 * A registry that serves one image: the manifest and config of the bundled reproduction's image pushed with
 * `--export-cache type=inline` by the test bed's release (fixtures/cache-config/<release>-inline).
 */
async function withInlineImage<T>(
  release: string,
  work: (address: string) => Promise<T>,
  editConfig: (config: Record<string, unknown>) => void = () => undefined,
): Promise<T> {
  const dir = cacheDir(`${release}-inline`);
  const document = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    config: { digest: string };
  };
  const edited = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  editConfig(edited);
  const config = Buffer.from(JSON.stringify(edited));
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  document.config.digest = configDigest;
  const manifest = Buffer.from(JSON.stringify(document));
  const paths = new Map([
    ['/v2/lost-layer/cache/manifests/latest', manifest],
    [`/v2/lost-layer/cache/blobs/${configDigest}`, config],
  ]);
  return withRegistry(paths, work);
}

describe('an inline cache, read from the image that carries it', () => {
  const at = (address: string) =>
    ({ kind: 'inline', address, repository: 'lost-layer/cache', tag: 'latest' }) as const;

  it("v0.9.0: records only, their layers the image's two; COPY and the empty RUN after it share one result", async () => {
    const config = await withInlineImage('v0.9.0', (address) => readCacheConfig(at(address)));
    assert.deepEqual(
      config.layers.map((l) => l.parent),
      [-1, 0],
    );
    assert.equal(config.layers[1]?.blob.slice(0, 19), 'sha256:22cf185a2993');
    const shared = sharedResults(config);
    assert.equal(shared.length, 1);
    assert.deepEqual(shared[0]?.layer, { blob: config.layers[1]?.blob, chainLength: 2 });
  });

  it('v0.34.2: four layers (empty ones kept), no shared result', async () => {
    const config = await withInlineImage('v0.34.2', (address) => readCacheConfig(at(address)));
    assert.equal(config.layers.length, 4);
    assert.deepEqual(sharedResults(config), []);
  });

  it('no image at the tag, an image whose config carries no inline cache or not a list of records: an inspection error', async () => {
    const refused = (message: RegExp, edit?: (config: Record<string, unknown>) => void, tag = 'latest') =>
      withInlineImage(
        'v0.9.0',
        (address) =>
          assert.rejects(
            readCacheConfig({ ...at(address), tag }),
            (error: unknown) => error instanceof InspectionError && message.test(error.message),
          ),
        edit,
      );
    await refused(/HTTP 404/, undefined, 'other');
    await refused(/carries no inline cache \(moby\.buildkit\.cache\.v0\)/, (config) => {
      delete config['moby.buildkit.cache.v0'];
    });
    await refused(/is not the list of records BuildKit writes/, (config) => {
      config['moby.buildkit.cache.v0'] = Buffer.from('{"layers":[],"records":[]}').toString('base64');
    });
  });
});
