import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DIFFERENCE_CLASSES,
  noClasses,
  type AttemptClass,
  type ClassCounts,
  type DifferenceClass,
} from '../../src/model/classes.js';
import type { VerdictKind } from '../../src/model/verdict.js';
import { buildMatrix, renderMatrix, type MatrixInput } from '../../src/report/matrix.js';

type Kind = VerdictKind;

interface ReportOptions {
  attempts?: number;
  lossRate?: unknown;
  /** Attempts of each class (the rest intact); by default one attempt of the verdict's own class. */
  classes?: Partial<ClassCounts>;
  /** configComparison.compared (schema 2); true by default. */
  compared?: boolean;
  schemaVersion?: 1 | 2;
}

const KIND_CLASS: Partial<Record<Kind, DifferenceClass>> = {
  reproduced: 'lost-layer',
  'content-differs': 'content-differs',
  'config-differs': 'config-differs',
};

/** The outcome of an attempt of a class, as the report's schema version writes it (version 1: 'lost'). */
function outcome(attemptClass: AttemptClass, schemaVersion: 1 | 2) {
  if (attemptClass === 'intact') return { kind: 'intact' };
  const kind = schemaVersion === 1 && attemptClass === 'lost-layer' ? 'lost' : attemptClass;
  return { kind, difference: { missingPaths: ['repro.txt'], lostLayers: [] }, output: '/tmp/attempt' };
}

/** A report shaped like buildReport's (schema version 2 unless asked), with only what the matrix reads filled in. */
function report(version: string, kind: Kind, options: ReportOptions = {}) {
  const schemaVersion = options.schemaVersion ?? 2;
  const attempts = options.attempts ?? (kind === 'not-run' ? 0 : 20);
  const own = KIND_CLASS[kind];
  const wanted = options.classes ?? (own ? { [own]: 1 } : {});
  const differing = DIFFERENCE_CLASSES.flatMap((c) => Array<AttemptClass>(wanted[c] ?? 0).fill(c));
  const errors = kind === 'error' ? 1 : 0;
  const judged = [...differing, ...Array<AttemptClass>(attempts - differing.length - errors).fill('intact')];
  const records = Array.from({ length: attempts }, (_, i) => ({
    attempt: i + 1,
    freshState: i % 4 === 0,
    durationMs: 1000,
    outcome:
      i < judged.length
        ? outcome(judged[i] ?? 'intact', schemaVersion)
        : { kind: 'error', cause: 'daemon gone' },
  }));
  const classes = { ...noClasses(), ...wanted, intact: judged.length - differing.length };
  const counted = schemaVersion === 2 && kind !== 'not-run' ? { classes } : {};
  const verdict =
    kind === 'error'
      ? { kind, cause: `attempt ${attempts}: daemon gone`, attemptsRun: attempts, ...counted }
      : kind === 'not-run'
        ? { kind }
        : { kind, attemptsRun: attempts, ...counted };
  return {
    schemaVersion,
    runId: `run-${version}`,
    startedAt: '2024-01-01T00:00:00.000Z',
    finishedAt: '2024-01-01T00:10:00.000Z',
    verdict,
    ...(schemaVersion === 2 ? { configComparison: configComparison(options.compared ?? true) } : {}),
    buildkitVersion: version,
    settings: { buildkitImage: `moby/buildkit:${version}-rootless`, retries: attempts },
    attempts: records,
    ...(options.lossRate !== undefined ? { lossRate: options.lossRate } : {}),
  };
}

function configComparison(compared: boolean) {
  return compared ? { compared } : { compared, reason: 'another release built the reference' };
}

