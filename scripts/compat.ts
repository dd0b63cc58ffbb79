/**
 * The compatibility table: for each BuildKit release, build it on the test bed and run the check on it,
 * rootful and rootless, with keep-going, and print one Markdown table. A script that prints, not a test.
 *
 *   npm run compat -- [--retries 40] [--variants rootful,rootless] [VERSION...]
 *   npm run compat -- --makers [--importers v0.9.0,latest] [--retries 40] [VERSION...]
 *
 * Without versions: the last patch of every minor from v0.7 to the newest (`scripts/testbed.sh releases`).
 * A release that cannot be built here is a row that says why.
 *
 * With --makers, the prediction against the measurement: for a cache made by each release (default: the
 * test bed's ladder), whether its records share a result, and the verdict of importing it into each importer
 * (rootful).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildMatrix, type MatrixRow } from '../src/report/matrix.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface CompatRow {
  release: string;
  variant: string;
  verdict: string;
  lostOfAttempts: string;
  rate: string;
  note: string;
}

const { values, positionals } = parseArgs({
  options: {
    retries: { type: 'string', default: '40' },
    variants: { type: 'string', default: 'rootful,rootless' },
    makers: { type: 'boolean', default: false },
    importers: { type: 'string', default: 'v0.9.0,latest' },
  },
  allowPositionals: true,
});
const variants = (values.variants ?? '').split(',').filter((v) => v === 'rootful' || v === 'rootless');

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function releases(): string[] {
  if (positionals.length > 0) return positionals;
  const found = run('bash', ['scripts/testbed.sh', 'releases']);
  if (found.status !== 0) throw new Error(`scripts/testbed.sh releases failed:\n${found.stderr}`);
  return found.stdout.trim().split('\n');
}

/** The last lines of a failed build that say why, without Go's download chatter. */
function why(output: string): string {
  const lines = output
    .split('\n')
    .filter(
      (line) => line.trim() !== '' && !line.startsWith('go: downloading') && !line.startsWith('[testbed] '),
    );
  return lines.slice(-2).join(' / ').replace(/\|/g, '\\|').slice(0, 300);
}

function rowFrom(release: string, variant: string, row: MatrixRow): CompatRow {
  const verdict = { reproduced: 'lost a layer', clean: 'clean' }[row.verdict as string] ?? row.verdict;
  return {
    release,
    variant,
    verdict,
    lostOfAttempts: `${row.lost}/${row.attempts}`,
    rate: row.rateText,
    note: row.note ?? '',
  };
}

