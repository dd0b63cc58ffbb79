// The benchmark (a script that prints numbers, not a test): side by side in one run on the test bed,
//   floor   one bare, fully cached `buildctl build` to a tarball against a running daemon;
//   set-up  what the action does before the cache: buildctl from the tool cache, images, registries,
//           buildkitd answering;
//   seed    the seed script's method: a container per attempt that starts buildkitd, builds, stops
//           (buildctl-daemonless.sh style), its state volume removed every 4 attempts;
//   engine  this action's engine with its defaults, at parallel 1, 2 and 4 (--parallel);
//   study   (--study) the reset policy: every 2, 3, 4, 6, 8 attempts or never, by restart or by prune;
//   fixed   v0.9.1 with the defaults, to show it never loses a layer;
//   positions (--positions N) N attempts kept going, reset every --positions-every: the loss rate by an
//           attempt's place after a reset, and from it the expected attempts to a first loss for each
//           reset frequency — a bound that no lane count or daemon speed-up of one attempt changes.
// Time to first detection is measured the same way for every column: per round, from the start of the first
// attempt (its daemon's start included) to the end of the first attempt that lost a layer (at most
// --attempts attempts), the order of the columns alternating between rounds; the mean over rounds has a 95%
// bootstrap interval, and so has each ratio to the seed's.
// Usage: node --import tsx scripts/benchmark.ts [--attempts 200] [--rounds 10] [--parallel 1,2,4] [--study]
//        [--study-attempts 60] [--fixed-attempts 200] [--variant rootful|rootless]
//        [--study-modes restart,prune] [--study-every 2,3,4,6,8,0] [--skip-main (the studies alone)]
//        [--positions 400] [--positions-every 8]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runCheck, prepareServices } from '../src/engine.js';
import type { RawInputs } from '../src/inputs/input-table.js';
import { parseSettings, type Settings } from '../src/inputs/settings.js';
import { inspectTarball } from '../src/inspection/tarball.js';
import { consoleLog, quietRunnerCommands } from '../src/log.js';
import { bundledRepro, newRunId } from '../src/paths.js';
import { Docker, labelArgs } from '../src/services/docker.js';
import { buildkitdToml } from '../src/inputs/buildkitd-config.js';
import { removeRun } from '../src/services/run-services.js';
import { lossRate } from '../src/verdict/loss-rate.js';
import { serveReleases } from './lib/release-server.js';
import { seededRandom } from './lib/seeded-random.js';
import { bedInputs, repoRoot, testBed } from './lib/testbed.js';
import type { AttemptRecord } from '../src/model/attempt.js';

const { values } = parseArgs({
  options: {
    attempts: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '1,2,4' },
    study: { type: 'boolean', default: false },
    'study-attempts': { type: 'string', default: '60' },
    'study-modes': { type: 'string', default: 'restart,prune' },
    'study-every': { type: 'string', default: '2,3,4,6,8,0' },
    'skip-main': { type: 'boolean', default: false },
    positions: { type: 'string', default: '0' },
    'positions-every': { type: 'string', default: '8' },
    'fixed-attempts': { type: 'string', default: '200' },
    variant: { type: 'string', default: 'rootful' },
  },
});
const attempts = Number(values.attempts);
const rounds = Number(values.rounds);
const variant = values.variant === 'rootless' ? 'rootless' : 'rootful';

await run('bash', [path.join(repoRoot, 'scripts', 'testbed.sh'), 'up']);
const bed = testBed();
const releases = await serveReleases(bed.releasesDir);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-layer-bench-'));
process.env['RUNNER_TOOL_CACHE'] = path.join(root, 'tool-cache');
process.env['RUNNER_TEMP'] = path.join(root, 'temp');
const quiet = consoleLog(fs.createWriteStream('/dev/null'));
quietRunnerCommands();
const docker = new Docker();

const settingsFor = (version: string, extra: RawInputs = {}): Settings =>
  parseSettings(
    { ...bedInputs(bed, version, variant, releases.urlTemplate), ...extra },
    { workspace: root, bundledRepro: bundledRepro() },
  );

interface Series {
  /** Seconds each attempt took, its reset included. */
  seconds: number[];
  lost: boolean[];
  /** Whether buildkitd's state was emptied before the attempt. */
  resets: boolean[];
}

try {
  // Fill the tool cache once, so that every set-up below is the warm one.
  await engineRound(settingsFor('v0.9.0', { retries: '1', 'cache-reset-frequency': '1' }));

  if (!values['skip-main']) await mainComparison();
  if (values.study) await resetStudy(Number(values['study-attempts']));
  if (Number(values.positions) > 0) {
    await positionStudy(Number(values.positions), Number(values['positions-every']));
  }
} finally {
  await releases.close();
  fs.rmSync(root, { recursive: true, force: true });
}

