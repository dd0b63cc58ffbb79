/**
 * The compatibility table: for each BuildKit release, build it on the test bed and run the check on it,
 * rootful and rootless, with keep-going, and print one Markdown table. A script that prints, not a test.
 *
 *   npm run compat -- [--retries 40] [--variants rootful,rootless] [--backends registry,local,inline,s3,gha,azblob] [VERSION...]
 *   npm run compat -- --makers [--importers v0.9.0,latest] [--retries 40] [VERSION...]
 *
 * Without versions: the last patch of every minor from v0.7 to the newest (`scripts/testbed.sh releases`).
 * A release that cannot be built here is a row that says why; a backend the release does not have, too.
 *
 * With --makers, the prediction against the measurement: for a cache made by each release (default: the
 * test bed's ladder), whether its records share a result, and the verdict of importing it into each importer
 * (rootful).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import * as semver from 'semver';
import { buildMatrix, type MatrixRow } from '../src/report/matrix.js';
import { CLASS_LABELS, verdictWords } from '../src/report/verdict-labels.js';
import { ATTEMPT_CLASSES, type DifferenceClass } from '../src/model/classes.js';
import { type CacheType, CACHE_TYPES, GHA_API_SINCE, releaseProblem } from '../src/backends/backends.js';
import { AzuriteServer } from './lib/azurite-server.js';
import { S3Server } from './lib/s3-server.js';
import { testBed } from './lib/testbed.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface CompatRow {
  release: string;
  variant: string;
  backend: string;
  verdict: string;
  lostOfAttempts: string;
  rate: string;
  /** "lost 5 · content 0 · config 35 · intact 0" */
  classes: string;
  /** The median attempt's duration, with its reset: the backends' cost side by side. */
  attemptMs: string;
  note: string;
}

/** The median of the attempts' durations (their resets included), in ms. */
function medianAttemptMs(report: Report): string {
  const durations = (report.attempts ?? []).map((r) => r.durationMs + r.resetMs).sort((a, b) => a - b);
  if (durations.length === 0) return '—';
  const middle = Math.floor(durations.length / 2);
  const median =
    durations.length % 2 ? durations[middle] : ((durations[middle - 1] ?? 0) + (durations[middle] ?? 0)) / 2;
  return String(Math.round(median ?? 0));
}

const { values, positionals } = parseArgs({
  options: {
    retries: { type: 'string', default: '40' },
    variants: { type: 'string', default: 'rootful,rootless' },
    makers: { type: 'boolean', default: false },
    importers: { type: 'string', default: 'v0.9.0,latest' },
    backends: { type: 'string', default: 'registry' },
  },
  allowPositionals: true,
});
const variants = (values.variants ?? '').split(',').filter((v) => v === 'rootful' || v === 'rootless');
const backends = (values.backends ?? '')
  .split(',')
  .filter((b): b is CacheType => (CACHE_TYPES as string[]).includes(b));

/**
 * A backend's server on the bed, started the first time a run needs it and stopped at the end: moto for
 * s3, the gha emulator as a process of its own (this script runs the CLI synchronously, and a server in
 * its own event loop could not answer meanwhile).
 */
let s3: S3Server | undefined;
let gha: { child: ChildProcess; variables: Record<string, string> } | undefined;
let azurite: AzuriteServer | undefined;
async function backendFlags(backend: CacheType): Promise<string[]> {
  const inputs =
    backend === 's3'
      ? (s3 ??= await S3Server.start()).inputs()
      : backend === 'azblob'
        ? (azurite ??= await AzuriteServer.start()).inputs()
        : {};
  return Object.entries(inputs).flatMap(([name, value]) => [`--${name}`, value]);
}

