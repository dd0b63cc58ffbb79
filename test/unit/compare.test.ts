import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConfigComparison } from '../../src/inspection/compare.js';
import { mergedTree, readOciImage } from '../../src/inspection/oci-image.js';
import {
  type BuiltOutput,
  compareOutputs,
  configNotComparable,
  readOutput,
} from '../../src/inspection/output-types.js';
import type { ImageDifference } from '../../src/model/difference.js';
import { classify } from '../../src/verdict/classify.js';
import {
  editImage,
  type ImageDocs,
  type Layout,
  readDocs,
  readLayout,
  setLayer,
  tarOf,
  writeLayout,
} from '../support/oci-edit.js';

/*
 * Each class of difference on images BuildKit really wrote (fixtures/README.md), and on those images edited
 * as a broken cache would change them — a layer replaced, layers swapped, a duplicate dropped, a layer added,
 * Env and Cmd changed, empty_layer marks moved — each written back consistent (digests, sizes, diff_ids), so
 * that the reader accepts it and only the comparison can tell.
 */

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const COMPARED: ConfigComparison = { compared: true };
const EXPECT = ['repro.txt'];
/** fixtures/repro/repro.txt, the COPY layer's one file. */
const REPRO = fs.readFileSync(fixture('repro/repro.txt'));

let dir: string;
let referenceLayout: Layout;
let reference: BuiltOutput;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-'));
  referenceLayout = await readLayout(fixture('oci/v0.9.0-reference.oci.tar'));
  reference = await readOutput(fixture('oci/v0.9.0-reference.oci.tar'), 'oci');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let written = 0;
/** The reference with `edit` applied to its documents (and layers), read back as an attempt's output. */
async function edited(edit: (layout: Layout, docs: ImageDocs) => void): Promise<BuiltOutput> {
  const layout: Layout = { files: new Map(referenceLayout.files) };
  editImage(layout, (docs) => edit(layout, docs));
  return readOutput(await writeLayout(layout, dir, `edited-${++written}.oci.tar`), 'oci');
}

function judged(attempt: BuiltOutput, config: ConfigComparison = COMPARED) {
  const difference = compareOutputs('oci', reference, attempt, EXPECT, config);
  return { difference, kind: classify(difference) };
}

const paths = (d: ImageDifference) => d.files.map((f) => `${f.path} ${f.change}`);

describe('compareImages on images BuildKit wrote', () => {
  it('the reference against itself: intact', async () => {
    assert.deepEqual(judged(await readOutput(fixture('oci/v0.9.0-reference.oci.tar'), 'oci')).kind, 'intact');
  });

  it('the v0.9.0 image that lost its COPY layer: lost-layer, the layer, the path, and its history', async () => {
    const { difference, kind } = judged(await readOutput(fixture('oci/v0.9.0-lost-layer.oci.tar'), 'oci'));
    assert.equal(kind, 'lost-layer');
    assert.equal(difference.layerRelation, 'strict-subsequence');
    assert.deepEqual(
      difference.lostLayers.map((l) => [l.position, l.createdBy, l.files]),
      [[2, 'COPY repro.txt /', 1]],
    );
    assert.deepEqual(difference.missingPaths, ['repro.txt']);
    assert.deepEqual(paths(difference), ['repro.txt missing']);
    assert.deepEqual(
      difference.config.map((c) => [c.field, c.reference, c.attempt]),
      [['history 3 empty_layer (COPY repro.txt /)', 'false', 'true']],
    );
  });

  it('a whole v0.9.0 image from the cache, whose history marks moved: config-differs, naming both entries', async () => {
    const { difference, kind } = judged(await readOutput(fixture('oci/v0.9.0-whole.oci.tar'), 'oci'));
    assert.equal(kind, 'config-differs');
    assert.equal(difference.layerRelation, 'equal');
    assert.deepEqual(difference.files, [], 'equal layers: the filesystem is not walked');
    assert.deepEqual(
      difference.config.map((c) => [c.field, c.reference, c.attempt]),
      [
        ['history 2 empty_layer (RUN echo 1)', 'true', 'false'],
        ['history 3 empty_layer (COPY repro.txt /)', 'false', 'true'],
      ],
    );
  });

  it('a v0.10.6 cache imported by v0.9.0: its empty layers are no loss; config is not compared across releases', async () => {
    const madeBy = await readOutput(fixture('oci/v0.10.6-reference.oci.tar'), 'oci');
    const importedBy = await readOutput(fixture('oci/v0.9.0-from-v0.10.6-cache.oci.tar'), 'oci');
    const reason = 'the reference was built by BuildKit v0.10.6 and the attempts by v0.9.0';
    const difference = compareOutputs('oci', madeBy, importedBy, EXPECT, { compared: false, reason });
    assert.equal(classify(difference), 'intact');
    assert.equal(difference.layerRelation, 'equal');
    assert.equal(difference.configNotCompared, reason);
    // Compared anyway, the histories differ for the releases alone: why a cross-release run skips them.
    const across = compareOutputs('oci', madeBy, importedBy, EXPECT, COMPARED);
    assert.equal(classify(across), 'config-differs');
  });
});

