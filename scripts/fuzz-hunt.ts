// How fast the fuzzer finds a lost layer without being shown the bundled Dockerfile: for each seed, one
// fuzz run on a release of the test bed (through scripts/repro.sh, so the bed is built first), then a
// table of the cases and seconds to its first lost layer (the minimizer's time left out: it runs after the
// finding), the instructions it was minimized to, and the median and worst over the seeds. A script that
// prints figures, not a test.
// Usage: node --import tsx scripts/fuzz-hunt.ts [--release v0.9.0] [--seeds 2,3,4,5,6] [--cases 20]
//          [--retries 20] [--out /tmp/fuzz-hunt]
//        node --import tsx scripts/fuzz-hunt.ts --reports DIR...   (only the table, from earlier runs)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { FuzzReport } from '../src/fuzz/fuzz-result.js';
import { readFuzzReports } from '../src/fuzz/fuzz-report-files.js';
import { repoRoot } from './lib/testbed.js';

const { values, positionals } = parseArgs({
  options: {
    release: { type: 'string', default: 'v0.9.0' },
    seeds: { type: 'string', default: '2,3,4,5,6' },
    cases: { type: 'string', default: '20' },
    retries: { type: 'string', default: '20' },
    out: { type: 'string', default: '/tmp/fuzz-hunt' },
    reports: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

/** One seed's fuzz run, minimizing the first finding of each signature. */
function hunt(seed: string): string {
  const out = path.join(values.out, `${values.release}-${seed}`);
  fs.rmSync(out, { recursive: true, force: true });
  const args = [
    'scripts/repro.sh',
    values.release,
    'rootless',
    'fuzz',
    '--seed',
    seed,
    '--cases',
    values.cases,
  ];
  const minimize = ['--minimize', 'true', '--minimize-timeout', '300', '--out', out];
  const run = spawnSync('bash', [...args, ...minimize], {
    cwd: repoRoot,
    env: { ...process.env, RETRIES: values.retries },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status === 2) process.stderr.write(`seed ${seed}: no case could be judged\n`);
  return out;
}

interface SeedRow {
  seed: number;
  cases: number;
  firstCase?: number;
  seconds?: number;
  minimized?: number;
}

function row(report: FuzzReport): SeedRow {
  let seconds = 0;
  for (const c of report.cases) {
    if (c.differenceClass === 'lost-layer') {
      const found = seconds + c.seconds.total - c.seconds.minimize;
      const minimized = report.cases.find(
        (m) => m.differenceClass === 'lost-layer' && m.minimizedInstructions !== undefined,
      )?.minimizedInstructions;
      return {
        seed: report.run.seed,
        cases: report.cases.length,
        firstCase: c.caseNumber,
        seconds: found,
        ...(minimized === undefined ? {} : { minimized }),
      };
    }
    seconds += c.seconds.total;
  }
  return { seed: report.run.seed, cases: report.cases.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const folders = values.reports ? positionals : values.seeds.split(',').map(hunt);
const read = readFuzzReports(folders);
for (const problem of read.problems) process.stderr.write(`${problem}\n`);
const rows = read.reports.map(row).sort((a, b) => a.seed - b.seed);
const version = read.reports[0]?.run.buildkitVersion ?? values.release;
process.stdout.write(
  `\n${version}: the first lost layer, by seed\n\n| seed | cases run | first lost layer (case) | seconds to it | minimized to (instructions) |\n| ---: | ---: | ---: | ---: | ---: |\n`,
);
for (const r of rows) {
  process.stdout.write(
    `| ${r.seed} | ${r.cases} | ${r.firstCase ?? 'none'} | ${r.seconds?.toFixed(0) ?? '-'} | ${r.minimized ?? '-'} |\n`,
  );
}
const found = rows.flatMap((r) => (r.seconds === undefined ? [] : [r.seconds]));
process.stdout.write(
  `\nfound by ${found.length} of ${rows.length} seeds; seconds to the first: median ${found.length ? median(found).toFixed(0) : '-'}, worst ${found.length ? Math.max(...found).toFixed(0) : '-'}\n`,
);