async function startGhaProcess(): Promise<NonNullable<typeof gha>> {
  const child = spawn('node', ['--import', 'tsx', 'scripts/gha-cache-server.ts'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(readline.createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, variables: JSON.parse(line) as Record<string, string> };
}

/** The runner's variables a gha run reads: API v2 from v0.20, as github.com runs it, else v1. */
async function backendEnvironment(backend: CacheType, release: string): Promise<Record<string, string>> {
  if (backend !== 'gha') return {};
  gha ??= await startGhaProcess();
  const { ACTIONS_RUNTIME_TOKEN = '', ACTIONS_CACHE_URL = '', ACTIONS_RESULTS_URL = '' } = gha.variables;
  return semver.gte(release, GHA_API_SINCE[2])
    ? { ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2: 'true' }
    : { ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_URL };
}

function stopBackendServers(): void {
  s3?.stop();
  azurite?.stop();
  gha?.child.kill();
}

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

/** "lost a layer", "config differs", "clean"… */
function verdictWord(row: MatrixRow): string {
  return verdictWords(row.verdict);
}

/** "lost 5 · content 0 · config 35 · intact 0", — for a class the run could not see. */
function classesText(row: MatrixRow): string {
  if (!row.classes) return '—';
  const counts = row.classes;
  return ATTEMPT_CLASSES.map(
    (c) => `${CLASS_LABELS[c].short} ${row.unjudged[c as DifferenceClass] !== undefined ? '—' : counts[c]}`,
  ).join(' · ');
}

interface Report {
  cacheSharedResults?: { steps: string[] }[];
  attempts?: { durationMs: number; resetMs: number }[];
}

/** One run of the check through scripts/repro.sh (keep-going), read back from its report. */
function check(
  release: string,
  variant: string,
  flags: string[] = [],
  env: Record<string, string> = {},
): { row: MatrixRow; report: Report } | { problem: string } {
  const flagsAll = ['--keep-going', 'true', '--retries', values.retries ?? '40', ...flags];
  const result = run('bash', ['scripts/repro.sh', release, variant, ...flagsAll], env);
  process.stderr.write(
    `${release} ${variant} ${flags.slice(0, 2).join(' ')}: ${result.stdout.trim().split('\n')[0] ?? ''}\n`,
  );
  const reportFile = /^report: (.+)$/m.exec(result.stdout)?.[1];
  if (!reportFile || !fs.existsSync(reportFile))
    return { problem: `no report: exit ${result.status}: ${why(result.stdout + result.stderr)}` };
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
  const [row] = buildMatrix([{ source: reportFile, report }]).rows;
  return row ? { row, report } : { problem: 'the report gave no row' };
}

function makersTable(): string {
  const makers = positionals.length > 0 ? positionals : testBed().versions;
  const importerWords = (values.importers ?? '').split(',').filter((v) => v !== '');
  const all = [...makers, ...importerWords];
  const up = run('bash', ['scripts/testbed.sh', 'up'], { TESTBED_BUILDKIT_VERSIONS: all.join(' ') });
  if (up.status !== 0) throw new Error(`scripts/testbed.sh up failed:\n${up.stderr}`);
  const bed = testBed(all);
  const importers = bed.versions.slice(makers.length);
  const lines = [
    `| Cache made by | Records that share a result | ${importers.map((i) => `Imported by ${i}`).join(' | ')} |`,
    `| --- | --- |${' --- |'.repeat(importers.length)}`,
  ];
  for (const maker of bed.versions.slice(0, makers.length)) {
    let shared = '—';
    const cells = importers.map((importer) => {
      const found = check(importer, 'rootful', [
        '--cache-buildkit-image',
        bed.buildkitImage(maker, 'rootful'),
      ]);
      if ('problem' in found) return found.problem;
      const sets = found.report.cacheSharedResults;
      if (sets)
        shared =
          sets.length === 0
            ? 'none'
            : sets.map((set) => set.steps.map((st) => `\`${st}\``).join(' + ')).join('; ');
      const { row } = found;
      return `${verdictWord(row)}, ${row.lost}/${row.attempts}, ${row.rateText}; ${classesText(row)}${row.note ? ` (${row.note.replace(/\|/g, '\\|')})` : ''}`;
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
      for (const backend of backends) rows.push(emptyRow(release, variant, backend, 'not built', note));
    process.stderr.write(`${release}: ${note}\n`);
    continue;
  }
  for (const variant of variants) {
    for (const backend of backends) {
      const unsupported = releaseProblem(backend, release);
      if (unsupported) {
        rows.push(emptyRow(release, variant, backend, 'not supported', unsupported));
        continue;
      }
      const found = check(
        release,
        variant,
        ['--cache-type', backend, ...(await backendFlags(backend))],
        await backendEnvironment(backend, release),
      );
      if ('problem' in found) {
        rows.push(emptyRow(release, variant, backend, 'error', found.problem));
        continue;
      }
      const { row, report } = found;
      rows.push({
        release,
        variant,
        backend,
        verdict: verdictWord(row),
        lostOfAttempts: `${row.lost}/${row.attempts}`,
        rate: row.rateText,
        classes: classesText(row),
        attemptMs: medianAttemptMs(report),
        note: row.note ?? '',
      });
    }
  }
}

stopBackendServers();

function emptyRow(
  release: string,
  variant: string,
  backend: string,
  verdict: string,
  note: string,
): CompatRow {
  return {
    release,
    variant,
    backend,
    verdict,
    lostOfAttempts: '—',
    rate: '—',
    classes: '—',
    attemptMs: '—',
    note,
  };
}

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
const lines = [
  `BuildKit compatibility, ${new Date().toISOString().slice(0, 10)}, on ${machine}: ${values.retries} attempts`,
  `each with keep-going, bundled reproduction, ${backends.join(', ')} cache (the backend's default mode), ${minutes} min in all.`,
  '',
  '| Release | Variant | Backend | Verdict | Lost/attempts | Loss rate | Attempts by class | Median attempt ms | Note |',
  '| --- | --- | --- | --- | ---: | --- | --- | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.release} | ${r.variant} | ${r.backend} | ${r.verdict} | ${r.lostOfAttempts} | ${r.rate} | ${r.classes} | ${r.attemptMs} | ${r.note.replace(/\|/g, '\\|')} |`,
  ),
  '',
  `Test bed time per release (build when cold, else a check): ${buildSeconds.join(', ')}.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