describe('compareImages on edited images', () => {
  it('a layer replaced by another valid one (repro.txt with other bytes): content-differs, the place and the path', async () => {
    const poisoned = await tarOf([{ name: 'repro.txt', body: 'poisoned\n', mode: 0o644 }]);
    const attempt = await edited((layout, docs) => setLayer(layout, docs, 2, poisoned));
    const { difference, kind } = judged(attempt);
    assert.equal(kind, 'content-differs');
    assert.equal(difference.layerRelation, 'differs');
    assert.deepEqual(difference.missingPaths, [], 'the expected path is still there');
    assert.deepEqual(
      difference.layerChanges.map((c) => [c.place, c.reference?.createdBy, c.attempt?.position]),
      [[2, 'COPY repro.txt /', 2]],
    );
    assert.deepEqual(paths(difference), ['repro.txt content']);
    assert.match(difference.files[0]?.attempt ?? '', /^sha256:[0-9a-f]{64} \(9 B\)$/);
  });

  it('the same layers in another order: content-differs, though the filesystem is the same', async () => {
    const attempt = await edited((_layout, docs) => {
      docs.manifest.layers.reverse();
      docs.config.rootfs.diff_ids.reverse();
    });
    const { difference, kind } = judged(attempt);
    assert.equal(kind, 'content-differs');
    assert.equal(difference.layerRelation, 'differs');
    // The base layer moved: left out at its place, and in the attempt after the COPY layer.
    const base = reference.image?.layers[0]?.diffId;
    assert.deepEqual(
      difference.layerChanges.map((c) => [c.place, c.reference?.diffId, c.attempt?.diffId]),
      [
        [1, base, undefined],
        [2, undefined, base],
      ],
    );
    assert.deepEqual(difference.files, [], 'the same files, whatever the order');
  });

  it('a layer replaced and another dropped: content-differs, not a lost layer', async () => {
    const other = await tarOf([{ name: 'other.txt', body: 'x' }]);
    const attempt = await edited((layout, docs) => {
      setLayer(layout, docs, 1, other);
      docs.manifest.layers.splice(1, 1);
      docs.config.rootfs.diff_ids.splice(1, 1);
    });
    const { difference, kind } = judged(attempt, { compared: false, reason: 'history not edited' });
    assert.equal(difference.layerRelation, 'differs');
    assert.equal(kind, 'content-differs');
    assert.deepEqual(difference.lostLayers, []);
  });

  it('a layer the reference holds twice, kept once: content-differs, not a lost layer (its content is there)', async () => {
    // The reference with its COPY layer twice; the attempt is the real reference, with it once.
    const doubled = await edited((_layout, docs) => {
      const copy = docs.manifest.layers[1];
      const diffId = docs.config.rootfs.diff_ids[1];
      if (!copy || !diffId) throw new Error('no layer 2');
      docs.manifest.layers.push({ ...copy });
      docs.config.rootfs.diff_ids.push(diffId);
      docs.config.history?.push({ created_by: 'COPY repro.txt /again # buildkit' });
    });
    const difference = compareOutputs('oci', doubled, reference, EXPECT, { compared: false, reason: 'test' });
    assert.equal(difference.layerRelation, 'strict-subsequence');
    assert.deepEqual(difference.lostLayers, []);
    assert.equal(classify(difference), 'content-differs');
  });

  it('an extra layer: content-differs, naming the extra path', async () => {
    const extra = await tarOf([{ name: 'extra.txt', body: 'x' }]);
    const attempt = await edited((layout, docs) => setLayer(layout, docs, 3, extra));
    const { difference, kind } = judged(attempt, { compared: false, reason: 'history not edited' });
    assert.equal(kind, 'content-differs');
    assert.deepEqual(
      difference.layerChanges.map((c) => [c.place, c.reference, c.attempt?.position]),
      [[3, undefined, 3]],
    );
    assert.deepEqual(paths(difference), ['extra.txt extra']);
  });

  for (const [what, entry, change] of [
    ['mode', { name: 'repro.txt', body: REPRO, mode: 0o755 }, ['repro.txt mode', '0644', '0755']],
    [
      'owner',
      { name: 'repro.txt', body: REPRO, mode: 0o644, uid: 1000, gid: 1000 },
      ['repro.txt owner', '0:0', '1000:1000'],
    ],
    [
      'type',
      { name: 'repro.txt', type: 'symlink', linkname: 'etc/hostname', mode: 0o777 },
      ['repro.txt type', 'file', 'symlink'],
    ],
  ] as const) {
    it(`repro.txt with the same bytes but another ${what}: content-differs, naming the ${what}`, async () => {
      const layer = await tarOf([entry]);
      const { difference, kind } = judged(await edited((layout, docs) => setLayer(layout, docs, 2, layer)));
      assert.equal(kind, 'content-differs');
      assert.deepEqual(
        difference.files.map((f) => [`${f.path} ${f.change}`, f.reference, f.attempt]),
        [change],
      );
    });
  }

  it('a symlink with another target: content-differs, naming both targets', async () => {
    const link = (target: string) =>
      tarOf([{ name: 'repro.txt', type: 'symlink', linkname: target, mode: 0o777 }]);
    const [one, two] = [await link('a'), await link('b')];
    const ref = await edited((layout, docs) => setLayer(layout, docs, 2, one));
    const att = await edited((layout, docs) => setLayer(layout, docs, 2, two));
    const difference = compareOutputs('oci', ref, att, [], COMPARED);
    assert.deepEqual(
      difference.files.map((f) => [f.path, f.change, f.reference, f.attempt]),
      [['repro.txt', 'link', 'a', 'b']],
    );
  });

  it('every container-defining field, the platform and the history: each named, reference against attempt', async () => {
    const attempt = await edited((_layout, docs) => {
      docs.config.config = {
        ...(docs.config.config ?? {}),
        Entrypoint: ['/bin/sh'],
        WorkingDir: '/srv',
        User: '1000',
        ExposedPorts: { '8080/tcp': {} },
        Volumes: { '/data': {} },
        Labels: { a: 'b' },
        StopSignal: 'SIGKILL',
      };
      docs.config.architecture = 'arm64';
      const history = docs.config.history ?? [];
      const copy = history[2];
      if (copy) copy.created_by = 'COPY other.txt / # buildkit';
      history.push({ created_by: 'RUN echo 3', empty_layer: true });
    });
    const { difference, kind } = judged(attempt);
    assert.equal(kind, 'config-differs');
    assert.deepEqual(difference.config.map((c) => c.field).sort(), [
      'Entrypoint',
      'ExposedPorts',
      'Labels',
      'StopSignal',
      'User',
      'Volumes',
      'WorkingDir',
      'architecture',
      'history 3 created_by',
      'history length',
    ]);
    const byField = new Map(difference.config.map((c) => [c.field, c]));
    assert.deepEqual(
      [byField.get('architecture')?.reference, byField.get('architecture')?.attempt],
      ['"amd64"', '"arm64"'],
    );
    assert.deepEqual(
      [byField.get('history length')?.reference, byField.get('history length')?.attempt],
      ['4', '5'],
    );
  });

  it('other Env and Cmd: config-differs, each field reference against attempt', async () => {
    const attempt = await edited((_layout, docs) => {
      const config = docs.config.config ?? {};
      docs.config.config = { ...config, Env: ['PATH=/bin', 'DEBUG=1'], Cmd: ['sh', '-c', 'true'] };
    });
    const { difference, kind } = judged(attempt);
    assert.equal(kind, 'config-differs');
    const fields = new Map(difference.config.map((c) => [c.field, c]));
    assert.equal(fields.get('Env')?.attempt, '["PATH=/bin","DEBUG=1"]');
    assert.equal(fields.get('Cmd')?.attempt, '["sh","-c","true"]');
    assert.notEqual(fields.get('Cmd')?.reference, fields.get('Cmd')?.attempt);
  });

  it('empty_layer marks moved to other instructions: config-differs naming each entry', async () => {
    const attempt = await edited((_layout, docs) => {
      for (const entry of docs.config.history ?? []) {
        if (entry.created_by?.startsWith('RUN')) entry.empty_layer = !entry.empty_layer;
      }
    });
    const { difference, kind } = judged(attempt);
    assert.equal(kind, 'config-differs');
    assert.deepEqual(
      difference.config.map((c) => c.field),
      ['history 2 empty_layer (RUN echo 1)', 'history 4 empty_layer (RUN echo 2)'],
    );
  });

  it('timestamps and history comments are left out: an image that differs only in them is intact', async () => {
    const attempt = await edited((_layout, docs) => {
      docs.config.created = '2030-01-01T00:00:00Z';
      for (const entry of docs.config.history ?? []) {
        entry.created = '2030-01-01T00:00:00Z';
        entry.comment = 'another builder';
      }
    });
    assert.equal(judged(attempt).kind, 'intact');
  });
});

