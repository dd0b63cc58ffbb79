import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BedSuite } from '../support/bed-suite.js';
import { leftovers } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { repoRoot } from '../../scripts/lib/testbed.js';

/**
 * A runner that is not ours: nektos/act's host executor (no runner image) runs a workflow with `uses: ./`
 * on the test bed, main and post as a runner does, and a later step reads the outputs.
 */
describe('the action under nektos/act', () => {
  const suite = BedSuite.open();

  it('v0.9.0 rootless: reproduced, the outputs read by a later step, the post step removes the run', async () => {
    const inputs = suite.inputs('v0.9.0', 'rootless', {
      retries: String(ATTEMPTS_TO_A_LOSS),
      'fail-on': 'none',
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'act-workflow-'));
    const workflow = path.join(dir, 'check.yml');
    // JSON strings are YAML scalars: every value goes in as it is.
    const withLines = Object.entries(inputs).map(
      ([name, value]) => `          ${name}: ${JSON.stringify(value)}`,
    );
    fs.writeFileSync(
      workflow,
      [
        'name: check',
        'on: push',
        'jobs:',
        '  check:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        // The host executor starts in an empty folder: the action's files, as a checkout would give them.
        '      - run: cp -R "$REPO/action.yml" "$REPO/dist" "$REPO/fixtures" .',
        '      - id: check',
        '        uses: ./',
        '        with:',
        ...withLines,
        '      - run: echo "seen verdict=${{ steps.check.outputs.verdict }} failed=${{ steps.check.outputs.failed-attempt }}"',
        '',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(
      suite.bed.act,
      [
        'push',
        '-W',
        workflow,
        '-P',
        'ubuntu-latest=-self-hosted',
        '--env',
        `REPO=${repoRoot}`,
        '--env',
        `GITHUB_API_URL=${suite.releases.origin}`,
      ],
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    assert.match(stdout, /Job succeeded/);
    assert.match(stdout, /seen verdict=reproduced failed=\d+/, 'a later step read the outputs');
    assert.match(stdout, /Success - Post \.\//);
    const runId = /dev\.lost-layer\.run=([0-9a-f]{8})/.exec(stdout)?.[1];
    assert.ok(runId, 'the run said its id');
    assert.deepEqual(leftovers(`dev.lost-layer.run=${runId}`), [], 'the post step removed the run');
  });
});
