import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ActionRun } from '../support/action-runner.js';
import { BedSuite } from '../support/bed-suite.js';
import { assertNothingLeft, assertSecretHidden } from '../support/leftovers.js';
import { LoginRegistry } from '../support/login-registry.js';
import { ATTEMPTS_TO_A_LOSS } from '../support/loss-odds.js';
import { docker } from '../support/run-watch.js';
import { Docker } from '../../src/services/docker.js';
import { removeRun } from '../../src/services/run-services.js';

/**
 * "Is my CI's cache giving me the image a clean build gives?" for a registry cache a pipeline made, behind
 * a login: a run of the action makes the cache (its attempts off), the cache is copied into a registry that
 * asks for a password, and another run checks it with create-cache false, cache-ref and the login.
 */
describe("a user's own registry cache, behind a login", () => {
  const suite = BedSuite.open();
  let registry: LoginRegistry;
  before(async () => {
    registry = await LoginRegistry.start(suite.bed.registryImage);
  });
  after(() => registry.stop());

  /** A pipeline's cache, made by `version` and left in the login registry as team/app:buildcache-<version>. */
  async function pipelineCache(version: string): Promise<string> {
    const maker = await suite.act(
      suite.inputs(version, 'rootful', { 'run-attempts': 'false', cleanup: 'false' }),
    );
    const makerId = maker.state['runId'] ?? '';
    try {
      assert.equal(maker.main.exitCode, 0, maker.main.stdout);
      const source = docker('port', `lost-layer-${makerId}-cache`, '5000/tcp').split('\n')[0]?.trim() ?? '';
      const tag = `buildcache-${version}`;
      await registry.copyFrom(source, 'lost-layer/cache', 'latest', { repository: 'team/app', tag });
      return `${registry.address}/team/app:${tag}`;
    } finally {
      await removeRun(new Docker(), makerId);
    }
  }

  function check(version: string, ref: string, password: string, retries: string): Promise<ActionRun> {
    return suite.act(
      suite.inputs(version, 'rootless', {
        'create-cache': 'false',
        'cache-ref': ref,
        'cache-username': registry.username,
        'cache-password': password,
        retries,
      }),
    );
  }

  /** The password only in the line that asks the runner to mask it; the run's Docker config gone. */
  function assertLoginKept(run: ActionRun, password: string) {
    assertSecretHidden(run, password);
    assert.ok(run.main.stdout.includes(`::add-mask::${password}`), 'the runner is asked to mask it');
    const workDir = run.state['workDir'] ?? '';
    assert.ok(workDir, 'the main step saved its folder');
    assert.equal(
      fs.existsSync(path.join(workDir, 'docker-config')),
      false,
      'the login is removed with the run',
    );
  }

  it('v0.34.2: clean, the reference built without any cache, the cause read through the login', async () => {
    const ref = await pipelineCache('v0.34.2');
    const run = await check('v0.34.2', ref, registry.password, '8');
    assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
    assert.equal(run.outputs['attempts'], '8');
    assert.match(run.main.stdout, /reference: none kept to use/);
    assert.deepEqual(JSON.parse(run.outputs['cache-shared-results'] ?? 'null'), []);
    assertLoginKept(run, registry.password);
    assertNothingLeft(run);
  });

  it("v0.9.0: the pipeline's cache loses the COPY layer, caught with the login", async () => {
    const ref = await pipelineCache('v0.9.0');
    const run = await check('v0.9.0', ref, registry.password, String(ATTEMPTS_TO_A_LOSS));
    assert.equal(run.outputs['verdict'], 'reproduced', run.main.stdout);
    assert.deepEqual(JSON.parse(run.outputs['missing-paths'] ?? ''), ['repro.txt']);
    const shared = JSON.parse(run.outputs['cache-shared-results'] ?? 'null') as { steps: string[] }[];
    assert.deepEqual(
      shared.map((set) => set.steps),
      [['COPY repro.txt /', 'RUN echo 2']],
    );
    assertLoginKept(run, registry.password);
    assertNothingLeft(run);
  });

  it('a wrong password: an error naming the cache before any build, never clean', async () => {
    const ref = `${registry.address}/team/app:buildcache-v0.34.2`;
    const wrong = `${registry.password}-wrong`;
    const run = await check('v0.34.2', ref, wrong, '8');
    assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
    assert.notEqual(run.main.exitCode, 0);
    assert.match(
      run.main.stdout,
      /::error::.*create-cache is false and cache-ref \S+\/team\/app:buildcache-v0\.34\.2 cannot be read: .*HTTP 401/,
    );
    assert.equal(run.outputs['attempts'], '0');
    assert.doesNotMatch(run.main.stdout, /Build the reference/, 'no build started');
    assertLoginKept(run, wrong);
    assertNothingLeft(run);
  });
});
