import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { AttemptRecord } from '../../src/model/attempt.js';
import { describeRecord } from '../../src/attempts/record-text.js';
import { usableLanes } from '../../src/attempts/run-attempts.js';
import { AZBLOB_ACCOUNT_NAME_SINCE, CACHE_BACKENDS, CACHE_TYPES } from '../../src/backends/backends.js';
import { phaseLine } from '../../src/log.js';
import { minimizationLine, verdictLine } from '../../src/model/wording.js';
import { cliOutputs } from '../../scripts/lib/soak-cli.js';
import { AttemptClock, MainWatch, watchPost } from '../../scripts/lib/soak-faults.js';
import { PHASES } from '../../scripts/lib/soak-report.js';
import {
  attemptEnded,
  attemptJudged,
  type FaultTiming,
  faultEffect,
  faultTiming,
  judgeRound,
  phaseOfLine,
  type RoundFacts,
  toolCacheLeftovers,
} from '../../scripts/lib/soak-oracle.js';
import {
  BED_BACKEND_SINCE,
  FAULT_KINDS,
  type FaultPlan,
  FAULTS,
  lanesOf,
  losesLayers,
  planRound,
  planText,
  type RoundPlan,
} from '../../scripts/lib/soak-plan.js';

const LADDER = ['v0.9.0', 'v0.9.1', 'v0.10.6', 'v0.34.2'];
const OPTIONS = { releases: LADDER, backends: CACHE_TYPES };
const PLANS = Array.from({ length: 300 }, (_, i) => planRound(1, i + 1, OPTIONS));

