import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { assertNothingLeft } from '../support/leftovers.js';
import { bridgeGateway } from '../support/bridge-gateway.js';
import { verdictWithoutLoss } from '../support/ladder.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { plainTarWitness } from '../support/plain-tar.js';
import { docker } from '../support/run-watch.js';
import { repoRoot, testBed } from '../../scripts/lib/testbed.js';

/** The releases of the bed's ladder after the fix (v0.9.1, v0.10.6, the newest…): none may lose a layer. */
const fixedReleases = testBed().versions.filter((v) => v !== 'v0.9.0');
const ATTEMPTS = String(ATTEMPTS_TO_A_LOSS);

// The bundled dist/index.js, run as the runner runs it, against real BuildKit on the test bed.
describe('the action, end to end on the test bed', () => {
  const catches: string[] = [];
  /** Reports by version, for the bisect table. */
  const reports = new Map<string, string>();
  const suite = BedSuite.open(() => {
    if (catches.length > 0) console.log(`v0.9.0 caught at: ${catches.join(', ')}`);
  });

  function report(run: ActionRun) {
    const file = run.outputs['report'];
    assert.ok(file && fs.existsSync(file), `report output names a file: ${file}`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as {
      verdict: { kind: string };
      buildkitVersion: string;
      attempts: { attempt: number; freshState: boolean; daemon?: string; outcome: { kind: string } }[];
    };
  }

  for (const variant of ['rootful', 'rootless'] as const) {
    it(`v0.9.0 ${variant}: reproduced, stopping at the first loss, the step fails, nothing is left`, async () => {
      const run = await suite.act({ ...suite.inputs('v0.9.0', variant), retries: ATTEMPTS });
      assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
      assert.equal(run.outputs['verdict'], 'reproduced');
      assert.equal(run.main.exitCode, 1, 'fail-on (lost-layer) fails the step');
      const failed = Number(run.outputs['failed-attempt']);
      assert.ok(failed >= 1 && failed <= ATTEMPTS_TO_A_LOSS);
      assert.equal(run.outputs['attempts'], String(failed), 'stops at the first loss');
      assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
      assert.equal(run.outputs['buildkit-version'], 'v0.9.0');
      assert.equal(run.outputs['config-compared'], 'true', 'the reference and the attempts: one release');
      const attempts = report(run).attempts;
      assert.equal(attempts.length, failed);
      // Before the loss, whole images whose history v0.9.0 mislabels (or, rarely, labels right).
      for (const attempt of attempts.slice(0, -1))
        assert.ok(['intact', 'config-differs'].includes(attempt.outcome.kind), attempt.outcome.kind);
      assert.equal(attempts[attempts.length - 1]?.outcome.kind, 'lost-layer');
      // The broken output, read by a reader that is not ours: plain tar says the COPY layer is not in it.
      const output = (attempts[attempts.length - 1]?.outcome as { output?: string }).output ?? '';
      const witness = plainTarWitness(output, path.join(path.dirname(output), 'reference.oci.tar'));
      assert.deepEqual(witness.referenceLayersWith('repro.txt'), [2]);
      assert.deepEqual(
        witness.attemptLayersWith('repro.txt'),
        [],
        'no layer of the broken image holds repro.txt',
      );
      assert.equal(witness.attemptLayers, witness.referenceLayers - 1);
      // The lost layer is named: the reference build's COPY layer, and the path it adds.
      assert.match(
        run.summary,
        new RegExp(`Layer lost: attempt ${failed}: layer 2 \\(COPY repro.txt /\\) gone; repro.txt missing`),
      );
      const [lostLayer] = JSON.parse(run.outputs['lost-layers'] ?? '') as {
        createdBy: string;
        files: number;
      }[];
      assert.deepEqual([lostLayer?.createdBy, lostLayer?.files], ['COPY repro.txt /', 1]);
      assert.equal(run.outputs['loss-rate'], '', 'no rate from a run that stopped at its first loss');
      assert.match(run.main.stdout, /::error::Layer lost/);
      // The cause, read from the registry cache v0.9.0 made.
      const shared = JSON.parse(run.outputs['cache-shared-results'] ?? '') as { steps: string[] }[];
      assert.deepEqual(
        shared.map((set) => set.steps),
        [['COPY repro.txt /', 'RUN echo 2']],
      );
      assert.match(run.summary, /### Why\n\nRecords of the cache share one result/);
      assert.match(run.summary, /cache made by `[^`]+:v0\.9\.0[^`]*` \(v0\.9\.0\)/);
      catches.push(`${variant} attempt ${failed}`);
      assertNothingLeft(run);
    });

    for (const version of fixedReleases) {
      it(`${version} ${variant}: no layer lost in 40 attempts, with the bound; ${verdictWithoutLoss(version)}`, async () => {
        const run = await suite.act({ ...suite.inputs(version, variant), retries: '40' });
        const expected = verdictWithoutLoss(version);
        assert.equal(run.outputs['reproduced'], 'false');
        assert.equal(run.outputs['verdict'], expected, run.main.stdout);
        assert.equal(run.outputs['attempts'], '40', 'a config difference does not stop the attempts');
        assert.equal(run.outputs['failed-attempt'], '');
        assert.equal(run.outputs['buildkit-version'], version);
        assert.equal(run.outputs['config-compared'], 'true');
        const attempts = report(run).attempts;
        if (expected === 'clean') {
          assert.equal(run.main.exitCode, 0, run.main.stdout);
          assert.equal(attempts.filter((a) => a.outcome.kind === 'intact').length, 40);
          assert.match(run.summary, /No difference in 40 attempts: every image equals the reference/);
          assert.equal(run.outputs['first-difference'], '');
        } else {
          // Every image from the cache has its history's empty_layer marks on other instructions: reported
          // as config-differs, which the default fail-on fails, naming each entry.
          assert.equal(run.main.exitCode, 1, 'the default fail-on includes config-differs');
          assert.deepEqual(JSON.parse(run.outputs['classes'] ?? ''), {
            'lost-layer': 0,
            'content-differs': 0,
            'config-differs': 40,
            intact: 0,
          });
          const first = JSON.parse(run.outputs['first-difference'] ?? '') as {
            class: string;
            config: { field: string; reference: string; attempt: string }[];
          };
          assert.equal(first.class, 'config-differs');
          assert.deepEqual(
            first.config.map((c) => [c.field, c.reference, c.attempt]),
            [
              ['history 2 empty_layer (RUN echo 1)', 'true', 'false'],
              ['history 3 empty_layer (COPY repro.txt /)', 'false', 'true'],
            ],
          );
          assert.match(run.summary, /### Config differs from the reference/);
          assert.match(
            run.summary,
            /\| `history 3 empty_layer \(COPY repro.txt \/\)` \| `false` \| `true` \|/,
          );
          assert.match(run.main.stdout, /::error::Config differs from the reference: attempt 1: /);
        }
        assert.ok(Math.abs(Number(run.outputs['loss-rate-upper-bound']) - 0.0722) < 0.0005);
        assert.match(
          run.summary,
          /0 of 40 attempts lost a layer: the loss rate is below 7\.2% at 95% confidence/,
        );
        // The exporter's half of the bug lasted until v0.10: v0.9.1 still makes a cache with a shared result.
        const shared = JSON.parse(run.outputs['cache-shared-results'] ?? '') as unknown[];
        assert.equal(
          shared.length,
          semver.lt(version, '0.10.0') ? 1 : 0,
          run.outputs['cache-shared-results'],
        );
        if (shared.length === 0) assert.match(run.summary, /No two records of the cache share a result/);
        if (variant === 'rootful') reports.set(version, run.outputs['report'] ?? '');
        assertNothingLeft(run);
      });
    }
  }

  for (const version of testBed().versions) {
    it(`cache-reset-mode restart on ${version}: a new daemon at every reset, the verdicts of prune`, async () => {
      const loses = version === 'v0.9.0';
      const run = await suite.act({
        ...suite.inputs(version, 'rootful'),
        'cache-reset-mode': 'restart',
        retries: loses ? ATTEMPTS : '12',
        'fail-on': 'none',
      });
      assert.equal(
        run.outputs['verdict'],
        loses ? 'reproduced' : verdictWithoutLoss(version),
        run.main.stdout,
      );
      const attempts = report(run).attempts;
      // Every fresh state is a daemon of its own (the seed's reset), the attempts between share it.
      const daemons = attempts.map((a) => a.daemon ?? '');
      assert.ok(
        daemons.every((d) => d !== ''),
        JSON.stringify(daemons),
      );
      attempts.forEach((a, i) => {
        if (i === 0) return;
        assert.equal(
          daemons[i] !== daemons[i - 1],
          a.freshState,
          `attempt ${a.attempt}: ${daemons.join(',')}`,
        );
      });
      assert.equal(new Set(daemons).size, attempts.filter((a) => a.freshState).length);
      if (!loses) assert.equal(new Set(daemons).size, 3, '12 attempts, a reset every 4');
      assertNothingLeft(run);
    });
  }

  it('the default configuration, a pull-through mirror (mirror-upstream), against an upstream registry of our own', async () => {
    // On a runner the mirror pulls through from Docker Hub. Here the upstream is a registry container
    // published on the Docker bridge's gateway, which the mirror container reaches over a private network;
    // it is filled through 127.0.0.1, where this Docker engine pushes over plain http.
    const gateway = bridgeGateway();
    const upstream = `lost-layer-test-upstream-${process.pid}`;
    docker(
      'run',
      '-d',
      '--name',
      upstream,
      '--label',
      'dev.lost-layer.test=upstream',
      '--mount',
      'type=tmpfs,destination=/var/lib/registry',
      '-p',
      '127.0.0.1::5000',
      '-p',
      `${gateway}::5000`,
      suite.bed.registryImage,
    );
    try {
      const ports = docker('port', upstream, '5000').trim().split('\n');
      const portOn = (host: string) =>
        ports
          .find((p) => p.startsWith(`${host}:`))
          ?.split(':')
          .pop() ?? '';
      const pushed = `127.0.0.1:${portOn('127.0.0.1')}/library/alpine:latest`;
      docker('tag', suite.bed.baseImage, pushed);
      try {
        await retry(() => docker('push', pushed));
      } finally {
        docker('rmi', pushed);
      }
      const run = await suite.act({
        ...suite.inputs('v0.10.6', 'rootful'),
        'mirror-upstream': `http://${gateway}:${portOn(gateway)}`,
        'mirror-images': '',
        retries: '12',
      });
      assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
      assert.doesNotMatch(run.main.stdout, /mirror serves/, 'the mirror was not filled by hand');
      // The base image came through the mirror from our upstream: the mirror asked it for the manifest.
      assert.match(docker('logs', upstream), /GET \/v2\/library\/alpine\/manifests\/latest/);
      assertNothingLeft(run);
    } finally {
      docker('rm', '-f', '-v', upstream);
    }
  });

  it('the newest release with the buildctl pinned for moby/buildkit:latest (v0.9.1): clean', async () => {
    // The regression workflow's configuration: an old client reads a new daemon's progress.
    const newest = fixedReleases[fixedReleases.length - 1] ?? '';
    const run = await suite.act({
      ...suite.inputs(newest, 'rootful'),
      'buildctl-version': 'v0.9.1',
      retries: '12',
    });
    assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
    assert.equal(run.outputs['buildkit-version'], newest);
    assert.match(run.main.stdout, /buildctl v0\.9\.1: /);
    assertNothingLeft(run);
  });

  it(`v0.9.0 with keep-going over ${ATTEMPTS} attempts: a loss rate above 0, the COPY layer named in the summary`, async () => {
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootful'),
      retries: ATTEMPTS,
      'keep-going': 'true',
    });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    assert.equal(run.outputs['attempts'], ATTEMPTS, 'kept going through every attempt');
    const lost = Number(run.outputs['lost-count']);
    assert.ok(lost >= 1 && lost <= ATTEMPTS_TO_A_LOSS);
    assert.equal(Number(run.outputs['loss-rate']), lost / ATTEMPTS_TO_A_LOSS);
    const [low, high] = JSON.parse(run.outputs['loss-rate-interval'] ?? '') as number[];
    assert.ok((low ?? 0) > 0 && (high ?? 0) > (low ?? 0) && (high ?? 1) < 1);
    assert.match(run.summary, new RegExp(`${lost} of ${ATTEMPTS} attempts lost a layer: `));
    assert.match(
      run.summary,
      /- Attempt \d+: layer 2 `COPY repro.txt \/` \(`[0-9a-f]{12}`, \d+ B, 1 file\) gone; `repro.txt` missing/,
    );
    assert.match(run.summary, /\| 2 \| `COPY repro.txt \/` \| .* \| \*\*missing\*\* \|/);
    catches.push(`keep-going ${lost}/${ATTEMPTS}`);
    reports.set('v0.9.0', run.outputs['report'] ?? '');
    assertNothingLeft(run);
  });

  it('the bisect table of the ladder gives each class its boundary, and lists a missing job', async () => {
    assert.equal(
      reports.size,
      fixedReleases.length + 1,
      'the v0.9.0 keep-going and the rootful runs left their reports',
    );
    const run = await suite.act(
      { reports: [...reports.values()].join('\n'), versions: 'v0.8.3, v0.9.0, v0.9.1' },
      { actionDir: path.join(repoRoot, 'summarize') },
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.equal(run.outputs['last-lost'], 'v0.9.0');
    assert.equal(run.outputs['first-clean'], 'v0.9.1');
    assert.match(run.summary, /^- Lost a layer: last v0\.9\.0; first without: v0\.9\.1\.$/m);
    assert.match(run.summary, /^- Content differs: no release\./m);
    // v0.9.x's history shift, measured by the runs themselves: it ends where v0.10 keeps empty layers.
    assert.match(run.summary, /^- Config differs: last v0\.9\.1; first without: v0\.10\.6\.$/m);
    assert.deepEqual(JSON.parse(run.outputs['boundaries'] ?? ''), {
      'lost-layer': { last: 'v0.9.0', firstWithout: 'v0.9.1' },
      'content-differs': {},
      'config-differs': { last: 'v0.9.1', firstWithout: 'v0.10.6' },
    });
    assert.deepEqual(
      run.summary
        .split('\n')
        .filter((l) => /^\| v/.test(l))
        .map((l) => l.split('|')[1]?.trim()),
      ['v0.8.3', 'v0.9.0', ...fixedReleases],
    );
    assert.match(run.outputs['problems'] ?? '', /v0\.8\.3/);
    fs.writeFileSync(path.join(suite.dirs.temp, 'bisect-summary.md'), run.summary);
  });

  it('a cache maker × importer matrix (v0.9.0 and v0.10.6 caches, v0.9.0 and v0.9.1 importers): one grid whose cells are the runs', async () => {
    const runs: { importer: string; maker: string; run: ActionRun }[] = [];
    for (const maker of ['v0.9.0', 'v0.10.6']) {
      for (const importer of ['v0.9.0', 'v0.9.1']) {
        const run = await suite.act({
          ...suite.inputs(importer, 'rootful'),
          'cache-buildkit-image': suite.bed.buildkitImage(maker, 'rootful'),
          retries: '20',
          'keep-going': 'true',
          'fail-on': 'none',
        });
        assert.notEqual(run.outputs['verdict'], 'error', run.main.stdout);
        assert.equal(run.outputs['buildkit-version'], importer);
        runs.push({ importer, maker, run });
        assertNothingLeft(run);
      }
    }
    // A v0.10.6 cache shares no result: the prediction is that no importer can lose a layer from it. Made
    // by another release than the importer's, config and history are not compared (and the run says why).
    for (const { maker, importer, run } of runs) {
      if (maker === 'v0.10.6') assert.equal(run.outputs['cache-shared-results'], '[]', maker);
      assert.equal(run.outputs['config-compared'], String(maker === importer), `${maker} → ${importer}`);
      // Across releases only the layers and files are held to the reference, and those are whole.
      if (maker !== importer) assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
    }
    const table = await suite.act(
      { reports: runs.map(({ run }) => run.outputs['report'] ?? '').join('\n') },
      { actionDir: path.join(repoRoot, 'summarize') },
    );
    assert.equal(table.main.exitCode, 0, table.main.stdout);
    assert.match(table.summary, /^\| Importer ↓ · cache made by → \| v0\.9\.0 \| v0\.10\.6 \|$/m);
    const icons: Record<string, string> = { reproduced: '🔴', 'config-differs': '🟡', clean: '🟢' };
    for (const importer of ['v0.9.0', 'v0.9.1']) {
      const row = table.summary
        .split('\n')
        .find((line) => line.startsWith(`| ${importer} | `) && !line.includes('buildkit:'));
      const cells = row?.split(' | ').slice(1) ?? [];
      ['v0.9.0', 'v0.10.6'].forEach((maker, i) => {
        const { run } = runs.find((r) => r.importer === importer && r.maker === maker) ?? {};
        const icon = icons[run?.outputs['verdict'] ?? ''] ?? '?';
        const classes = JSON.parse(run?.outputs['classes'] ?? '{}') as Record<string, number>;
        assert.ok(
          cells[i]?.startsWith(`${icon} lost ${run?.outputs['lost-count']}/20`),
          `${importer} × ${maker}: ${row}`,
        );
        // Each class in the cell; config unjudged (—) where another release made the cache.
        const config = importer === maker ? String(classes['config-differs']) : '—';
        assert.ok(
          cells[i]?.includes(`content ${classes['content-differs']}`),
          `${importer} × ${maker}: ${row}`,
        );
        assert.ok(cells[i]?.includes(`config ${config}`), `${importer} × ${maker}: ${row}`);
      });
    }
    assert.match(table.summary, /^- Cache made by v0\.10\.6:$/m);
    assert.match(table.summary, /^ {2}- Lost a layer: no release\./m);
    fs.writeFileSync(path.join(suite.dirs.temp, 'grid-summary.md'), table.summary);
  });

  it("output-type tar, the seed's rootfs check: v0.9.0 still caught by the missing path", async () => {
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootless'),
      retries: ATTEMPTS,
      'output-type': 'tar',
    });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
    assert.equal(run.outputs['lost-layers'], '[]', 'a rootfs tarball has no layers to name');
    assert.equal(run.outputs['config-compared'], 'false', 'a rootfs tarball has no config');
    // Plain tar lists the kept rootfs: no repro.txt; the reference beside it has it.
    const attempts = report(run).attempts;
    const output = (attempts[attempts.length - 1]?.outcome as { output?: string }).output ?? '';
    const listed = (file: string) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    assert.ok(
      listed(path.join(path.dirname(output), 'reference.tar')).some((p) => /^(\.\/)?repro\.txt$/.test(p)),
    );
    assert.ok(!listed(output).some((p) => /^(\.\/)?repro\.txt$/.test(p)), 'plain tar finds no repro.txt');
    assertNothingLeft(run);
  });

  it('finds buildctl in the tool cache on the second run, and downloads nothing', async () => {
    const downloadsBefore = suite.releases.requests.length;
    assert.ok(downloadsBefore > 0, 'the earlier runs downloaded buildctl from the local server');
    const run = await suite.act({
      ...suite.inputs('v0.9.1', 'rootful'),
      retries: '4',
      'run-attempts': 'false',
    });
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.match(run.main.stdout, /buildctl v0\.9\.1: found in the tool cache/);
    assert.equal(suite.releases.requests.length, downloadsBefore);
    assert.equal(run.outputs['verdict'], 'not-run');
    assertNothingLeft(run);
  });

  it('cache-binary false downloads buildctl into the run, caches nothing; on GHES no job summary', async () => {
    const cachedBefore = listTree(suite.dirs.toolCache);
    const tarballs = () => suite.releases.requests.filter((r) => r.endsWith('.tar.gz')).length;
    const downloadsBefore = tarballs();
    const run = await suite.act(
      { ...suite.inputs('v0.9.1', 'rootful'), retries: '4', 'cache-binary': 'false', 'fail-on': 'none' },
      { env: { GITHUB_SERVER_URL: 'https://github.example.com' } },
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    // v0.9.1's images differ in their history only; fail-on none reports it as a warning.
    assert.equal(run.outputs['verdict'], 'config-differs', 'the downloaded buildctl ran the attempts');
    assert.match(run.main.stdout, /::warning::Config differs from the reference: .*\(fail-on: none\)/);
    assert.match(run.main.stdout, /buildctl v0\.9\.1: downloaded from .*\(cache-binary: false, not cached\)/);
    assert.equal(tarballs(), downloadsBefore + 1, 'downloaded again, though cached');
    assert.deepEqual(listTree(suite.dirs.toolCache), cachedBefore, 'the tool cache is as it was');
    assert.equal(run.summary, '', 'no job summary on GitHub Enterprise Server');
    assert.match(run.main.stdout, /job summary skipped: GitHub Enterprise Server/);
    assertNothingLeft(run);
  });

  it('an infrastructure failure is an error, never a lost layer', async () => {
    // A buildkitd flag the daemon refuses: the daemon dies before any attempt can be judged.
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootful'),
      retries: '4',
      'create-cache': 'true',
      'buildkitd-flags': '--no-such-flag',
    });
    assert.equal(run.main.exitCode, 1);
    assert.equal(run.outputs['reproduced'], 'false');
    assert.equal(run.outputs['verdict'], 'error');
    assert.match(run.main.stdout, /::error::No verdict: an infrastructure step failed/);
    assertNothingLeft(run);
  });

  it('rejects bad input before it creates anything', async () => {
    const run = await suite.act({ ...suite.inputs('v0.9.0', 'rootful'), retries: 'lots' });
    assert.equal(run.main.exitCode, 1);
    assert.match(run.main.stdout, /::error::input "retries": "lots" is not a whole number/);
    assert.equal(run.state['runId'], undefined, 'no run was started');
    assert.deepEqual(run.outputs, {});
  });
});

/** The registry may take a moment to answer after its container starts. */
async function retry<T>(work: () => T, tries = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return work();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Every path under a folder, sorted: to see that a run added nothing to it. */
function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}
