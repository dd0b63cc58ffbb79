import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type ActionRun, cliFlags, runAction, runNode, runnerDirs } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { verdictWithoutLoss } from '../support/ladder.js';
import { leftovers, mirrorTags } from '../support/leftovers.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import {
  docker,
  fillDisk,
  onAttempt2,
  onLines,
  onPhase,
  pauseOnStart,
  phaseStart,
  runIdOf,
  runningContainers,
  waitForContainer,
} from '../support/run-watch.js';
import { toolCacheLeftovers } from '../../scripts/lib/soak-oracle.js';
import { toolCacheEntries } from '../../scripts/lib/soak-run.js';
import { repoRoot, testBed } from '../../scripts/lib/testbed.js';

/** The bed's releases after the fix: a failed import must be an error on each, whatever its progress says. */
const fixedReleases = testBed().versions.filter((v) => v !== 'v0.9.0');

// Every fault ends in a clear error naming its cause, or in a correct verdict: never "layer lost" from an
// infrastructure fault, never "clean" for attempts that did not run. And nothing labelled ours is left.
describe('fault suite, on the test bed', () => {
  const outcomes: string[] = [];
  const suite = BedSuite.open(() => console.log(outcomes.map((o) => `fault: ${o}`).join('\n')));
  /** When each run started: a run that saved no run id is checked for anything labelled ours made since. */
  const startedAt = new WeakMap<ActionRun, Date>();
  const act = async (...args: Parameters<BedSuite['act']>) => {
    const started = new Date();
    const run = await suite.act(...args);
    startedAt.set(run, started);
    return run;
  };
  const fixed = (extra: Record<string, string> = {}) => suite.inputs('v0.9.1', 'rootful', extra);
  /** What a run of `fixed` gives when nothing breaks. */
  const untouched = verdictWithoutLoss('v0.9.1');

  function assertError(run: ActionRun, cause: RegExp, name: string): void {
    assert.equal(run.outputs['verdict'], 'error', `${name}: ${run.main.stdout}`);
    assert.equal(run.outputs['reproduced'], 'false');
    assert.notEqual(run.main.exitCode, 0);
    assert.match(run.main.stdout, cause);
    assert.doesNotMatch(run.main.stdout, /::error::Layer lost/);
    const said = /::error::(.*)/.exec(run.main.stdout)?.[1] ?? '';
    outcomes.push(`${name} → ${said.slice(0, 240)}`);
  }

  function assertNothingLeft(run: ActionRun): void {
    const runId = run.state['runId'];
    const left = runId
      ? leftovers(`dev.lost-layer.run=${runId}`)
      : leftovers('dev.lost-layer', startedAt.get(run));
    assert.deepEqual(left, [], runId ? `run ${runId}` : 'a run that saved no run id');
    assert.deepEqual(mirrorTags(), [], 'no image tag of a mirror is left');
    assert.equal(run.post.exitCode, 0, run.post.stdout);
    assert.doesNotMatch(run.post.stdout, /cleanup left/);
  }

  it('dockerd not reachable at start: an error before anything is created', async () => {
    const run = await act(fixed(), { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    assertError(run, /::error::No verdict: .*the Docker engine does not answer/, 'dockerd unreachable');
    assert.equal(
      suite.releases.requests.filter((r) => r.endsWith('.tar.gz')).length,
      0,
      'nothing was downloaded',
    );
    assertNothingLeft(run);
  });

  it('the buildkit image missing and not pullable: an error naming the image', async () => {
    const run = await act(
      fixed({ 'buildkit-image': 'lost-layer-testbed/buildkit:v9.9.9', 'buildctl-version': 'v0.9.1' }),
    );
    assertError(
      run,
      /image lost-layer-testbed\/buildkit:v9\.9\.9 is not on this Docker host and cannot be pulled/,
      'image missing',
    );
    assertNothingLeft(run);
  });

  for (const version of fixedReleases) {
    it(`${version}: the cache registry killed in the middle of the attempts: the import failed, an error`, async () => {
      const run = await act(suite.inputs(version, 'rootful', { retries: '40' }), {
        onMainStarted: onAttempt2((_daemon, runId) => docker('kill', `lost-layer-${runId}-cache`)),
      });
      assertError(
        run,
        /the cache import failed: importing cache manifest from \S+-cache:5000\/lost-layer\/cache:latest: /,
        `${version} cache registry killed`,
      );
      assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
      assertNothingLeft(run);
    });
  }

  it('the mirror registry killed in the middle of the attempts: an error, not a clean run', async () => {
    const run = await act(fixed({ retries: '40' }), {
      onMainStarted: onAttempt2((_daemon, runId) => docker('kill', `lost-layer-${runId}-mirror`)),
    });
    // The attempt's build asks the mirror for the base image's manifest first.
    assertError(
      run,
      /::error::.*attempt \d+: buildctl build exited 1: .*alpine:latest: failed to do request: Head "http:\/\/\S+-mirror:5000\//,
      'mirror registry killed',
    );
    assert.ok(Number(run.outputs['attempts']) < 40, 'the loop stopped at the fault');
    assertNothingLeft(run);
  });

  it('buildkitd killed during the attempts: an error, and the post step prints its logs', async () => {
    const run = await act(fixed({ retries: '40' }), {
      onMainStarted: onAttempt2((daemon) => docker('kill', daemon)),
    });
    // Killed as the attempt starts, its build finds the daemon gone: gRPC's Unavailable, whether it had
    // connected (EOF) or not yet (connection refused), and whether buildctl or the solve says it.
    assertError(
      run,
      /::error::.*attempt \d+: buildctl build exited 1: .*(rpc error: code = Unavailable|failed to solve: Unavailable)/,
      'buildkitd killed',
    );
    assert.match(run.post.stdout, /buildkitd logs of a failed attempt/);
    assertNothingLeft(run);
  });

  // Found by the soak: paused as its first reset started, the daemon once held the run for ever (the version
  // was asked by `docker exec`, which waits for a paused container, and so then did the cleanup's removal).
  it('buildkitd paused as it starts: an error in bounded time, and the post step removes the paused daemon', async () => {
    const started = Date.now();
    let watch: ReturnType<typeof pauseOnStart> | undefined;
    const run = await act(fixed({ retries: '8', 'attempt-timeout': '20' }), {
      // The lane's daemon (the run's second) is paused the moment it starts, before it can answer.
      onMainStarted: (child) =>
        void runIdOf(child).then(
          (runId) => (watch = pauseOnStart(runId, /-buildkitd-2$/, new Date(started))),
        ),
    });
    watch?.stop();
    assert.match((await watch?.paused) ?? 'no watch', /-buildkitd-2$/, 'the daemon was paused as it started');
    assertError(
      run,
      /::error::.*buildkitd \S+-buildkitd-2 did not answer within 60 s/,
      'buildkitd paused as it starts',
    );
    assert.ok(Date.now() - started < 180_000, 'the run and its cleanup ended in bounded time');
    assertNothingLeft(run);
  });

  it('an attempt that hangs past attempt-timeout: killed, an error naming the timeout', async () => {
    // Paused once attempt 2 has begun: the daemon answered, and the attempt in flight hangs.
    const run = await act(fixed({ retries: '40', 'attempt-timeout': '3' }), {
      onMainStarted: onAttempt2((daemon) => docker('pause', daemon)),
    });
    assertError(run, /did not finish within 3 s \(attempt-timeout\)/, 'attempt hangs');
    assertNothingLeft(run);
  });

  it('the host ports a registry or buildkitd would use by default already taken: a clean run all the same', async () => {
    const servers = await Promise.all(
      [5000, 1234].map(
        (port) =>
          new Promise<net.Server | undefined>((resolve) => {
            const server = net.createServer().listen(port, '127.0.0.1', () => resolve(server));
            server.on('error', () => resolve(undefined)); // already taken by someone else: as good
          }),
      ),
    );
    try {
      const run = await act(fixed({ retries: '4' }));
      assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
      outcomes.push(`ports 5000 and 1234 taken → ${untouched} (Docker picks free ports on 127.0.0.1)`);
      assertNothingLeft(run);
    } finally {
      for (const server of servers) server?.close();
    }
  });

  // SIGKILL: the main step cleans nothing up itself; the post step removes everything from the saved state.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`the main step sent ${signal} as attempt 2 starts (a cancelled job), then the post step: nothing left`, async () => {
      const run = await act(fixed({ retries: '400' }), {
        onMainStarted: onPhase('attempt', '2', (_runId, child) => child.kill(signal)),
      });
      assert.equal(run.main.signal ?? 'exited', signal, run.main.stdout);
      assert.equal(run.outputs['reproduced'], undefined, 'a cancelled run gives no verdict');
      outcomes.push(`${signal} mid-run → no verdict, post cleaned up`);
      assertNothingLeft(run);
    });
  }

  // The soak's finding: a signal as buildctl's install takes the tool-cache lock, or writes the entry under
  // it. SIGINT and SIGTERM: the main step undoes it; SIGKILL: the post step, once the dead lock goes stale.
  const toolCacheMoments = {
    'takes the tool-cache lock': (toolCache: string) => path.join(toolCache, '.buildctl-v0.9.1-amd64.lock'),
    'writes the tool-cache entry': (toolCache: string) => path.join(toolCache, 'buildctl', '0.9.1', 'amd64'),
  };
  for (const [moment, seen] of Object.entries(toolCacheMoments)) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      it(`the main step sent ${signal} as buildctl's install ${moment}: no lock or partial entry left`, async () => {
        const dirs = runnerDirs();
        const toolCacheLeft = () => toolCacheLeftovers(toolCacheEntries(dirs.toolCache));
        let beforePost: string[] = [];
        const run = await act(
          fixed(),
          {
            onMainStarted: (child) =>
              void signalWhen(() => fs.existsSync(seen(dirs.toolCache)), child, signal),
            onPostStarted: () => (beforePost = toolCacheLeft()),
          },
          dirs,
        );
        assert.equal(run.main.signal ?? 'exited', signal, run.main.stdout);
        // SIGINT and SIGTERM: the main step undid its own work before it died; SIGKILL: it could not.
        if (signal === 'SIGKILL') assert.notDeepEqual(beforePost, [], 'the killed main step left its lock');
        else assert.deepEqual(beforePost, [], 'the tool cache as the main step died');
        assertNothingLeft(run);
        assert.deepEqual(toolCacheLeft(), [], 'the tool cache after the post step');
        outcomes.push(`${signal} as buildctl's install ${moment} → no verdict, tool cache clean`);
      });
    }
  }

  // Found by the soak: the CLI stopped mid-reset went on to print "No verdict: an infrastructure step failed"
  // and write a report, its own removal taken for a failure.
  for (const [signal, code, phase, detail] of [
    ['SIGINT', 130, 'attempt', '2'],
    ['SIGTERM', 143, 'reset', 'lane 1'],
  ] as const) {
    it(`the CLI sent ${signal} as ${phase} ${detail} starts: it removes its run, exits ${code}, says no verdict`, async () => {
      const child = spawn(
        process.execPath,
        [path.join(repoRoot, 'dist', 'cli', 'index.js'), ...cliFlags(fixed({ retries: '400' }))],
        {
          env: {
            ...process.env,
            GITHUB_API_URL: suite.releases.origin,
            RUNNER_TOOL_CACHE: suite.dirs.toolCache,
            RUNNER_TEMP: suite.dirs.temp,
            // The CLI writes its phase lines only when asked for the runner's debug lines.
            RUNNER_DEBUG: '1',
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const runId = await runIdOf(child, phaseStart(phase, detail));
      child.kill(signal);
      const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(exit, code, stderr);
      assert.match(stderr, new RegExp(`^warning: ${signal}: removing run ${runId}$`, 'm'));
      assert.doesNotMatch(
        stdout,
        /^(No verdict|Layer lost|No difference|Config differs|Content differs|report: )/m,
        'a stopped run says no verdict',
      );
      assert.equal(fs.existsSync(path.join(suite.dirs.temp, `lost-layer-${runId}`, 'report.json')), false);
      assert.deepEqual(leftovers(`dev.lost-layer.run=${runId}`), []);
      outcomes.push(`CLI ${signal} as ${phase} ${detail} starts → exit ${code}, no verdict, cleaned up`);
    });
  }

  /** Sends `signal` to the main step as soon as `seen()` holds (polled every few ms), or when it ends. */
  async function signalWhen(seen: () => boolean, child: ChildProcess, signal: NodeJS.Signals) {
    while (!seen() && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 2));
    child.kill(signal);
  }

  /** Runs `body` with RUNNER_TEMP on a tmpfs of `size`, or skips where no tmpfs can be mounted. */
  async function onTinyDisk(t: TestContext, size: string, body: (temp: string) => Promise<void>) {
    // buildctl in the tool cache first: its download goes through RUNNER_TEMP, a fault of another step.
    const warm = await act(fixed({ 'run-attempts': 'false' }));
    assert.equal(warm.main.exitCode, 0, warm.main.stdout);
    const tiny = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-layer-tiny-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', tiny]);
    } catch {
      t.skip('cannot mount a tmpfs here');
      return;
    }
    try {
      await body(tiny);
    } finally {
      execFileSync('umount', [tiny]);
      fs.rmSync(tiny, { recursive: true, force: true });
    }
  }

  it('no disk space for the reference (a 1 MiB tmpfs as RUNNER_TEMP): an error of the cache build, no attempt', async (t) => {
    await onTinyDisk(t, '1m', async (temp) => {
      const run = await act(fixed({ retries: '4' }), {}, { ...suite.dirs, temp });
      // buildctl fails ("failed to solve: EOF") or exits 0 with a cut-off file: either way the disk is named.
      assertError(
        run,
        /::error::No verdict: an infrastructure step failed \(the disk of \S+ is full \(\d+ KiB free\): /,
        'disk full at the cache build',
      );
      assert.equal(run.outputs['attempts'], '0');
      assertNothingLeft(run);
    });
  });

  it("no disk space for an attempt's output after a whole reference: an error of that attempt, not a lost layer", async (t) => {
    // 1.7 MB holds the reference image (about 1.1 MB) but not an attempt's image beside it: the dangerous
    // case, where a cut-off output read as an image would lack layers.
    await onTinyDisk(t, '1700k', async (temp) => {
      const run = await act(fixed({ retries: '4' }), {}, { ...suite.dirs, temp });
      assertError(
        run,
        /::error::No verdict: an infrastructure step failed \(attempt 1: the disk of \S+ is full \(\d+ KiB free\): /,
        'disk full at attempt 1',
      );
      assert.equal(run.outputs['attempts'], '1');
      assertNothingLeft(run);
    });
  });

  // Found by the soak: v0.9.1's buildctl never ends once a write of its output failed, so a disk that filled
  // as an attempt started held the run until attempt-timeout (600 s by default).
  it('the disk filled to its last byte as attempt 2 starts, on v0.9.1: the build stopped within seconds, an error naming the disk', async (t) => {
    await onTinyDisk(t, '64m', async (temp) => {
      const filler = path.join(temp, 'filler');
      let filledAt = 0;
      let endedAt = 0;
      const run = await act(
        fixed({ retries: '8' }),
        {
          // The runner's own files stay off the disk that fills: it is the run's disk that is full.
          filesDir: suite.dirs.workspace,
          onMainStarted: (child) => {
            child.on('exit', () => (endedAt = Date.now()));
            onPhase('attempt', '2', () => {
              fillDisk(filler);
              filledAt = Date.now();
            })(child);
          },
        },
        { ...suite.dirs, temp },
      );
      assert.ok(filledAt > 0, 'the disk was filled');
      assertError(
        run,
        /::error::No verdict: an infrastructure step failed \(attempt 2: the disk of \S+ is full \(\d+ KiB free\): buildctl build (stopped|exited)/,
        'disk filled as attempt 2 starts',
      );
      assert.equal(run.outputs['attempts'], '2');
      assert.ok(endedAt - filledAt < 60_000, `ended ${endedAt - filledAt} ms after the disk filled`);
      // The post step works on the disk still full.
      assertNothingLeft(run);
    });
  });

  // Found by an outside read of the soak's CLI rounds: the CLI wrote its report before its verdict line, and
  // a write that failed on a full disk ended it with "unexpected error", the loss it had found unsaid.
  it('the disk filled to its last byte as minimization starts, on v0.9.0: the action and the CLI still say the loss, the report not written', async (t) => {
    const inputs = suite.inputs('v0.9.0', 'rootful', {
      retries: String(ATTEMPTS_TO_A_LOSS),
      minimize: 'true',
      'minimize-timeout': '60',
    });
    await onTinyDisk(t, '128m', async (temp) => {
      const filler = path.join(temp, 'filler');
      const fillAtMinimize = onPhase('minimize', undefined, () => fillDisk(filler));
      const run = await act(
        inputs,
        // The runner's own files stay off the disk that fills: it is the run's disk that is full.
        { filesDir: suite.dirs.workspace, onMainStarted: fillAtMinimize },
        { ...suite.dirs, temp },
      );
      assert.ok(fs.existsSync(filler), 'the disk was filled');
      assert.equal(run.outputs['verdict'], 'reproduced', run.main.stdout);
      assert.equal(run.outputs['report'], '');
      assert.equal(run.main.exitCode, 1);
      assert.match(run.main.stdout, /^::warning::the report could not be written: ENOSPC/m);
      assertNothingLeft(run);

      fs.rmSync(filler);
      const env = {
        ...(process.env as Record<string, string>),
        GITHUB_API_URL: suite.releases.origin,
        RUNNER_TOOL_CACHE: suite.dirs.toolCache,
        RUNNER_TEMP: temp,
        RUNNER_DEBUG: '1',
      };
      const cli = await runNode(path.join(repoRoot, 'dist', 'cli', 'index.js'), env, fillAtMinimize, {
        args: cliFlags(inputs),
      });
      assert.ok(fs.existsSync(filler), 'the disk was filled again');
      assert.match(cli.stdout, /^Layer lost: attempt \d+: /m, cli.stderr);
      assert.doesNotMatch(cli.stdout, /^report: /m);
      assert.match(cli.stderr, /^warning: the report could not be written: ENOSPC/m);
      assert.doesNotMatch(cli.stderr, /unexpected error/);
      // 2: the minimization on the full disk failed; 1 would be the loss alone.
      assert.equal(cli.exitCode, 2, cli.stdout);
      const runId = /^run ([0-9a-f]{8}): /m.exec(cli.stderr)?.[1];
      assert.ok(runId);
      assert.deepEqual(leftovers(`dev.lost-layer.run=${runId}`), []);
      outcomes.push(
        `disk full at minimization → the loss said by the action and the CLI, exit ${cli.exitCode}`,
      );
    });
  });

  // Found by the soak: a job cancelled while its post step removed the run killed the step (Node's default
  // for SIGINT and SIGTERM) and left the run's containers, volumes and network.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`the post step sent ${signal} as its cleanup starts: it removes everything all the same`, async () => {
      let sent = false;
      const run = await act(fixed({ retries: '4' }), {
        onPostStarted: (child) =>
          onLines(child, (line) => {
            if (!sent && phaseStart('cleanup').test(line)) {
              sent = true;
              child.kill(signal);
            }
          }),
      });
      assert.ok(sent, `the signal was sent at the cleanup line: ${run.post.stdout}`);
      assertNothingLeft(run);
      assert.match(
        run.post.stdout,
        new RegExp(`^${signal} received: the removal of this run goes on to its end$`, 'm'),
      );
      outcomes.push(`${signal} to the post step at its cleanup → everything removed`);
    });
  }

  it('two runs at once on one Docker host, same inputs: both reproduce, nothing collides, each cleans its own', async () => {
    const inputs = suite.inputs('v0.9.0', 'rootful', { retries: String(ATTEMPTS_TO_A_LOSS) });
    const [a, b] = await Promise.all([act(inputs), act(inputs)]);
    assert.ok(a && b);
    assert.notEqual(a.state['runId'], b.state['runId']);
    for (const run of [a, b]) {
      assert.equal(run.outputs['reproduced'], 'true', run.main.stdout);
      assertNothingLeft(run);
    }
    outcomes.push(
      `two runs at once → reproduced at attempts ${a.outputs['failed-attempt']} and ${b.outputs['failed-attempt']}`,
    );
  });

  it('no anonymous volume: the VOLUMEs the registry and BuildKit images declare get labelled volumes of the run', async () => {
    let mounts: Promise<{ container: string; volume: string; labelled: boolean }[]> | undefined;
    const run = await act(fixed({ retries: '40' }), {
      onMainStarted: (child) => {
        mounts = runIdOf(child).then(async (runId) => {
          await waitForContainer(runId, /-buildkitd-2$/);
          return runningContainers(runId, /./).flatMap((container) =>
            (
              JSON.parse(docker('inspect', '--format', '{{json .Mounts}}', container)) as {
                Type: string;
                Name: string;
              }[]
            )
              .filter((mount) => mount.Type === 'volume')
              .map((mount) => ({
                container,
                volume: mount.Name,
                labelled:
                  docker(
                    'volume',
                    'inspect',
                    '--format',
                    '{{index .Labels "dev.lost-layer.run"}}',
                    mount.Name,
                  ).trim() === runId,
              })),
          );
        });
      },
    });
    const seen = await (mounts ?? Promise.reject(new Error('the main step never started')));
    assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
    // The test bed's registry and BuildKit images declare VOLUMEs, as registry:2 and moby/buildkit do.
    assert.ok(
      seen.some((m) => m.container.endsWith('-cache')) && seen.some((m) => m.container.endsWith('-mirror')),
    );
    assert.deepEqual(
      seen.filter((m) => !m.labelled),
      [],
      'every mounted volume carries the run label',
    );
    assertNothingLeft(run);
    outcomes.push(`volumes → ${seen.length} mounted, all labelled, all removed`);
  });

  it('three runs at once sharing one empty tool cache: buildctl is downloaded once, the others find it', async () => {
    const shared = runnerDirs();
    const tarball = '/v0.9.1/buildkit-v0.9.1.linux-amd64.tar.gz';
    const before = suite.releases.requests.filter((r) => r.endsWith(tarball)).length;
    const runs = await Promise.all([1, 2, 3].map(() => act(fixed({ 'run-attempts': 'false' }), {}, shared)));
    for (const run of runs) {
      assert.equal(run.main.exitCode, 0, run.main.stdout);
      assertNothingLeft(run);
    }
    assert.equal(suite.releases.requests.filter((r) => r.endsWith(tarball)).length - before, 1);
    assert.equal(
      runs.filter((run) => /buildctl v0\.9\.1: found in the tool cache/.test(run.main.stdout)).length,
      2,
    );
    assert.deepEqual(
      fs.readdirSync(shared.toolCache).filter((name) => name.endsWith('.lock')),
      [],
      'no lock is left behind',
    );
    outcomes.push('three runs, one empty tool cache → one download');
  });

  it('only 127.0.0.1 ports, and the token never in the logs, the summary or the report', async () => {
    const token = 'ghs_FAKEtoken0123456789abcdefABCDEF01';
    let mainStarted!: (child: ChildProcess) => void;
    const main = new Promise<ChildProcess>((resolve) => (mainStarted = resolve));
    const running = act(fixed({ retries: '12', 'github-token': token }), { onMainStarted: mainStarted });
    const daemon = await waitForContainer(await runIdOf(await main), /-buildkitd-2$/);
    const prefix = daemon.replace(/-buildkitd-2$/, '');
    for (const name of [daemon, `${prefix}-cache`, `${prefix}-mirror`]) {
      const bindings = JSON.parse(
        docker('inspect', '--format', '{{json .HostConfig.PortBindings}}', name),
      ) as Record<string, { HostIp: string }[]>;
      const hostIps = Object.values(bindings)
        .flat()
        .map((b) => b.HostIp);
      assert.ok(
        hostIps.length > 0 && hostIps.every((ip) => ip === '127.0.0.1'),
        `${name}: ${hostIps.join(', ')}`,
      );
    }
    const run = await running;
    assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
    const report = fs.readFileSync(run.outputs['report'] ?? '', 'utf8');
    // The runner reads `::add-mask::` itself and prints no such line: everything else is what a reader sees.
    const log = (run.main.stdout + run.main.stderr + run.post.stdout)
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    assert.ok(run.main.stdout.includes(`::add-mask::${token}`), 'the token is masked in the runner log');
    for (const [where, text] of [
      ['log', log],
      ['summary', run.summary],
      ['report', report],
    ] as const) {
      assert.ok(!text.includes(token), `the token is in the ${where}`);
    }
    outcomes.push('exposure: every port on 127.0.0.1, token in no log, summary or report');
    assertNothingLeft(run);
  });
});

