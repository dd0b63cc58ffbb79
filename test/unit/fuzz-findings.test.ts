import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FuzzCase } from '../../src/fuzz/case-model.js';
import { reproduceCommands, signatureSlug, writeFindingFolder } from '../../src/fuzz/finding-folder.js';
import { commandLine, shellQuote } from '../../src/fuzz/finding-readme.js';
import { groupFindings, signatureOf } from '../../src/fuzz/findings.js';
import {
  buildFuzzReport,
  MAX_REPORT_BYTES,
  mergeFuzzReports,
  readFuzzReports,
} from '../../src/fuzz/fuzz-report.js';
import type { CaseResult, FuzzRunFacts } from '../../src/fuzz/fuzz-result.js';
import { renderFuzzSummary } from '../../src/fuzz/fuzz-summary.js';
import { resultCoverage } from '../../src/fuzz/fuzz-summary-coverage.js';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-findings-test-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const SECONDS = { setup: 10, attempts: 20, minimize: 0, total: 30 };

function result(overrides: Partial<CaseResult> = {}): CaseResult {
  return {
    seed: 1,
    caseNumber: 0,
    description: 'case 0 (seed 1): 1 stage, 4 instructions, COPY file',
    constructs: ['copy-file', 'run-nowrite'],
    changes: [],
    cacheType: 'registry',
    buildkitVersion: 'v0.9.0',
    outcome: 'intact',
    verdict: 'clean',
    detail: '',
    involved: [],
    attempts: 20,
    seconds: { ...SECONDS },
    ...overrides,
  };
}

function finding(overrides: Partial<CaseResult> = {}): CaseResult {
  return result({
    outcome: 'finding',
    verdict: 'reproduced',
    differenceClass: 'lost-layer',
    detail: 'attempt 3 lost layer 2 (COPY a.txt /x)',
    involved: ['COPY'],
    attempts: 3,
    ...overrides,
  });
}

function facts(overrides: Partial<FuzzRunFacts> = {}): FuzzRunFacts {
  return {
    seed: 1,
    shard: { index: 1, count: 1 },
    buildkitImage: 'moby/buildkit:v0.9.0',
    buildkitVersion: 'v0.9.0',
    cacheTypes: ['registry'],
    retries: 20,
    startedAt: '2024-01-01T00:00:00.000Z',
    finishedAt: '2024-01-01T01:00:00.000Z',
    stoppedBy: 'cases',
    ...overrides,
  };
}

const minimizedWith = (...lines: string[]) => finding({ minimizedDockerfile: `${lines.join('\n')}\n` });

describe('signatureOf', () => {
  it('ignores paths and file names: COPY a.txt /x and COPY b.dat /y are one bug', () => {
    const a = minimizedWith('FROM alpine:latest', 'COPY a.txt /x', 'RUN echo 7');
    const b = minimizedWith('FROM alpine:latest AS s0', 'COPY b.dat /y', 'RUN true');
    assert.equal(signatureOf(a), 'lost-layer: COPY, RUN');
    assert.equal(signatureOf(a), signatureOf(b));
  });

  it('keeps flags but not their values, and a mount its type', () => {
    const plain = minimizedWith('FROM alpine:latest', 'COPY a /x');
    const link = minimizedWith('FROM alpine:latest', 'COPY --link a /x');
    assert.equal(signatureOf(link), 'lost-layer: COPY --link');
    assert.notEqual(signatureOf(link), signatureOf(plain));
    assert.equal(
      signatureOf(minimizedWith('FROM alpine:latest', 'COPY --chmod=755 --link a /x')),
      signatureOf(minimizedWith('FROM alpine:latest', 'COPY --link --chmod=644 b /y')),
    );
    const cache = minimizedWith('FROM alpine:latest', 'RUN --mount=type=cache,target=/c true');
    const bind = minimizedWith('FROM alpine:latest', 'RUN --mount=type=bind,source=a,target=/b true');
    assert.equal(signatureOf(cache), 'lost-layer: RUN --mount=type=cache');
    assert.notEqual(signatureOf(cache), signatureOf(bind));
  });

  it('keeps a run of equal instructions once, FROM left out, continuation lines read as one', () => {
    const r = minimizedWith('FROM alpine:latest', 'RUN a', 'RUN b', 'COPY --link \\', '  a /x', 'RUN c');
    assert.equal(signatureOf(r), 'lost-layer: RUN, COPY --link, RUN');
  });

  it('groups config differences whose fields differ only in numbers', () => {
    const a = finding({
      differenceClass: 'config-differs',
      verdict: 'config-differs',
      involved: ['history 3 created_by'],
    });
    const b = finding({
      differenceClass: 'config-differs',
      verdict: 'config-differs',
      involved: ['history 12 created_by', 'history 5 created_by'],
    });
    assert.equal(signatureOf(a), 'config-differs: history created_by');
    assert.equal(signatureOf(a), signatureOf(b));
  });

  it('sorts the involved words, and says "files" when there are none', () => {
    assert.equal(signatureOf(finding({ involved: ['RUN', 'COPY', 'RUN'] })), 'lost-layer: COPY, RUN');
    assert.equal(
      signatureOf(finding({ differenceClass: 'content-differs', involved: [] })),
      'content-differs: files',
    );
  });

  it('takes the class from the verdict when a finding does not name it', () => {
    const r = finding({ involved: ['Env'], verdict: 'config-differs' });
    delete r.differenceClass;
    assert.equal(signatureOf(r), 'config-differs: Env');
  });
});