describe('soak plan', () => {
  it('is the same for the same (seed, round), whatever was planned before, and another seed differs', () => {
    const backwards = Array.from({ length: 300 }, (_, i) => planRound(1, 300 - i, OPTIONS)).reverse();
    assert.deepEqual(backwards, PLANS);
    const other = Array.from({ length: 300 }, (_, i) => planRound(2, i + 1, OPTIONS));
    assert.notDeepEqual(other, PLANS);
  });

  it('reaches every fault kind at every phase it names in 300 rounds, and ~10% control rounds', () => {
    for (const kind of FAULT_KINDS.filter((k) => k !== 'none')) {
      for (const phase of FAULTS[kind].phases) {
        assert.ok(
          PLANS.some((p) => p.fault.kind === kind && p.fault.at?.phase === phase),
          `${kind} at ${phase}`,
        );
      }
    }
    const controls = PLANS.filter((p) => p.fault.kind === 'none').length;
    assert.ok(controls >= 15 && controls <= 45, `${controls} control rounds`);
  });

  it('reaches each lane, each reset of a lane, every attempt, both lane counts, variants and releases', () => {
    const points = new Set(PLANS.map((p) => JSON.stringify(p.fault.at)));
    for (const at of [
      { phase: 'reset', lane: 1, occurrence: 1 },
      { phase: 'reset', lane: 1, occurrence: 2 },
      { phase: 'reset', lane: 2, occurrence: 1 },
      ...Array.from({ length: 8 }, (_, i) => ({ phase: 'attempt', attempt: i + 1 })),
    ])
      assert.ok(points.has(JSON.stringify(at)), JSON.stringify(at));
    assert.deepEqual(new Set(PLANS.map((p) => p.parallel)), new Set([1, 2]));
    assert.deepEqual(new Set(PLANS.map((p) => p.variant)), new Set(['rootful', 'rootless']));
    assert.deepEqual(new Set(PLANS.map((p) => p.release)), new Set(LADDER));
    // A lane's second reset comes only with one lane (8 attempts, every 4): with two, 4 attempts each.
    assert.ok(PLANS.every((p) => p.fault.at?.phase !== 'reset' || p.fault.at.lane <= p.parallel));
    assert.ok(
      PLANS.every((p) => p.fault.at?.phase !== 'reset' || p.parallel === 1 || p.fault.at.occurrence === 1),
    );
  });

  it('gives a fault only the backends it can touch, and each backend only releases that carry it', () => {
    for (const p of PLANS) {
      assert.ok(
        (FAULTS[p.fault.kind].backends ?? [p.backend]).includes(p.backend),
        `${p.fault.kind} ${p.backend}`,
      );
      assert.ok(semver.gte(p.release, BED_BACKEND_SINCE[p.backend]), `${p.backend} on ${p.release}`);
    }
    assert.ok(
      PLANS.filter((p) => p.backend === 's3' || p.backend === 'azblob').every((p) => p.release === 'v0.34.2'),
    );
    assert.ok(PLANS.filter((p) => p.fault.kind === 'pause-buildkitd').length > 0);
    for (const kind of ['pause-buildkitd', 'pause-cache', 'pause-mirror'] as const) {
      assert.ok(PLANS.filter((p) => p.fault.kind === kind).length > 0, kind);
      // Nothing answers from a paused container: only attempt-timeout ends the run, and soon.
      assert.equal(FAULTS[kind].inputs?.['attempt-timeout'], '20', kind);
    }
    assert.equal(FAULTS['fill-disk'].inputs?.['attempt-timeout'], '60');
  });

  it('kills the cache registry only where the cache is kept in it, stops only a server the soak runs', () => {
    // More rounds than a soak: each (kind, backend) pair comes in a few per cent of them.
    const plans = Array.from({ length: 1000 }, (_, i) => planRound(1, i + 1, OPTIONS));
    const on = (kind: string) => new Set(plans.filter((p) => p.fault.kind === kind).map((p) => p.backend));
    assert.deepEqual(on('kill-cache'), new Set(['registry', 'inline']));
    assert.deepEqual(on('stop-backend'), new Set(['s3', 'azblob', 'gha']));
    assert.deepEqual(on('pause-cache'), new Set(['registry', 'inline']));
    assert.deepEqual(on('kill-mirror'), new Set(CACHE_TYPES));
    assert.deepEqual(on('pause-mirror'), new Set(CACHE_TYPES));
    assert.deepEqual(on('registry-500'), new Set(['registry', 'inline']));
    assert.equal(FAULTS['fill-disk'].backends, undefined, 'every backend writes its outputs to the disk');
  });

  it('minimizes exactly in the rounds whose fault waits for minimization, each on a release that loses layers', () => {
    const minimizing = PLANS.filter((p) => p.minimize);
    assert.ok(minimizing.length >= 10, `${minimizing.length} rounds minimize`);
    for (const p of PLANS) {
      assert.equal(p.minimize, p.fault.at?.phase === 'minimize', planText(p));
      if (p.minimize) assert.ok(losesLayers(p.release), planText(p));
    }
    // Without such a release no round waits for a minimization that never comes.
    const fixedOnly = Array.from({ length: 300 }, (_, i) =>
      planRound(1, i + 1, { releases: ['v0.9.1', 'v0.34.2'], backends: CACHE_TYPES }),
    );
    assert.equal(fixedOnly.filter((p) => p.minimize || p.fault.at?.phase === 'minimize').length, 0);
  });

  it('has a column in the figures for every phase a fault waits for', () => {
    for (const kind of FAULT_KINDS) {
      for (const phase of FAULTS[kind].phases) assert.ok(PHASES.includes(phase), `${kind} at ${phase}`);
    }
  });

  it('keeps to the backends a caller narrows it to, and refuses a list no release carries', () => {
    const local = Array.from({ length: 100 }, (_, i) =>
      planRound(1, i + 1, { releases: LADDER, backends: ['local'] }),
    );
    assert.ok(local.every((p) => p.backend === 'local'));
    assert.ok(local.every((p) => p.fault.kind !== 'kill-cache' && p.fault.kind !== 'stop-backend'));
    assert.throws(() => planRound(1, 1, { releases: ['v0.9.0'], backends: ['s3'] }), /no release/);
  });

  it('keeps to the fault kinds a caller narrows it to, with its control rounds, and refuses kinds no backend has', () => {
    const paused = Array.from({ length: 100 }, (_, i) =>
      planRound(1, i + 1, { ...OPTIONS, kinds: ['pause-cache', 'pause-mirror'] }),
    );
    assert.deepEqual(
      new Set(paused.map((p) => p.fault.kind)),
      new Set(['none', 'pause-cache', 'pause-mirror']),
    );
    assert.throws(
      () => planRound(1, 1, { releases: LADDER, backends: ['local'], kinds: ['pause-cache'] }),
      /no fault of pause-cache touches any of local/,
    );
  });

  it('runs a third of the rounds through the CLI, never a post fault, every main fault on it, both when asked', () => {
    const cli = PLANS.filter((p) => p.entry === 'cli');
    const canRunCli = PLANS.filter((p) => FAULTS[p.fault.kind].reaches !== 'post-process');
    assert.ok(Math.abs(cli.length / canRunCli.length - 1 / 3) < 0.08, `${cli.length} of ${canRunCli.length}`);
    assert.ok(PLANS.every((p) => p.entry === 'action' || p.entry === 'cli'));
    assert.ok(cli.every((p) => FAULTS[p.fault.kind].reaches !== 'post-process'));
    for (const kind of FAULT_KINDS.filter((k) => FAULTS[k].reaches !== 'post-process'))
      assert.ok(
        cli.some((p) => p.fault.kind === kind),
        kind,
      );
    const cliOnly = Array.from({ length: 100 }, (_, i) =>
      planRound(1, i + 1, { ...OPTIONS, entries: ['cli'] }),
    );
    assert.ok(cliOnly.every((p) => p.entry === 'cli'));
    assert.throws(
      () => planRound(1, 1, { ...OPTIONS, entries: ['cli'], kinds: ['sigkill-post'] }),
      /no fault of sigkill-post touches .* through cli/,
    );
  });

  it("holds its backend table to the product's, and its lanes to usableLanes", () => {
    for (const type of CACHE_TYPES) {
      const since = type === 'azblob' ? AZBLOB_ACCOUNT_NAME_SINCE : CACHE_BACKENDS[type].since;
      assert.equal(BED_BACKEND_SINCE[type], since, type);
    }
    for (const parallel of [1, 2] as const)
      for (const retries of [1, 4, 7, 8, 20])
        for (const resetFrequency of [0, 1, 4])
          assert.equal(
            lanesOf({ parallel, retries, resetFrequency }),
            usableLanes({ lanes: parallel, retries, cacheResetFrequency: resetFrequency }),
          );
  });
});

