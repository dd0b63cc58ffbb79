import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMatrix, renderMatrix, type MatrixInput } from '../../src/report/matrix.js';

type Kind = 'reproduced' | 'clean' | 'error' | 'not-run';

/** A report shaped like buildReport's (schema version 1), with only what the matrix reads filled in. */
function report(version: string, kind: Kind, options: { attempts?: number; lossRate?: unknown } = {}) {
  const attempts = options.attempts ?? (kind === 'not-run' ? 0 : 20);
  const records = Array.from({ length: attempts }, (_, i) => ({
    attempt: i + 1,
    freshState: i % 4 === 0,
    durationMs: 1000,
    outcome:
      kind === 'reproduced' && i === attempts - 1
        ? { kind: 'lost', missingPaths: ['repro.txt'], lostLayers: [], output: `/tmp/attempt-${i + 1}` }
        : kind === 'error' && i === attempts - 1
          ? { kind: 'error', cause: 'daemon gone' }
          : { kind: 'intact' },
  }));
  const verdict =
    kind === 'reproduced'
      ? { kind, failedAttempt: attempts, missingPaths: ['repro.txt'], attemptsRun: attempts }
      : kind === 'error'
        ? { kind, cause: `attempt ${attempts}: daemon gone`, attemptsRun: attempts }
        : kind === 'clean'
          ? { kind, attemptsRun: attempts }
          : { kind };
  return {
    schemaVersion: 1,
    runId: `run-${version}`,
    startedAt: '2024-01-01T00:00:00.000Z',
    finishedAt: '2024-01-01T00:10:00.000Z',
    verdict,
    buildkitVersion: version,
    settings: { buildkitImage: `moby/buildkit:${version}-rootless`, retries: attempts },
    attempts: records,
    ...(options.lossRate !== undefined ? { lossRate: options.lossRate } : {}),
  };
}

const input = (version: string, kind: Kind, options?: Parameters<typeof report>[2]): MatrixInput => ({
  source: `report-${version}.json`,
  report: report(version, kind, options),
});

const bisect = (): MatrixInput[] => [
  input('v0.9.1', 'clean'),
  input('v0.10.6', 'clean'),
  input('v0.8.3', 'reproduced', { attempts: 3 }),
  input('v0.9.0', 'reproduced', { attempts: 7 }),
];