describe('downloads verified, on the test bed', () => {
  const suite = BedSuite.open();
  const untouched = verdictWithoutLoss('v0.9.1');
  // A fresh tool cache each: every case downloads.
  const act = (extra: Record<string, string>) =>
    suite.act(suite.inputs('v0.9.1', 'rootful', { retries: '4', ...extra }), {}, runnerDirs());
  const realSha256 = () =>
    fs
      .readFileSync(
        path.join(suite.bed.releasesDir, 'v0.9.1', 'buildkit-v0.9.1.linux-amd64.tar.gz.sha256'),
        'utf8',
      )
      .split(' ')[0] ?? '';

  it('verified against the digest the release API publishes, and said so in the summary', async () => {
    const run = await act({});
    assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
    assert.match(
      run.summary,
      new RegExp(
        `tarball sha256 \`${realSha256().slice(0, 12)}\` verified against the GitHub release digest`,
      ),
    );
  });

  it('a digest that does not match: a hard error, and the tool cache stays empty', async () => {
    suite.releases.digests.set('buildkit-v0.9.1.linux-amd64.tar.gz', `sha256:${'0'.repeat(64)}`);
    try {
      const dirs = runnerDirs();
      const run = await suite.act(suite.inputs('v0.9.1', 'rootful', { retries: '4' }), {}, dirs);
      assert.equal(run.outputs['verdict'], 'error');
      assert.match(
        run.main.stdout,
        /has SHA-256 [0-9a-f]{64}, not the GitHub release digest 0{64}: not installed/,
      );
      assert.deepEqual(fs.readdirSync(dirs.toolCache), [], 'nothing was cached');
    } finally {
      suite.releases.digests.delete('buildkit-v0.9.1.linux-amd64.tar.gz');
    }
  });

  it('buildctl-sha256 wins: the right one verifies, a wrong one fails', async () => {
    const right = await act({ 'buildctl-sha256': realSha256() });
    assert.equal(right.outputs['verdict'], untouched, right.main.stdout);
    assert.match(right.summary, /verified against the buildctl-sha256/);
    const wrong = await act({ 'buildctl-sha256': 'f'.repeat(64) });
    assert.equal(wrong.outputs['verdict'], 'error');
    assert.match(wrong.main.stdout, /not the buildctl-sha256 f{64}/);
  });

  it('no digest published: installed, but the summary says it is not verified', async () => {
    suite.releases.digests.set('buildkit-v0.9.1.linux-amd64.tar.gz', null);
    try {
      const run = await act({});
      assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
      assert.match(run.summary, /\*\*not verified\*\*/);
      assert.match(run.main.stdout, /::warning::buildctl tarball sha256 [0-9a-f]{64} NOT verified/);
    } finally {
      suite.releases.digests.delete('buildkit-v0.9.1.linux-amd64.tar.gz');
    }
  });

  it('a mirror that fails once (503): retried with back-off, then installed', async () => {
    suite.releases.failNextDownloads = 1;
    const run = await act({});
    assert.equal(suite.releases.failNextDownloads, 0, 'the failure was served');
    assert.equal(run.outputs['verdict'], untouched, run.main.stdout);
  });
});

