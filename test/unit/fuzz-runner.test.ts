import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { caseSeconds, instructionWord, involvedOf } from '../../src/fuzz/case-judgement.js';
import {
  cacheTypeOf,
  caseNumbers,
  type FuzzSeams,
  MINIMIZING_CHECKS,
  outcomeOf,
  runFuzz,
} from '../../src/fuzz/run-fuzz.js';
import { InputError } from '../../src/inputs/validators.js';
import { parseSettings, type PathContext, type Settings } from '../../src/inputs/settings.js';
import type { AttemptRecord } from '../../src/model/attempt.js';
import type { ImageDifference } from '../../src/model/difference.js';
import type { LayerFacts } from '../../src/model/layers.js';
import type { RunResult } from '../../src/model/run-result.js';
import type { Verdict } from '../../src/model/verdict.js';
import { NOTHING_FROM_THE_CACHE } from '../../src/attempts/one-attempt.js';
import { differenceOf } from '../support/fake-daemons.js';

const bundledRepro = fileURLToPath(new URL('../../fixtures/repro', import.meta.url));
let root: string;
let paths: PathContext;
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-runner-test-'));
  paths = { workspace: root, bundledRepro };
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const CLASSES = { 'lost-layer': 0, 'content-differs': 0, 'config-differs': 0, intact: 0 };
const layer = (createdBy: string): LayerFacts => ({
  position: 2,
  digest: 'sha256:aa',
  diffId: 'sha256:bb',
  size: 1,
  files: 1,
  createdBy,
});
const record = (outcome: AttemptRecord['outcome']): AttemptRecord => ({
  attempt: 1,
  freshState: true,
  resetMs: 100,
  durationMs: 900,
  outcome,
});
const run = (verdict: Verdict, records: AttemptRecord[] = []): RunResult => ({
  runId: 'r',
  verdict,
  records,
  buildkitVersion: 'v0.9.0',
  startedAt: '',
  finishedAt: '',
  daemonLogFiles: [],
});
const lost: Verdict = {
  kind: 'reproduced',
  failedAttempt: 3,
  missingPaths: [],
  lostLayers: [layer('COPY --link f1.txt /c1/ # buildkit')],
  lostCount: 1,
  attemptsRun: 3,
  classes: CLASSES,
};
const difference = (config: { field: string }[]): ImageDifference =>
  differenceOf({ config: config.map((c) => ({ ...c, reference: 'a', attempt: 'b' })) });