describe('buildMatrix', () => {
  it('orders rows by semver, not by name or input order', () => {
    const { rows } = buildMatrix(bisect());
    assert.deepEqual(
      rows.map((r) => r.version),
      ['v0.8.3', 'v0.9.0', 'v0.9.1', 'v0.10.6'],
    );
    assert.deepEqual(
      rows.map((r) => r.verdict),
      ['reproduced', 'reproduced', 'clean', 'clean'],
    );
    assert.equal(rows[0]?.image, 'moby/buildkit:v0.8.3-rootless');
    assert.equal(rows[0]?.source, 'report-v0.8.3.json');
  });

  it('puts versions that are not releases last, in name order', () => {
    const { rows } = buildMatrix([
      {
        source: 'latest.json',
        report: {
          ...report('x', 'clean'),
          buildkitVersion: 'unknown',
          settings: { buildkitImage: 'moby/buildkit:latest' },
        },
      },
      {
        source: 'master.json',
        report: {
          ...report('x', 'clean'),
          buildkitVersion: 'unknown',
          settings: { buildkitImage: 'moby/buildkit:master' },
        },
      },
      input('v0.10.6', 'clean'),
      input('v0.9.1', 'clean'),
    ]);
    assert.deepEqual(
      rows.map((r) => r.version),
      ['v0.9.1', 'v0.10.6', 'latest', 'master'],
    );
  });

  it('takes the version from the image tag when buildkitd did not report a release', () => {
    const { rows } = buildMatrix([
      { source: 'a.json', report: { ...report('v0.9.0', 'clean'), buildkitVersion: 'unknown' } },
    ]);
    assert.equal(rows[0]?.version, 'v0.9.0-rootless');
  });

  it('finds the boundary between the last release that lost a layer and the first clean one', () => {
    const result = buildMatrix(bisect());
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
    assert.deepEqual(result.problems, []);
  });

  it('has no first clean release when none above the last loss ran clean', () => {
    const result = buildMatrix([
      input('v0.9.0', 'clean'),
      input('v0.9.1', 'reproduced'),
      input('v0.10.6', 'error'),
    ]);
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.1' });
    assert.match(
      renderMatrix(result),
      /Last release that lost a layer: v0\.9\.1; no release above it ran clean\./,
    );
  });

  it('has no boundary when every release ran clean, and says so', () => {
    const result = buildMatrix([input('v0.9.1', 'clean'), input('v0.10.6', 'clean')]);
    assert.deepEqual(result.boundary, {});
    const markdown = renderMatrix(result);
    assert.match(
      markdown,
      /No release lost a layer: every job with a verdict ran clean, so there is no boundary\./,
    );
    assert.doesNotMatch(markdown, /Last release/);
  });

  it('makes a row and a problem of an expected version without a report', () => {
    const result = buildMatrix(bisect(), ['v0.8.3', 'v0.9.0', 'v0.9.1', 'v0.9.2', 'v0.10.6']);
    const missing = result.rows.filter((r) => r.verdict === 'missing');
    assert.deepEqual(
      missing.map((r) => r.version),
      ['v0.9.2'],
    );
    assert.deepEqual(
      result.rows.map((r) => r.version),
      ['v0.8.3', 'v0.9.0', 'v0.9.1', 'v0.9.2', 'v0.10.6'],
    );
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0] ?? '', /v0\.9\.2: no report/);
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
  });

  it('matches expected labels given as image tags or image references', () => {
    const result = buildMatrix(bisect(), ['v0.9.0-rootless', 'moby/buildkit:v0.9.1-rootless', 'v0.10.6']);
    assert.equal(result.rows.filter((r) => r.verdict === 'missing').length, 0);
  });

  it('makes unreadable rows, not exceptions, of garbage and of another schema version', () => {
    const inputs: MatrixInput[] = [
      ...bisect(),
      { source: 'garbage.json', report: 'not a report' },
      { source: 'list.json', report: [1, 2, 3] },
      { source: 'null.json', report: null },
      { source: 'report-v0.9.2.json', report: { ...report('v0.9.2', 'clean'), schemaVersion: 2 } },
      { source: 'no-kind.json', report: { ...report('v0.9.3', 'clean'), verdict: { attemptsRun: 3 } } },
      { source: 'odd-kind.json', report: { ...report('v0.9.3', 'clean'), verdict: { kind: 'maybe' } } },
      { source: 'broken.json', error: 'Unexpected token } in JSON at position 12' },
      { source: 'empty.json' },
    ];
    let result: ReturnType<typeof buildMatrix> | undefined;
    assert.doesNotThrow(() => {
      result = buildMatrix(inputs, ['v0.9.2']);
    });
    assert.ok(result);
    const unreadable = result.rows.filter((r) => r.verdict === 'unreadable');
    assert.deepEqual(unreadable.map((r) => r.source).sort(), [
      'broken.json',
      'empty.json',
      'garbage.json',
      'list.json',
      'no-kind.json',
      'null.json',
      'odd-kind.json',
      'report-v0.9.2.json',
    ]);
    // The unreadable report named after v0.9.2 answers for it: v0.9.2 is unreadable, not also missing.
    assert.equal(result.rows.filter((r) => r.verdict === 'missing').length, 0);
    assert.equal(result.rows.find((r) => r.source === 'report-v0.9.2.json')?.version, 'v0.9.2');
    assert.equal(result.problems.length, 8);
    const problem = (source: string) => result?.problems.find((p) => p.startsWith(source)) ?? '';
    assert.match(problem('report-v0.9.2.json'), /schemaVersion is 2, not 1/);
    assert.match(problem('garbage.json'), /not a readable report/);
    assert.match(problem('broken.json'), /Unexpected token/);
    assert.match(problem('no-kind.json'), /verdict\.kind is missing/);
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
  });

  it('lists an error verdict, with its cause, among the problems', () => {
    const result = buildMatrix([...bisect(), input('v0.9.2', 'error', { attempts: 5 })]);
    const row = result.rows.find((r) => r.version === 'v0.9.2');
    assert.equal(row?.verdict, 'error');
    assert.equal(row?.attempts, 5);
    assert.equal(row?.rateText, '—');
    assert.equal(result.problems.length, 1);
    assert.match(
      result.problems[0] ?? '',
      /^v0\.9\.2 \(report-v0\.9\.2\.json\) gave no verdict: .*daemon gone/,
    );
  });

  it('takes counts and rate from the report lossRate, else bounds a clean run by its intact attempts', () => {
    const withRate = input('v0.9.0', 'reproduced', {
      attempts: 40,
      lossRate: {
        lost: 8,
        attempts: 40,
        rate: 0.2,
        confidence: 0.95,
        twoSided: { low: 0, high: 1 },
        oneSidedUpper: 1,
      },
    });
    const clean = input('v0.9.1', 'clean', { attempts: 40 });
    const stopped = input('v0.8.3', 'reproduced', { attempts: 3 });
    const malformed = input('v0.10.6', 'clean', { attempts: 40, lossRate: { lost: 'eight' } });
    const { rows } = buildMatrix([withRate, clean, stopped, malformed]);
    const byVersion = (v: string) => rows.find((r) => r.version === v);
    assert.equal(byVersion('v0.9.0')?.lost, 8);
    assert.equal(byVersion('v0.9.0')?.attempts, 40);
    // Recomputed from the counts, not copied from the report's bounds.
    assert.equal(byVersion('v0.9.0')?.rateText, '20.0% (9.1%–35.6%, 95%)');
    assert.equal(byVersion('v0.9.1')?.rateText, '< 7.2% (95%, one-sided)');
    assert.equal(byVersion('v0.8.3')?.lost, 1);
    assert.equal(byVersion('v0.8.3')?.rateText, '—');
    assert.equal(byVersion('v0.10.6')?.rateText, '< 7.2% (95%, one-sided)');
    assert.match(byVersion('v0.10.6')?.note ?? '', /lossRate is malformed/);
  });
});

