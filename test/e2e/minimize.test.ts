import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { leftovers } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { docker, runIdOf } from '../support/run-watch.js';
import { repoRoot } from '../../scripts/lib/testbed.js';

interface MinimizationReport {
  kind: string;
  reason?: string;
  cause?: string;
  proven?: boolean;
  files?: string[];
  instructionsBefore?: number;
  instructionsAfter?: number;
  confirming?: { found: number; attempts: number };
  target?: string;
  candidates?: { judgement: string }[];
}

// The minimizer through the bundled action, against real BuildKit on the test bed.
describe('minimize, end to end on the test bed', () => {
  const suite = BedSuite.open();

  function minimization(run: ActionRun): MinimizationReport {
    const report = JSON.parse(fs.readFileSync(run.outputs['report'] ?? '', 'utf8')) as {
      minimization?: MinimizationReport;
    };
    assert.ok(report.minimization, 'the report holds the minimization');
    return report.minimization;
  }

  function assertNothingLeft(run: ActionRun): void {
    assert.equal(run.post.exitCode, 0, run.post.stdout + run.post.stderr);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId'] ?? ''}`), []);
  }

  it('v0.9.0: a padded Dockerfile of 12 instructions and 5 files shrinks to at most 4 that still lose a layer', async () => {
    // The context must lie in the workspace, as on a runner.
    const context = path.join(suite.dirs.workspace, 'padded');
    fs.cpSync(path.join(repoRoot, 'fixtures', 'minimize', 'padded'), context, { recursive: true });
    const original = fs.readFileSync(path.join(context, 'Dockerfile'), 'utf8').split('\n');
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootful'),
      context: 'padded',
      'expect-paths': 'srv/a.txt,srv/b.txt,srv/c.txt',
      // Enough attempts that the run, and a confirming run at the rates seen here (12–20%), show a loss but
      // once in millions, and a stricter risk per candidate than the default, so that the search misses seldom.
      retries: String(ATTEMPTS_TO_A_LOSS),
      minimize: 'true',
      'minimize-confidence': '0.999',
    });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    const m = minimization(run);
    assert.equal(m.kind, 'minimized', run.main.stdout);
    assert.equal(m.proven, true);

    const file = run.outputs['minimized-dockerfile'] ?? '';
    assert.ok(fs.existsSync(file), `minimized-dockerfile names a file: ${file}`);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    // Every instruction of the fixture is one line: the minimized one is a few of those lines, FROM first.
    assert.ok(lines.length <= 4, lines.join('\n'));
    assert.equal(lines[0], 'FROM alpine:latest');
    for (const line of lines) assert.ok(original.includes(line), `not a line of the original: ${line}`);
    assert.equal(m.instructionsBefore, 12);
    assert.equal(m.instructionsAfter, lines.length);

    // Its context: only files the original had, none of those no instruction reads.
    const kept = fs.readdirSync(path.join(path.dirname(file), 'context'), { recursive: true }).map(String);
    assert.deepEqual(kept.sort(), [...(m.files ?? [])].sort());
    assert.ok(kept.length >= 1 && kept.every((f) => ['a.txt', 'b.txt', 'c.txt'].includes(f)), kept.join());

    // The confirming run of the minimized Dockerfile lost a layer, and the summary shows all of it.
    assert.equal(m.target, 'lost-layer');
    assert.ok((m.confirming?.found ?? 0) >= 1, JSON.stringify(m.confirming));
    assert.ok(run.summary.includes(`\`\`\`dockerfile\n${lines.join('\n')}\n\`\`\``), run.summary);
    assert.match(run.summary, new RegExp(`12 → \\*\\*${lines.length}\\*\\* instructions, 5 → `));
    assert.match(
      run.main.stdout,
      /Minimized \(lost a layer\): 12 → \d instructions, 5 → \d context files, 1-minimal/,
    );
    // Candidates are judged, some shown invalid (nothing makes a layer, a file a COPY needs is gone).
    assert.ok(m.candidates?.some((c) => c.judgement === 'invalid'));
    // The candidates' folders are gone; the result stays.
    assert.equal(fs.existsSync(path.join(path.dirname(path.dirname(file)), 'minimize')), false);
    assertNothingLeft(run);
  });

  it('v0.9.1: the history difference is minimized as its own class, and its confirming run shows it', async () => {
    const run = await suite.act({ ...suite.inputs('v0.9.1', 'rootful'), retries: '12', minimize: 'true' });
    assert.equal(run.outputs['verdict'], 'config-differs', run.main.stdout);
    assert.equal(run.main.exitCode, 1, 'the default fail-on includes config-differs');
    const m = minimization(run);
    assert.equal(m.kind, 'minimized', run.main.stdout);
    assert.equal(m.target, 'config-differs');
    assert.equal(m.proven, true);
    // An empty RUN before a COPY is what v0.9.x marks on the wrong instruction.
    const lines = fs
      .readFileSync(run.outputs['minimized-dockerfile'] ?? '', 'utf8')
      .trimEnd()
      .split('\n');
    assert.ok(lines.length <= 3, lines.join('\n'));
    assert.equal(lines[0], 'FROM alpine:latest');
    assert.equal(m.confirming?.found, 12, 'every attempt of the confirming run shows it');
    assert.match(run.main.stdout, /Minimized \(config differs\): 4 → [23] instructions/);
    assertNothingLeft(run);
  });

  it('v0.10.6: minimize on a clean run does nothing, and says so', async () => {
    const run = await suite.act({ ...suite.inputs('v0.10.6', 'rootful'), retries: '20', minimize: 'true' });
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.equal(run.outputs['verdict'], 'clean');
    assert.equal(run.outputs['minimized-dockerfile'], '');
    const m = minimization(run);
    assert.equal(m.kind, 'skipped');
    const reason = 'the images equal the reference (clean): nothing to minimize';
    assert.equal(m.reason, reason);
    assert.ok(run.summary.includes(`\nNothing to minimize: ${reason}.\n`), run.summary);
    assert.ok(run.main.stdout.includes(`\nMinimize: ${reason}\n`), run.main.stdout);
    assert.doesNotMatch(run.main.stdout, /candidate 1 /);
    assertNothingLeft(run);
  });

  it('v0.9.0: the cache registry killed during the search: the search ends in an error, the step fails', async () => {
    let killed = '';
    const run = await suite.act(
      {
        ...suite.inputs('v0.9.0', 'rootful'),
        retries: String(ATTEMPTS_TO_A_LOSS),
        minimize: 'true',
        // Only the search can fail the step.
        'fail-on': 'none',
      },
      {
        onMainStarted: (child) =>
          void runIdOf(child, /^candidate 1 /m).then((runId) => {
            killed = `lost-layer-${runId}-cache`;
            docker('kill', killed);
          }),
      },
    );
    assert.ok(killed, 'the search reached its first candidate');
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    const m = minimization(run);
    assert.equal(m.kind, 'error', run.main.stdout);
    assert.match(m.cause ?? '', /is not running|cache import failed|not used|exited/);
    assert.equal(run.outputs['minimized-dockerfile'], '');
    assert.equal(run.main.exitCode, 1);
    assert.match(run.main.stdout, /::error::Minimize: no result: an infrastructure step failed/);
    assert.match(run.summary, /⚠️ The search stopped after \d+ candidates/);
    assertNothingLeft(run);
  });
});