describe('groupFindings', () => {
  const many = (n: number, make: (i: number) => CaseResult) => Array.from({ length: n }, (_, i) => make(i));
  const history = (i: number) =>
    finding({
      caseNumber: 100 + i,
      differenceClass: 'config-differs',
      involved: [`history ${i} created_by`],
    });

  it('orders lost-layer, content-differs, config-differs, and by count within a class, dropping none', () => {
    const results = [
      ...many(50, history),
      finding({ caseNumber: 1, differenceClass: 'config-differs', involved: ['Env'] }),
      finding({ caseNumber: 2, differenceClass: 'content-differs', involved: [] }),
      finding({ caseNumber: 3, involved: ['COPY'] }),
      finding({ caseNumber: 4, involved: ['RUN'] }),
      finding({ caseNumber: 5, involved: ['RUN'] }),
      result({ caseNumber: 6 }),
      result({ caseNumber: 7, outcome: 'error', verdict: 'error', detail: 'buildkitd died' }),
    ];
    const groups = groupFindings(results);
    assert.deepEqual(
      groups.map((g) => [g.signature, g.count]),
      [
        ['lost-layer: RUN', 2],
        ['lost-layer: COPY', 1],
        ['content-differs: files', 1],
        ['config-differs: history created_by', 50],
        ['config-differs: Env', 1],
      ],
    );
    assert.deepEqual(groups[0]?.cases, [
      { seed: 1, caseNumber: 4, cacheType: 'registry' },
      { seed: 1, caseNumber: 5, cacheType: 'registry' },
    ]);
  });

  it('keeps a minimized case with the cases of its bug that were not minimized', () => {
    const groups = groupFindings([
      finding({
        caseNumber: 1,
        involved: ['COPY'],
        minimizedInstructions: 3,
        minimizedDockerfile: 'FROM a\nCOPY x /y\nRUN true\n',
      }),
      finding({ caseNumber: 2, involved: ['COPY'] }),
      finding({ caseNumber: 3, involved: ['COPY'] }),
    ]);
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.key, 'lost-layer: COPY');
    assert.equal(groups[0]?.signature, 'lost-layer: COPY, RUN');
    assert.equal(groups[0]?.count, 3);
    assert.ok(
      renderFuzzSummary(buildFuzzReport(facts(), groups[0] ? [groups[0].example] : [])).includes(
        '`lost-layer: COPY, RUN`<br>found as `lost-layer: COPY`',
      ),
    );
  });

  it('takes the example with the fewest minimized instructions, else the first', () => {
    const groups = groupFindings([
      finding({ caseNumber: 1, findingDir: 'findings/x/case-1-1' }),
      finding({ caseNumber: 2, minimizedInstructions: 5, involved: ['COPY'] }),
      finding({ caseNumber: 3, minimizedInstructions: 3, involved: ['COPY'] }),
    ]);
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.example.caseNumber, 3);
    assert.equal(groups[0]?.cases[0]?.findingDir, 'findings/x/case-1-1');
    const plain = groupFindings([finding({ caseNumber: 8 }), finding({ caseNumber: 9 })]);
    assert.equal(plain[0]?.example.caseNumber, 8);
  });

  it('says when a signature was first seen: the cases before it and its own attempts, per seed', () => {
    const groups = groupFindings([
      result({ caseNumber: 0 }),
      result({ seed: 2, caseNumber: 0 }),
      finding({ caseNumber: 1, seconds: { setup: 5, attempts: 7, minimize: 100, total: 112 } }),
    ]);
    assert.equal(groups[0]?.firstSeenSeconds, 30 + 5 + 7);
  });
});

