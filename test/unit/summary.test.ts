import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RawInputs } from '../../src/inputs/input-table.js';
import { parseSettings, type PathContext, type Settings } from '../../src/inputs/settings.js';
import { buildReport, outputsOf } from '../../src/report/json-report.js';
import { renderSummary } from '../../src/report/summary.js';
import { decideVerdict, measuredLossRate } from '../../src/verdict/verdict.js';
import { lossRate } from '../../src/verdict/loss-rate.js';
import type { AttemptOutcome, AttemptRecord } from '../../src/model/attempt.js';
import type { ImageDifference } from '../../src/model/difference.js';
import type { Minimization } from '../../src/model/minimization.js';
import type { RunResult } from '../../src/model/run-result.js';
import { differenceOf } from '../support/fake-daemons.js';

const bundledRepro = fileURLToPath(new URL('../../fixtures/repro', import.meta.url));
const TOKEN = 'ghs_secret123';

let workspace: string;
let paths: PathContext;
before(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-test-'));
  paths = { workspace, bundledRepro };
});
after(() => {
  fs.rmSync(workspace, { recursive: true, force: true });
});

/**
 * The default settings with a token. buildkitd-container-options is set because renderSummary throws on
 * its default (undefined); that bug has its own test below.
 */
function settingsWith(raw: RawInputs = {}): Settings {
  const settings = parseSettings(
    { 'github-token': TOKEN, 'buildkitd-container-options': '--privileged', ...raw },
    paths,
  );
  assert.equal(settings.githubToken, TOKEN);
  return settings;
}

const record = (attempt: number, outcome: AttemptOutcome = { kind: 'intact' }): AttemptRecord => ({
  attempt,
  freshState: attempt % 4 === 1,
  resetMs: attempt % 4 === 1 ? 400 : 0,
  durationMs: 1500 + attempt,
  outcome,
});

function runResult(
  records: AttemptRecord[],
  plannedAttempts = records.length,
  setupError?: string,
  keptGoing = false,
): RunResult {
  const verdict = decideVerdict({ plannedAttempts, runAttempts: true, records, setupError });
  return {
    runId: 'deadbeef',
    verdict,
    lossRate: measuredLossRate(verdict, keptGoing, records, plannedAttempts),
    records,
    buildkitVersion: 'v0.9.0',
    buildctl: {
      path: '/opt/buildctl',
      url: 'https://example.com/buildctl.tgz',
      fromToolCache: false,
      sha256: 'ab'.repeat(32),
      verifiedBy: 'GitHub release digest',
    },
    startedAt: '2026-11-28T09:00:00.000Z',
    finishedAt: '2026-11-28T09:05:00.000Z',
    daemonLogFiles: [],
  };
}

const difference = (fields: Partial<ImageDifference> = {}) =>
  differenceOf({ layerRelation: 'strict-subsequence', ...fields });

const lostOutcome = (missingPaths: string[], output = 'x'): AttemptOutcome => ({
  kind: 'lost-layer',
  difference: difference({ missingPaths }),
  output,
});

function lostRun(lostAt: number, missingPaths = ['repro.txt']): RunResult {
  const records = Array.from({ length: lostAt - 1 }, (_, i) => record(i + 1));
  records.push(record(lostAt, lostOutcome(missingPaths, `/tmp/attempt-${lostAt}.oci.tar`)));
  return runResult(records, 20);
}

/** The rows of the attempts table: they start with the attempt number. */
const attemptRows = (summary: string) => summary.split('\n').filter((line) => /^\| \d+ \|/.test(line));
/** Pipes that split a table cell (not escaped with a backslash). */
const cellPipes = (row: string) => (row.match(/(?<!\\)\|/g) ?? []).length;