async function mainComparison(): Promise<void> {
  const setup = await measureSetUp(5);
  const floor = await measureFloor(12);
  const lanes = (values.parallel ?? '1')
    .split(',')
    .map(Number)
    .filter((n) => n >= 1);
  const columns = ['seed', ...lanes.map((n) => `parallel ${n}`)];
  const detection = new Map<string, Detection[]>(columns.map((c) => [c, []]));
  const oneLane: Series = { seconds: [], lost: [], resets: [] };
  for (let r = 0; r < rounds; r++) {
    // The order alternates, so that neither side always runs first in a round.
    const order = r % 2 === 0 ? columns : [...columns].reverse();
    for (const column of order) {
      const found =
        column === 'seed'
          ? seedDetection(await seedRound(attempts))
          : await engineDetection(
              Number(column.split(' ')[1]),
              column === 'parallel 1' ? oneLane : undefined,
            );
      detection.get(column)?.push(found);
    }
    log(
      `round ${r + 1}: ${columns.map((c) => `${c} ${f(detection.get(c)?.at(-1)?.seconds ?? NaN)} s`).join(', ')}`,
    );
  }

  const fixedAttempts = Number(values['fixed-attempts']);
  const fixed = await engineRound(
    settingsFor('v0.9.1', { retries: String(fixedAttempts), 'keep-going': 'true' }),
  );

  print(
    `\n## Time to first detection (BuildKit v0.9.0, test bed, ${variant}, ${rounds} rounds, ${os.availableParallelism()} cores)\n`,
  );
  print(
    '| method | mean s to first detection (95% interval) | ÷ seed (95% interval) | attempts per s | ÷ seed | rounds with a loss |',
  );
  print('| --- | ---: | ---: | ---: | ---: | ---: |');
  const seedTimes = (detection.get('seed') ?? []).map((d) => d.seconds);
  const seedRate = attemptsPerSecond(detection.get('seed') ?? []);
  for (const column of columns) {
    const found = detection.get(column) ?? [];
    const times = found.map((d) => d.seconds);
    const m = bootstrap(times, mean);
    const ratio = bootstrapRatio(times, seedTimes);
    const rate = attemptsPerSecond(found);
    const name = column === 'seed' ? "seed's method" : `engine, ${column}`;
    print(
      `| ${name} | ${f(m.value)} (${f(m.low)}–${f(m.high)}) | ${column === 'seed' ? '1.00' : `${f(ratio.value)} (${f(ratio.low)}–${f(ratio.high)})`} | ${f(rate)} | ${f(rate / seedRate)} | ${found.filter((d) => d.lost).length}/${found.length} |`,
    );
  }
  print('');
  print(`| measure | seconds | ratio |`);
  print(`| --- | ---: | ---: |`);
  print(
    `| floor: one bare cached \`buildctl build\` (median of ${floor.length}) | ${f(median(floor))} | 1.00 |`,
  );
  print(
    `| engine, one lane: seconds per attempt, reset included | ${f(mean(oneLane.seconds))} | ${f(mean(oneLane.seconds) / median(floor))} × floor |`,
  );
  print(
    `| engine, one lane: seconds per attempt without resets | ${f(mean(withoutResets(oneLane)))} | ${f(mean(withoutResets(oneLane)) / median(floor))} × floor |`,
  );
  print(
    `| set-up, warm: buildctl from the tool cache, registries, buildkitd (median of ${setup.length}) | ${f(median(setup))} | |`,
  );
  print(`| v0.9.1: attempts run, layers lost | ${fixed.lost.length}, ${count(fixed.lost)} | |`);
}

/** One round's first detection: seconds from the first attempt's start, attempts run, whether one lost. */
interface Detection {
  seconds: number;
  attempts: number;
  lost: boolean;
}

/** The seed's attempts run one after another: the clock is their sum. */
function seedDetection(series: Series): Detection {
  const first = series.lost.indexOf(true);
  const upTo = first < 0 ? series.seconds.length : first + 1;
  return { seconds: sum(series.seconds.slice(0, upTo)), attempts: upTo, lost: first >= 0 };
}

