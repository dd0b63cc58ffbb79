// The fault soak (a script that prints figures, not a test): many short runs of the bundled action (or, in a
// third of the rounds that can be, the CLI) on the test bed, each with one fault drawn from (seed, round) — a
// registry or buildkitd killed or paused, the cache's server killed, the cache registry answering 500 or the
// run's disk full for a while, the main step (the CLI) or the post step sent SIGINT, SIGTERM or SIGKILL, or
// nothing (control rounds) — fired as the run's phase line says the phase starts (minimization's too, in
// rounds that run a release that loses layers with `minimize`); each round judged from what was seen from
// outside (scripts/lib/soak-oracle.ts). A line per round, then the figures: faults planned and fired by kind
// and phase, wrong verdicts and rounds with leftovers (the goal of both: 0). Every round's facts go to
// OUT/soak.json, the logs of a flagged round to OUT/round-N/. Ctrl-C ends the soak after the round in flight
// (which the interrupt reaches too).
// Usage: node --import tsx scripts/soak.ts [--rounds 300] [--seed 1]
//          [--backends registry,local,inline,s3,azblob,gha] [--kinds pause-cache,pause-mirror,...]
//          [--entries cli] [--out /tmp/soak] [--dry-run] [--releases v0.9.0,v0.9.1,...] [--deadline 600]
//        --dry-run prints the schedule only and touches no Docker; without --releases it reads the bed's
//        release list as `scripts/testbed.sh env` would, without running it.
//        node --import tsx scripts/soak.ts --rejudge OUT/soak.json: the saved facts judged again, nothing run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { quote } from 'shell-quote';
import { CACHE_TYPES } from '../src/backends/backends.js';
import { serveReleases } from './lib/release-server.js';
import { judgeRound } from './lib/soak-oracle.js';
import { ENTRIES, FAULT_KINDS, planRound, planText, type RoundPlan } from './lib/soak-plan.js';
import { roundLine, type RoundRecord, scheduleTable, summaryMarkdown } from './lib/soak-report.js';
import { BackendServers, type RoundRun, runRound, type SoakBed } from './lib/soak-run.js';
import { repoRoot, testBed } from './lib/testbed.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    backends: { type: 'string', default: CACHE_TYPES.join(',') },
    kinds: { type: 'string' },
    entries: { type: 'string' },
    out: { type: 'string', default: '/tmp/soak' },
    'dry-run': { type: 'boolean', default: false },
    releases: { type: 'string' },
    deadline: { type: 'string', default: '600' },
    rejudge: { type: 'string' },
  },
});

const command = quote([
  'node',
  ...process.execArgv,
  path.relative(process.cwd(), process.argv[1] ?? 'scripts/soak.ts'),
  ...process.argv.slice(2),
]);

/** A comma-separated flag's words, each one of `known`. */
function wordsOf<T extends string>(flag: string, list: string, known: readonly T[]): T[] {
  const words = list.split(',').map((w) => w.trim());
  const unknown = words.filter((w) => !(known as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`--${flag}: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return words as T[];
}

/**
 * The bed's releases without running scripts/testbed.sh (a dry run touches nothing): its version list, with
 * `latest` read from the release `up` remembered, as `env` reads it.
 */
function bedReleasesUnasked(): string[] {
  const cache = process.env['TESTBED_CACHE'] || '/var/cache/lost-layer-testbed';
  const words = fs
    .readFileSync(path.join(repoRoot, 'testbed', 'buildkit-versions'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return words.map((word) => {
    if (word !== 'latest') return word;
    const remembered = path.join(cache, 'newest-release');
    if (!fs.existsSync(remembered)) throw new Error(`no ${remembered}: give --releases for a dry run`);
    return fs.readFileSync(remembered, 'utf8').trim();
  });
}

/** Runs and judges one round; a round the soak could not run is recorded as such, never judged. */
async function oneRound(plan: RoundPlan, bed: SoakBed, out: string): Promise<RoundRecord> {
  let done: RoundRun;
  try {
    done = await runRound(plan, bed);
  } catch (error) {
    return { plan, harnessError: (error as Error).message.split('\n')[0] ?? '' };
  }
  const judgement = judgeRound(done.facts);
  const flagged = judgement.wrong.length + judgement.problems.length + judgement.leftovers.length > 0;
  if (flagged) {
    // The logs and the report of a flagged round, to check the oracle against what the run said.
    const dir = path.join(out, `round-${plan.round}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.stdout'), done.logs.main.stdout);
    fs.writeFileSync(path.join(dir, 'main.stderr'), done.logs.main.stderr);
    if (done.logs.post) fs.writeFileSync(path.join(dir, 'post.stdout'), done.logs.post.stdout);
    fs.writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(done.logs.outputs, null, 2));
  }
  return { plan, facts: done.facts, judgement };
}