describe('renderSummary', () => {
  it('starts with the heading, then gives the verdict line', () => {
    const summary = renderSummary(lostRun(10), settingsWith());
    const lines = summary.split('\n');
    assert.equal(lines[0], '## BuildKit lost-layer check');
    const verdict = lines.find((line) => line.includes('Layer lost'));
    assert.ok(verdict, summary);
    assert.match(verdict, /attempt 10\b/);
    assert.match(verdict, /repro\.txt/);
    assert.ok(lines.indexOf(verdict) < lines.findIndex((line) => line.startsWith('| Attempt')));
  });

  it('has one table row per attempt, and marks the lost one', () => {
    const summary = renderSummary(lostRun(7), settingsWith());
    const rows = attemptRows(summary);
    assert.deepEqual(
      rows.map((row) => Number(row.split('|')[1])),
      [1, 2, 3, 4, 5, 6, 7],
    );
    const marked = rows.filter((row) => /layer lost/i.test(row));
    assert.deepEqual(marked, [rows[6]]);
    assert.match(rows[6] ?? '', /repro\.txt/);
    for (const row of rows.slice(0, 6)) assert.match(row, /intact/);
    assert.match(rows[4] ?? '', /\| yes \|/, 'attempt 5 started from a fresh state');
    assert.doesNotMatch(rows[1] ?? '', /yes/);
  });

  it('shows a clean run and an errored attempt', () => {
    const clean = renderSummary(
      runResult(Array.from({ length: 3 }, (_, i) => record(i + 1))),
      settingsWith(),
    );
    assert.match(clean, /No difference in 3 attempts: every image equals the reference/);
    assert.equal(attemptRows(clean).length, 3);
    const errored = renderSummary(
      runResult([record(1), record(2, { kind: 'error', cause: 'buildctl build exited 1' })], 20),
      settingsWith(),
    );
    assert.match(attemptRows(errored)[1] ?? '', /error: buildctl build exited 1/);
  });

  it("never contains a cache's credential, nor does the JSON report: every backend's, each field", () => {
    const secrets = {
      s3Key: 'AKIAQX7EXAMPLEID',
      s3Secret: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY',
      s3Session: 'FwoGZXIvYXdzEXAMPLESESSION',
      gha: 'eyJhbGciOiJIUzI1NiJ9.runtime',
      azblob: 'YXpibG9iLWFjY291bnQta2V5',
      registry: 'hunter2-registry',
    };
    const runs: [RawInputs, RawInputs][] = [
      [
        {
          'cache-type': 's3',
          'buildkit-image': 'moby/buildkit:v0.34.2',
          'cache-s3-bucket': 'ci-cache',
          'cache-s3-region': 'eu-west-1',
          'cache-s3-access-key-id': secrets.s3Key,
          'cache-s3-secret-access-key': secrets.s3Secret,
          'cache-s3-session-token': secrets.s3Session,
        },
        {},
      ],
      [
        { 'cache-type': 'gha', 'buildkit-image': 'moby/buildkit:v0.34.2' },
        { ACTIONS_RUNTIME_TOKEN: secrets.gha, ACTIONS_CACHE_URL: 'https://cache.example.com/' },
      ],
      [
        {
          'cache-type': 'azblob',
          'buildkit-image': 'moby/buildkit:v0.34.2',
          'cache-azblob-account-url': 'https://acct.blob.core.windows.net',
          'cache-azblob-secret-access-key': secrets.azblob,
        },
        {},
      ],
      [
        {
          'create-cache': 'false',
          'cache-ref': 'ghcr.io/org/app:buildcache',
          'cache-username': 'me',
          'cache-password': secrets.registry,
        },
        {},
      ],
    ];
    for (const [inputs, environment] of runs) {
      const settings = parseSettings(
        { 'github-token': TOKEN, 'buildkitd-container-options': '--privileged', ...inputs },
        paths,
        environment,
      );
      const shown = renderSummary(lostRun(3), settings) + JSON.stringify(buildReport(lostRun(3), settings));
      for (const secret of Object.values(secrets)) assert.ok(!shown.includes(secret), `${secret} shown`);
      assert.ok(shown.includes('***'), 'masked, not dropped');
    }
  });

  it('never contains the github token, nor does the JSON report', () => {
    const settings = settingsWith();
    for (const result of [lostRun(3), runResult([], 20, 'docker is not running')]) {
      const summary = renderSummary(result, settings);
      assert.ok(!summary.includes(TOKEN), 'token in the summary');
      const report = JSON.stringify(buildReport(result, settings));
      assert.ok(!report.includes(TOKEN), 'token in the report');
      assert.ok(report.includes(settings.buildctlUrl), 'the report carries the settings');
    }
  });

  it('keeps a long run short and says how many intact attempts it leaves out', () => {
    const summary = renderSummary(lostRun(200), settingsWith({ retries: '200' }));
    const rows = attemptRows(summary);
    assert.ok(rows.length < 70, `${rows.length} rows`);
    assert.ok(rows.some((row) => /layer lost/i.test(row) && row.startsWith('| 200 |')));
    assert.match(summary, new RegExp(`\\b${200 - rows.length} intact attempts are not listed`));
  });

  it('keeps a long clean run short too, listing the last attempt', () => {
    const records = Array.from({ length: 200 }, (_, i) => record(i + 1));
    const summary = renderSummary(runResult(records), settingsWith({ retries: '200' }));
    const rows = attemptRows(summary);
    assert.ok(rows.length < 70, `${rows.length} rows`);
    assert.ok(rows.some((row) => row.startsWith('| 200 |')));
    assert.match(summary, new RegExp(`\\b${200 - rows.length} intact attempts are not listed`));
  });

  it('lists every attempt of a run of 60', () => {
    const records = Array.from({ length: 60 }, (_, i) => record(i + 1));
    const summary = renderSummary(runResult(records), settingsWith({ retries: '60' }));
    assert.equal(attemptRows(summary).length, 60);
    assert.doesNotMatch(summary, /not listed/);
  });

  it('keeps the five cell pipes of a row whose missing path holds a backtick', () => {
    const summary = renderSummary(lostRun(2, ['dir/a`b.txt']), settingsWith());
    const row = attemptRows(summary)[1] ?? '';
    assert.equal(cellPipes(row), 5, row);
    assert.equal((row.match(/`/g) ?? []).length, 2, `one code span, no stray backtick: ${row}`);
  });

  it('keeps the five cell pipes of a row whose error cause holds pipes and new lines', () => {
    const summary = renderSummary(
      runResult([record(1, { kind: 'error', cause: 'a | b\nc || d' })], 20),
      settingsWith(),
    );
    const rows = attemptRows(summary);
    assert.equal(rows.length, 1);
    assert.equal(cellPipes(rows[0] ?? ''), 5, rows[0]);
  });

  it('keeps the five cell pipes of a row whose missing path holds a pipe', () => {
    const settings = settingsWith({ 'expect-paths': 'dir/a|b.txt' });
    const summary = renderSummary(lostRun(2, settings.expectPaths), settings);
    const row = attemptRows(summary)[1] ?? '';
    assert.equal(cellPipes(row), 5, row);
  });

  it('renders with the default settings (buildkitd-container-options not given)', () => {
    const settings = parseSettings({}, paths);
    const summary = renderSummary(lostRun(3), settings);
    assert.match(summary, /^## BuildKit lost-layer check/);
  });
});

describe('renderSummary: settings', () => {
  /** The rows of the Settings table, after its header. */
  const settingRows = (summary: string) =>
    summary
      .slice(summary.indexOf('<details><summary>Settings</summary>'))
      .split('\n')
      .filter((line) => line.startsWith('| ') && !/^\| (Setting|---) \|/.test(line));

  it('names each setting as the input a workflow writes, in action.yml order', () => {
    const rows = settingRows(renderSummary(lostRun(3), settingsWith({ retries: '30' })));
    assert.ok(rows.includes('| buildkit-image | moby/buildkit:v0.9.0-rootless |'), rows.join('\n'));
    assert.ok(!rows.some((row) => row.startsWith('| buildkitImage |')), rows.join('\n'));
    assert.ok(rows.includes('| retries | 30 |'));
    assert.ok(rows.includes('| github-token | \\*\\*\\* |'), 'the token masked');
    // Two inputs set one field: one row, under both names.
    assert.ok(rows.includes('| buildkitd-config / buildkitd-config-inline |  |'), rows.join('\n'));
    const names = rows.map((row) => row.split(' | ')[0]?.slice(2) ?? '');
    assert.equal(names[0], 'buildkit-image');
    assert.equal(names.at(-1), 'parallel');
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(
      names.filter((name) => /[A-Z]/.test(name)),
      [],
    );
  });

  it('shows what the workflow gave and what it became, not the typed value (auto, none)', () => {
    const settings = settingsWith({
      parallel: 'auto',
      'mirror-upstream': 'none',
      'fail-on': 'none',
      'cache-mode': 'min',
      'cache-compression': 'zstd',
      'buildkit-image': 'moby/buildkit:v0.10.6',
    });
    const rows = settingRows(renderSummary({ ...lostRun(3), lanes: 2 }, settings));
    assert.ok(rows.includes('| parallel | auto (2 lanes) |'), rows.join('\n'));
    assert.ok(rows.includes('| mirror-upstream | none (a plain registry, filled from mirror-images) |'));
    assert.ok(rows.includes('| fail-on / fail-on-reproduce | none |'), rows.join('\n'));
    assert.ok(
      rows.some((row) => row.endsWith('| cache-mode: min, cache-compression: zstd |')),
      rows.join('\n'),
    );
    const given = settingRows(renderSummary(lostRun(3), settingsWith({ parallel: '3' })));
    assert.ok(given.includes('| parallel | 3 |'));
    assert.ok(given.some((row) => row.endsWith("| (the backend's and BuildKit's defaults) |")));
  });

  it('has a row for every setting', () => {
    const settings = settingsWith();
    const names = settingRows(renderSummary(lostRun(3), settings)).map(
      (row) => row.split(' | ')[0]?.slice(2) ?? '',
    );
    // fuzz has its row only in a fuzz run.
    const shown = Object.keys(settings).filter((key) => key !== 'fuzz');
    assert.equal(names.length, new Set(shown).size, names.join(', '));
  });
});

describe('renderSummary: lanes', () => {
  it('shows which lane ran each attempt when several ran at once, and not otherwise', () => {
    const records = [1, 2, 3].map((n) => ({ ...record(n), lane: ((n - 1) % 2) + 1 }));
    const summary = renderSummary({ ...runResult(records), lanes: 2 }, settingsWith());
    assert.match(summary, /^\| Attempt \| Lane \| Fresh state before it \| Duration \| Result \|$/m);
    assert.match(summary, /^\| 2 \| 2 \| {2}\| 1\.50 s \| intact \|$/m);
    assert.match(summary, /fresh buildkitd state every 4 attempts in each of 2 lanes/);
    const single = renderSummary(runResult([record(1)]), settingsWith());
    assert.match(single, /^\| Attempt \| Fresh state before it \| Duration \| Result \|$/m);
  });
});

describe('renderSummary: the classes', () => {
  const layer = (position: number, diffId: string, createdBy: string, files = 1) => ({
    position,
    digest: `sha256:${diffId.repeat(64).slice(0, 64)}`,
    diffId: `sha256:${diffId.repeat(64).slice(0, 64)}`,
    size: 177,
    files,
    createdBy,
  });
  const base = layer(1, 'a', '', 300);
  const copy = layer(2, 'b', 'COPY repro.txt /');
  const poisoned = layer(2, 'c', 'COPY repro.txt /');
  const contentDiffers = difference({
    layerRelation: 'differs',
    layerChanges: [{ place: 2, reference: copy, attempt: poisoned }],
    files: [
      { path: 'repro.txt', change: 'content', reference: 'sha256:1 (10 B)', attempt: 'sha256:2 (9 B)' },
    ],
    layers: { reference: [base, copy], attempt: [base, poisoned] },
  });
  const configDiffers = difference({
    layerRelation: 'equal',
    config: [
      { field: 'Env', reference: '["A=1"]', attempt: '["A=2"]' },
      { field: 'history 2 empty_layer (RUN echo 1)', reference: 'true', attempt: 'false' },
    ],
  });

  it('counts the attempts of each class, and gives the first of each in full', () => {
    const records = [
      record(1, { kind: 'config-differs', difference: configDiffers, output: 'a' }),
      record(2, { kind: 'content-differs', difference: contentDiffers, output: 'b' }),
    ];
    const result = { ...runResult(records, 20), configComparison: { compared: true as const } };
    const summary = renderSummary(result, settingsWith());
    assert.match(summary, /^🟠 \*\*Content differs from the reference: attempt 2: /m);
    assert.match(
      summary,
      /^Attempts by class: 0 lost a layer · 1 content differs · 1 config differs · 0 intact\. Layers, files, config and history were compared/m,
    );
    assert.match(summary, /^### Content differs from the reference$/m);
    assert.match(
      summary,
      /^\| 2 \| `COPY repro.txt \/` \| `bbbbbbbbbbbb`, 177 B, 1 file \| \*\*another\*\*: layer 2, `cccccccccccc`, 177 B, 1 file \|$/m,
    );
    assert.match(summary, /^\| `repro.txt` \| content \| sha256:1 \(10 B\) \| sha256:2 \(9 B\) \|$/m);
    assert.match(summary, /^### Config differs from the reference$/m);
    assert.match(summary, /^\| `Env` \| `\["A=1"\]` \| `\["A=2"\]` \|$/m);
    assert.match(summary, /^\| `history 2 empty_layer \(RUN echo 1\)` \| `true` \| `false` \|$/m);
    assert.ok(
      summary.indexOf('### Content differs') < summary.indexOf('### Config differs'),
      'most severe first',
    );
  });

  it('says why config was not compared', () => {
    const result = {
      ...runResult([record(1)], 1),
      configComparison: { compared: false as const, reason: 'the reference was built by v0.10.6' },
    };
    assert.match(
      renderSummary(result, settingsWith()),
      /Config and history were not compared: the reference was built by v0\.10\.6\./,
    );
  });
});

describe('renderSummary: the minimizer', () => {
  const minimized = (
    proven: boolean,
    dockerfile = 'FROM alpine:latest\nCOPY c.txt /srv/c.txt\nRUN echo done\n',
  ) =>
    ({
      kind: 'minimized',
      target: 'lost-layer',
      proven,
      dockerfile,
      dockerfilePath: '/tmp/run/minimized/Dockerfile',
      contextDir: '/tmp/run/minimized/context',
      files: ['c.txt'],
      instructionsBefore: 12,
      instructionsAfter: 3,
      filesBefore: 5,
      filesAfter: 1,
      candidatesJudged: 21,
      invalidCandidates: 6,
      seconds: 240.5,
      confidence: 0.99,
      detectionChance: 0.9921,
      attemptsPerCandidate: 27,
      baseline: { found: 7, attempts: 40 },
      original: { found: 8, attempts: 50 },
      confirming: { found: 9, attempts: 40, rate: lossRate(9, 40), first: 'attempt 3: layer 3 gone' },
      candidates: [
        {
          number: 1,
          phase: 'instructions',
          instructions: 6,
          files: 5,
          judgement: 'reproduces',
          attempts: 2,
          detail: 'attempt 2: layer 3 (COPY a.txt /srv/a.txt) gone',
          seconds: 4.2,
        },
        {
          number: 2,
          phase: 'instructions',
          instructions: 3,
          files: 5,
          judgement: 'invalid',
          attempts: 0,
          detail: 'no RUN, COPY or ADD',
          seconds: 0,
        },
      ],
    }) satisfies Minimization;

  it('gives the minimized Dockerfile as an output, and the whole search in the report', () => {
    const result = { ...lostRun(3), minimization: minimized(true) };
    assert.equal(outputsOf(result, '/tmp/r.json')['minimized-dockerfile'], '/tmp/run/minimized/Dockerfile');
    assert.deepEqual(buildReport(result, settingsWith()).minimization, minimized(true));
    const skipped: Minimization = { kind: 'skipped', reason: 'x' };
    assert.equal(
      outputsOf({ ...lostRun(3), minimization: skipped }, '/tmp/r.json')['minimized-dockerfile'],
      '',
    );
  });

  it('shows the smallest Dockerfile in a code block, the counts, the risk and the confirming rate', () => {
    const summary = renderSummary({ ...lostRun(3), minimization: minimized(true) }, settingsWith());
    assert.match(summary, /^### Minimized$/m);
    assert.match(
      summary,
      /12 → \*\*3\*\* instructions, 5 → \*\*1\*\* context files: 1-minimal: without any one/,
    );
    assert.ok(
      summary.includes('```dockerfile\nFROM alpine:latest\nCOPY c.txt /srv/c.txt\nRUN echo done\n```'),
    );
    assert.match(summary, /21 candidates \(6 invalid\) in 240\.5 s/);
    assert.match(summary, /9 of 40 attempts showed "lost a layer": 22\.5%/);
    assert.match(
      summary,
      /after 27 attempts without "lost a layer": .* \(8 of 50 attempts, keep-going\) .* a chance of 99\.2\d*% \(minimize-confidence 99%\)/,
    );
    assert.doesNotMatch(summary, /below the/);
    assert.equal(summary.split('\n').filter((l) => /^\| [12] \| instructions \|/.test(l)).length, 2);
  });

  it('says when the time budget ended the search, and fences a Dockerfile that holds backticks', () => {
    const m = minimized(false, 'FROM a\nRUN echo ```x```\n');
    const summary = renderSummary({ ...lostRun(3), minimization: m }, settingsWith());
    assert.match(summary, /\*\*not proven minimal\*\*: the time budget/);
    assert.ok(summary.includes('````dockerfile\nFROM a\nRUN echo ```x```\n````'));
    // Attempts capped below what the confidence asks: the summary says the chance it got, and that it is less.
    const capped = { ...m, detectionChance: 0.39 };
    const cappedSummary = renderSummary({ ...lostRun(3), minimization: capped }, settingsWith());
    assert.match(cappedSummary, /a chance of 39% — \*\*below the 99% asked for\*\*/);
  });

  it('gives no Dockerfile, as a result, when the confirming run did not show the class', () => {
    const unconfirmed: Minimization = {
      kind: 'unconfirmed',
      target: 'lost-layer',
      dockerfile: 'FROM a\nRUN echo 1\n',
      confirming: { found: 0, attempts: 40 },
      candidatesJudged: 9,
      seconds: 12,
      candidates: [],
    };
    const result = { ...lostRun(3), minimization: unconfirmed };
    assert.equal(outputsOf(result, '/tmp/r.json')['minimized-dockerfile'], '');
    assert.match(
      renderSummary(result, settingsWith()),
      /⚠️ No result: the smallest candidate the search found \(9 candidates, 12 s\) did not show "lost a layer" in its confirming run of 40 attempts/,
    );
  });

  it('says so when there was nothing to minimize, and when the search failed', () => {
    const skipped = renderSummary(
      {
        ...runResult([record(1)]),
        minimization: { kind: 'skipped', reason: 'no layer was lost (clean): nothing to minimize' },
      },
      settingsWith(),
    );
    assert.match(skipped, /^Nothing to minimize: no layer was lost \(clean\): nothing to minimize\.$/m);
    const failed = renderSummary(
      {
        ...lostRun(2),
        minimization: {
          kind: 'error',
          cause: 'registry gone',
          candidatesJudged: 4,
          seconds: 30,
          candidates: [],
        },
      },
      settingsWith(),
    );
    assert.match(
      failed,
      /⚠️ The search stopped after 4 candidates \(30 s\): an infrastructure step failed, so it reports no smallest Dockerfile: registry gone/,
    );
  });
});

describe('buildReport', () => {
  it('records the verdict, every attempt and the settings without the token', () => {
    const result = lostRun(4);
    const settings = settingsWith();
    const report = buildReport(result, settings);
    assert.equal(report.runId, 'deadbeef');
    assert.deepEqual(report.verdict, result.verdict);
    assert.deepEqual(report.attempts, result.records);
    assert.equal(report.settings.githubToken, '***');
    assert.equal(report.settings.retries, 20);
    assert.equal(report.buildctl?.version, 'v0.9.0');
    assert.equal(buildReport(result, parseSettings({}, paths)).settings.githubToken, '');
  });
});

describe('outputsOf', () => {
  it('gives the outputs of a reproduced run as strings', () => {
    assert.deepEqual(outputsOf(lostRun(10, ['repro.txt', 'etc/x']), '/tmp/run/report.json'), {
      reproduced: 'true',
      'failed-attempt': '10',
      attempts: '10',
      'missing-paths': '["repro.txt","etc/x"]',
      'buildkit-version': 'v0.9.0',
      verdict: 'reproduced',
      report: '/tmp/run/report.json',
      'lost-count': '1',
      'minimized-dockerfile': '',
      'lost-layers': '[]',
      // A run that stopped at its first loss is no fixed-size sample: no rate.
      'loss-rate': '',
      'loss-rate-interval': '',
      'loss-rate-upper-bound': '',
      'cache-shared-results': '',
      classes: '{"lost-layer":1,"content-differs":0,"config-differs":0,"intact":9}',
      'first-difference': JSON.stringify({
        attempt: 10,
        class: 'lost-layer',
        ...difference({ missingPaths: ['repro.txt', 'etc/x'] }),
      }),
      'config-compared': '',
    });
  });

  it('gives the loss rate of a run that kept going, and the bound of a clean run', () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      record(i + 1, i % 5 === 4 ? lostOutcome(['repro.txt']) : undefined),
    );
    const kept = outputsOf(runResult(records, 40, undefined, true), 'r.json');
    assert.equal(kept['lost-count'], '8');
    assert.equal(kept['loss-rate'], '0.2');
    const [low, high] = JSON.parse(kept['loss-rate-interval'] ?? '') as number[];
    assert.ok(
      Math.abs((low ?? 0) - 0.0905) < 0.001 && Math.abs((high ?? 0) - 0.3565) < 0.001,
      `${low} ${high}`,
    );
    const clean = outputsOf(runResult(Array.from({ length: 40 }, (_, i) => record(i + 1))), 'r.json');
    assert.equal(clean['loss-rate'], '0');
    assert.ok(Math.abs(Number(clean['loss-rate-upper-bound']) - 0.0722) < 0.0005);
    const summary = renderSummary(
      runResult(Array.from({ length: 40 }, (_, i) => record(i + 1))),
      settingsWith(),
    );
    assert.match(
      summary,
      /0 of 40 attempts lost a layer: the loss rate is below 7\.2% at 95% confidence \(one-sided\)\./,
    );
  });

  it('gives the outputs of a clean run', () => {
    const outputs = outputsOf(runResult(Array.from({ length: 20 }, (_, i) => record(i + 1))), 'r.json');
    assert.equal(outputs['reproduced'], 'false');
    assert.equal(outputs['failed-attempt'], '');
    assert.equal(outputs['attempts'], '20');
    assert.equal(outputs['missing-paths'], '[]');
    assert.equal(outputs['verdict'], 'clean');
  });

  it('gives the outputs of a run with no verdict', () => {
    const outputs = outputsOf(runResult([record(1), record(2)], 20), 'r.json');
    assert.equal(outputs['reproduced'], 'false');
    assert.equal(outputs['attempts'], '2');
    assert.equal(outputs['verdict'], 'error');
    assert.deepEqual(JSON.parse(outputs['missing-paths'] ?? ''), []);
  });
});
