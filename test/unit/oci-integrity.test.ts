import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readOciImage } from '../../src/inspection/oci-image.js';
import { InspectionError } from '../../src/inspection/tarball.js';
import {
  blob,
  blobPath,
  editImage,
  type Layout,
  layerTar,
  readDocs,
  readLayout,
  GZIP_LAYER,
  PLAIN_LAYER,
  setLayer,
  ZSTD_LAYER,
  withoutEndMarker,
  writeLayout,
} from '../support/oci-edit.js';

/*
 * One test per check of readOciImage, each named after the check. Every input is the real v0.9.0 reference
 * with one thing broken and everything else made consistent again (digests, sizes, diff_ids re-computed), so
 * that only the check under test can refuse it; each test asserts that check's own message. Deleting the
 * check makes its test fail (see the mutation table in the change that added them). The control test proves
 * that a layout written back unchanged still reads.
 */

const referenceFile = fileURLToPath(new URL('../../fixtures/oci/v0.9.0-reference.oci.tar', import.meta.url));

let dir: string;
let reference: Layout;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-integrity-'));
  reference = await readLayout(referenceFile);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of the reference layout to break; blobs are replaced, never changed in place. */
const copy = (): Layout => ({ files: new Map(reference.files) });
let written = 0;
const write = (layout: Layout, options?: { endMarker?: boolean }) =>
  writeLayout(layout, dir, `edited-${++written}.oci.tar`, options);

