import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type FileEntry,
  type ImageLayer,
  mergedTree,
  type OciImage,
  readOciImage,
} from '../../src/inspection/oci-image.js';
import { MEDIA_TYPES } from '../../src/inspection/oci-types.js';
import { InspectionError, inspectTarball } from '../../src/inspection/tarball.js';

/** The paths of an image's filesystem, whiteouts applied. */
const paths = (image: OciImage) => new Set(mergedTree(image).keys());
import {
  editImage,
  type Layout,
  putBlob,
  readLayout,
  setLayer,
  tarOf,
  writeLayout,
} from '../support/oci-edit.js';

// Real OCI layouts written by BuildKit v0.9.0 on the test bed (fixtures/README.md).
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/oci/${name}.oci.tar`, import.meta.url));
const referenceFile = fixture('v0.9.0-reference');
const lostFile = fixture('v0.9.0-lost-layer');
const wholeRootfs = fileURLToPath(new URL('../../fixtures/tarballs/v0.9.0-whole.tar', import.meta.url));
const reproTxt = fileURLToPath(new URL('../../fixtures/repro/repro.txt', import.meta.url));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-test-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

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
      reference.history.map((h) => [h.createdBy, h.emptyLayer, h.comment]),
      [
        ['', false, 'Imported from -'],
        ['RUN echo 1', true, 'buildkit.dockerfile.v0'],
        ['COPY repro.txt /', false, 'buildkit.dockerfile.v0'],
        ['RUN echo 2', true, 'buildkit.dockerfile.v0'],
      ],
    );
    assert.deepEqual(reference.layers[1]?.files, ['repro.txt']);
    assert.ok(paths(reference).has('repro.txt'));
    assert.ok(paths(reference).has('bin/busybox'));
  });

  it('sees the broken image as BuildKit wrote it: one layer fewer, COPY marked empty, no repro.txt', () => {
    assert.equal(lost.layers.length, 1);
    assert.equal(lost.history.find((h) => h.createdBy === 'COPY repro.txt /')?.emptyLayer, true);
    assert.equal(paths(lost).has('repro.txt'), false);
  });

  it('types the config as BuildKit wrote it: platform, Env, Cmd, Labels, OnBuild null, rootfs, history', () => {
    const { config } = reference;
    assert.equal(config.os, 'linux');
    assert.equal(config.architecture, 'amd64');
    assert.equal(config.variant, undefined);
    assert.deepEqual(config.config?.Env, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.deepEqual(config.config?.Cmd, ['/bin/sh']);
    assert.equal(config.config?.Entrypoint, undefined);
    assert.equal(config.config?.OnBuild, null);
    assert.equal(config.config?.Labels?.['dev.lost-layer.testbed'], 'true');
    assert.equal(config.created, '2026-11-28T10:20:02.870359895Z');
    assert.equal(config.rootfs.type, 'layers');
    assert.deepEqual(
      config.rootfs.diff_ids,
      reference.layers.map((l) => l.diffId),
    );
    assert.equal(config.history?.[2]?.created_by, 'COPY repro.txt / # buildkit');
  });

  it('keeps fields the schema does not name: v0.10.6 writes moby.buildkit.buildinfo.v1', async () => {
    const image = await readOciImage(fixture('v0.10.6-reference'));
    assert.equal(typeof image.config['moby.buildkit.buildinfo.v1'], 'string');
  });
});

describe('FileEntry of each layer entry, on the v0.9.0 reference', () => {
  let layers: ImageLayer[];
  before(async () => {
    layers = (await readOciImage(referenceFile)).layers;
  });
  const entry = (layer: number, file: string) => layers[layer - 1]?.entries.find((e) => e.path === file);

  it("layer 2's repro.txt: a regular file whose sha256 is that of fixtures/repro/repro.txt", () => {
    const content = fs.readFileSync(reproTxt);
    assert.deepEqual(layers[1]?.entries, [
      {
        path: 'repro.txt',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: content.length,
        sha256: sha256(content),
        linkname: '',
      },
    ]);
  });

  it("busybox's applets are symlinks to busybox; busybox is the rootfs tarball's, byte for byte", async () => {
    const links = layers[0]?.entries.filter((e) => e.path.startsWith('bin/') && e.path !== 'bin/busybox');
    assert.equal(links?.length, 268);
    for (const link of links ?? []) {
      assert.deepEqual([link.type, link.linkname, link.size, link.sha256], ['symlink', 'busybox', 0, '']);
    }
    const busybox = entry(1, 'bin/busybox');
    assert.equal(busybox?.type, 'file');
    const rootfs = (await inspectTarball(wholeRootfs, [])).files.find((e) => e.path === 'bin/busybox');
    assert.deepEqual([busybox?.size, busybox?.sha256], [rootfs?.size, rootfs?.sha256]);
    assert.equal(busybox?.size, 1982256);
  });

  it('directories with their mode (the sticky bit of tmp kept), and entries in the order of files', () => {
    assert.deepEqual([entry(1, 'tmp')?.type, entry(1, 'tmp')?.mode], ['directory', 0o1777]);
    assert.deepEqual([entry(1, 'etc')?.type, entry(1, 'etc')?.mode], ['directory', 0o755]);
    for (const layer of layers) {
      assert.deepEqual(
        layer.entries.map((e) => e.path),
        layer.files,
      );
    }
  });
});

describe('mergedTree: layers in order, whiteouts applied', () => {
  let image: OciImage;
  before(async () => {
    // The reference (busybox, then repro.txt) with two layers of our own on top.
    const layout = await readLayout(referenceFile);
    const upper = await tarOf([
      { name: 'etc/.wh.passwd' },
      { name: 'bin/sh', type: 'symlink', linkname: '/opt/shell' },
      { name: 'bin/.wh..wh..opq' },
      { name: 'repro.txt', body: 'replaced\n', mode: 0o600, uid: 1000, gid: 1000 },
      { name: 'tmp/new.txt', body: 'new\n' },
    ]);
    const top = await tarOf([{ name: '.wh.tmp' }, { name: 'opt/shell', body: '#!/bin/sh\n', mode: 0o755 }]);
    editImage(layout, (docs) => {
      setLayer(layout, docs, 3, upper);
      setLayer(layout, docs, 4, top);
    });
    image = await readOciImage(await writeLayout(layout, dir, 'whiteouts.oci.tar'));
  });

  it('a whiteout hides the lower file; an opaque directory hides what lower layers hold under it', () => {
    const tree = mergedTree(image);
    assert.equal(tree.has('etc/passwd'), false);
    assert.equal(tree.get('etc/group')?.type, 'file');
    assert.equal(tree.has('bin/busybox'), false);
    // The directory itself stays (the lower layer's entry), with what the opaque layer put in it.
    assert.equal(tree.get('bin')?.type, 'directory');
    assert.deepEqual(
      [...tree.keys()].filter((p) => p.startsWith('bin/')),
      ['bin/sh'],
    );
    assert.deepEqual([tree.get('bin/sh')?.type, tree.get('bin/sh')?.linkname], ['symlink', '/opt/shell']);
  });

  it('a whiteout of a directory hides all under it, what its own layer added too', () => {
    const tree = mergedTree(image);
    assert.deepEqual(
      [...tree.keys()].filter((p) => p === 'tmp' || p.startsWith('tmp/')),
      [],
    );
    assert.equal(tree.get('opt/shell')?.mode, 0o755);
  });

  it('a later entry of a path replaces the lower one; no .wh. entry is in the tree, all are in the layers', () => {
    const tree = mergedTree(image);
    const repro = tree.get('repro.txt');
    assert.deepEqual(
      [repro?.sha256, repro?.mode, repro?.uid, repro?.gid],
      [sha256(Buffer.from('replaced\n')), 0o600, 1000, 1000],
    );
    assert.deepEqual(
      [...tree.keys()].filter((p) => p.includes('.wh.')),
      [],
    );
    assert.deepEqual(
      image.layers.flatMap((l) => l.files).filter((p) => p.includes('.wh.')),
      ['etc/.wh.passwd', 'bin/.wh..wh..opq', '.wh.tmp'],
    );
  });
});

describe('mergedTree: whiteouts', () => {
  const entryAt = (file: string): FileEntry => ({
    path: file,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    sha256: '',
    linkname: '',
  });
  const layer = (position: number, files: string[]): ImageLayer => ({
    position,
    digest: `sha256:${position}`,
    diffId: `sha256:d${position}`,
    size: 1,
    mediaType: '',
    files,
    entries: files.map(entryAt),
  });
  it('applies whiteouts and opaque directories of later layers', () => {
    const image: OciImage = {
      manifestDigest: '',
      configDigest: '',
      history: [],
      config: { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } },
      layers: [
        layer(1, ['etc', 'etc/a', 'etc/b', 'opt', 'opt/x', 'opt/y', 'keep']),
        // The opaque marker after opt/z in the tar: it hides lower layers only, not opt/z.
        layer(2, ['etc/.wh.a', 'opt/z', 'opt/.wh..wh..opq']),
      ],
    };
    assert.deepEqual([...paths(image)].sort(), ['etc', 'etc/b', 'keep', 'opt', 'opt/z']);
  });
});

describe('readOciImage on other layouts', () => {
  let layout: Layout;
  before(async () => {
    layout = await readLayout(referenceFile);
  });
  const copy = (): Layout => ({ files: new Map(layout.files) });

  it('reads Docker media types: manifest v2 in a manifest list, a container image config', async () => {
    const docker = copy();
    editImage(docker, (docs) => {
      docs.manifest.mediaType = MEDIA_TYPES.dockerManifest;
      docs.manifest.config.mediaType = MEDIA_TYPES.dockerConfig;
    });
    // index.json → a manifest list → the manifest.
    const index = JSON.parse(String(docker.files.get('index.json'))) as { manifests: object[] };
    const manifestRef = { ...index.manifests[0], mediaType: MEDIA_TYPES.dockerManifest };
    const list = putBlob(
      docker,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.dockerManifestList,
          manifests: [{ ...manifestRef, platform: { os: 'linux', architecture: 'amd64' } }],
        }),
      ),
    );
    const root = { schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.dockerManifestList, ...list }] };
    docker.files.set('index.json', Buffer.from(JSON.stringify(root)));
    const image = await readOciImage(await writeLayout(docker, dir, 'docker.oci.tar'));
    assert.deepEqual(image.layers[1]?.files, ['repro.txt']);
  });

  it('follows a nested index past an attestation manifest (platform unknown/unknown)', async () => {
    const nested = copy();
    const index = JSON.parse(String(nested.files.get('index.json'))) as { manifests: object[] };
    const notAnImage = putBlob(nested, Buffer.from('{"schemaVersion":2}'));
    const attestation = {
      mediaType: MEDIA_TYPES.ociManifest,
      ...notAnImage,
      platform: { os: 'unknown', architecture: 'unknown' },
    };
    const inner = putBlob(
      nested,
      Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [attestation, index.manifests[0]] })),
    );
    const root = { schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociIndex, ...inner }] };
    nested.files.set('index.json', Buffer.from(JSON.stringify(root)));
    const image = await readOciImage(await writeLayout(nested, dir, 'nested.oci.tar'));
    assert.equal(image.layers.length, 2);
  });

  it('refuses an index that points at no image manifest, or at a blob of another kind', async () => {
    for (const [manifests, message] of [
      [[], /lists no image manifest/],
      [
        [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
        /points at a .*layer.*, not at an image/,
      ],
    ] as const) {
      const odd = copy();
      const index = JSON.parse(String(odd.files.get('index.json'))) as { manifests: object[] };
      const ref = index.manifests[0];
      index.manifests = manifests.map((fields) => ({ ...ref, ...fields }));
      odd.files.set('index.json', Buffer.from(JSON.stringify(index)));
      await assert.rejects(
        readOciImage(await writeLayout(odd, dir, 'odd-index.oci.tar')),
        (error) => error instanceof InspectionError && message.test(error.message),
      );
    }
  });

  it('names the wrong field of a document that does not match its schema', async () => {
    const wrong = copy();
    editImage(wrong, (docs) => {
      Object.assign(docs.config, { os: 7 });
    });
    await assert.rejects(
      readOciImage(await writeLayout(wrong, dir, 'schema.oci.tar')),
      (error) =>
        error instanceof InspectionError &&
        /is not an image config: os: .*expected string/.test(error.message),
    );
  });
});

describe('readOciImage on damaged input', () => {
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
    await assert.rejects(readOciImage(wholeRootfs), InspectionError);
  });
});