/** The engine until its first loss, in `lanes` lanes: the clock is the lost attempt's end. */
async function engineDetection(lanes: number, perAttempt?: Series): Promise<Detection> {
  const records = await engineRecords(
    settingsFor('v0.9.0', { retries: String(attempts), parallel: String(lanes) }),
  );
  // With lanes the first loss in time need not be the lowest-numbered one.
  const byEnd = [...records].sort((a, b) => (a.endedMs ?? 0) - (b.endedMs ?? 0));
  const lost = byEnd.find((r) => r.outcome.kind === 'lost-layer');
  const last = lost ?? byEnd.at(-1);
  if (perAttempt) {
    append(perAttempt, {
      seconds: records.map((r) => (r.durationMs + r.resetMs) / 1000),
      lost: records.map((r) => r.outcome.kind === 'lost-layer'),
      resets: records.map((r) => r.freshState),
    });
  }
  return {
    seconds: (last?.endedMs ?? NaN) / 1000,
    // Attempts that had ended by then (with lanes, one still running may end a little later).
    attempts: records.filter((r) => (r.endedMs ?? Infinity) <= (last?.endedMs ?? 0)).length,
    lost: lost !== undefined,
  };
}

function attemptsPerSecond(found: readonly Detection[]): number {
  return sum(found.map((d) => d.attempts)) / sum(found.map((d) => d.seconds));
}

/** A statistic with its 95% percentile bootstrap interval (2000 resamples, a fixed seed: repeatable). */
function bootstrap(xs: number[], statistic: (sample: number[]) => number) {
  const random = seededRandom(7);
  const draws = Array.from({ length: 2000 }, () =>
    statistic(xs.map(() => xs[Math.floor(random() * xs.length)] ?? NaN)),
  ).sort((a, b) => a - b);
  return { value: statistic(xs), low: draws[49] ?? NaN, high: draws[1949] ?? NaN };
}

/** The ratio of two means, rounds resampled on each side apart. */
function bootstrapRatio(xs: number[], ys: number[]) {
  const random = seededRandom(11);
  const pick = (v: number[]) => v.map(() => v[Math.floor(random() * v.length)] ?? NaN);
  const draws = Array.from({ length: 2000 }, () => mean(pick(xs)) / mean(pick(ys))).sort((a, b) => a - b);
  return { value: mean(xs) / mean(ys), low: draws[49] ?? NaN, high: draws[1949] ?? NaN };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** One run of the engine; per attempt: seconds (reset included) and whether it lost a layer. */
async function engineRound(settings: Settings): Promise<Series> {
  const records = await engineRecords(settings);
  return {
    seconds: records.map((r) => (r.durationMs + r.resetMs) / 1000),
    lost: records.map((r) => r.outcome.kind === 'lost-layer'),
    resets: records.map((r) => r.freshState),
  };
}

async function engineRecords(settings: Settings): Promise<AttemptRecord[]> {
  const runId = newRunId();
  try {
    const result = await runCheck(settings, {
      runId,
      workDir: path.join(root, runId),
      log: quiet,
      docker,
      githubApiUrl: releases.origin,
    });
    if (result.verdict.kind === 'error') throw new Error(`engine run failed: ${result.verdict.cause}`);
    return result.records;
  } finally {
    await removeRun(docker, runId);
    fs.rmSync(path.join(root, runId), { recursive: true, force: true });
  }
}

/**
 * The seed's method on the same bed: the engine makes the registries and the cache (run-attempts false),
 * then every attempt is a `docker run` that starts buildkitd, waits for it, builds to a tarball and stops,
 * as buildctl-daemonless.sh does; the state volume is replaced every 4 attempts.
 */
async function seedRound(total: number): Promise<Series> {
  const runId = newRunId();
  const settings = settingsFor('v0.9.0', { retries: '4', 'run-attempts': 'false', cleanup: 'false' });
  const out = fs.mkdtempSync(path.join(root, 'seed-'));
  // A rootless daemon runs as an unprivileged user: it writes its tarball into this folder too.
  fs.chmodSync(out, 0o777);
  const series: Series = { seconds: [], lost: [], resets: [] };
  try {
    await runCheck(settings, {
      runId,
      workDir: path.join(root, runId),
      log: quiet,
      docker,
      githubApiUrl: releases.origin,
    });
    const prefix = `lost-layer-${runId}`;
    const config = path.join(out, 'buildkitd.toml');
    // The engine's own buildkitd.toml: the same mirror and plain-HTTP registries as its daemons get.
    fs.writeFileSync(
      config,
      buildkitdToml('', { mirror: `${prefix}-mirror:5000`, cache: `${prefix}-cache:5000` }),
    );
    const script = [
      // As buildctl-daemonless.sh: rootlesskit in front of buildkitd when not root.
      'bk=buildkitd; [ "$(id -u)" = 0 ] || bk="rootlesskit buildkitd --oci-worker-no-process-sandbox"',
      '$bk --config /etc/seed/buildkitd.toml >/tmp/buildkitd.log 2>&1 & pid=$!',
      'i=0; until buildctl debug workers >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && exit 3; sleep 0.1; done',
      `buildctl build --frontend dockerfile.v0 --local context=/ctx --local dockerfile=/ctx --import-cache type=registry,ref=${prefix}-cache:5000/lost-layer/cache:latest --output type=tar,dest=/out/attempt.tar; rc=$?`,
      'kill $pid; wait $pid; exit $rc',
    ].join('\n');
    const options = settings.buildkitdContainerOptions ?? [];
    const statePath = variant === 'rootless' ? '/home/user/.local/share/buildkit' : '/var/lib/buildkit';
    let volume = '';
    for (let attempt = 1; attempt <= total; attempt++) {
      const started = performance.now();
      if ((attempt - 1) % 4 === 0) {
        if (volume) await docker.removeVolumes([volume]);
        volume = `${prefix}-seed-${attempt}`;
        await docker.createVolume(volume, runId);
      }
      const tarball = path.join(out, 'attempt.tar');
      fs.rmSync(tarball, { force: true });
      await run('docker', [
        'run',
        '--rm',
        '--network',
        `${prefix}-net`,
        ...labelArgs(runId),
        ...options,
        '-v',
        `${volume}:${statePath}`,
        '-v',
        `${config}:/etc/seed/buildkitd.toml:ro`,
        '-v',
        `${bundledRepro()}:/ctx:ro`,
        '-v',
        `${out}:/out`,
        '--entrypoint',
        '/bin/sh',
        settings.buildkitImage,
        '-c',
        script,
      ]);
      const { missingPaths } = await inspectTarball(tarball, ['repro.txt']);
      series.seconds.push((performance.now() - started) / 1000);
      series.lost.push(missingPaths.length > 0);
      series.resets.push((attempt - 1) % 4 === 0);
      // As the seed: it stops at the first loss.
      if (missingPaths.length > 0) break;
    }
  } finally {
    await removeRun(docker, runId);
    fs.rmSync(path.join(root, runId), { recursive: true, force: true });
  }
  return series;
}

async function measureSetUp(times: number): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < times; i++) {
    const runId = newRunId();
    const settings = settingsFor('v0.9.0');
    const started = performance.now();
    try {
      const { services } = await prepareServices(
        settings,
        { runId, workDir: path.join(root, runId), log: quiet, githubApiUrl: releases.origin },
        docker,
      );
      await services.startBuildkitd(settings.buildkitImage);
      seconds.push((performance.now() - started) / 1000);
    } finally {
      await removeRun(docker, runId);
    }
  }
  return seconds;
}