const input = (version: string, kind: Kind, options?: ReportOptions): MatrixInput => ({
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

  it('finds the boundary between the last release that lost a layer and the first above it that did not', () => {
    const result = buildMatrix(bisect());
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
    assert.deepEqual(result.boundaries['lost-layer'], { last: 'v0.9.0', firstWithout: 'v0.9.1' });
    assert.deepEqual(result.problems, []);
  });

  it('has no first release without a loss when none above the last loss gave a verdict', () => {
    const result = buildMatrix([
      input('v0.9.0', 'clean'),
      input('v0.9.1', 'reproduced'),
      input('v0.10.6', 'error'),
    ]);
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.1' });
    assert.match(
      renderMatrix(result),
      /^- Lost a layer: last v0\.9\.1; above it, v0\.10\.6 gave no verdict\.$/m,
    );
  });

  it('has no boundary when every release ran clean, and says so for each class', () => {
    const result = buildMatrix([input('v0.9.1', 'clean'), input('v0.10.6', 'clean')]);
    assert.deepEqual(result.boundary, {});
    assert.deepEqual(result.boundaries, {
      'lost-layer': {},
      'content-differs': {},
      'config-differs': {},
    });
    const markdown = renderMatrix(result);
    assert.match(markdown, /^- Lost a layer: no release\.$/m);
    assert.match(markdown, /^- Content differs: no release\.$/m);
    assert.match(markdown, /^- Config differs: no release\.$/m);
    assert.doesNotMatch(markdown, /last v/);
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
      { source: 'report-v0.9.2.json', report: { ...report('v0.9.2', 'clean'), schemaVersion: 3 } },
      { source: 'no-kind.json', report: { ...report('v0.9.3', 'clean'), verdict: { attemptsRun: 3 } } },
      { source: 'odd-kind.json', report: { ...report('v0.9.3', 'clean'), verdict: { kind: 'maybe' } } },
      // Version 1 had no verdict for a difference other than a lost layer.
      {
        source: 'v1-config.json',
        report: { ...report('v0.9.3', 'config-differs'), schemaVersion: 1 },
      },
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
      'v1-config.json',
    ]);
    // The unreadable report named after v0.9.2 answers for it: v0.9.2 is unreadable, not also missing.
    assert.equal(result.rows.filter((r) => r.verdict === 'missing').length, 0);
    assert.equal(result.rows.find((r) => r.source === 'report-v0.9.2.json')?.version, 'v0.9.2');
    assert.equal(result.problems.length, 9);
    const problem = (source: string) => result?.problems.find((p) => p.startsWith(source)) ?? '';
    assert.match(problem('report-v0.9.2.json'), /schemaVersion is 3, not one of 1, 2/);
    assert.match(problem('garbage.json'), /not a readable report/);
    assert.match(problem('broken.json'), /Unexpected token/);
    assert.match(problem('no-kind.json'), /verdict\.kind is missing/);
    assert.match(
      problem('odd-kind.json'),
      /verdict\.kind is "maybe", not one of reproduced, content-differs/,
    );
    assert.match(
      problem('v1-config.json'),
      /verdict\.kind is "config-differs", not one of reproduced, clean, error, not-run \(schemaVersion 1\)/,
    );
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

describe('classes of difference', () => {
  /** The ladder of the test bed, each release importing its own cache: config compared in every run. */
  const ladder = (): MatrixInput[] => [
    input('v0.10.6', 'clean', { attempts: 40 }),
    input('v0.9.1', 'config-differs', { attempts: 40, classes: { 'config-differs': 40 } }),
    input('v0.34.2', 'clean', { attempts: 40 }),
    input('v0.9.0', 'reproduced', {
      attempts: 40,
      classes: { 'lost-layer': 5, 'config-differs': 35 },
      lossRate: { lost: 5, attempts: 40 },
    }),
  ];

  it('finds a boundary for each class: lost a layer v0.9.0/v0.9.1, config v0.9.1/v0.10.6, no content', () => {
    const result = buildMatrix(ladder());
    assert.deepEqual(result.boundaries, {
      'lost-layer': { last: 'v0.9.0', firstWithout: 'v0.9.1' },
      'content-differs': {},
      'config-differs': { last: 'v0.9.1', firstWithout: 'v0.10.6' },
    });
    // The summarize action's outputs: the lost-layer boundary, whatever else v0.9.1 showed.
    assert.deepEqual(result.boundary, { lastLost: 'v0.9.0', firstClean: 'v0.9.1' });
    const markdown = renderMatrix(result);
    const lines = markdown.split('\n');
    const first = lines.indexOf('- Lost a layer: last v0.9.0; first without: v0.9.1.');
    assert.ok(first > 0, markdown);
    assert.deepEqual(lines.slice(first + 1, first + 3), [
      '- Content differs: no release.',
      '- Config differs: last v0.9.1; first without: v0.10.6.',
    ]);
  });

  it('labels each verdict and counts each class in a column of its own', () => {
    const markdown = renderMatrix(buildMatrix(ladder()));
    assert.match(
      markdown,
      /^\| Version \| Image \| Verdict \| Attempts \| Lost a layer \| Content differs \| Config differs \| Intact \| Loss rate \|$/m,
    );
    assert.match(
      markdown,
      /^\| v0\.9\.0 \| [^|]+ \| 🔴 lost a layer \| 40 \| 5 \| 0 \| 35 \| 0 \| 12\.5% \(4\.2%–26\.8%, 95%\) \|$/m,
    );
    assert.match(markdown, /^\| v0\.9\.1 \| [^|]+ \| 🟡 config differs \| 40 \| 0 \| 0 \| 40 \| 0 \| /m);
    assert.match(markdown, /^\| v0\.10\.6 \| [^|]+ \| 🟢 clean \| 40 \| 0 \| 0 \| 0 \| 40 \| \\< 7\.2% /m);
  });

  it('a run that did not compare config takes no part in the config boundary, and shows no count for it', () => {
    const inputs = ladder().map((i) =>
      i.source === 'report-v0.9.1.json' ? input('v0.9.1', 'clean', { attempts: 40, compared: false }) : i,
    );
    const result = buildMatrix(inputs);
    // v0.9.1 did not look at config: it is not the first release without a config difference.
    assert.deepEqual(result.boundaries['config-differs'], { last: 'v0.9.0', firstWithout: 'v0.10.6' });
    assert.deepEqual(result.boundaries['lost-layer'], { last: 'v0.9.0', firstWithout: 'v0.9.1' });
    const markdown = renderMatrix(result);
    assert.match(
      markdown,
      /^- Config differs: last v0\.9\.0; first without: v0\.10\.6\. Between them, v0\.9\.1 did not judge it\.$/m,
    );
    assert.match(markdown, /^\| v0\.9\.1 \| [^|]+ \| 🟢 clean \| 40 \| 0 \| 0 \| — \| 40 \| /m);
    assert.match(markdown, /^— in a class's column or cell: that run could not see the class, because$/m);
    assert.match(markdown, /^- another release built the reference$/m);
  });

  it('gives the first few reasons a class was not judged, and counts the rest', () => {
    const notCompared = (version: string, reason: string): MatrixInput => ({
      source: `report-${version}.json`,
      report: { ...report(version, 'clean'), configComparison: { compared: false, reason } },
    });
    const markdown = renderMatrix(
      buildMatrix(['v0.9.0', 'v0.9.1', 'v0.9.2', 'v0.9.3', 'v0.9.4'].map((v) => notCompared(v, `why ${v}`))),
    );
    const reasons = markdown.split('\n').filter((l) => l.startsWith('- why '));
    assert.deepEqual(reasons, ['- why v0.9.0', '- why v0.9.1', '- why v0.9.2']);
    assert.match(markdown, /^- and 2 more reasons$/m);
  });

  it('finds the content boundary of a release whose content differs', () => {
    const result = buildMatrix([
      input('v0.10.0', 'content-differs', { attempts: 40, classes: { 'content-differs': 2 } }),
      input('v0.10.6', 'clean', { attempts: 40 }),
    ]);
    const row = result.rows[0];
    assert.equal(row?.verdict, 'content-differs');
    assert.deepEqual(row?.classes, {
      'lost-layer': 0,
      'content-differs': 2,
      'config-differs': 0,
      intact: 38,
    });
    assert.deepEqual(result.boundaries['content-differs'], { last: 'v0.10.0', firstWithout: 'v0.10.6' });
    assert.deepEqual(result.boundary, {});
    const markdown = renderMatrix(result);
    assert.match(markdown, /^- Content differs: last v0\.10\.0; first without: v0\.10\.6\.$/m);
    assert.match(markdown, /^- Lost a layer: no release\.$/m);
    assert.match(markdown, /^\| v0\.10\.0 \| [^|]+ \| 🟠 content differs \| 40 \| 0 \| 2 \| 0 \| 38 \| /m);
  });

  it('two variants of one release: the first release without is above it, not its other variant', () => {
    const variant = (image: string, kind: Kind): MatrixInput => ({
      source: `report-${image}.json`,
      report: { ...report('v0.9.0', kind), settings: { buildkitImage: `moby/buildkit:${image}` } },
    });
    const result = buildMatrix([
      variant('v0.9.0', 'reproduced'),
      variant('v0.9.0-rootless', 'clean'),
      input('v0.9.1', 'clean'),
    ]);
    assert.deepEqual(result.boundaries['lost-layer'], { last: 'v0.9.0', firstWithout: 'v0.9.1' });
  });

  it('still reads a report of schema version 1: its lost outcomes are lost-layer, config and content not judged', () => {
    const v1 = (version: string, kind: Kind, lost = 0) =>
      input(version, kind, { schemaVersion: 1, attempts: 20, classes: { 'lost-layer': lost } });
    const old = v1('v0.9.0', 'reproduced', 3);
    // Shaped as version 1 wrote it: 'lost' outcomes, no class counts, no configComparison.
    assert.ok(JSON.stringify(old.report).includes('"kind":"lost"'));
    assert.ok(
      !JSON.stringify(old.report).includes('classes') &&
        !JSON.stringify(old.report).includes('configComparison'),
    );
    const result = buildMatrix([old, v1('v0.9.1', 'clean')]);
    const row = result.rows[0];
    assert.equal(row?.verdict, 'reproduced');
    assert.equal(row?.lost, 3);
    assert.deepEqual(row?.classes, {
      'lost-layer': 3,
      'content-differs': 0,
      'config-differs': 0,
      intact: 17,
    });
    assert.deepEqual(Object.keys(row?.unjudged ?? {}).sort(), ['config-differs', 'content-differs']);
    assert.deepEqual(result.boundaries, {
      'lost-layer': { last: 'v0.9.0', firstWithout: 'v0.9.1' },
      'content-differs': {},
      'config-differs': {},
    });
    const markdown = renderMatrix(result);
    assert.match(markdown, /^- Lost a layer: last v0\.9\.0; first without: v0\.9\.1\.$/m);
    assert.match(markdown, /^- Config differs: no release judged it\.$/m);
    assert.match(markdown, /^\| v0\.9\.0 \| [^|]+ \| 🔴 lost a layer \| 20 \| 3 \| — \| — \| 17 \| — \|$/m);
    assert.match(markdown, /^- a report of schema version 1 never compared config and history$/m);
  });

  it('a malformed classes or configComparison costs those cells, not the row', () => {
    const base = report('v0.9.0', 'reproduced', { classes: { 'lost-layer': 2 } });
    const result = buildMatrix([
      {
        source: 'odd.json',
        report: {
          ...base,
          verdict: { ...base.verdict, classes: { 'lost-layer': 'two' } },
          configComparison: 'yes',
        },
      },
    ]);
    const row = result.rows[0];
    assert.equal(row?.verdict, 'reproduced');
    // Counted from the attempt records instead.
    assert.deepEqual(row?.classes, {
      'lost-layer': 2,
      'content-differs': 0,
      'config-differs': 0,
      intact: 18,
    });
    assert.equal(row?.lost, 2);
    assert.notEqual(row?.unjudged['config-differs'], undefined);
    assert.match(row?.note ?? '', /verdict\.classes is malformed/);
    assert.match(row?.note ?? '', /configComparison is malformed/);
  });

  it('says when only builds that are not releases showed a class', () => {
    const master = report('x', 'reproduced');
    const result = buildMatrix([
      {
        source: 'master.json',
        report: {
          ...master,
          buildkitVersion: 'unknown',
          settings: { buildkitImage: 'moby/buildkit:master' },
        },
      },
      input('v0.9.1', 'clean'),
    ]);
    assert.deepEqual(result.boundaries['lost-layer'], {});
    const markdown = renderMatrix(result);
    assert.match(markdown, /^- Lost a layer: no release; only builds that are not releases: master\.$/m);
    assert.match(markdown, /^- Content differs: no release\.$/m);
  });

  it('a run that ran no attempt has no counts', () => {
    const result = buildMatrix([input('v0.9.0', 'not-run'), input('v0.9.1', 'error')]);
    assert.equal(result.rows[0]?.classes, undefined);
    const markdown = renderMatrix(result);
    assert.match(markdown, /^\| v0\.9\.0 \| [^|]+ \| ⚪ not run \| 0 \| — \| — \| — \| — \| — \|$/m);
    assert.match(markdown, /^No job gave a verdict, so there is no boundary\.$/m);
  });

  it('trusts the verdict when its counts are gone: a reproduced run lost a layer', () => {
    // A version 1 report whose attempt records are unreadable: no count, but the verdict still says it.
    const base = report('v0.9.0', 'reproduced', { schemaVersion: 1 });
    const result = buildMatrix([
      { source: 'a.json', report: { ...base, attempts: 'gone' } },
      input('v0.9.1', 'clean'),
    ]);
    assert.equal(result.rows[0]?.lost, 0);
    assert.deepEqual(result.boundaries['lost-layer'], { last: 'v0.9.0', firstWithout: 'v0.9.1' });
  });

  it('prefers the verdict counts of the report to its attempt records', () => {
    const base = report('v0.9.0', 'config-differs', { attempts: 4, classes: { 'config-differs': 1 } });
    const counts = { 'lost-layer': 0, 'content-differs': 0, 'config-differs': 30, intact: 10 };
    const [row] = buildMatrix([
      { source: 'a.json', report: { ...base, verdict: { ...base.verdict, classes: counts } } },
    ]).rows;
    assert.deepEqual(row?.classes, counts);
  });
});

describe('a run that stopped at its first finding', () => {
  it('judges the other classes only where it saw them: an absence in a few attempts is no "first without"', () => {
    // v0.9.0 stopped at its loss after 6 of 40 attempts; v0.9.1 content-differs was never looked for there.
    const stopped = report('v0.9.0', 'reproduced', { attempts: 6, classes: { 'lost-layer': 1 } });
    const planned = { ...stopped, settings: { ...stopped.settings, retries: 40 } };
    const result = buildMatrix([
      {
        source: 'a.json',
        report: report('v0.8.3', 'content-differs', { classes: { 'content-differs': 2 } }),
      },
      { source: 'b.json', report: planned },
      { source: 'c.json', report: report('v0.9.1', 'clean') },
    ]);
    const row = result.rows.find((r) => r.version === 'v0.9.0');
    assert.match(
      row?.unjudged['content-differs'] ?? '',
      /stopped at its first finding, after 6 of 40 attempts/,
    );
    assert.equal(row?.unjudged['lost-layer'], undefined);
    // The content boundary skips v0.9.0 and lands on the first release that ran all its attempts.
    assert.deepEqual(result.boundaries['content-differs'], { last: 'v0.8.3', firstWithout: 'v0.9.1' });
    // A class the stopped run did see is seen all the same.
    const sawConfig = report('v0.9.0', 'reproduced', {
      attempts: 6,
      classes: { 'lost-layer': 1, 'config-differs': 5 },
    });
    const seen = buildMatrix([
      { source: 'd.json', report: { ...sawConfig, settings: { ...sawConfig.settings, retries: 191 } } },
    ]);
    assert.equal(seen.rows[0]?.unjudged['config-differs'], undefined);
    assert.match(renderMatrix(seen), /^- Config differs: last v0\.9\.0;/m);
    const keptGoing = { ...planned, settings: { ...planned.settings, keepGoing: true } };
    const judged = buildMatrix([{ source: 'b.json', report: keptGoing }]).rows[0];
    assert.equal(judged?.unjudged['content-differs'], undefined, 'keep-going: every planned attempt looked');
  });
});

describe('renderMatrix', () => {
  it('puts the boundaries first, then the table, then the problems', () => {
    const markdown = renderMatrix(buildMatrix(bisect(), ['v0.9.2']));
    const lines = markdown.split('\n');
    assert.equal(lines[0], '## BuildKit lost-layer bisect');
    const boundary = lines.indexOf('- Lost a layer: last v0.9.0; first without: v0.9.1.');
    const header = lines.findIndex((l) => l.startsWith('| Version | Image | Verdict | Attempts |'));
    const problems = lines.indexOf('Some jobs gave no verdict:');
    assert.ok(boundary > 0 && header > boundary && problems > header, markdown);
    // A job with no report ran nothing we know of: no counts rather than zeros.
    assert.ok(lines.includes('| v0.9.2 |  | ❔ missing | — | — | — | — | — | — |'), markdown);
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
      /^- Lost a layer: last v0\.9\.0; first without: v0\.9\.2\. Between them, v0\.9\.1 gave no verdict\.$/m,
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
    // Every pipe in the row is a cell border or escaped: 10 borders for 9 cells.
    assert.equal(row.replace(/\\\|/g, '').split('|').length - 1, 10, row);
  });

  it('says when no job gave a verdict', () => {
    const markdown = renderMatrix(buildMatrix([{ source: 'x.json', report: 42 }], ['v0.9.0']));
    assert.match(markdown, /No job gave a verdict, so there is no boundary\./);
    assert.doesNotMatch(markdown, /Lost a layer:/);
    assert.match(markdown, /Some jobs gave no verdict:/);
  });
});

describe('cache maker × importer', () => {
  /** Config is compared only when one release built the reference (the cache) and the attempts. */
  const fromMaker = (importer: string, maker: string, kind: Kind, classes?: Partial<ClassCounts>) => ({
    source: `report-${importer}-from-${maker}.json`,
    report: {
      ...report(importer, kind, {
        attempts: 40,
        lossRate: { lost: classes?.['lost-layer'] ?? (kind === 'reproduced' ? 1 : 0), attempts: 40 },
        compared: importer === maker,
        ...(classes ? { classes } : {}),
      }),
      cacheMaker: { kind: 'this-run', image: `moby/buildkit:${maker}`, buildkitVersion: maker },
    },
  });
  const grid = () => [
    fromMaker('v0.9.0', 'v0.9.0', 'reproduced', { 'lost-layer': 5, 'config-differs': 35 }),
    fromMaker('v0.9.1', 'v0.9.0', 'clean'),
    fromMaker('v0.9.0', 'v0.10.6', 'clean'),
    fromMaker('v0.9.1', 'v0.10.6', 'clean'),
  ];

  it('names every maker, and gives the boundaries of each class among the importers of each', () => {
    const result = buildMatrix(grid());
    assert.deepEqual(result.makers, ['v0.9.0', 'v0.10.6']);
    assert.deepEqual(result.byMaker, [
      {
        maker: 'v0.9.0',
        boundaries: {
          'lost-layer': { last: 'v0.9.0', firstWithout: 'v0.9.1' },
          'content-differs': {},
          // v0.9.1 imported v0.9.0's cache: another release built the reference, config was not compared.
          'config-differs': { last: 'v0.9.0' },
        },
      },
      {
        maker: 'v0.10.6',
        boundaries: { 'lost-layer': {}, 'content-differs': {}, 'config-differs': {} },
      },
    ]);
  });

  it('renders one grid, importers as rows and makers as columns, each cell its run by class', () => {
    const markdown = renderMatrix(buildMatrix(grid()));
    const lines = markdown.split('\n');
    const v090 = lines.indexOf('- Cache made by v0.9.0:');
    assert.ok(v090 > 0, markdown);
    assert.deepEqual(lines.slice(v090 + 1, v090 + 8), [
      '  - Lost a layer: last v0.9.0; first without: v0.9.1.',
      '  - Content differs: no release.',
      '  - Config differs: last v0.9.0; above it, v0.9.1 did not judge it.',
      '- Cache made by v0.10.6:',
      '  - Lost a layer: no release.',
      '  - Content differs: no release.',
      '  - Config differs: no release judged it.',
    ]);
    assert.match(markdown, /^\| Importer ↓ · cache made by → \| v0\.9\.0 \| v0\.10\.6 \|$/m);
    assert.match(
      markdown,
      /^\| v0\.9\.0 \| 🔴 lost 5\/40, 12\.5% \([^|]+\) · content 0 · config 35 · intact 0 \| 🟢 lost 0\/40, \\< 7\.2% \([^|]+\) · content 0 · config — · intact 40 \|$/m,
    );
    assert.match(
      markdown,
      /^\| v0\.9\.1 \| 🟢 lost 0\/40, [^|]+ · content 0 · config — · intact 40 \| 🟢 lost 0\/40, [^|]+ · content 0 · config — · intact 40 \|$/m,
    );
    // The table of rows tells two jobs of one importer apart by their maker.
    assert.match(markdown, /^\| Version \| Image \| Cache made by \| Verdict \|/m);
    assert.match(markdown, /^\| v0\.9\.0 \| moby\/buildkit:v0\.9\.0-rootless \| v0\.10\.6 \| 🟢 clean \|/m);
  });

  it('a grid cell of a config difference, and of a run with no verdict', () => {
    const markdown = renderMatrix(
      buildMatrix([
        fromMaker('v0.9.1', 'v0.9.1', 'config-differs', { 'config-differs': 40 }),
        fromMaker('v0.9.1', 'v0.10.6', 'error'),
        fromMaker('v0.10.6', 'v0.10.6', 'clean'),
      ]),
    );
    assert.match(
      markdown,
      /^\| v0\.9\.1 \| 🟡 lost 0\/40, [^|]+ · content 0 · config 40 · intact 0 \| ⚠️ error \|$/m,
    );
    assert.match(markdown, /^- Cache made by v0\.9\.1:$/m);
    assert.match(markdown, /^ {2}- Config differs: last v0\.9\.1; no release above it was tested\.$/m);
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
    assert.match(markdown, /^- Lost a layer: last v0\.9\.0; first without: v0\.9\.1\.$/m);
  });

  it('one maker, the importer itself: no grid, no maker column, as before', () => {
    const markdown = renderMatrix(buildMatrix([fromMaker('v0.9.0', 'v0.9.0', 'reproduced')]));
    assert.doesNotMatch(markdown, /Importer ↓|Cache made by/);
  });
});