describe('hostile inputs through the bundled action', () => {
  const marker = path.join(os.tmpdir(), `lost-layer-pwned-${process.pid}`);
  const cases: [string, Record<string, string>][] = [
    ['buildkit-image', { 'buildkit-image': `moby/buildkit:v0.9.0; touch ${marker}` }],
    ['buildkitd-flags', { 'buildkitd-flags': `--debug $(touch ${marker})` }],
    ['buildkitd-flags', { 'buildkitd-flags': `--debug && touch ${marker}` }],
    ['buildkitd-container-options', { 'buildkitd-container-options': `--privileged\ntouch ${marker}` }],
    ['retries', { retries: '5\nINPUT_CLEANUP=false' }],
    ['dockerfile', { dockerfile: '../../../../etc/passwd' }],
    ['buildctl-url', { 'buildctl-url': 'http://example.com/{version}/buildctl.tgz' }],
    ['expect-paths', { 'expect-paths': '../../etc/shadow' }],
  ];
  for (const [input, inputs] of cases) {
    it(`rejects ${JSON.stringify(inputs)} before anything starts`, async () => {
      const run = await runAction(inputs, runnerDirs());
      assert.equal(run.main.exitCode, 1);
      assert.match(run.main.stdout, new RegExp(`::error::input "${input}"`));
      assert.equal(run.state['runId'], undefined, 'no run was started');
      assert.equal(fs.existsSync(marker), false, 'nothing ran through a shell');
    });
  }
});
