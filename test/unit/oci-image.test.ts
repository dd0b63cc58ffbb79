import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { diagnose } from '../../src/inspection/diagnosis.js';
import { inspectOutput } from '../../src/inspection/output-types.js';
import { imagePaths, type OciImage, readOciImage } from '../../src/inspection/oci-image.js';
import { InspectionError } from '../../src/inspection/tarball.js';

// Real OCI layouts written by BuildKit v0.9.0 on the test bed (fixtures/README.md).
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/oci/${name}.oci.tar`, import.meta.url));
const referenceFile = fixture('v0.9.0-reference');
const lostFile = fixture('v0.9.0-lost-layer');
const wholeFile = fixture('v0.9.0-whole');

describe('readOciImage on v0.9.0 images', () => {
  let reference: OciImage;
  let lost: OciImage;
  before(async () => {
    reference = await readOciImage(referenceFile);
    lost = await readOciImage(lostFile);
  });

  it('reads index → manifest → config → layers of the reference', () => {
    assert.equal(reference.layers.length, 2);
    assert.deepEqual(
      reference.history.map((h) => [h.createdBy, h.emptyLayer]),
      [
        ['', false],
        ['RUN echo 1', true],
        ['COPY repro.txt /', false],
        ['RUN echo 2', true],
      ],
    );
    assert.deepEqual(reference.layers[1]?.files, ['repro.txt']);
    assert.ok(imagePaths(reference).has('repro.txt'));
    assert.ok(imagePaths(reference).has('bin/busybox'));
  });

  it('sees the broken image as BuildKit wrote it: one layer fewer, COPY marked empty, no repro.txt', () => {
    assert.equal(lost.layers.length, 1);
    assert.equal(lost.history.find((h) => h.createdBy === 'COPY repro.txt /')?.emptyLayer, true);
    assert.equal(imagePaths(lost).has('repro.txt'), false);
  });

  it('names the lost layer: position, digest, size, file count and the COPY instruction', () => {
    const diagnosis = diagnose(reference, lost);
    assert.equal(diagnosis.lostLayers.length, 1);
    const [layer] = diagnosis.lostLayers;
    assert.equal(layer?.position, 2);
    assert.equal(layer?.createdBy, 'COPY repro.txt /');
    assert.equal(layer?.digest, reference.layers[1]?.digest);
    assert.equal(layer?.size, 177);
    assert.equal(layer?.files, 1);
    assert.deepEqual(diagnosis.unexpectedLayers, []);
  });

  it('finds nothing lost in a whole image from the cache, though v0.9.0 mislabels its history', async () => {
    const whole = await readOciImage(wholeFile);
    const diagnosis = diagnose(reference, whole);
    assert.deepEqual(diagnosis.lostLayers, []);
    assert.deepEqual(
      diagnosis.historyChanges.map((c) => c.createdBy),
      ['RUN echo 1', 'COPY repro.txt /'],
    );
    const check = await inspectOutput(wholeFile, 'oci', ['repro.txt'], reference);
    assert.deepEqual([check.missingPaths, check.lostLayers], [[], []]);
  });

  it('does not call a rebuilt layer lost: a layer replaced by another is a difference, not a loss', () => {
    const copyLayer = reference.layers[1];
    assert.ok(copyLayer);
    const rebuilt: OciImage = {
      ...lost,
      layers: [...lost.layers, { ...copyLayer, diffId: 'sha256:other', digest: 'sha256:other' }],
    };
    const diagnosis = diagnose(reference, rebuilt);
    assert.deepEqual(diagnosis.lostLayers, []);
    assert.deepEqual(
      diagnosis.unexpectedLayers.map((l) => l.diffId),
      ['sha256:other'],
    );
  });

  it('inspectOutput reports the loss by layer and by path', async () => {
    const check = await inspectOutput(lostFile, 'oci', ['repro.txt', 'etc/passwd'], reference);
    assert.deepEqual(check.missingPaths, ['repro.txt']);
    assert.deepEqual(
      check.lostLayers.map((l) => l.createdBy),
      ['COPY repro.txt /'],
    );
  });
});

describe('readOciImage on damaged input', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('rejects a copy cut in the middle', async () => {
    const bytes = fs.readFileSync(referenceFile);
    await assert.rejects(readOciImage(write('cut.tar', bytes.subarray(0, 600_000))), InspectionError);
  });

  it('rejects a blob whose bytes do not match its digest', async () => {
    const bytes = Buffer.from(fs.readFileSync(referenceFile));
    // Flip a byte inside the big layer blob (its data starts after the first headers).
    bytes[200_000] = (bytes[200_000] ?? 0) ^ 0xff;
    await assert.rejects(readOciImage(write('flipped.tar', bytes)), InspectionError);
  });

  it('rejects a rootfs tarball, which has no index.json', async () => {
    const rootfs = fileURLToPath(new URL('../../fixtures/tarballs/v0.9.0-whole.tar', import.meta.url));
    await assert.rejects(readOciImage(rootfs), InspectionError);
  });
});

describe('imagePaths', () => {
  const layer = (position: number, files: string[]) => ({
    position,
    digest: `sha256:${position}`,
    diffId: `sha256:d${position}`,
    size: 1,
    mediaType: '',
    files,
  });
  it('applies whiteouts and opaque directories of later layers', () => {
    const image: OciImage = {
      manifestDigest: '',
      configDigest: '',
      history: [],
      layers: [
        layer(1, ['etc', 'etc/a', 'etc/b', 'opt', 'opt/x', 'opt/y', 'keep']),
        // The opaque marker after opt/z in the tar: it hides lower layers only, not opt/z.
        layer(2, ['etc/.wh.a', 'opt/z', 'opt/.wh..wh..opq']),
      ],
    };
    assert.deepEqual([...imagePaths(image)].sort(), ['etc', 'etc/b', 'keep', 'opt', 'opt/z']);
  });
});

// A cache made by v0.10.6 (which keeps empty layers) imported by v0.9.0 (which drops them): fixtures/README.md.
describe('diagnose across releases that differ on empty layers', () => {
  let madeBy0106: OciImage;
  let importedBy090: OciImage;
  before(async () => {
    madeBy0106 = await readOciImage(fixture('v0.10.6-reference'));
    importedBy090 = await readOciImage(fixture('v0.9.0-from-v0.10.6-cache'));
  });
  const withoutCopyLayer = (image: OciImage): OciImage => ({
    ...image,
    layers: image.layers.filter((l) => !l.files.includes('repro.txt')),
  });

  it('the reference keeps two empty layers; the v0.9.0 image has none, and holds the same files', () => {
    assert.deepEqual(
      madeBy0106.layers.map((l) => l.files.length > 0),
      [true, false, true, false],
    );
    assert.deepEqual(
      importedBy090.layers.map((l) => l.files.length > 0),
      [true, true],
    );
    assert.deepEqual([...imagePaths(importedBy090)].sort(), [...imagePaths(madeBy0106)].sort());
  });

  it('empty layers that one release leaves out are not lost layers', () => {
    const diagnosis = diagnose(madeBy0106, importedBy090);
    assert.deepEqual(diagnosis.lostLayers, []);
    assert.deepEqual(diagnosis.unexpectedLayers, []);
  });

  it('the COPY layer missing is still lost, with or without empty layers on either side', () => {
    for (const [reference, attempt] of [
      [madeBy0106, withoutCopyLayer(importedBy090)],
      // Empty layers in the attempt that the reference lacks do not hide the loss.
      [importedBy090, withoutCopyLayer(madeBy0106)],
    ] as const) {
      const diagnosis = diagnose(reference, attempt);
      assert.deepEqual(
        diagnosis.lostLayers.map((l) => [l.createdBy, l.files]),
        [['COPY repro.txt /', 1]],
      );
    }
  });
});
