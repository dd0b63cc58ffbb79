import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pack } from 'tar-stream';
import { InspectionError, inspectTarball } from '../../src/inspection/tarball.js';
import { tarOf } from '../support/oci-edit.js';

const tarballs = fileURLToPath(new URL('../../fixtures/tarballs/', import.meta.url));
const whole = path.join(tarballs, 'v0.9.0-whole.tar');
const lostLayer = path.join(tarballs, 'v0.9.0-lost-layer.tar');

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tarball-test-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, contents: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents);
  return file;
}

/** A tarball written by tar-stream, with the entries named exactly as given. */
async function makeTarball(
  entries: { name: string; type?: 'file' | 'directory'; body?: string }[],
): Promise<Buffer> {
  const packer = pack();
  for (const entry of entries) {
    if (entry.type === 'directory') packer.entry({ name: entry.name, type: 'directory' });
    else packer.entry({ name: entry.name }, entry.body ?? '');
  }
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of packer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Byte offsets and names of the headers of a plain ustar archive. */
function entryOffsets(tar: Buffer): { headers: { offset: number; name: string }[] } {
  const headers: { offset: number; name: string }[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    headers.push({ offset, name: field(0, 100) });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return { headers };
}

const isInspectionError = (error: unknown) => error instanceof InspectionError;

describe('inspectTarball on the real BuildKit v0.9.0 tarballs', () => {
  it('finds repro.txt in the whole image', async () => {
    const contents = await inspectTarball(whole, ['repro.txt']);
    assert.deepEqual(contents.missingPaths, []);
    assert.ok(contents.entries > 0);
  });

  it('finds repro.txt missing from the image that lost its layer', async () => {
    const contents = await inspectTarball(lostLayer, ['repro.txt']);
    assert.deepEqual(contents.missingPaths, ['repro.txt']);
    assert.ok(contents.entries > 0);
  });

  it('counts one entry fewer in the image that lost the COPY layer', async () => {
    const [a, b] = await Promise.all([inspectTarball(whole, []), inspectTarball(lostLayer, [])]);
    assert.equal(a.entries - b.entries, 1);
    assert.equal(a.entries, entryOffsets(fs.readFileSync(whole)).headers.length);
  });

  it('normalises ./, leading / and trailing / in the expected paths', async () => {
    const expected = ['./etc/passwd', 'etc/', '/etc/passwd', 'bin/busybox', './repro.txt', 'bin//busybox'];
    assert.deepEqual((await inspectTarball(whole, expected)).missingPaths, []);
    assert.deepEqual((await inspectTarball(lostLayer, expected)).missingPaths, ['./repro.txt']);
  });

  it('lists missing paths as they were given, in their order', async () => {
    const contents = await inspectTarball(whole, ['no/such/file', 'etc/passwd', './nope/', 'repro.txt']);
    assert.deepEqual(contents.missingPaths, ['no/such/file', './nope/']);
  });

  it('does not take a prefix of an entry for the entry', async () => {
    assert.deepEqual((await inspectTarball(whole, ['repro', 'etc/pass'])).missingPaths, [
      'repro',
      'etc/pass',
    ]);
  });
});

describe('inspectTarball lists every entry as a FileEntry', () => {
  it("the whole image's files: repro.txt hashed as fixtures/repro/repro.txt, busybox's symlinks", async () => {
    const contents = await inspectTarball(whole, []);
    assert.equal(contents.files.length, contents.entries);
    const repro = fs.readFileSync(fileURLToPath(new URL('../../fixtures/repro/repro.txt', import.meta.url)));
    assert.deepEqual(
      contents.files.find((f) => f.path === 'repro.txt'),
      {
        path: 'repro.txt',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: repro.length,
        sha256: createHash('sha256').update(repro).digest('hex'),
        linkname: '',
      },
    );
    const links = contents.files.filter((f) => f.type === 'symlink');
    assert.equal(links.length, 268);
    assert.ok(links.every((l) => l.linkname === 'busybox' && l.path.startsWith('bin/') && l.sha256 === ''));
    assert.deepEqual(
      contents.files.filter((f) => f.type === 'directory').map((f) => [f.path, f.mode]),
      [
        ['bin', 0o755],
        ['dev', 0o755],
        ['etc', 0o755],
        ['proc', 0o755],
        ['sys', 0o755],
        ['tmp', 0o1777],
      ],
    );
  });

  it('types, modes with setuid, owners, link targets: a hardlink target normalised, a symlink as written', async () => {
    const file = tempFile(
      'kinds.tar',
      await tarOf([
        { name: './bin/', type: 'directory', mode: 0o755 },
        { name: './bin/su', body: 'su\n', mode: 0o4755, uid: 1000, gid: 50 },
        { name: './bin/su-again', type: 'link', linkname: './bin/su' },
        { name: 'bin/up', type: 'symlink', linkname: '../x/./y' },
      ]),
    );
    const { files } = await inspectTarball(file, []);
    assert.deepEqual(
      files.map((f) => [f.path, f.type, f.mode.toString(8), `${f.uid}:${f.gid}`, f.size, f.linkname]),
      [
        ['bin', 'directory', '755', '0:0', 0, ''],
        ['bin/su', 'file', '4755', '1000:50', 3, ''],
        ['bin/su-again', 'hardlink', '644', '0:0', 0, 'bin/su'],
        ['bin/up', 'symlink', '644', '0:0', 0, '../x/./y'],
      ],
    );
    assert.equal(files[1]?.sha256, createHash('sha256').update('su\n').digest('hex'));
  });
});

describe('inspectTarball on entries named with ./', () => {
  it('matches ./repro.txt and ./etc/ entries to plain expected paths', async () => {
    const file = tempFile(
      'dot-slash.tar',
      await makeTarball([
        { name: './etc/', type: 'directory' },
        { name: './repro.txt', body: 'x\n' },
      ]),
    );
    const contents = await inspectTarball(file, ['repro.txt', 'etc', '/etc/', 'missing.txt']);
    assert.equal(contents.entries, 2);
    assert.deepEqual(contents.missingPaths, ['missing.txt']);
  });
});

describe('inspectTarball on what is not a whole tarball', () => {
  it('rejects a truncated copy (its first 1000 bytes)', async () => {
    const file = tempFile('truncated.tar', fs.readFileSync(whole).subarray(0, 1000));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });

  it('rejects random bytes', async () => {
    const file = tempFile('random.tar', randomBytes(8192));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });

  it('rejects a text file', async () => {
    const file = tempFile('text.tar', Buffer.from('this is not a tarball\n'.repeat(100)));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });

  it('rejects an empty file', async () => {
    const file = tempFile('empty.tar', new Uint8Array(0));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });

  it('rejects a tarball with no entries (only the end-of-archive blocks)', async () => {
    const file = tempFile('no-entries.tar', await makeTarball([]));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });

  it('rejects a missing file', async () => {
    await assert.rejects(
      inspectTarball(path.join(dir, 'does-not-exist.tar'), ['repro.txt']),
      isInspectionError,
    );
  });

  it('rejects a copy cut off at an entry boundary, before repro.txt (no end-of-archive blocks)', async () => {
    const tar = fs.readFileSync(whole);
    const repro = entryOffsets(tar).headers.find((h) => h.name === 'repro.txt');
    assert.ok(repro, 'repro.txt is in the whole tarball');
    const file = tempFile('cut-before-repro.tar', tar.subarray(0, repro.offset));
    await assert.rejects(inspectTarball(file, ['repro.txt']), isInspectionError);
  });
});
