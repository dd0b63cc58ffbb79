import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildMatrix } from '../../src/report/matrix.js';
import { readReports } from '../../src/report/read-reports.js';

/**
 * The bisect table reads other jobs' artifacts: a folder may hold anything. Each hostile file is a problem
 * row that names the file and the kind of problem, never a byte of what is in it (issue 22, item 5).
 */
describe('readReports: reports are artifacts of other jobs, not ours to trust', () => {
  let root: string;
  let reports: string;
  const SECRET = 'root:*:20250:0:99999:7:::';

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'read-reports-test-'));
    reports = path.join(root, 'reports');
    fs.mkdirSync(path.join(reports, 'job-1'), { recursive: true });
    fs.writeFileSync(path.join(root, 'shadow'), `${SECRET}\n`);
    fs.writeFileSync(
      path.join(reports, 'job-1', 'report.json'),
      JSON.stringify({ schemaVersion: 2, verdict: { kind: 'clean' } }),
    );
    fs.symlinkSync(path.join(root, 'shadow'), path.join(reports, 'link.json'));
    fs.symlinkSync('loop-b.json', path.join(reports, 'loop-a.json'));
    fs.symlinkSync('loop-a.json', path.join(reports, 'loop-b.json'));
    fs.writeFileSync(path.join(reports, 'big.json'), `"${'x'.repeat(2000)}"`);
    fs.writeFileSync(path.join(reports, 'garbage.json'), Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80]));
    fs.writeFileSync(path.join(reports, 'broken.json'), `{"verdict": ${SECRET}`);
    fs.symlinkSync('job-1/report.json', path.join(reports, 'inside.json'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a link out of the folder, a loop, a file over the cap, garbage, broken JSON: each named, none quoted', () => {
    const inputs = readReports([reports], 1000);
    const problems = Object.fromEntries(
      inputs.filter((i) => i.error).map((i) => [path.basename(i.source), i.error]),
    );
    assert.deepEqual(problems, {
      'big.json': '2002 bytes, over the cap of 1000 bytes; not read',
      'broken.json': 'not valid JSON',
      'garbage.json': 'not UTF-8 text; not read',
      'link.json': 'a symbolic link that leads out of the reports folder; not followed',
      'loop-a.json': 'a loop of symbolic links',
      'loop-b.json': 'a loop of symbolic links',
    });
    // The link inside the folder leads to a report also found where it is: read once, by its first name.
    assert.deepEqual(
      inputs.filter((i) => i.report).map((i) => path.relative(reports, i.source)),
      ['inside.json'],
    );
    const table = JSON.stringify(buildMatrix(inputs, []));
    assert.ok(!table.includes('root:*'), 'no byte of the linked file in the table');
    assert.ok(!table.includes('20250'), 'nor of the broken file');
  });

  it('a location that is not there is a problem, not a crash', () => {
    assert.deepEqual(readReports([path.join(root, 'gone')]), [
      { source: path.join(root, 'gone'), error: 'no such file or folder' },
    ]);
  });
});
