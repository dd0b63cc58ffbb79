import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BedSuite } from '../support/bed-suite.js';
import { leftovers } from '../support/leftovers.js';
import type { FuzzReport } from '../../src/fuzz/fuzz-result.js';

/**
 * The fuzzer through the bundled action, on the newest release of the bed: generated cases (some with a
 * changed version the cache is made from) on two backends, every one judged, nothing left of any case.
 */
describe('fuzz: true, through the action', () => {
  const suite = BedSuite.open();

  it('newest: every case judged against its own clean build, none a finding, nothing left', async () => {
    const newest = suite.bed.versions.at(-1) ?? '';
    const started = new Date();
    const run = await suite.act(
      suite.inputs(newest, 'rootless', {
        fuzz: 'true',
        'fuzz-seed': '7',
        'fuzz-cases': '4',
        'fuzz-cache-types': 'registry,local',
        retries: '4',
      }),
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.equal(run.outputs['findings'], '0');
    const report = JSON.parse(fs.readFileSync(run.outputs['fuzz-report'] ?? '', 'utf8')) as FuzzReport;
    assert.deepEqual(
      report.cases.map((c) => [c.caseNumber, c.cacheType]),
      [
        [0, 'registry'],
        [1, 'local'],
        [2, 'registry'],
        [3, 'local'],
      ],
    );
    // Intact, not untested: a changed version keeps a step for the cache to give, so each case tested an import.
    for (const c of report.cases) {
      assert.equal(c.outcome, 'intact', `case ${c.caseNumber}: ${c.outcome} ${c.detail}`);
      assert.equal(c.buildkitVersion, newest);
    }
    assert.ok(
      report.cases.some((c) => c.changes.length > 0),
      'a case with a changed version is among them',
    );
    assert.match(run.main.stdout, /case 3 \(seed 7, local\): intact in [\d.]+ s — case 3 \(seed 7\)/);
    assert.match(run.summary, /BuildKit cache fuzzer/);
    // Every case was its own run: none of them may be left, not only the last one the post step knows.
    assert.equal(run.post.exitCode, 0, run.post.stderr);
    // Anything labelled ours made since it started: another run's leftovers are not this one's.
    assert.deepEqual(leftovers('dev.lost-layer', started), []);
    // An intact case keeps no files; the report stays for the merge job.
    assert.deepEqual(fs.readdirSync(path.join(run.outputs['fuzz-dir'] ?? '', 'cases')), []);
  });
});