describe('a reference built again (a cache an earlier run made, kept without its reference)', () => {
  it('layers that differ only in their timestamps: compared by their files, intact; by diff_id they would differ', async () => {
    const at = (mtime: Date) => tarOf([{ name: 'repro.txt', body: REPRO, mode: 0o644, mtime }]);
    const [old, now] = [await at(new Date('2020-01-01')), await at(new Date('2026-12-01'))];
    const cached = await edited((layout, docs) => setLayer(layout, docs, 2, old));
    const rebuilt = await edited((layout, docs) => setLayer(layout, docs, 2, now));
    const byFiles = compareOutputs('oci', rebuilt, cached, EXPECT, COMPARED, 'rebuilt');
    assert.equal(classify(byFiles), 'intact');
    assert.equal(byFiles.layerRelation, 'not-compared');
    assert.match(byFiles.configNotCompared ?? '', /built again without a cache/);
    assert.equal(classify(compareOutputs('oci', rebuilt, cached, EXPECT, COMPARED)), 'content-differs');
    // Other bytes are still a difference.
    const poisoned = await tarOf([{ name: 'repro.txt', body: 'other\n', mode: 0o644 }]);
    const other = await edited((layout, docs) => setLayer(layout, docs, 2, poisoned));
    const changed = compareOutputs('oci', rebuilt, other, EXPECT, COMPARED, 'rebuilt');
    assert.equal(classify(changed), 'content-differs');
    assert.deepEqual(paths(changed), ['repro.txt content']);
  });
});