async function rejectsWith(file: string, message: RegExp): Promise<void> {
  await assert.rejects(readOciImage(file), (error) => {
    assert.ok(error instanceof InspectionError, `not an InspectionError: ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('readOciImage integrity checks, each pinned by an edited fixture', () => {
  it('control: the reference written back unchanged, and re-digested, reads with its two layers', async () => {
    const unchanged = await readOciImage(await write(copy()));
    const redigested = copy();
    editImage(redigested, () => undefined);
    const image = await readOciImage(await write(redigested));
    assert.deepEqual(
      [unchanged.layers.length, image.layers.length, image.layers[1]?.files],
      [2, 2, ['repro.txt']],
    );
  });

  it('blob digest: a config byte changed (still JSON, same size), its name left', async () => {
    const layout = copy();
    const { manifest } = readDocs(layout);
    const bytes = Buffer.from(blob(layout, manifest.config.digest));
    const at = bytes.indexOf('"true"') + 3;
    bytes[at] = 'U'.charCodeAt(0); // "true" → "trUe"
    layout.files.set(blobPath(manifest.config.digest), bytes);
    await rejectsWith(await write(layout), /blob sha256:[a-f0-9]{64} does not match its digest/);
  });

  it('archive end-of-archive marker: the layout cut exactly where its end marker starts', async () => {
    await rejectsWith(await write(copy(), { endMarker: false }), /ends before the tar end-of-archive marker/);
  });

  it('layer end-of-archive marker: layer 2 a tar cut before its marker, re-gzipped, all else consistent', async () => {
    const layout = copy();
    editImage(layout, (docs) => setLayer(layout, docs, 2, withoutEndMarker(layerTar(layout, docs, 2))));
    await rejectsWith(await write(layout), /holds a tarball that ends before its end-of-archive marker/);
  });

  it('one diff_id per manifest layer: a config listing one diff_id fewer, or one more, re-digested', async () => {
    for (const edit of [(ids: string[]) => ids.pop(), (ids: string[]) => ids.push(ids[0] ?? '')]) {
      const layout = copy();
      editImage(layout, (docs) => edit(docs.config.rootfs.diff_ids));
      await rejectsWith(await write(layout), /does not list one diff_id for every layer/);
    }
  });

  it("layer diff_id: a config naming layer 1's diff_id for layer 2, re-digested", async () => {
    const layout = copy();
    editImage(layout, (docs) => {
      const ids = docs.config.rootfs.diff_ids;
      ids[1] = ids[0] ?? '';
    });
    await rejectsWith(
      await write(layout),
      /layer 2's content has diff_id sha256:c04dd449\w+, the config says sha256:11e79cab\w+/,
    );
  });

  it("descriptor size: layer 2's descriptor one byte too large, the manifest re-digested", async () => {
    const layout = copy();
    editImage(layout, (docs) => {
      const layer = docs.manifest.layers[1];
      if (layer) layer.size += 1;
    });
    await rejectsWith(await write(layout), /the layer 2 sha256:\w+ has 177 bytes, its descriptor says 178/);
  });

  it('index.json present: a layout without it', async () => {
    const layout = copy();
    layout.files.delete('index.json');
    await rejectsWith(await write(layout), /has no index\.json/);
  });

  it('manifest present: a layout without its manifest blob', async () => {
    const layout = copy();
    layout.files.delete(blobPath(readDocs(layout).index.manifests[0]?.digest ?? ''));
    await rejectsWith(await write(layout), /the manifest sha256:\w+ is not in the tarball/);
  });

  it('config present: a layout without its config blob', async () => {
    const layout = copy();
    layout.files.delete(blobPath(readDocs(layout).manifest.config.digest));
    await rejectsWith(await write(layout), /the config sha256:\w+ is not in the tarball/);
  });

  it('layer present: a layout without the blob of layer 2', async () => {
    const layout = copy();
    layout.files.delete(blobPath(readDocs(layout).manifest.layers[1]?.digest ?? ''));
    await rejectsWith(await write(layout), /the layer 2 sha256:\w+ is not in the tarball/);
  });

  it('layer is a tarball: layer 2 replaced by bytes that are no tarball, gzip, zstd or plain', async () => {
    const layout = copy();
    editImage(layout, (docs) => {
      const bytes = Buffer.alloc(4096, 'not a layer ');
      setLayer(layout, docs, 2, bytes, { compress: (b) => b, mediaType: PLAIN_LAYER.mediaType });
    });
    await rejectsWith(await write(layout), /layer 2 \(sha256:\w+\) is not a tarball, gzip, zstd or plain/);
  });

  for (const [bytes, typeName, encoding, mediaType] of [
    ['zstd', '+gzip', ZSTD_LAYER, GZIP_LAYER.mediaType],
    ['gzip', 'plain .tar', GZIP_LAYER, PLAIN_LAYER.mediaType],
  ] as const) {
    it(`layer media type names its compression: layer 2 ${bytes} bytes under a ${typeName} media type`, async () => {
      const layout = copy();
      editImage(layout, (docs) =>
        setLayer(layout, docs, 2, layerTar(layout, docs, 2), { ...encoding, mediaType }),
      );
      const said = `is ${bytes}, its media type says ${mediaType}`;
      await assert.rejects(readOciImage(await write(layout)), (error: unknown) => {
        assert.ok(error instanceof InspectionError, String(error));
        assert.match(error.message, /^layer 2 \(sha256:\w+\) /);
        assert.ok(error.message.endsWith(said), error.message);
        return true;
      });
    });
  }
});

describe('readOciImage on the layer compressions BuildKit writes', () => {
  for (const [name, encoding] of [
    ['plain (.tar)', PLAIN_LAYER],
    ['zstd (+zstd)', ZSTD_LAYER],
  ] as const) {
    it(`layer 2 stored ${name}: read, with the same diff_id and files as gzip`, async () => {
      const gzip = await readOciImage(referenceFile);
      const layout = copy();
      editImage(layout, (docs) => setLayer(layout, docs, 2, layerTar(layout, docs, 2), encoding));
      const image = await readOciImage(await write(layout));
      assert.equal(image.layers[1]?.mediaType, encoding.mediaType);
      assert.equal(image.layers[1]?.diffId, gzip.layers[1]?.diffId);
      assert.deepEqual(image.layers[1]?.files, gzip.layers[1]?.files);
      assert.deepEqual(image.layers[1]?.entries, gzip.layers[1]?.entries);
    });
  }

  it('an empty layer stored plain (a tar of its end marker only, as v0.34.2 writes it): read, no files', async () => {
    const layout = copy();
    const empty = Buffer.alloc(1024);
    editImage(layout, (docs) => setLayer(layout, docs, 2, empty, PLAIN_LAYER));
    const image = await readOciImage(await write(layout));
    assert.equal(
      image.layers[1]?.digest,
      'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
    );
    assert.deepEqual(image.layers[1]?.files, []);
  });

  it(
    'a gzip layer corrupt early in its stream, its digest made consistent: an error, not a wait without end',
    { timeout: 20_000 },
    async () => {
      const layout = copy();
      editImage(layout, (docs) =>
        setLayer(layout, docs, 1, layerTar(layout, docs, 1), {
          ...GZIP_LAYER,
          compress: (tar) => {
            const gzip = Buffer.from(GZIP_LAYER.compress(tar));
            // 4 KiB flipped early in the stream: a place where zlib fails between two writes (found by probing).
            const at = Math.floor(gzip.length * 0.05);
            for (let i = at; i < at + 4096; i++) gzip.writeUInt8((gzip.readUInt8(i) ^ 0xff) & 0xff, i);
            return gzip;
          },
        }),
      );
      await assert.rejects(readOciImage(await write(layout)), /invalid|incorrect|unexpected|distance|check/i);
    },
  );

  it('a zstd layer cut short is an error of that layer', async () => {
    const layout = copy();
    editImage(layout, (docs) =>
      setLayer(layout, docs, 2, layerTar(layout, docs, 2), {
        ...ZSTD_LAYER,
        compress: (tar) => ZSTD_LAYER.compress(tar).subarray(0, 600),
      }),
    );
    await assert.rejects(readOciImage(await write(layout)), /zstd|end/);
  });
});
