import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as semver from 'semver';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { leftovers } from '../support/leftovers.js';
import { docker } from '../support/run-watch.js';
import { repoRoot, testBed } from '../../scripts/lib/testbed.js';

/** The releases of the bed's ladder after the fix (v0.9.1, v0.10.6, the newest…): each must be clean. */
const fixedReleases = testBed().versions.filter((v) => v !== 'v0.9.0');

// The bundled dist/index.js, run as the runner runs it, against real BuildKit on the test bed.
describe('the action, end to end on the test bed', () => {
  const catches: string[] = [];
  /** Reports by version, for the bisect table. */
  const reports = new Map<string, string>();
  const suite = BedSuite.open(() => {
    if (catches.length > 0) console.log(`v0.9.0 caught at: ${catches.join(', ')}`);
  });

  function assertNothingLeft(run: ActionRun): void {
    assert.ok(run.state['runId'], 'the main step saved its run id for the post step');
    assert.equal(run.post.exitCode, 0, run.post.stdout + run.post.stderr);
    assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId']}`), []);
  }

  function report(run: ActionRun) {
    const file = run.outputs['report'];
    assert.ok(file && fs.existsSync(file), `report output names a file: ${file}`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as {
      verdict: { kind: string };
      buildkitVersion: string;
      attempts: { attempt: number; outcome: { kind: string } }[];
    };
  }

  for (const variant of ['rootful', 'rootless'] as const) {
    it(`v0.9.0 ${variant}: reproduced within 40 attempts, the step fails, nothing is left`, async () => {
      const run = await suite.act({ ...suite.inputs('v0.9.0', variant), retries: '40' });
      assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
      assert.equal(run.main.exitCode, 1, 'fail-on-reproduce fails the step');
      const failed = Number(run.outputs['failed-attempt']);
      assert.ok(failed >= 1 && failed <= 40);
      assert.equal(run.outputs['attempts'], String(failed), 'stops at the first loss');
      assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
      assert.equal(run.outputs['buildkit-version'], 'v0.9.0');
      const attempts = report(run).attempts;
      assert.equal(attempts.length, failed);
      assert.deepEqual(
        attempts.map((a) => a.outcome.kind),
        [...Array<string>(failed - 1).fill('intact'), 'lost'],
      );
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
      it(`${version} ${variant}: clean after 40 attempts, with the bound`, async () => {
        const run = await suite.act({ ...suite.inputs(version, variant), retries: '40' });
        assert.equal(run.main.exitCode, 0, run.main.stdout);
        assert.equal(run.outputs['reproduced'], 'false');
        assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
        assert.equal(run.outputs['attempts'], '40');
        assert.equal(run.outputs['failed-attempt'], '');
        assert.equal(run.outputs['buildkit-version'], version);
        const attempts = report(run).attempts;
        assert.equal(attempts.filter((a) => a.outcome.kind === 'intact').length, 40);
        assert.match(run.summary, /No layer lost in 40 attempts/);
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
        if (version === 'v0.9.1' && variant === 'rootful') reports.set('v0.9.1', run.outputs['report'] ?? '');
        assertNothingLeft(run);
      });
    }
  }

  it('the default configuration, a pull-through mirror (mirror-upstream), against an upstream registry of our own', async () => {
    // On a runner the mirror pulls through from Docker Hub. Here the upstream is a registry container
    // published on the Docker bridge's gateway, which the mirror container reaches over a private network;
    // it is filled through 127.0.0.1, where this Docker engine pushes over plain http.
    const gateway = docker(
      'network',
      'inspect',
      'bridge',
      '--format',
      '{{(index .IPAM.Config 0).Gateway}}',
    ).trim();
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
        ...suite.inputs('v0.9.1', 'rootful'),
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

  it('v0.9.0 with keep-going over 40 attempts: a loss rate above 0, the COPY layer named in the summary', async () => {
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootful'),
      retries: '40',
      'keep-going': 'true',
    });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    assert.equal(run.outputs['attempts'], '40', 'kept going through every attempt');
    const lost = Number(run.outputs['lost-count']);
    assert.ok(lost >= 1 && lost <= 40);
    assert.equal(Number(run.outputs['loss-rate']), lost / 40);
    const [low, high] = JSON.parse(run.outputs['loss-rate-interval'] ?? '') as number[];
    assert.ok((low ?? 0) > 0 && (high ?? 0) > (low ?? 0) && (high ?? 1) < 1);
    assert.match(run.summary, new RegExp(`${lost} of 40 attempts lost a layer: `));
    assert.match(
      run.summary,
      /- Attempt \d+: layer 2 `COPY repro.txt \/` \(`[0-9a-f]{12}`, \d+ B, 1 file\) gone; `repro.txt` missing/,
    );
    assert.match(run.summary, /\| 2 \| `COPY repro.txt \/` \| .* \| \*\*missing\*\* \|/);
    catches.push(`keep-going ${lost}/40`);
    reports.set('v0.9.0', run.outputs['report'] ?? '');
    assertNothingLeft(run);
  });

  it('the bisect table of the v0.9.0 and v0.9.1 reports gives the boundary, and lists a missing job', async () => {
    assert.equal(reports.size, 2, 'the v0.9.0 keep-going and v0.9.1 rootful runs left their reports');
    const run = await suite.act(
      { reports: [...reports.values()].join('\n'), versions: 'v0.8.3, v0.9.0, v0.9.1' },
      { actionDir: path.join(repoRoot, 'summarize') },
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.equal(run.outputs['last-lost'], 'v0.9.0');
    assert.equal(run.outputs['first-clean'], 'v0.9.1');
    assert.match(run.summary, /Last release that lost a layer: v0\.9\.0; first clean: v0\.9\.1\./);
    assert.deepEqual(
      run.summary
        .split('\n')
        .filter((l) => /^\| v/.test(l))
        .map((l) => l.split('|')[1]?.trim()),
      ['v0.8.3', 'v0.9.0', 'v0.9.1'],
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
          'fail-on-reproduce': 'false',
        });
        assert.notEqual(run.outputs['verdict'], 'error', run.main.stdout);
        assert.equal(run.outputs['buildkit-version'], importer);
        runs.push({ importer, maker, run });
        assertNothingLeft(run);
      }
    }
    // A v0.10.6 cache shares no result: the prediction is that no importer can lose a layer from it.
    for (const { maker, run } of runs.filter((r) => r.maker === 'v0.10.6')) {
      assert.equal(run.outputs['cache-shared-results'], '[]', maker);
      assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
    }
    const table = await suite.act(
      { reports: runs.map(({ run }) => run.outputs['report'] ?? '').join('\n') },
      { actionDir: path.join(repoRoot, 'summarize') },
    );
    assert.equal(table.main.exitCode, 0, table.main.stdout);
    assert.match(table.summary, /^\| Importer ↓ · cache made by → \| v0\.9\.0 \| v0\.10\.6 \|$/m);
    for (const importer of ['v0.9.0', 'v0.9.1']) {
      const row = table.summary
        .split('\n')
        .find((line) => line.startsWith(`| ${importer} | `) && !line.includes('buildkit:'));
      const cells = row?.split(' | ').slice(1) ?? [];
      ['v0.9.0', 'v0.10.6'].forEach((maker, i) => {
        const { run } = runs.find((r) => r.importer === importer && r.maker === maker) ?? {};
        const icon = run?.outputs['verdict'] === 'reproduced' ? '🔴' : '🟢';
        assert.ok(
          cells[i]?.startsWith(`${icon} ${run?.outputs['lost-count']}/20 `),
          `${importer} × ${maker}: ${row}`,
        );
      });
    }
    assert.match(table.summary, /^- Cache made by v0\.10\.6: No release lost a layer/m);
    fs.writeFileSync(path.join(suite.dirs.temp, 'grid-summary.md'), table.summary);
  });

  it("output-type tar, the seed's rootfs check: v0.9.0 still caught by the missing path", async () => {
    const run = await suite.act({
      ...suite.inputs('v0.9.0', 'rootless'),
      retries: '40',
      'output-type': 'tar',
    });
    assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
    assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
    assert.equal(run.outputs['lost-layers'], '[]', 'a rootfs tarball has no layers to name');
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
      { ...suite.inputs('v0.9.1', 'rootful'), retries: '4', 'cache-binary': 'false' },
      { env: { GITHUB_SERVER_URL: 'https://github.example.com' } },
    );
    assert.equal(run.main.exitCode, 0, run.main.stdout);
    assert.equal(run.outputs['verdict'], 'clean', 'the downloaded buildctl ran the attempts');
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
