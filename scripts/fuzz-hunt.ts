// How fast the fuzzer finds a lost layer without being shown the bundled Dockerfile: for each seed, its
// cases one by one on a release of the test bed (through scripts/repro.sh, so the bed is built first) until
// the first lost layer, then a table of the cases and seconds to it (earlier findings' minimizations in, its own
// out: it runs after the finding), the instructions it was minimized to, the median and worst over seeds. A
// script that prints figures, not a test.
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

/**
 * One seed, case by case, until its first lost layer (or --cases): each case a fuzz run of its own (`--case
 * N`, the same case a longer run would make), minimized when it finds a difference. Returns the folders.
 */
function hunt(seed: string): string[] {
  const folders: string[] = [];
  for (let caseNumber = 0; caseNumber < Number(values.cases); caseNumber++) {
    const out = path.join(values.out, `${values.release}-${seed}`, `case-${caseNumber}`);
    fs.rmSync(out, { recursive: true, force: true });
    const args = ['scripts/repro.sh', values.release, 'rootless', 'fuzz', '--seed', seed, '--case'];
    const minimize = ['--minimize', 'true', '--minimize-timeout', '300', '--out', out];
    const run = spawnSync('bash', [...args, String(caseNumber), ...minimize], {
      cwd: repoRoot,
      env: { ...process.env, RETRIES: values.retries },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    folders.push(out);
    const report = readFuzzReports([out]).reports[0];
    process.stderr.write(
      `seed ${seed} case ${caseNumber}: ${report?.cases[0]?.outcome ?? `exit ${run.status}`}\n`,
    );
    if (report?.cases.some((c) => c.differenceClass === 'lost-layer')) break;
  }
  return folders;
}

/** The cases of one seed's folders as one report: in case order, as one run would have made them. */
function seedReport(folders: string[]): FuzzReport | undefined {
  const reports = readFuzzReports(folders).reports;
  const first = reports[0];
  if (!first) return undefined;
  return { ...first, cases: reports.flatMap((r) => r.cases).sort((a, b) => a.caseNumber - b.caseNumber) };
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

// With --reports, each folder is one seed's (a whole run, or the case folders of one hunt).
const seedFolders = values.reports
  ? positionals.map((folder) => [folder])
  : values.seeds.split(',').map(hunt);
const reports = seedFolders.flatMap((folders) => seedReport(folders) ?? []);
const rows = reports.map(row).sort((a, b) => a.seed - b.seed);
const version = reports[0]?.run.buildkitVersion ?? values.release;
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