/** `scripts/testbed.sh env` for these versions, as a map. */
function bedEnv(versions: string[]): Record<string, string> {
  const out = run('bash', ['scripts/testbed.sh', 'env'], { TESTBED_BUILDKIT_VERSIONS: versions.join(' ') });
  return Object.fromEntries(
    out.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

interface Report {
  verdict: { kind: string; cause?: string };
  cacheSharedResults?: { steps: string[] }[];
}

function makersTable(): string {
  const makers =
    positionals.length > 0 ? positionals : (bedEnv([])['TESTBED_BUILDKIT_VERSIONS'] ?? '').split(' ');
  const importerWords = (values.importers ?? '').split(',').filter((v) => v !== '');
  const all = [...makers, ...importerWords];
  const bed = run('bash', ['scripts/testbed.sh', 'up'], { TESTBED_BUILDKIT_VERSIONS: all.join(' ') });
  if (bed.status !== 0) throw new Error(`scripts/testbed.sh up failed:\n${bed.stderr}`);
  const env = bedEnv(all);
  const resolved = (env['TESTBED_BUILDKIT_VERSIONS'] ?? '').split(' ');
  const importers = resolved.slice(makers.length);
  const lines = [
    `| Cache made by | Records that share a result | ${importers.map((i) => `Imported by ${i}`).join(' | ')} |`,
    `| --- | --- |${' --- |'.repeat(importers.length)}`,
  ];
  for (const maker of resolved.slice(0, makers.length)) {
    let shared = '—';
    const cells = importers.map((importer) => {
      const check = run('bash', [
        'scripts/repro.sh',
        importer,
        'rootful',
        '--cache-buildkit-image',
        `${env['TESTBED_IMAGE_NAMESPACE']}/buildkit:${maker}`,
        '--keep-going',
        'true',
        '--retries',
        values.retries ?? '40',
      ]);
      const reportFile = /^report: (.+)$/m.exec(check.stdout)?.[1];
      if (!reportFile) return `no report (exit ${check.status})`;
      const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
      const sets = report.cacheSharedResults;
      if (sets)
        shared =
          sets.length === 0
            ? 'none'
            : sets.map((set) => set.steps.map((st) => `\`${st}\``).join(' + ')).join('; ');
      const [row] = buildMatrix([{ source: reportFile, report }]).rows;
      process.stderr.write(`${maker} → ${importer}: ${check.stdout.trim().split('\n')[0] ?? ''}\n`);
      if (!row) return 'unreadable';
      const verdict = { reproduced: 'lost a layer', clean: 'clean' }[row.verdict as string] ?? row.verdict;
      return `${verdict}, ${row.lost}/${row.attempts}, ${row.rateText}${row.note ? ` (${row.note.replace(/\|/g, '\\|')})` : ''}`;
    });
    lines.push(`| ${maker} | ${shared} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

if (values.makers) {
  process.stdout.write(`${makersTable()}\n`);
  process.exit(0);
}

const started = Date.now();
const rows: CompatRow[] = [];
const buildSeconds: string[] = [];
for (const release of releases()) {
  const buildStarted = Date.now();
  const bed = run('bash', ['scripts/testbed.sh', 'up'], { TESTBED_BUILDKIT_VERSIONS: release });
  buildSeconds.push(`${release} ${Math.round((Date.now() - buildStarted) / 1000)} s`);
  if (bed.status !== 0) {
    const note = `cannot be built here: ${why(bed.stderr)}`;
    for (const variant of variants)
      rows.push({ release, variant, verdict: 'not built', lostOfAttempts: '—', rate: '—', note });
    process.stderr.write(`${release}: ${note}\n`);
    continue;
  }
  for (const variant of variants) {
    const check = run(
      'bash',
      ['scripts/repro.sh', release, variant, '--keep-going', 'true', '--retries', values.retries ?? '40'],
      { TESTBED_BUILDKIT_VERSIONS: release },
    );
    const reportFile = /^report: (.+)$/m.exec(check.stdout)?.[1];
    if (!reportFile || !fs.existsSync(reportFile)) {
      const note = `no report: exit ${check.status}: ${why(check.stdout + check.stderr)}`;
      rows.push({ release, variant, verdict: 'error', lostOfAttempts: '—', rate: '—', note });
      continue;
    }
    const report: unknown = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    const [row] = buildMatrix([{ source: reportFile, report }]).rows;
    if (row) rows.push(rowFrom(release, variant, row));
    process.stderr.write(`${release} ${variant}: ${check.stdout.trim().split('\n')[0] ?? ''}\n`);
  }
}

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
const lines = [
  `BuildKit compatibility, ${new Date().toISOString().slice(0, 10)}, on ${machine}: ${values.retries} attempts`,
  `each with keep-going, bundled reproduction, registry cache (mode=max), ${minutes} min in all.`,
  '',
  '| Release | Variant | Verdict | Lost/attempts | Loss rate | Note |',
  '| --- | --- | --- | ---: | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.release} | ${r.variant} | ${r.verdict} | ${r.lostOfAttempts} | ${r.rate} | ${r.note.replace(/\|/g, '\\|')} |`,
  ),
  '',
  `Test bed time per release (build when cold, else a check): ${buildSeconds.join(', ')}.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