async function soak(plans: readonly RoundPlan[], out: string): Promise<RoundRecord[]> {
  const bed = testBed();
  const releases = await serveReleases(bed.releasesDir);
  const servers = new BackendServers();
  const soakBed: SoakBed = {
    bed,
    releases,
    servers,
    deadlineMs: Number(values.deadline) * 1000,
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
    process.stderr.write('soak: ending after the round in flight\n');
  });
  fs.mkdirSync(out, { recursive: true });
  const records: RoundRecord[] = [];
  try {
    for (const plan of plans) {
      if (interrupted) break;
      const record = await oneRound(plan, soakBed, out);
      records.push(record);
      console.log(roundLine(record));
      // After every round: a soak cut short keeps what it did.
      fs.writeFileSync(path.join(out, 'soak.json'), JSON.stringify({ command, rounds: records }, null, 2));
    }
  } finally {
    await servers.close();
    await releases.close();
  }
  return records;
}

/** Whether the bundled action writes the phase lines the faults wait for (src/log.ts phaseLine). */
function bundleHasPhaseLines(): boolean {
  return fs.readFileSync(path.join(repoRoot, 'dist', 'index.js'), 'utf8').includes('phase ${phase}');
}

/**
 * --rejudge SOAK_JSON: the rounds' facts a soak saved, judged again by today's oracle (after a fix to the
 * oracle itself); nothing is run. The figures name the soak's own command and this one.
 */
function rejudge(file: string): void {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { command: string; rounds: RoundRecord[] };
  const records = saved.rounds.map((record) =>
    'facts' in record ? { ...record, judgement: judgeRound(record.facts) } : record,
  );
  for (const record of records) console.log(roundLine(record));
  console.log(`\n${summaryMarkdown(records, `${saved.command}\`, judged again by \`${command}`)}`);
}

async function main(): Promise<void> {
  if (values.rejudge) return rejudge(values.rejudge);
  const seed = Number(values.seed);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(seed) || !Number.isInteger(rounds) || rounds < 1)
    throw new Error('--seed and --rounds take whole numbers, --rounds at least 1');
  const dryRun = values['dry-run'];
  const releases = values.releases?.split(',') ?? (dryRun ? bedReleasesUnasked() : testBed().versions);
  const options = {
    releases,
    backends: wordsOf('backends', values.backends, CACHE_TYPES),
    kinds: values.kinds === undefined ? undefined : wordsOf('kinds', values.kinds, FAULT_KINDS),
    entries: values.entries === undefined ? undefined : wordsOf('entries', values.entries, ENTRIES),
  };
  const plans = Array.from({ length: rounds }, (_, i) => planRound(seed, i + 1, options));
  // Without them no fault fires, and every round would pass for a control round.
  const stale = bundleHasPhaseLines()
    ? ''
    : 'dist/index.js writes no phase lines: run `npm run bundle` first';
  if (dryRun) {
    for (const plan of plans) console.log(planText(plan));
    console.log(`\n${scheduleTable(plans)}\n\ncommand: \`${command}\``);
    if (stale) console.log(`\nwarning: ${stale}`);
    return;
  }
  if (stale) throw new Error(stale);
  const records = await soak(plans, values.out);
  console.log(
    `\n${summaryMarkdown(records, command)}\n\nrounds' facts: ${path.join(values.out, 'soak.json')}`,
  );
}

await main().catch((error: unknown) => {
  console.error(`soak: ${(error as Error).message}`);
  process.exitCode = 2;
});