describe('a cache made from other inputs (cache-dockerfile, cache-context)', () => {
  it('steps that ran again: layers by their files, config and history held to the reference all the same', async () => {
    const at = (mtime: Date) => tarOf([{ name: 'repro.txt', body: REPRO, mode: 0o644, mtime }]);
    const [old, now] = [await at(new Date('2020-01-01')), await at(new Date('2026-12-01'))];
    const fromCache = await edited((layout, docs) => setLayer(layout, docs, 2, old));
    const reference = await edited((layout, docs) => setLayer(layout, docs, 2, now));
    const same = compareOutputs('oci', reference, fromCache, EXPECT, COMPARED, 'other-inputs');
    assert.equal(classify(same), 'intact');
    assert.equal(same.layerRelation, 'not-compared');
    assert.equal(same.configNotCompared, undefined, 'config compared');
    const otherEnv = await edited((layout, docs) => {
      setLayer(layout, docs, 2, old);
      docs.config.config = { ...docs.config.config, Env: ['STALE=1'] };
    });
    const stale = compareOutputs('oci', reference, otherEnv, EXPECT, COMPARED, 'other-inputs');
    assert.equal(classify(stale), 'config-differs');
    assert.deepEqual(
      stale.config.map((change) => change.field),
      ['Env'],
    );
    const notCompared = { compared: false as const, reason: 'another release' };
    const across = compareOutputs('oci', reference, otherEnv, EXPECT, notCompared, 'other-inputs');
    assert.equal(classify(across), 'intact');
    assert.equal(across.configNotCompared, 'another release');
    assert.equal(configNotComparable('oci', 'other-inputs'), undefined);
    assert.equal(configNotComparable('tar', 'other-inputs'), 'a tar output holds no image config');
  });
});