const symlinkCase: FuzzCase = {
  seed: 7,
  caseNumber: 3,
  constructs: ['copy-file', 'copy-symlink'],
  base: {
    dockerfile: 'FROM alpine:latest\nCOPY a.txt l /x/\nRUN true\n',
    context: [
      { type: 'file', path: 'a.txt', content: 'one\n', mode: 0o644 },
      { type: 'symlink', path: 'l', target: 'a.txt' },
    ],
  },
};
const changedCase: FuzzCase = {
  ...symlinkCase,
  caseNumber: 4,
  changed: {
    input: {
      dockerfile: symlinkCase.base.dockerfile,
      context: [
        { type: 'file', path: 'a.txt', content: 'two\n', mode: 0o644 },
        { type: 'symlink', path: 'l', target: 'a.txt' },
      ],
    },
    changes: [{ kind: 'file-content', description: 'content of a.txt', path: 'a.txt' }],
  },
};

describe('writeFindingFolder', () => {
  const runFacts = { buildkitImage: 'moby/buildkit:v0.9.0', retries: 40 };

  it('writes the inputs, the minimized ones with links kept, finding.json and a README with both commands', () => {
    const out = path.join(tmp, 'out-plain');
    const minimizedDir = path.join(tmp, 'min-source');
    fs.mkdirSync(path.join(minimizedDir, 'context'), { recursive: true });
    fs.writeFileSync(path.join(minimizedDir, 'Dockerfile'), 'FROM alpine:latest\nCOPY l /x\nRUN true\n');
    fs.writeFileSync(path.join(minimizedDir, 'context', 'a.txt'), 'one\n');
    fs.symlinkSync('a.txt', path.join(minimizedDir, 'context', 'l'));
    const r = finding({ seed: 7, caseNumber: 3, minimizedInstructions: 3 });
    const relative = writeFindingFolder(out, {
      fuzzCase: symlinkCase,
      result: r,
      facts: runFacts,
      minimized: {
        dockerfilePath: path.join(minimizedDir, 'Dockerfile'),
        contextDir: path.join(minimizedDir, 'context'),
      },
    });
    const signature = 'lost-layer: COPY, RUN';
    // The folder is the group's: its key, the same for the bug's cases that were not minimized.
    assert.equal(relative, `findings/${signatureSlug('lost-layer: COPY')}/case-7-3`);
    const dir = path.join(out, relative);
    assert.equal(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'), symlinkCase.base.dockerfile);
    assert.equal(fs.readFileSync(path.join(dir, 'context', 'a.txt'), 'utf8'), 'one\n');
    assert.equal(fs.readlinkSync(path.join(dir, 'context', 'l')), 'a.txt');
    assert.equal(fs.existsSync(path.join(dir, 'cache')), false);
    assert.ok(fs.lstatSync(path.join(dir, 'minimized', 'context', 'l')).isSymbolicLink());
    assert.equal(fs.readlinkSync(path.join(dir, 'minimized', 'context', 'l')), 'a.txt');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(json.signature, signature);
    assert.equal(json.findingDir, relative);
    assert.equal(json.minimizedDockerfile, 'FROM alpine:latest\nCOPY l /x\nRUN true\n');
    assert.deepEqual(
      json.commands,
      reproduceCommands({
        ...runFacts,
        seed: 7,
        caseNumber: 3,
        cacheType: 'registry',
        changed: false,
        minimized: true,
      }),
    );
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.match(
      readme,
      /^# BuildKit v0\.9\.0: image built from an imported cache lost a layer \(COPY, RUN\)/,
    );
    assert.ok(readme.includes('Run from this folder'));
    assert.ok(
      readme.includes(
        'lost-layer-check --buildkit-image moby/buildkit:v0.9.0 --cache-type registry --dockerfile Dockerfile --context context --retries 40 --expect-paths bin/sh',
      ),
    );
    assert.ok(readme.includes('--dockerfile minimized/Dockerfile --context minimized/context'));
    assert.ok(
      readme.includes(
        'lost-layer-check fuzz --seed 7 --case 3 --buildkit-image moby/buildkit:v0.9.0 --fuzz-cache-types registry',
      ),
    );
    assert.ok(readme.includes('## Minimized Dockerfile (3 instructions)'));
  });

  it('writes the cache version of a changed case under cache/, and names it in the command', () => {
    const out = path.join(tmp, 'out-changed');
    const relative = writeFindingFolder(out, {
      fuzzCase: changedCase,
      result: finding({ seed: 7, caseNumber: 4, changes: ['file-content'] }),
      facts: runFacts,
    });
    const dir = path.join(out, relative);
    assert.equal(fs.readFileSync(path.join(dir, 'context', 'a.txt'), 'utf8'), 'two\n');
    assert.equal(fs.readFileSync(path.join(dir, 'cache', 'context', 'a.txt'), 'utf8'), 'one\n');
    assert.equal(fs.readlinkSync(path.join(dir, 'cache', 'context', 'l')), 'a.txt');
    assert.ok(fs.existsSync(path.join(dir, 'cache', 'Dockerfile')));
    assert.equal(fs.existsSync(path.join(dir, 'minimized')), false);
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.ok(readme.includes('--cache-dockerfile cache/Dockerfile --cache-context cache/context'));
    assert.ok(readme.includes('  - content of a.txt'));
    assert.ok(readme.includes('## Dockerfile\n'));
    // The same case found again with another backend keeps the first folder.
    const again = writeFindingFolder(out, {
      fuzzCase: changedCase,
      result: finding({ seed: 7, caseNumber: 4, cacheType: 'local' }),
      facts: runFacts,
    });
    assert.notEqual(again, relative);
    assert.ok(fs.existsSync(path.join(dir, 'finding.json')));
  });

  it('quotes arguments for the shell, and returns them as argument lists', () => {
    assert.equal(shellQuote('moby/buildkit:v0.9.0'), 'moby/buildkit:v0.9.0');
    assert.equal(shellQuote("it's a $HOME"), `'it'\\''s a $HOME'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(commandLine(['--x', 'a b']), "lost-layer-check --x 'a b'");
    const commands = reproduceCommands({
      seed: 1,
      caseNumber: 2,
      cacheType: 'local',
      buildkitImage: 'img',
      retries: 5,
      changed: true,
      minimized: false,
    });
    assert.deepEqual(commands.regenerate, [
      'fuzz',
      '--seed',
      '1',
      '--case',
      '2',
      '--buildkit-image',
      'img',
      '--fuzz-cache-types',
      'local',
    ]);
    assert.ok(commands.check.includes('--cache-dockerfile'));
    assert.equal(commands.checkMinimized, undefined);
  });
});

describe('renderFuzzSummary', () => {
  const hostile = 'boom | <script>alert(1)</script> *x*';
  const report = buildFuzzReport(facts(), [
    result({ caseNumber: 0, outcome: 'error', verdict: 'error', detail: hostile }),
    finding({ caseNumber: 1, detail: hostile, findingDir: 'findings/a/case-1-1', minimizedInstructions: 3 }),
    ...Array.from({ length: 9 }, (_, i) =>
      finding({
        caseNumber: 10 + i,
        differenceClass: 'config-differs',
        involved: [`history ${i} created_by`],
      }),
    ),
    finding({ caseNumber: 30, differenceClass: 'config-differs', involved: ['Env'] }),
    result({ caseNumber: 40, outcome: 'untested', verdict: 'clean', changes: ['file-added'] }),
  ]);
  const summary = renderFuzzSummary(report);

  it('lists findings before errors, every group, with the totals on one line', () => {
    assert.ok(summary.indexOf('### Findings') < summary.indexOf('### Errors'));
    assert.ok(summary.indexOf('### Errors') < summary.indexOf('### Coverage'));
    assert.ok(summary.indexOf('### Coverage') < summary.indexOf('### Cost'));
    assert.ok(summary.includes('`config-differs: Env`'));
    assert.ok(summary.indexOf('history created_by') < summary.indexOf('config-differs: Env'));
    assert.ok(summary.indexOf('lost-layer: COPY') < summary.indexOf('history created_by'));
    assert.ok(summary.includes('13 cases: 0 intact, 11 findings, 1 error, 1 untested'));
    assert.ok(summary.includes('**11 findings in 3 groups**'));
    assert.ok(summary.includes('3 instructions'));
    assert.ok(summary.includes('`findings/a/case-1-1`'));
  });

  it('escapes what the reports hold', () => {
    assert.equal(summary.includes('<script>'), false);
    assert.ok(summary.includes('boom \\| \\<script\\>alert(1)\\</script\\> \\*x\\*'));
  });

  it('counts coverage and cost from the results', () => {
    const coverage = resultCoverage(report.cases);
    assert.equal(coverage.cases, 13);
    assert.equal(coverage.constructs['copy-file'], 100);
    assert.equal(coverage.constructs['copy-link'], 0);
    assert.equal(coverage.changes['file-added'], 7.7);
    assert.ok(summary.includes('Never used:'));
    assert.ok(summary.includes('2.00 cases per minute'));
    assert.match(summary, /\| Attempts \| 4\.3 min \| 67% \|/);
  });
});

describe('mergeFuzzReports', () => {
  const shard = (index: number, count: number, cases: CaseResult[], more: Partial<FuzzRunFacts> = {}) =>
    buildFuzzReport(facts({ shard: { index, count }, ...more }), cases);

  it('merges two shards into one table', () => {
    const merged = mergeFuzzReports([
      shard(2, 2, [finding({ caseNumber: 1, involved: ['RUN'] }), result({ caseNumber: 3 })]),
      shard(1, 2, [finding({ caseNumber: 0, involved: ['COPY'] }), result({ caseNumber: 2 })], {
        cacheTypes: ['local'],
        startedAt: '2023-12-31T23:00:00.000Z',
      }),
    ]);
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(
      merged.cases.map((c) => c.caseNumber),
      [0, 2, 1, 3],
    );
    assert.deepEqual(merged.run.cacheTypes, ['local', 'registry']);
    assert.equal(merged.run.startedAt, '2023-12-31T23:00:00.000Z');
    assert.equal(merged.run.finishedAt, '2024-01-01T01:00:00.000Z');
    const summary = renderFuzzSummary(merged);
    assert.equal(summary.match(/^### Findings$/gm)?.length, 1);
    assert.ok(summary.includes('`lost-layer: COPY`') && summary.includes('`lost-layer: RUN`'));
    assert.ok(summary.includes('shards 1, 2 of 2'));
  });

  it('names a missing shard, counts a duplicate case once, and says when versions or seeds differ', () => {
    const same = finding({ caseNumber: 0 });
    const merged = mergeFuzzReports([
      shard(1, 3, [same, result({ caseNumber: 3 })]),
      shard(3, 3, [same], { buildkitVersion: 'v0.10.0', seed: 2 }),
    ]);
    assert.equal(merged.cases.length, 2);
    assert.ok(merged.problems.includes('shard 2 of 3 has no report'));
    assert.ok(merged.problems.includes('1 case was in more than one report; each is counted once'));
    assert.ok(
      merged.problems.includes(
        'the reports are of different BuildKit versions: v0.10.0 (shard 3), v0.9.0 (shard 1)',
      ),
    );
    assert.ok(merged.problems.includes('the reports are of different seeds: 1 (shard 1), 2 (shard 3)'));
    assert.ok(renderFuzzSummary(merged).includes('shard 2 of 3 has no report'));
    assert.deepEqual(mergeFuzzReports([]).problems, ['no fuzz report to merge']);
  });
});

describe('readFuzzReports', () => {
  const SECRET = 'TOP-SECRET-CONTENT';
  let root: string;
  let reports: string;
  const write = (relative: string, content: string | Buffer) => {
    const file = path.join(reports, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  };
  const json = (report: unknown) => JSON.stringify(report);

  before(() => {
    root = path.join(tmp, 'read');
    reports = path.join(root, 'reports');
    fs.mkdirSync(reports, { recursive: true });
  });

  it('reads what it wrote, and a link inside the folder once', () => {
    const report = buildFuzzReport(facts(), [finding({ minimizedDockerfile: 'FROM a\n' }), result()]);
    const dir = path.join(root, 'roundtrip');
    fs.mkdirSync(path.join(dir, 'shard-1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shard-1', 'fuzz-report.json'), json(report));
    fs.mkdirSync(path.join(dir, 'alias'));
    fs.symlinkSync('../shard-1/fuzz-report.json', path.join(dir, 'alias', 'fuzz-report.json'));
    const read = readFuzzReports([dir]);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.reports, [report]);
  });

  it('refuses hostile files, each a problem that names it and never quotes it', () => {
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'fuzz-report.json'), json(buildFuzzReport(facts(), [finding()])));
    write('good/fuzz-report.json', json(buildFuzzReport(facts(), [result()])));
    fs.mkdirSync(path.join(reports, 'out'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'fuzz-report.json'), path.join(reports, 'out', 'fuzz-report.json'));
    fs.mkdirSync(path.join(reports, 'loop-a'));
    fs.mkdirSync(path.join(reports, 'loop-b'));
    fs.symlinkSync('../loop-b/fuzz-report.json', path.join(reports, 'loop-a', 'fuzz-report.json'));
    fs.symlinkSync('../loop-a/fuzz-report.json', path.join(reports, 'loop-b', 'fuzz-report.json'));
    fs.symlinkSync('..', path.join(reports, 'loop-a', 'up'));
    const big = write('big/fuzz-report.json', '');
    fs.truncateSync(big, MAX_REPORT_BYTES + 1);
    write('binary/fuzz-report.json', Buffer.from([0xff, 0xfe, 0x00, 0x80, ...Buffer.from(SECRET)]));
    write('invalid/fuzz-report.json', `{"schemaVersion": 1, "run": ${SECRET}`);
    write(
      'schema/fuzz-report.json',
      json({ schemaVersion: 1, run: { ...facts(), seed: SECRET }, cases: [] }),
    );
    const oneBad = json({
      ...buildFuzzReport(facts(), [result()]),
      cases: [result(), { ...result(), outcome: SECRET }],
    });
    write('case/fuzz-report.json', oneBad);
    write('other/notes.json', SECRET);
    const read = readFuzzReports([reports, path.join(root, 'nothing-here')]);
    const problem = (dir: string) =>
      read.problems.find((p) => p.startsWith(path.join(reports, dir, 'fuzz-report.json')));
    for (const p of read.problems) assert.equal(p.includes(SECRET), false, p);
    assert.match(problem('out') ?? '', /leads out of the reports folder; not followed$/);
    assert.match(problem('loop-a') ?? '', /a loop of symbolic links$/);
    assert.match(problem('loop-b') ?? '', /a loop of symbolic links$/);
    assert.match(
      problem('big') ?? '',
      new RegExp(`${MAX_REPORT_BYTES + 1} bytes, over the cap of ${MAX_REPORT_BYTES} bytes; not read$`),
    );
    assert.match(problem('binary') ?? '', /not UTF-8 text; not read$/);
    assert.match(problem('invalid') ?? '', /not valid JSON$/);
    assert.match(problem('schema') ?? '', /its run\.seed is a string, not a number$/);
    assert.match(
      problem('case') ?? '',
      /case 2 of its cases is left out: its outcome is a string, not "intact" or/,
    );
    assert.ok(read.problems.includes(`${path.join(root, 'nothing-here')}: no such file or folder`));
    // The good report, and the good case of the report with a bad one; nothing from outside.
    assert.equal(read.reports.length, 2);
    assert.deepEqual(
      read.reports.map((r) => r.cases.length),
      [1, 1],
    );
    assert.equal(read.problems.length, 9);
  });

  it('refuses a file over a smaller cap, and a FIFO without blocking', () => {
    const dir = path.join(root, 'small-cap');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'fuzz-report.json'), json(buildFuzzReport(facts(), [result()])));
    const read = readFuzzReports([dir], { maxBytes: 100 });
    assert.equal(read.reports.length, 0);
    assert.match(read.problems[0] ?? '', /over the cap of 100 bytes; not read$/);
    const fifoDir = path.join(root, 'fifo');
    fs.mkdirSync(fifoDir);
    if (spawnSync('mkfifo', [path.join(fifoDir, 'fuzz-report.json')]).status !== 0) return;
    const fifo = readFuzzReports([fifoDir]);
    assert.deepEqual(fifo.problems, [
      `${path.join(fifoDir, 'fuzz-report.json')}: not a regular file; not read`,
    ]);
  });
});