/** The bare build: a daemon that already holds everything, building the repro to a tarball. */
async function measureFloor(times: number): Promise<number[]> {
  const runId = newRunId();
  const settings = settingsFor('v0.9.0');
  try {
    const { services } = await prepareServices(
      settings,
      { runId, workDir: path.join(root, runId), log: quiet, githubApiUrl: releases.origin },
      docker,
    );
    const daemon = await services.startBuildkitd(settings.buildkitImage);
    const dest = path.join(root, 'floor.tar');
    const build = () =>
      daemon.buildctl.build({
        context: settings.context,
        dockerfile: settings.dockerfile,
        output: `type=tar,dest=${dest}`,
      });
    const first = await build();
    if (first.exitCode !== 0) throw new Error(first.stderr);
    const seconds: number[] = [];
    for (let i = 0; i < times; i++) {
      const started = performance.now();
      const result = await build();
      if (result.exitCode !== 0) throw new Error(result.stderr);
      seconds.push((performance.now() - started) / 1000);
    }
    return seconds;
  } finally {
    await removeRun(docker, runId);
  }
}

/** Reset every 2, 3, 4, 6, 8 attempts or never, by restarting the daemon or by pruning its cache. */
async function resetStudy(studyAttempts: number): Promise<void> {
  print(`\n## Reset policy (v0.9.0, ${studyAttempts} attempts each, keep-going)\n`);
  print(
    '| reset | every | s/attempt | lost | loss rate (95% interval) | expected s to first loss (s/attempt ÷ rate) |',
  );
  print('| --- | ---: | ---: | ---: | ---: | ---: |');
  const modes = (values['study-modes'] ?? '').split(',').filter((m) => m === 'restart' || m === 'prune');
  const everies = (values['study-every'] ?? '').split(',').map(Number);
  for (const mode of modes) {
    for (const every of everies) {
      const series = await engineRound(
        settingsFor('v0.9.0', {
          retries: String(studyAttempts),
          'cache-reset-frequency': String(every),
          'cache-reset-mode': mode,
          'keep-going': 'true',
        }),
      );
      const spa = mean(series.seconds);
      const rate = count(series.lost) / series.lost.length;
      const bounds = lossRate(count(series.lost), series.lost.length).twoSided;
      print(
        `| ${mode} | ${every || 'never'} | ${f(spa)} | ${count(series.lost)} | ${pct(rate)} (${pct(bounds.low)}–${pct(bounds.high)}) | ${rate > 0 ? f(spa / rate) : '∞'} |`,
      );
    }
  }
}