describe('renderMatrix', () => {
  it('puts the boundary first, then the table, then the problems', () => {
    const markdown = renderMatrix(buildMatrix(bisect(), ['v0.9.2']));
    const lines = markdown.split('\n');
    assert.equal(lines[0], '## BuildKit lost-layer bisect');
    const boundary = lines.indexOf('Last release that lost a layer: v0.9.0; first clean: v0.9.1.');
    const header = lines.indexOf('| Version | Image | Verdict | Attempts | Lost | Loss rate |');
    const problems = lines.indexOf('Some jobs gave no verdict:');
    assert.ok(boundary > 0 && header > boundary && problems > header, markdown);
    assert.ok(lines.some((l) => l.startsWith('| v0.9.2 |') && l.includes('missing')));
    assert.ok(lines.some((l) => l.startsWith('- v0.9.2: no report')));
    const tableRows = lines.filter((l) => /^\| v\d/.test(l));
    assert.deepEqual(
      tableRows.map((l) => l.split(' | ')[0]),
      ['| v0.8.3', '| v0.9.0', '| v0.9.1', '| v0.9.2', '| v0.10.6'],
    );
  });

  it('names releases between the boundary that gave no verdict', () => {
    const markdown = renderMatrix(
      buildMatrix([input('v0.9.0', 'reproduced'), input('v0.9.1', 'error'), input('v0.9.2', 'clean')]),
    );
    assert.match(
      markdown,
      /Last release that lost a layer: v0\.9\.0; first clean: v0\.9\.2\. Between them, v0\.9\.1 gave no verdict\./,
    );
  });

  it('escapes pipes and backticks in cells', () => {
    const odd = report('v0.9.0', 'clean');
    const markdown = renderMatrix(
      buildMatrix([
        {
          source: 'odd.json',
          report: { ...odd, buildkitVersion: 'weird|build', settings: { buildkitImage: 'reg/bk:`x|y`' } },
        },
      ]),
    );
    const row = markdown.split('\n').find((l) => l.includes('clean') && l.startsWith('|')) ?? '';
    assert.ok(row.includes('\\`x\\|y\\`'), row);
    // Every pipe in the row is a cell border or escaped: 7 borders for 6 cells.
    assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 7, row);
  });

  it('says when no job gave a verdict', () => {
    const markdown = renderMatrix(buildMatrix([{ source: 'x.json', report: 42 }], ['v0.9.0']));
    assert.match(markdown, /No job gave a verdict, so there is no boundary\./);
    assert.match(markdown, /Some jobs gave no verdict:/);
  });
});