describe('the tar output (filesystem only)', () => {
  it("v0.9.0's rootfs without repro.txt: lost-layer by the expected path, the path named", async () => {
    const whole = await readOutput(fixture('tarballs/v0.9.0-whole.tar'), 'tar');
    const lost = await readOutput(fixture('tarballs/v0.9.0-lost-layer.tar'), 'tar');
    const difference = compareOutputs('tar', whole, lost, EXPECT, COMPARED);
    assert.equal(classify(difference), 'lost-layer');
    assert.deepEqual(paths(difference), ['repro.txt missing']);
    assert.equal(difference.configNotCompared, 'a tar output holds no image config');
    assert.equal(classify(compareOutputs('tar', whole, whole, EXPECT, COMPARED)), 'intact');
    // Another file missing, the expected paths all there: the filesystem differs.
    const other = compareOutputs('tar', lost, whole, [], COMPARED);
    assert.equal(classify(other), 'content-differs');
  });
});

describe('mergedTree', () => {
  it('a file in place of a lower folder replaces the folder and everything in it', async () => {
    const image = await readOciImage(fixture('oci/v0.9.0-reference.oci.tar'));
    const layout: Layout = { files: new Map(referenceLayout.files) };
    const docs = readDocs(layout);
    const folder = await tarOf([
      { name: 'srv/', type: 'directory' },
      { name: 'srv/inside.txt', body: 'in' },
    ]);
    setLayer(layout, docs, 3, folder);
    setLayer(layout, docs, 4, await tarOf([{ name: 'srv', body: 'now a file' }]));
    editImage(layout, (d) => Object.assign(d, { manifest: docs.manifest, config: docs.config }));
    const replaced = await readOciImage(await writeLayout(layout, dir, 'file-over-folder.oci.tar'));
    const tree = mergedTree(replaced);
    assert.equal(tree.get('srv')?.type, 'file');
    assert.equal(tree.has('srv/inside.txt'), false);
    assert.equal(mergedTree(image).has('srv'), false);
  });
});