describe('soak facts from the main step lines', () => {
  it("reads the product's own phase and result lines", () => {
    assert.equal(phaseOfLine(`::debug::${phaseLine('reset', 'lane 2')}`), 'reset lane 2');
    assert.equal(phaseOfLine(`::debug::${phaseLine('attempt', '7')}`), 'attempt 7');
    assert.equal(phaseOfLine(`::debug::${phaseLine('cache-build')}`), 'cache-build');
    assert.equal(phaseOfLine('attempt 7 starts'), undefined);
    const record = { attempt: 12, lane: 2, freshState: true, resetMs: 0, durationMs: 5 } as const;
    assert.equal(attemptEnded(describeRecord({ ...record, outcome: { kind: 'intact' } })), 12);
    assert.equal(
      attemptEnded(describeRecord({ ...record, lane: undefined, outcome: { kind: 'error', cause: 'x' } })),
      12,
    );
    assert.equal(attemptEnded(`::debug::${phaseLine('attempt', '3')}`), undefined);
    const judged = (outcome: AttemptRecord['outcome']) =>
      attemptJudged(describeRecord({ ...record, outcome }));
    assert.equal(judged({ kind: 'intact' }), 12);
    assert.equal(
      judged({ kind: 'error', cause: 'CONFIG-DIFFERS — a cause that reads like a class' }),
      undefined,
    );
  });

  it("reads a CLI round's verdict from its report, its line from the product's own wording, and the line alone without a report", () => {
    const classes = { 'lost-layer': 1, 'content-differs': 0, 'config-differs': 0, intact: 2 };
    const lost = verdictLine({
      kind: 'reproduced',
      failedAttempt: 3,
      missingPaths: ['repro.txt'],
      lostLayers: [],
      lostCount: 1,
      attemptsRun: 3,
      classes,
    });
    const clean = verdictLine({ kind: 'clean', attemptsRun: 8, classes: { ...classes, 'lost-layer': 0 } });
    const error = verdictLine({ kind: 'error', cause: 'attempt 2: x', attemptsRun: 2, classes });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-cli-'));
    const report = path.join(dir, 'report.json');
    fs.writeFileSync(
      report,
      JSON.stringify({
        verdict: { kind: 'reproduced', failedAttempt: 3 },
        attempts: [{}, {}, {}],
        minimization: { kind: 'error' },
      }),
    );
    assert.deepEqual(cliOutputs(`${lost}\nreport: ${report}\n`), {
      verdict: 'reproduced',
      'failed-attempt': '3',
      attempts: '3',
      minimization: 'error',
      said: 'reproduced',
    });
    assert.deepEqual(cliOutputs(`${lost}\n`), {
      verdict: 'reproduced',
      'failed-attempt': '3',
      attempts: '3',
      said: 'reproduced',
    });
    assert.deepEqual(cliOutputs(`${clean}\nreport: ${path.join(dir, 'gone.json')}\n`), {
      verdict: 'clean',
      'failed-attempt': '',
      attempts: '8',
      said: 'clean',
    });
    // An error's line has no count: the oracle then holds no count against the plan.
    assert.deepEqual(cliOutputs(`${error}\n`), { verdict: 'error', 'failed-attempt': '', said: 'error' });
    assert.deepEqual(cliOutputs(`report: ${report}\n`), {
      verdict: 'reproduced',
      'failed-attempt': '3',
      attempts: '3',
      minimization: 'error',
    });
    assert.deepEqual(cliOutputs('lost-layer-check: unexpected error: ENOSPC\n'), {});
    // The soak's round 129 (seed 1): no report (a full disk), a failed minimization said only in its line.
    const failedMinimization = minimizationLine({
      kind: 'error',
      cause: 'ENOSPC: no space left on device, write',
      candidatesJudged: 0,
      seconds: 1,
      candidates: [],
    });
    assert.deepEqual(cliOutputs(`${lost}\n${failedMinimization}\n`), {
      verdict: 'reproduced',
      'failed-attempt': '3',
      attempts: '3',
      minimization: 'error',
      said: 'reproduced',
    });
    fs.rmSync(dir, { recursive: true });
  });

  it('times a fault against the lines: started before, by its end, ended before, phases after', () => {
    const at = (atMs: number, line: string) => ({ atMs, line });
    const events = [
      at(1, `::debug::${phaseLine('attempt', '1')}`),
      at(2, 'attempt 1: intact, 0.30 s'),
      at(3, `::debug::${phaseLine('attempt', '2')}`),
      at(5, `::debug::${phaseLine('attempt', '3')}`),
      at(7, `::debug::${phaseLine('reset', 'lane 1')}`),
      at(8, 'attempt 2: infrastructure error: buildkitd did not answer'),
      at(9, 'attempt 3: CONFIG-DIFFERS — the config differs, 0.40 s'),
    ];
    assert.deepEqual(faultTiming(events, 4, 6), {
      startedBefore: [1, 2],
      startedBy: [1, 2, 3],
      endedBefore: [1],
      phasesAfter: ['reset lane 1'],
      judged: [1, 3],
    });
  });

  it('fires the fault once at its phase line: SIGTERM to a fake main step at attempt 2', async () => {
    const script = [
      "console.log('run abcdef12: containers, volumes and network are labelled');",
      `console.log(${JSON.stringify(`::debug::${phaseLine('attempt', '1')}`)});`,
      "console.log('attempt 1 (fresh buildkitd state): intact, 0.30 s');",
      `setTimeout(() => console.log(${JSON.stringify(`::debug::${phaseLine('attempt', '2')}`)}), 100);`,
      'setTimeout(() => {}, 20000);',
    ].join('\n');
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const watch = new MainWatch(
      plan({ fault: { kind: 'sigterm-main', at: { phase: 'attempt', attempt: 2 } } }),
      undefined,
      os.tmpdir(),
    );
    watch.attach(child);
    const signal = await new Promise((resolve) => child.on('close', (_code, s) => resolve(s)));
    assert.equal(signal, 'SIGTERM');
    const facts = await watch.facts();
    assert.ok(facts.fired);
    assert.deepEqual(facts.targets, ['main step (SIGTERM)']);
    assert.deepEqual([facts.timing.startedBefore, facts.timing.endedBefore], [[1, 2], [1]]);
  });

  it('times a fault that passes: until an attempt that started after it has its result, or the step ends', async () => {
    const clock = new AttemptClock();
    const phase = (n: number) => `::debug::${phaseLine('attempt', String(n))}`;
    clock.line(phase(1), 0);
    clock.line(phase(2), 10);
    let passed = false;
    const window = clock.attemptWithin(5).then(() => (passed = true));
    clock.line('attempt 1 (fresh buildkitd state): intact, 0.30 s', 20);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(passed, false, 'attempt 1 began before the fault: the fault goes on');
    clock.line('attempt 2: ERROR — the cache import failed', 30);
    await window;
    let ended = false;
    const untilEnd = clock.attemptWithin(100).then(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ended, false);
    clock.stepEnded();
    await untilEnd;
    await clock.attemptWithin(1000);
  });

  it('the post watch signals the post step at its cleanup line with the fault signal, only for post faults', async () => {
    const cleanup = `::debug::${phaseLine('cleanup')}`;
    const fakePost = (exit: string, setUp = '') =>
      spawn(process.execPath, ['-e', `${setUp} console.log(${JSON.stringify(cleanup)}); ${exit}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const closed = (child: ChildProcess) =>
      new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const killing = fakePost('setTimeout(() => {}, 20000);');
    const killed = watchPost(
      killing,
      plan({ fault: { kind: 'sigkill-post', at: { phase: 'cleanup' } } }),
      30_000,
    );
    assert.deepEqual(await closed(killing), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(killed, { timedOut: false, killed: true });

    // A post step that finishes its removal on SIGINT: the watch sent it, the step ended by itself.
    const finishing = fakePost(
      '',
      "const hold = setTimeout(() => {}, 20000); process.on('SIGINT', () => { console.log('SIGINT received'); clearTimeout(hold); });",
    );
    const interrupted = watchPost(
      finishing,
      plan({ fault: { kind: 'sigint-post', at: { phase: 'cleanup' } } }),
      30_000,
    );
    let said = '';
    finishing.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    assert.deepEqual(await closed(finishing), { code: 0, signal: null });
    assert.deepEqual(interrupted, { timedOut: false, killed: true });
    assert.match(said, /SIGINT received/);

    const ending = fakePost('process.exitCode = 3;');
    const ended = watchPost(ending, plan(), 30_000);
    assert.deepEqual(await closed(ending), { code: 3, signal: null });
    assert.deepEqual(ended, { timedOut: false, killed: false });

    const hanging = fakePost('setTimeout(() => {}, 20000);');
    const hung = watchPost(hanging, plan(), 300);
    assert.deepEqual(await closed(hanging), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(hung, { timedOut: true, killed: false });
  });
});

function plan(over: Partial<RoundPlan> = {}): RoundPlan {
  return {
    seed: 1,
    round: 1,
    release: 'v0.10.6',
    variant: 'rootful',
    backend: 'registry',
    parallel: 1,
    retries: 8,
    resetFrequency: 4,
    minimize: false,
    fault: { kind: 'none' },
    ...over,
  };
}

const timing = (over: Partial<FaultTiming> = {}): FaultTiming => ({
  startedBefore: [],
  startedBy: [],
  endedBefore: [],
  phasesAfter: [],
  judged: [],
  ...over,
});

const outputs = {
  clean: { verdict: 'clean', reproduced: 'false', 'failed-attempt': '', attempts: '8' },
  config: { verdict: 'config-differs', reproduced: 'false', 'failed-attempt': '', attempts: '8' },
  error: (n: number) => ({
    verdict: 'error',
    reproduced: 'false',
    'failed-attempt': '',
    attempts: String(n),
  }),
  lost: (n: number) => ({
    verdict: 'reproduced',
    reproduced: 'true',
    'failed-attempt': String(n),
    attempts: String(n),
  }),
};

/** A CLI round's facts: the CLI has no post step. */
function withoutPost(over: Partial<RoundFacts>): RoundFacts {
  const round = facts(over);
  delete round.post;
  return round;
}

/** A round: by default a control round on v0.10.6 that ended clean, exit 0, nothing left. */
function facts(over: Partial<RoundFacts> = {}): RoundFacts {
  return {
    plan: plan(),
    fault: { fired: false, why: 'a control round' },
    main: { exitCode: 0, signal: null, timedOut: false },
    outputs: outputs.clean,
    post: { exitCode: 0, signal: null, timedOut: false, killedBySoak: false },
    leftovers: [],
    ...over,
  };
}

const fault = (
  kind: FaultPlan['kind'],
  at: FaultPlan['at'],
  release = 'v0.10.6',
  t: Partial<FaultTiming> = {},
) => ({
  plan: plan({ release, fault: { kind, at } }),
  fault: { fired: true as const, targets: ['x'], timing: timing(t) },
});
/** kill-cache at attempt 3, attempt 4 starting after it: surely hit. */
const hit = (release = 'v0.10.6') =>
  fault('kill-cache', { phase: 'attempt', attempt: 3 }, release, {
    startedBefore: [1, 2, 3],
    startedBy: [1, 2, 3],
    endedBefore: [1, 2],
    phasesAfter: ['attempt 4'],
  });
const error1 = { exitCode: 1, signal: null, timedOut: false };
/** kill-cache as attempt 8 starts, with attempts 1–7 done: attempt 8 may have had its cache already. */
const racedAt8 = fault('kill-cache', { phase: 'attempt', attempt: 8 }, 'v0.10.6', {
  startedBefore: [8],
  startedBy: [8],
  endedBefore: [1, 2, 3, 4, 5, 6, 7],
});
/** The soak's round 9 (seed 1): two lanes, the pause at lane 1's first reset landed on lane 2's daemon. */
const pausedIdleDaemon = (judged: number[]) => ({
  ...fault('pause-buildkitd', { phase: 'reset', lane: 1, occurrence: 1 }, 'v0.9.0', {
    phasesAfter: ['attempt 1', 'reset lane 2'],
    judged,
  }),
  outputs: outputs.config,
  main: error1,
});
const sigint = fault('sigint-main', { phase: 'attempt', attempt: 2 });
const pausedCache = fault('pause-cache', { phase: 'attempt', attempt: 4 }, 'v0.10.6', {
  startedBefore: [1, 2, 3],
  startedBy: [1, 2, 3],
  endedBefore: [1, 2, 3],
  phasesAfter: ['attempt 4'],
  judged: [1, 2, 3, 4, 5, 6, 7, 8],
});

/** Each rule: a case it must flag (matching `reason`) and the case next to it that is right. */
const RULES: { rule: string; bad: RoundFacts; good: RoundFacts; reason: RegExp }[] = [
  {
    rule: '(a) a fault that hit the run, yet clean',
    bad: facts(hit()),
    good: facts({ ...hit(), outputs: outputs.error(4), main: error1 }),
    reason: /verdict clean where the run was hit/,
  },
  {
    rule: '(a) v0.9.0: a lost layer at or after the attempt the fault hit',
    bad: facts({ ...hit('v0.9.0'), outputs: outputs.lost(3), main: error1 }),
    good: facts({ ...hit('v0.9.0'), outputs: outputs.lost(2), main: error1 }),
    reason: /verdict reproduced at attempt 3 where the run was hit/,
  },
  {
    rule: '(a) a reset fault hits the attempt after the last started',
    bad: facts({
      ...fault('kill-mirror', { phase: 'reset', lane: 1, occurrence: 2 }, 'v0.9.0', {
        startedBefore: [1, 2, 3, 4],
        startedBy: [1, 2, 3, 4],
        endedBefore: [1, 2, 3, 4],
        phasesAfter: ['attempt 5'],
      }),
      outputs: outputs.lost(5),
      main: error1,
    }),
    // Two lanes: attempt 4 lost on the other lane, the reset's own lane started attempt 5 after the fault.
    good: facts({
      ...fault('kill-mirror', { phase: 'reset', lane: 1, occurrence: 2 }, 'v0.9.0', {
        startedBefore: [1, 2, 3, 4],
        startedBy: [1, 2, 3, 4],
        endedBefore: [1, 2, 3, 4],
        phasesAfter: ['attempt 5'],
      }),
      outputs: outputs.lost(4),
      main: error1,
    }),
    reason: /reproduced at attempt 5 where the run was hit/,
  },
  {
    rule: '(a) raced: the untouched verdict or an error, nothing else',
    bad: facts({ ...racedAt8, outputs: { ...outputs.config }, main: error1 }),
    good: facts(racedAt8),
    reason: /verdict config-differs where the run was raced/,
  },
  {
    // Unlike a paused daemon, a paused cache registry silences no daemon: judged attempts do not clear it.
    rule: '(a) a paused cache registry before attempt 4, every attempt judged, yet clean',
    bad: facts(pausedCache),
    good: facts({ ...pausedCache, outputs: outputs.error(4), main: error1 }),
    reason: /verdict clean where the run was hit \(pause-cache fired/,
  },
  {
    rule: '(b) a paused daemon that took no attempt: every attempt judged, the untouched verdict stands',
    bad: facts(pausedIdleDaemon([1, 2, 3, 4, 5, 6, 7])),
    good: facts(pausedIdleDaemon([1, 2, 3, 4, 5, 6, 7, 8])),
    reason: /verdict config-differs where the run was hit/,
  },
  {
    rule: '(a) a daemon silenced on one lane: a loss the other lane judged is real, an unjudged one is not',
    bad: facts({
      ...fault('kill-cache', { phase: 'reset', lane: 1, occurrence: 1 }, 'v0.9.0', {
        phasesAfter: ['attempt 1'],
        judged: [2, 4],
      }),
      outputs: outputs.lost(4),
      main: error1,
    }),
    // The soak's round 9 (seed 1) run again: lane 1's daemon paused, lane 2 lost a layer at attempt 4.
    good: facts({ ...pausedIdleDaemon([2, 4]), outputs: outputs.lost(4) }),
    reason: /verdict reproduced at attempt 4 where the run was hit/,
  },
  {
    rule: '(b) no fault: what the release gives untouched',
    bad: facts({ plan: plan({ release: 'v0.9.1' }) }),
    good: facts({ plan: plan({ release: 'v0.9.1' }), outputs: outputs.config, main: error1 }),
    reason: /verdict clean where the run was untouched .*expected config-differs/,
  },
  {
    rule: '(b) v0.9.0 untouched: reproduced or config-differs, not an error',
    bad: facts({ plan: plan({ release: 'v0.9.0' }), outputs: outputs.error(3), main: error1 }),
    good: facts({ plan: plan({ release: 'v0.9.0' }), outputs: outputs.lost(6), main: error1 }),
    reason: /verdict error where the run was untouched/,
  },
  {
    rule: '(b) a fault that came after every result changes nothing',
    bad: facts({
      ...fault('kill-mirror', { phase: 'reset', lane: 2, occurrence: 1 }, 'v0.10.6', {
        endedBefore: [1, 2, 3, 4, 5, 6, 7, 8],
      }),
      outputs: outputs.error(8),
      main: error1,
    }),
    good: facts(
      fault('kill-mirror', { phase: 'reset', lane: 2, occurrence: 1 }, 'v0.10.6', {
        endedBefore: [1, 2, 3, 4, 5, 6, 7, 8],
      }),
    ),
    reason: /verdict error where the run was untouched/,
  },
  {
    rule: '(b) a killed post step leaves the main step untouched',
    bad: facts({
      ...fault('sigkill-post', { phase: 'cleanup' }, 'v0.9.1'),
      outputs: outputs.error(8),
      main: error1,
    }),
    good: facts({
      ...fault('sigkill-post', { phase: 'cleanup' }, 'v0.9.1'),
      outputs: outputs.config,
      main: error1,
    }),
    reason: /verdict error where the run was untouched/,
  },
  {
    rule: '(c) a difference must fail the step (default fail-on)',
    bad: facts({ plan: plan({ release: 'v0.9.1' }), outputs: outputs.config }),
    good: facts({ plan: plan({ release: 'v0.9.1' }), outputs: outputs.config, main: error1 }),
    reason: /verdict config-differs with exit code 0/,
  },
  {
    rule: '(c) an error must fail the step',
    bad: facts({ ...hit(), outputs: outputs.error(4) }),
    good: facts({ ...hit(), outputs: outputs.error(4), main: error1 }),
    reason: /verdict error with exit code 0/,
  },
  {
    rule: '(c) clean must pass it',
    bad: facts({ main: error1 }),
    good: facts(),
    reason: /verdict clean with exit code 1/,
  },
  {
    rule: '(c) a main step that ended by itself gives a verdict',
    bad: facts({ outputs: {}, main: error1 }),
    good: facts(),
    reason: /by itself without a verdict/,
  },
  {
    rule: '(c) a signalled main step must not pass',
    bad: facts({ ...sigint, outputs: {} }),
    good: facts({ ...sigint, outputs: {}, main: { exitCode: -1, signal: 'SIGINT', timedOut: false } }),
    reason: /exited 0 after SIGINT/,
  },
  {
    rule: '(d) a signalled main step gives no verdict',
    bad: facts({
      ...sigint,
      outputs: outputs.error(2),
      main: { exitCode: -1, signal: 'SIGINT', timedOut: false },
    }),
    good: facts({ ...sigint, outputs: {}, main: { exitCode: -1, signal: 'SIGINT', timedOut: false } }),
    reason: /was sent SIGINT, yet it left verdict error/,
  },
  {
    rule: 'outputs: clean only after every planned attempt',
    bad: facts({ outputs: { ...outputs.clean, attempts: '5' } }),
    good: facts(),
    reason: /verdict clean after 5 of 8 planned attempts/,
  },
  {
    rule: 'outputs: reproduced agrees with the verdict',
    bad: facts({
      plan: plan({ release: 'v0.9.0' }),
      outputs: { ...outputs.lost(3), reproduced: 'false' },
      main: error1,
    }),
    good: facts({ plan: plan({ release: 'v0.9.0' }), outputs: outputs.lost(3), main: error1 }),
    reason: /verdict reproduced with reproduced=false/,
  },
];

describe('soak oracle', () => {
  for (const { rule, bad, good, reason } of RULES) {
    it(`${rule}: flags the case it names, passes the right one`, () => {
      const flagged = judgeRound(bad).wrong;
      assert.ok(
        flagged.some((w) => reason.test(w)),
        `${reason} not in ${JSON.stringify(flagged)}`,
      );
      assert.deepEqual(judgeRound(good).wrong, []);
    });
  }

  it('tells what a fault did from its timing', () => {
    const of = (f: Pick<RoundFacts, 'plan' | 'fault'>) => faultEffect(f);
    assert.equal(of(facts()), 'none');
    assert.equal(
      of({
        plan: plan({ fault: { kind: 'kill-mirror', at: { phase: 'cache-build' } } }),
        fault: { fired: false, why: 'x' },
      }),
      'none',
    );
    assert.equal(of(hit()), 'hit');
    assert.equal(of(fault('kill-mirror', { phase: 'cache-build' })), 'hit');
    assert.equal(
      of(fault('kill-cache', { phase: 'attempt', attempt: 8 }, 'v0.10.6', { startedBy: [8] })),
      'raced',
    );
    assert.equal(
      of(
        fault('kill-cache', { phase: 'attempt', attempt: 8 }, 'v0.10.6', {
          endedBefore: [1, 2, 3, 4, 5, 6, 7, 8],
        }),
      ),
      'untouched',
    );
    // Only a silenced daemon judges nothing after it: a build may go on without a killed cache.
    const judgedAll = { phasesAfter: ['attempt 1'], judged: [1, 2, 3, 4, 5, 6, 7, 8] };
    assert.equal(of(fault('kill-cache', { phase: 'cache-build' }, 'v0.10.6', judgedAll)), 'hit');
    assert.equal(of(fault('kill-buildkitd', { phase: 'cache-build' }, 'v0.10.6', judgedAll)), 'untouched');
    assert.equal(of(sigint), 'signal');
    assert.equal(of(fault('sigkill-post', { phase: 'cleanup' })), 'post');
    assert.equal(of(fault('sigterm-post', { phase: 'cleanup' })), 'post');
  });

  it('a disk filled as an attempt starts may be outlived: the run frees what each next attempt writes', () => {
    // Measured on v0.10.6: attempts 3–8 began on the full disk, each in the room the one before it freed.
    const filled = (kind: 'fill-disk' | 'kill-cache') =>
      judgeRound(
        facts(
          fault(kind, { phase: 'attempt', attempt: 2 }, 'v0.10.6', {
            startedBefore: [1, 2],
            startedBy: [1, 2],
            endedBefore: [1],
            phasesAfter: ['attempt 3'],
            judged: [1, 2, 3, 4, 5, 6, 7, 8],
          }),
        ),
      );
    assert.deepEqual(filled('fill-disk').wrong, []);
    assert.equal(filled('fill-disk').effect, 'hit');
    assert.match(filled('kill-cache').wrong.join(), /verdict clean where the run was hit/);
  });

  it('a fault in the minimization comes after every attempt: a loss before it stands, a clean run is wrong', () => {
    const atMinimize = (verdict: 'reproduced' | 'error' | 'clean', release = 'v0.9.0') =>
      judgeRound(
        facts({
          ...fault('kill-buildkitd', { phase: 'minimize' }, release, { phasesAfter: [] }),
          outputs:
            verdict === 'reproduced'
              ? { verdict, reproduced: 'true', 'failed-attempt': '8', attempts: '8' }
              : verdict === 'error'
                ? { verdict, reproduced: 'false', 'failed-attempt': '', attempts: '8' }
                : outputs.clean,
          main: verdict === 'clean' ? { exitCode: 0, signal: null, timedOut: false } : error1,
        }),
      ).wrong;
    assert.deepEqual(atMinimize('reproduced'), []);
    assert.deepEqual(atMinimize('error'), []);
    assert.match(atMinimize('clean').join(), /verdict clean where the run was hit/);
  });

  it('reports a hang, a failed post step, a signal nobody sent as problems, not wrong verdicts', () => {
    const problems = (f: RoundFacts) => judgeRound(f).problems.join('; ');
    assert.match(
      problems(facts({ outputs: {}, main: { exitCode: -1, signal: 'SIGKILL', timedOut: true } })),
      /main step did not end/,
    );
    assert.match(
      problems(facts({ post: { exitCode: 1, signal: null, timedOut: false, killedBySoak: false } })),
      /post step exited 1/,
    );
    assert.match(
      problems(facts({ outputs: {}, main: { exitCode: -1, signal: 'SIGKILL', timedOut: false } })),
      /died of SIGKILL, which the soak did not send/,
    );
    assert.equal(
      problems(facts({ ...sigint, outputs: {}, main: { exitCode: -1, signal: 'SIGINT', timedOut: false } })),
      '',
    );
    const postSignalled = (kind: 'sigkill-post' | 'sigint-post', signal: string) =>
      problems(
        facts({
          plan: plan({ fault: { kind, at: { phase: 'cleanup' } } }),
          post: { exitCode: -1, signal, timedOut: false, killedBySoak: true },
        }),
      );
    assert.equal(postSignalled('sigkill-post', 'SIGKILL'), '');
    // SIGINT leaves the post step its removal: it must end by itself, with 0.
    assert.match(postSignalled('sigint-post', 'SIGINT'), /post step exited -1 \(SIGINT\)/);
  });

  it('keeps leftovers apart, expected only after a post step the soak SIGKILLed', () => {
    const left = judgeRound(facts({ leftovers: ['container lost-layer-x-cache'] }));
    assert.deepEqual([left.leftovers, left.leftoversExpected], [['container lost-layer-x-cache'], false]);
    const signalled = (kind: 'sigkill-post' | 'sigint-post' | 'sigterm-post', signal: string) =>
      judgeRound(
        facts({
          plan: plan({ fault: { kind, at: { phase: 'cleanup' } } }),
          leftovers: ['network n'],
          post: { exitCode: -1, signal, timedOut: false, killedBySoak: true },
        }),
      ).leftoversExpected;
    assert.equal(signalled('sigkill-post', 'SIGKILL'), true);
    // A SIGINT or SIGTERM leaves the post step its removal: what is left then is a leftover.
    assert.equal(signalled('sigint-post', 'SIGINT'), false);
    assert.equal(signalled('sigterm-post', 'SIGTERM'), false);
  });

  it('a CLI round: SIGKILL excuses leftovers (no post step), SIGINT does not; its line must say its report', () => {
    const cliFault = (kind: 'sigkill-main' | 'sigint-main') => ({
      ...fault(kind, { phase: 'attempt', attempt: 2 }),
      plan: plan({ entry: 'cli', fault: { kind, at: { phase: 'attempt', attempt: 2 } } }),
    });
    const killed = (kind: 'sigkill-main' | 'sigint-main', exitCode: number, signal: string | null) => {
      return judgeRound(
        withoutPost({
          ...cliFault(kind),
          outputs: {},
          main: { exitCode, signal, timedOut: false },
          leftovers: ['network n'],
        }),
      );
    };
    assert.equal(killed('sigkill-main', -1, 'SIGKILL').leftoversExpected, true);
    assert.deepEqual(killed('sigkill-main', -1, 'SIGKILL').problems, []);
    // Ctrl-C: the CLI removes what it made, then exits 130.
    assert.equal(killed('sigint-main', 130, null).leftoversExpected, false);
    assert.deepEqual(killed('sigint-main', 130, null).wrong, []);
    // Any other code after Ctrl-C is not the CLI's stop (the bug the soak found exited 130 after a verdict).
    assert.match(killed('sigint-main', 2, null).wrong.join(), /the CLI exited 2 after SIGINT, not 130/);
    // A CLI the soak killed at its deadline: a hang, and what it left had nothing after it to remove it.
    const hung = judgeRound(
      withoutPost({
        plan: plan({ entry: 'cli' }),
        outputs: {},
        main: { exitCode: -1, signal: 'SIGKILL', timedOut: true },
        leftovers: ['network n'],
      }),
    );
    assert.deepEqual(
      [hung.leftoversExpected, hung.problems],
      [true, ["the main step did not end by the soak's deadline"]],
    );
    const hungAction = judgeRound(
      facts({
        outputs: {},
        main: { exitCode: -1, signal: 'SIGKILL', timedOut: true },
        leftovers: ['network n'],
      }),
    );
    assert.equal(hungAction.leftoversExpected, false, 'the post step ran after the hung main step');

    const cli = (out: RoundFacts['outputs'], exitCode: number, round: Partial<RoundFacts> = {}) => {
      const judged = withoutPost({
        ...round,
        plan: plan({ ...round.plan, entry: 'cli' }),
        outputs: out,
        main: { exitCode, signal: null, timedOut: false },
      });
      return judgeRound(judged).wrong.join('; ');
    };
    const clean = { verdict: 'clean', 'failed-attempt': '', attempts: '8', said: 'clean' };
    assert.equal(cli(clean, 0), '');
    assert.match(cli({ ...clean, said: 'error' }, 0), /report says clean, its verdict line error/);
    assert.match(cli({ ...clean, said: undefined }, 0), /its verdict line nothing/);
    // No report (a full disk): the line's verdict, and no attempt count to hold it to.
    assert.equal(cli({ verdict: 'error', 'failed-attempt': '', said: 'error' }, 2, hit()), '');
    assert.match(cli({ ...clean, attempts: '7' }, 0), /verdict clean after 7 of 8 planned attempts/);
    // Exit 2 for a minimization that failed, 1 for a loss otherwise.
    const lost = { verdict: 'reproduced', 'failed-attempt': '3', attempts: '3', said: 'reproduced' };
    const v090 = (out: RoundFacts['outputs'], exitCode: number) => {
      const round = withoutPost({
        plan: plan({ entry: 'cli', release: 'v0.9.0' }),
        outputs: out,
        main: { exitCode, signal: null, timedOut: false },
      });
      return judgeRound(round).wrong.join('; ');
    };
    assert.equal(v090(lost, 1), '');
    assert.equal(v090({ ...lost, minimization: 'error' }, 2), '');
    assert.match(v090(lost, 2), /verdict reproduced with exit code 2/);
    assert.match(v090({ ...lost, minimization: 'error' }, 1), /verdict reproduced with exit code 1/);
    // Round 129: config-differs, its minimization failed on a full disk, no report: exit 2 is right.
    const config = { verdict: 'config-differs', 'failed-attempt': '', attempts: '8', said: 'config-differs' };
    assert.equal(v090({ ...config, minimization: 'error' }, 2), '');
    assert.match(v090(config, 2), /verdict config-differs with exit code 2/);
  });

  it('finds a tool-cache lock and an entry without its .complete marker, not a finished one', () => {
    const entry = (p: string, dir = true) => ({ path: p, dir });
    assert.deepEqual(
      toolCacheLeftovers([
        entry('.buildctl-v0.9.1-x64.lock'),
        entry('buildctl'),
        entry('buildctl/0.9.1'),
        entry('buildctl/0.9.1/x64'),
        entry('buildctl/0.9.1/x64.complete', false),
        entry('buildctl/0.9.1/x64/buildctl', false),
        entry('buildctl/0.10.6'),
        entry('buildctl/0.10.6/x64'),
      ]),
      ['tool-cache lock .buildctl-v0.9.1-x64.lock', 'tool-cache partial buildctl/0.10.6/x64'],
    );
  });
});