describe('the fuzz runner decides', () => {
  it('which cases a shard runs: disjoint, together every number, or the one case asked for', () => {
    const shards = [1, 2, 3].map((index) => caseNumbers({ cases: 4, shard: { index, count: 3 } }));
    assert.deepEqual(shards, [
      [0, 3, 6, 9],
      [1, 4, 7, 10],
      [2, 5, 8, 11],
    ]);
    assert.deepEqual(caseNumbers({ cases: 50, onlyCase: 17, shard: { index: 1, count: 1 } }), [17]);
  });

  it('which cache-type a case takes: turns within a shard, whatever the shard count', () => {
    const two = { cacheTypes: ['registry', 'local'] as Settings['cacheType'][] };
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => cacheTypeOf({ ...two, shard: { index: 1, count: 1 } }, n)),
      ['registry', 'local', 'registry', 'local'],
    );
    // Shard 1 of 2 runs 0, 2, 4: it still meets both types.
    assert.deepEqual(
      [0, 2, 4].map((n) => cacheTypeOf({ ...two, shard: { index: 1, count: 2 } }, n)),
      ['registry', 'local', 'registry'],
    );
  });

  it("a verdict in the fuzzer's words: a difference a finding, nothing from the cache untested, else an error", () => {
    assert.equal(outcomeOf(run(lost)), 'finding');
    assert.equal(outcomeOf(run({ kind: 'clean', attemptsRun: 4, classes: CLASSES })), 'intact');
    const nothing = record({ kind: 'error', cause: `${NOTHING_FROM_THE_CACHE}: the inputs differ` });
    const error: Verdict = { kind: 'error', cause: 'x', attemptsRun: 2, classes: CLASSES };
    assert.equal(outcomeOf(run(error, [nothing, nothing])), 'untested');
    assert.equal(outcomeOf(run(error, [nothing, record({ kind: 'error', cause: 'daemon gone' })])), 'error');
    assert.equal(outcomeOf(run(error, [])), 'error', 'a set-up error is no untested case');
  });

  it('what a difference touches, as words without arguments or numbers', () => {
    assert.equal(instructionWord('COPY --chmod=700 d1 /c9/ # buildkit'), 'COPY --chmod');
    assert.equal(instructionWord('RUN /bin/sh -c echo 7 # buildkit'), 'RUN');
    assert.equal(instructionWord('/bin/sh -c #(nop) COPY file:ab in / '), 'COPY');
    assert.deepEqual(involvedOf(lost), ['COPY --link']);
    const config: Verdict = {
      kind: 'config-differs',
      firstAttempt: 1,
      difference: difference([
        { field: 'history 3 empty_layer (RUN echo 2)' },
        { field: 'history 5 empty_layer (RUN true)' },
      ]),
      attemptsRun: 1,
      classes: CLASSES,
    };
    assert.deepEqual(involvedOf(config), ['history N empty_layer'], 'one word for the history shift');
  });

  it('where the time went: attempts and minimization, the rest set-up', () => {
    const seconds = caseSeconds({ records: [record({ kind: 'intact' }), record({ kind: 'intact' })] }, 10);
    assert.deepEqual(seconds, { setup: 8, attempts: 2, minimize: 0, total: 10 });
  });
});

