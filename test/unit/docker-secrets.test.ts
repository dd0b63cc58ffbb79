import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Docker } from '../../src/services/docker.js';

describe('a container given secrets', () => {
  it('names each variable on the command line and passes its value through the environment only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-secrets-'));
    const seen = path.join(dir, 'seen');
    // A stand-in docker that writes down its arguments and the variables it was given.
    const fake = path.join(dir, 'docker');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${seen}.args\nprintf '%s|%s\\n' "$AWS_SECRET_ACCESS_KEY" "$AWS_ACCESS_KEY_ID" > ${seen}.env\n`,
      { mode: 0o755 },
    );
    await new Docker(fake).createContainer({
      name: 'c',
      image: 'buildkit:test',
      network: 'net',
      runId: 'r1',
      secretEnv: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's3cr3t' },
      hosts: ['host.docker.internal:host-gateway'],
    });
    const args = fs.readFileSync(`${seen}.args`, 'utf8').trim().split('\n');
    assert.doesNotMatch(args.join(' '), /AKIA1|s3cr3t/);
    const envAt = args.flatMap((arg, i) => (arg === '--env' ? [args[i + 1]] : []));
    assert.deepEqual(envAt, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    assert.equal(args[args.indexOf('--add-host') + 1], 'host.docker.internal:host-gateway');
    assert.equal(fs.readFileSync(`${seen}.env`, 'utf8'), 's3cr3t|AKIA1\n');
    fs.rmSync(dir, { recursive: true });
  });
});

describe('a secret in a command line', () => {
  it('is never in the error that quotes the command', async () => {
    const { addSecret } = await import('../../src/model/secrets.js');
    const { runCommand } = await import('../../src/services/command.js');
    addSecret('tok-1234567890');
    await assert.rejects(
      runCommand('sh', ['-c', 'echo "import failed for tok-1234567890" >&2; exit 3', 'token=tok-1234567890']),
      (error: Error) =>
        !error.message.includes('tok-1234567890') &&
        error.message.includes('token=***') &&
        error.message.includes('import failed for ***'),
    );
  });
});

describe("the run's Docker config", () => {
  it("keeps the runner's logins, names a loopback registry's login as buildkitd asks for it, adds cache-ref's", async () => {
    const { writeDockerConfig, removeDockerConfig } = await import('../../src/services/docker-config.js');
    const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-docker-'));
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-'));
    const auths = { 'ghcr.io': { auth: 'Z2hjcg==' }, '127.0.0.1:5999': { auth: 'bG9jYWw=' } };
    fs.writeFileSync(path.join(runner, 'config.json'), JSON.stringify({ auths, credsStore: 'pass' }));
    const saved = process.env['DOCKER_CONFIG'];
    process.env['DOCKER_CONFIG'] = runner;
    try {
      assert.equal(
        writeDockerConfig(workDir, undefined),
        undefined,
        "no login of the run's: the runner's serves",
      );
      const dir = writeDockerConfig(workDir, {
        secretEnv: {},
        hostGateway: true,
        registryAliases: { 'host.docker.internal:5999': '127.0.0.1:5999' },
        registryLogin: { host: 'registry.example.com', username: 'me', password: 'pw' },
      });
      assert.ok(dir);
      const written = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
        auths: Record<string, { auth: string }>;
        credsStore: string;
      };
      assert.equal(written.credsStore, 'pass');
      assert.deepEqual(written.auths['ghcr.io'], auths['ghcr.io']);
      assert.deepEqual(written.auths['host.docker.internal:5999'], auths['127.0.0.1:5999']);
      assert.equal(written.auths['registry.example.com']?.auth, Buffer.from('me:pw').toString('base64'));
      assert.equal(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
      removeDockerConfig(workDir);
      assert.equal(fs.existsSync(dir), false);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_CONFIG'];
      else process.env['DOCKER_CONFIG'] = saved;
      for (const made of [runner, workDir]) fs.rmSync(made, { recursive: true, force: true });
    }
  });
});

describe("asking an image's BuildKit version", () => {
  it('runs buildkitd --version in a labelled container of its own, and gives up in time', async () => {
    const { imageVersion } = await import('../../src/services/run-services.js');
    const { InfrastructureError } = await import('../../src/services/readiness.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-version-'));
    const seen = path.join(dir, 'seen');
    // A stand-in docker: writes down its arguments, answers as buildkitd does, or never when told to.
    const fake = path.join(dir, 'docker');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${seen}\n[ -e ${dir}/hang ] && exec sleep 600\necho 'buildkitd github.com/moby/buildkit v0.9.1 966bb9e'\n`,
      { mode: 0o755 },
    );
    try {
      assert.equal(await imageVersion(new Docker(fake), 'moby/buildkit:x', 'r1'), 'v0.9.1');
      const args = fs.readFileSync(seen, 'utf8').trim().split('\n');
      assert.deepEqual(args.slice(0, 2), ['run', '--rm']);
      assert.ok(args.includes('dev.lost-layer.run=r1'), 'labelled: a killed run leaves it to cleanup');
      assert.deepEqual(args.slice(args.indexOf('--entrypoint')), [
        '--entrypoint',
        'buildkitd',
        'moby/buildkit:x',
        '--version',
      ]);
      assert.ok(!args.includes('exec'), 'never docker exec into the daemon');
      fs.writeFileSync(path.join(dir, 'hang'), '');
      const started = Date.now();
      await assert.rejects(
        imageVersion(new Docker(fake), 'moby/buildkit:x', 'r1', 300),
        (error: Error) =>
          error instanceof InfrastructureError && /did not answer within 0.3 s/.test(error.message),
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
