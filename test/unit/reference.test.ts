import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forgetReference, savedReference, saveReference } from '../../src/attempts/reference.js';
import { recordingLog } from '../support/fake-daemons.js';

const fixture = fileURLToPath(new URL('../../fixtures/oci/v0.9.0-reference.oci.tar', import.meta.url));
const repro = fileURLToPath(new URL('../../fixtures/repro', import.meta.url));
/** The bundled reproduction's inputs. */
const inputs = { dockerfile: path.join(repro, 'Dockerfile'), context: repro };
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reference-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A run's folder holding the reference its cache build wrote, and a cache-dir beside it. */
function run(): { workDir: string; cacheDir: string } {
  const workDir = fs.mkdtempSync(path.join(root, 'run-'));
  fs.copyFileSync(fixture, path.join(workDir, 'reference.oci.tar'));
  const cacheDir = path.join(workDir, 'kept-cache');
  fs.mkdirSync(cacheDir);
  return { workDir, cacheDir };
}

describe('the reference kept beside a cache', () => {
  it('is kept with the release that built it, and read back by a later run of the same output type and inputs', async () => {
    const { workDir, cacheDir } = run();
    const settings = { cacheType: 'local' as const, cacheDir, outputType: 'oci' as const, ...inputs };
    saveReference(settings, workDir, 'v0.9.0', recordingLog());
    const saved = await savedReference(settings);
    assert.ok(typeof saved !== 'string', saved as string);
    assert.equal(saved.buildkitVersion, 'v0.9.0');
    assert.equal(saved.kind, 'cache-build');
    assert.equal(saved.output.image?.layers.length, 2);
    assert.match(
      String(await savedReference({ ...settings, outputType: 'tar' })),
      /holds no reference of a tar output/,
    );
    // Other inputs: another Dockerfile, or a context file changed.
    const other = fs.mkdtempSync(path.join(root, 'ctx-'));
    fs.cpSync(repro, other, { recursive: true });
    fs.appendFileSync(path.join(other, 'repro.txt'), 'more\n');
    const changed = await savedReference({
      ...settings,
      dockerfile: path.join(other, 'Dockerfile'),
      context: other,
    });
    assert.equal(changed, 'its kept reference was built from another Dockerfile or context');
    // Made again: the kept reference is another build's until the new one is kept.
    forgetReference(settings);
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });

  it('is not kept when the cache goes with the run (no cache-dir, or a registry cache)', () => {
    const { workDir, cacheDir } = run();
    saveReference(
      { cacheType: 'local', cacheDir: '', outputType: 'oci', ...inputs },
      workDir,
      'v0.9.0',
      recordingLog(),
    );
    saveReference(
      { cacheType: 'registry', cacheDir, outputType: 'oci', ...inputs },
      workDir,
      'v0.9.0',
      recordingLog(),
    );
    assert.deepEqual(fs.readdirSync(cacheDir), []);
    assert.equal(fs.existsSync(path.join(workDir, 'cache')), false);
  });

  it('is none when the cache-dir holds none (a cache something else made)', async () => {
    const { cacheDir } = run();
    assert.match(
      String(await savedReference({ cacheType: 'local', cacheDir, outputType: 'oci', ...inputs })),
      /holds no reference/,
    );
  });
});