describe('cache maker × importer', () => {
  const fromMaker = (importer: string, maker: string, kind: Kind): MatrixInput => ({
    source: `report-${importer}-from-${maker}.json`,
    report: {
      ...report(importer, kind, { lossRate: { lost: kind === 'reproduced' ? 5 : 0, attempts: 40 } }),
      cacheMaker: { kind: 'this-run', image: `moby/buildkit:${maker}`, buildkitVersion: maker },
    },
  });
  const grid = () => [
    fromMaker('v0.9.0', 'v0.9.0', 'reproduced'),
    fromMaker('v0.9.1', 'v0.9.0', 'clean'),
    fromMaker('v0.9.0', 'v0.10.6', 'clean'),
    fromMaker('v0.9.1', 'v0.10.6', 'clean'),
  ];

  it('names every maker, and gives the boundary among the importers of each', () => {
    const result = buildMatrix(grid());
    assert.deepEqual(result.makers, ['v0.9.0', 'v0.10.6']);
    assert.deepEqual(result.byMaker, [
      { maker: 'v0.9.0', boundary: { lastLost: 'v0.9.0', firstClean: 'v0.9.1' } },
      { maker: 'v0.10.6', boundary: {} },
    ]);
  });

  it('renders one grid, importers as rows and makers as columns, each cell its run', () => {
    const markdown = renderMatrix(buildMatrix(grid()));
    assert.match(
      markdown,
      /^- Cache made by v0\.9\.0: Last release that lost a layer: v0\.9\.0; first clean: v0\.9\.1\.$/m,
    );
    assert.match(
      markdown,
      /^- Cache made by v0\.10\.6: No release lost a layer: every job with a verdict ran clean/m,
    );
    assert.match(markdown, /^\| Importer ↓ · cache made by → \| v0\.9\.0 \| v0\.10\.6 \|$/m);
    assert.match(markdown, /^\| v0\.9\.0 \| 🔴 5\/40 12\.5% \([^|]+\) \| 🟢 0\/40 \\< 7\.2% \([^|]+\) \|$/m);
    assert.match(markdown, /^\| v0\.9\.1 \| 🟢 0\/40 [^|]+ \| 🟢 0\/40 [^|]+ \|$/m);
    // The table of rows tells two jobs of one importer apart by their maker.
    assert.match(markdown, /^\| Version \| Image \| Cache made by \| Verdict \|/m);
    assert.match(markdown, /^\| v0\.9\.0 \| moby\/buildkit:v0\.9\.0-rootless \| v0\.10\.6 \| 🟢 clean \|/m);
  });

  it('a plain bisect, each release importing the cache it made: no grid, one boundary over all', () => {
    const result = buildMatrix([
      fromMaker('v0.9.0', 'v0.9.0', 'reproduced'),
      fromMaker('v0.9.1', 'v0.9.1', 'clean'),
    ]);
    assert.deepEqual(result.byMaker, []);
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
    const markdown = renderMatrix(result);
    assert.doesNotMatch(markdown, /Importer ↓|Cache made by/);
    assert.match(markdown, /^Last release that lost a layer: v0\.9\.0; first clean: v0\.9\.1\.$/m);
  });

  it('one maker, the importer itself: no grid, no maker column, as before', () => {
    const markdown = renderMatrix(buildMatrix([fromMaker('v0.9.0', 'v0.9.0', 'reproduced')]));
    assert.doesNotMatch(markdown, /Importer ↓|Cache made by/);
  });
});