describe('the fuzz run with a fake engine', () => {
  function fakeSeams(verdicts: Verdict[], clock: { now: number }) {
    const checked: Settings[] = [];
    const findings: number[] = [];
    const seams: FuzzSeams = {
      check: (settings) => {
        checked.push(settings);
        clock.now += 30_000;
        // The case's number from its folder: a case checked again (to minimize) gets its verdict again.
        const caseNumber = Number(/case-\d+-(\d+)/.exec(settings.dockerfile)?.[1]);
        return Promise.resolve(
          run(verdicts[caseNumber] ?? verdicts[0] ?? lost, [record({ kind: 'intact' })]),
        );
      },
      writeFinding: (fuzzCase) => {
        findings.push(fuzzCase.caseNumber);
        return `findings/x/case-${fuzzCase.caseNumber}`;
      },
      now: () => clock.now,
      log: { info: () => undefined, warning: () => undefined, group: (_t, work) => work() },
    };
    return { seams, checked, findings };
  }

  it('every case its own inputs and settings, a finding its folder, an intact case no files', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '12', minimize: 'true' }, paths);
    assert.ok(settings.fuzz);
    const clean: Verdict = { kind: 'clean', attemptsRun: 20, classes: CLASSES };
    const fake = fakeSeams([lost, lost, clean, lost, lost, ...Array<Verdict>(7).fill(clean)], { now: 0 });
    const out = path.join(root, 'out');
    const report = await runFuzz(settings, settings.fuzz, out, fake.seams);
    assert.equal(report.cases.length, 12);
    assert.deepEqual(fake.findings, [0, 1, 3, 4]);
    assert.equal(report.cases[1]?.findingDir, 'findings/x/case-1');
    assert.deepEqual(report.cases[1]?.involved, ['COPY --link']);
    assert.equal(report.cases[1]?.signature, 'lost-layer: COPY --link');
    assert.ok(!fs.existsSync(path.join(out, 'cases', 'case-1-2')), "an intact case's files are removed");
    const changedCase = (n: number) => (report.cases[n]?.changes.length ?? 0) > 0;
    const checksOf = (n: number) => fake.checked.filter((s) => s.dockerfile.includes(`case-1-${n}/`));
    for (const n of report.cases.keys()) {
      const [first, ...again] = checksOf(n);
      assert.ok(first, `case ${n} checked`);
      assert.equal(first.cacheContext !== '', changedCase(n), `case ${n}: the cache from the base version`);
      assert.equal(first.minimize, false, 'the first check never minimizes');
      assert.deepEqual(first.expectPaths, ['bin/sh']);
      assert.equal(first.fuzz, undefined);
      // The first finding of one version is checked again to be minimized; its signature, found again, not.
      const firstOfOneVersion = [0, 1, 3, 4].find((f) => !changedCase(f));
      const minimizedAgain = n === firstOfOneVersion;
      assert.deepEqual(
        again.map((s) => s.minimize),
        minimizedAgain ? [true] : [],
        `case ${n}`,
      );
    }
    assert.equal(fake.checked.filter((s) => s.minimize).length, 1, 'one signature, minimized once');
    assert.ok(
      fake.checked.some((s) => s.cacheContext !== ''),
      'some cases have a changed version',
    );
  });

  it('a case that throws is an error of that case; the run goes on', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '3' }, paths);
    assert.ok(settings.fuzz);
    const fake = fakeSeams([{ kind: 'clean', attemptsRun: 4, classes: CLASSES }], { now: 0 });
    const check = fake.seams.check;
    let calls = 0;
    fake.seams.check = (s, dir) => (++calls === 2 ? Promise.reject(new Error('docker gone')) : check(s, dir));
    const report = await runFuzz(settings, settings.fuzz, path.join(root, 'throws'), fake.seams);
    assert.deepEqual(
      report.cases.map((c) => c.outcome),
      ['intact', 'error', 'intact'],
    );
    assert.equal(report.cases[1]?.detail, 'the case could not be run: docker gone');
  });

  it('a finding checked again to be minimized gets a few checks to show its class again', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '1', minimize: 'true' }, paths);
    assert.ok(settings.fuzz);
    const fake = fakeSeams([lost], { now: 0 });
    const clean: Verdict = { kind: 'clean', attemptsRun: 4, classes: CLASSES };
    let calls = 0;
    fake.seams.check = () => {
      calls += 1;
      return Promise.resolve(run(calls === 1 || calls === 3 ? lost : clean, [record({ kind: 'intact' })]));
    };
    const report = await runFuzz(settings, settings.fuzz, path.join(root, 'third'), fake.seams);
    if (report.cases[0]?.changes.length) return; // a case of two versions is not minimized
    assert.equal(calls, 3, 'the first check, one that showed it clean, one that showed the loss again');
    assert.equal(
      report.cases[0]?.minimization,
      undefined,
      'the fake minimized nothing, and nothing was discarded',
    );
  });

  it('a finding checked again to be minimized keeps its own class when every check shows another', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '1', minimize: 'true' }, paths);
    assert.ok(settings.fuzz);
    const history: Verdict = {
      kind: 'config-differs',
      firstAttempt: 1,
      difference: difference([{ field: 'history 2 empty_layer (RUN true)' }]),
      attemptsRun: 4,
      classes: CLASSES,
    };
    const fake = fakeSeams([lost], { now: 0 });
    let calls = 0;
    fake.seams.check = () =>
      Promise.resolve(run(++calls === 1 ? lost : history, [record({ kind: 'intact' })]));
    const report = await runFuzz(settings, settings.fuzz, path.join(root, 'again'), fake.seams);
    if (report.cases[0]?.changes.length) return; // a case of two versions is not minimized
    assert.equal(calls, 1 + MINIMIZING_CHECKS);
    assert.equal(report.cases[0]?.differenceClass, 'lost-layer');
    assert.match(
      report.cases[0]?.minimization ?? '',
      /showed config-differs: history N empty_layer, then config-differs: history N empty_layer, then config-differs: history N empty_layer instead/,
    );
  });

  it('no case starts after the budget', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '100', 'fuzz-budget': '60' }, paths);
    assert.ok(settings.fuzz);
    const fake = fakeSeams([{ kind: 'clean', attemptsRun: 20, classes: CLASSES }], { now: 0 });
    const report = await runFuzz(settings, settings.fuzz, path.join(root, 'budget'), fake.seams);
    assert.equal(report.cases.length, 2, 'two cases of 30 s fill 60 s');
    assert.equal(report.run.stoppedBy, 'budget');
  });

  it('no case starts after a stop (the CLI sent SIGINT during case 2)', async () => {
    const settings = parseSettings({ fuzz: 'true', 'fuzz-cases': '100' }, paths);
    assert.ok(settings.fuzz);
    const fake = fakeSeams([{ kind: 'clean', attemptsRun: 20, classes: CLASSES }], { now: 0 });
    const stopped = () => fake.checked.length >= 2;
    const report = await runFuzz(settings, settings.fuzz, path.join(root, 'stop'), {
      ...fake.seams,
      stopped,
    });
    assert.equal(fake.checked.length, 2);
    assert.equal(report.cases.length, 2);
  });
});