/**
 * The loss rate by an attempt's place after a reset (1 = fresh state), from one keep-going run, and what it
 * implies: the expected attempts to the first loss when resetting every k, and those attempts at the run's
 * own seconds per attempt — the time to first detection of one daemon before its first start is counted.
 */
async function positionStudy(total: number, every: number): Promise<void> {
  const records = await engineRecords(
    settingsFor('v0.9.0', {
      retries: String(total),
      'cache-reset-frequency': String(every),
      'keep-going': 'true',
    }),
  );
  const byPlace: { attempts: number; lost: number }[] = [];
  let place = 0;
  let afterLoss = { attempts: 0, lost: 0 };
  let previousLost = false;
  for (const record of records) {
    place = record.freshState ? 1 : place + 1;
    const lost = record.outcome.kind === 'lost-layer';
    const cell = (byPlace[place - 1] ??= { attempts: 0, lost: 0 });
    cell.attempts++;
    if (lost) cell.lost++;
    if (previousLost && !record.freshState)
      afterLoss = { attempts: afterLoss.attempts + 1, lost: afterLoss.lost + (lost ? 1 : 0) };
    previousLost = lost;
  }
  const wallSeconds = (records.at(-1)?.endedMs ?? NaN) / 1000;
  const perAttempt = (wallSeconds - (records[0]?.resetMs ?? 0) / 1000) / records.length;
  print(
    `\n## Loss rate by place after a reset (v0.9.0, ${total} attempts kept going, reset every ${every})\n`,
  );
  print('| place after reset | attempts | lost | loss rate (95% interval) |');
  print('| ---: | ---: | ---: | ---: |');
  byPlace.forEach((cell, i) => {
    const bounds = lossRate(cell.lost, cell.attempts).twoSided;
    print(
      `| ${i + 1} | ${cell.attempts} | ${cell.lost} | ${pct(cell.lost / cell.attempts)} (${pct(bounds.low)}–${pct(bounds.high)}) |`,
    );
  });
  print(
    `| the attempt after a loss, same state | ${afterLoss.attempts} | ${afterLoss.lost} | ${pct(afterLoss.lost / afterLoss.attempts)} |`,
  );
  print('');
  print(
    `First daemon start (attempt 1's reset): ${f((records[0]?.resetMs ?? NaN) / 1000)} s; seconds per attempt after it, resets included: ${f(perAttempt)}.\n`,
  );
  print('| reset every | expected attempts to the first loss | × seconds per attempt |');
  print('| ---: | ---: | ---: |');
  const rates = byPlace.map((cell) => cell.lost / cell.attempts);
  for (let k = 2; k <= rates.length; k++) {
    const expected = expectedAttemptsToLoss(rates.slice(0, k));
    print(`| ${k} | ${f(expected)} | ${f(expected * perAttempt)} |`);
  }
}

/**
 * Expected attempts until the first loss when a reset comes every `rates.length` attempts and the attempt at
 * place i loses with chance rates[i], independently: a cycle with no loss costs all its attempts.
 */
function expectedAttemptsToLoss(rates: readonly number[]): number {
  let survive = 1;
  let withinCycle = 0;
  rates.forEach((rate, i) => {
    withinCycle += (i + 1) * survive * rate;
    survive *= 1 - rate;
  });
  const lossInCycle = 1 - survive;
  if (lossInCycle <= 0) return Infinity;
  return (rates.length * survive) / lossInCycle + withinCycle / lossInCycle;
}

function withoutResets(series: Series): number[] {
  return series.seconds.filter((_, i) => !series.resets[i]);
}

function append(into: Series, from: Series): void {
  into.seconds.push(...from.seconds);
  into.lost.push(...from.lost);
  into.resets.push(...from.resets);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.slice(0, 3).join(' ')}: ${stderr}`)),
    );
  });
}

function count(flags: boolean[]): number {
  return flags.filter(Boolean).length;
}
function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
function f(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '∞';
}
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