describe('the fuzz inputs', () => {
  const refused = (raw: Record<string, string>, input: string) =>
    assert.throws(
      () => parseSettings(raw, paths),
      (error: unknown) => error instanceof InputError && error.input === input,
      JSON.stringify(raw),
    );

  it('refuse what a fuzz run cannot take, naming the input', () => {
    refused({ 'fuzz-seed': '7' }, 'fuzz-seed');
    refused({ fuzz: 'true', dockerfile: 'Dockerfile' }, 'dockerfile');
    refused({ fuzz: 'true', 'expect-paths': 'a.txt' }, 'expect-paths');
    refused({ fuzz: 'true', 'fuzz-shard': '3/2' }, 'fuzz-shard');
    refused({ fuzz: 'true', 'fuzz-shard': '0/2' }, 'fuzz-shard');
    refused({ fuzz: 'true', 'fuzz-cache-types': 'registry,floppy' }, 'fuzz-cache-types');
    refused({ fuzz: 'true', 'create-cache': 'false', 'cache-type': 'local', 'cache-dir': '.' }, 'cache-dir');
    // Another type than cache-type only when it needs no inputs of its own, and suits the options given.
    refused({ fuzz: 'true', 'fuzz-cache-types': 'registry,s3' }, 'fuzz-cache-types');
    refused({ fuzz: 'true', 'fuzz-cache-types': 'registry,gha' }, 'fuzz-cache-types');
    refused({ fuzz: 'true', 'fuzz-cache-types': 'registry,inline', 'cache-mode': 'max' }, 'fuzz-cache-types');
    refused({ fuzz: 'true', cleanup: 'false' }, 'cleanup');
    refused({ fuzz: 'true', 'fuzz-case': '3', 'fuzz-cases': '50' }, 'fuzz-cases');
  });

  it("take the runner's defaults as no choice, and read a fuzz run", () => {
    const defaults = {
      'fuzz-seed': '1',
      'fuzz-cases': '20',
      'fuzz-shard': '1/1',
      'expect-paths': 'repro.txt',
    };
    assert.equal(parseSettings(defaults, paths).fuzz, undefined);
    const fuzz = parseSettings(
      {
        ...defaults,
        fuzz: 'true',
        'fuzz-seed': '42',
        'fuzz-shard': '2/4',
        'fuzz-cache-types': 'local, inline',
      },
      paths,
    ).fuzz;
    assert.deepEqual(fuzz, {
      seed: 42,
      cases: 20,
      budgetSeconds: 0,
      shard: { index: 2, count: 4 },
      cacheTypes: ['local', 'inline'],
    });
  });
});
