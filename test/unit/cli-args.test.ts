import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fuzzCliArgs, parseCliArgs, usage } from '../../src/inputs/cli-args.js';
import { INPUT_NAMES } from '../../src/inputs/input-table.js';
import { parseSettings } from '../../src/inputs/settings.js';

describe('parseCliArgs', () => {
  it('takes nothing from an environment without the seed variables', () => {
    const request = parseCliArgs([], { HOME: '/root', PATH: '/usr/bin', RETRIES_X: '3' });
    assert.deepEqual(request, { help: false, inputs: {}, summaryFile: undefined });
  });

  it('maps the seed script variables to inputs', () => {
    const request = parseCliArgs([], {
      BUILDKIT_IMAGE: 'moby/buildkit:v0.10.6',
      RETRIES: '40',
      CACHE_RESET_FREQ: '2',
      NO_CLEANUP: '',
      USE_LOCAL_CACHE: '0',
      SKIP_CREATE_CACHE: 'no',
      SKIP_TESTS: '',
    });
    assert.deepEqual(request.inputs, {
      'buildkit-image': 'moby/buildkit:v0.10.6',
      retries: '40',
      'cache-reset-frequency': '2',
      cleanup: 'false',
      'cache-type': 'local',
      'cache-dir': 'cache',
      'create-cache': 'false',
      'run-attempts': 'false',
    });
  });

  it('counts an empty NO_CLEANUP as set', () => {
    assert.equal(parseCliArgs([], { NO_CLEANUP: '' }).inputs['cleanup'], 'false');
    assert.equal(parseCliArgs([], {}).inputs['cleanup'], undefined);
  });

  for (const [variable, expected] of [
    ['USE_LOCAL_CACHE', { 'cache-type': 'local', 'cache-dir': 'cache' }],
    ['SKIP_CREATE_CACHE', { 'create-cache': 'false' }],
    ['SKIP_TESTS', { 'run-attempts': 'false' }],
  ] as const) {
    it(`maps ${variable}, whatever its value, to ${JSON.stringify(expected)}`, () => {
      for (const setting of ['', '1', 'false']) {
        assert.deepEqual(parseCliArgs([], { [variable]: setting }).inputs, expected);
      }
    });
  }

  it('lets flags win over the variables', () => {
    const request = parseCliArgs(['--retries', '7', '--cleanup', 'true', '--cache-type=registry'], {
      RETRIES: '40',
      NO_CLEANUP: '1',
      USE_LOCAL_CACHE: '1',
      CACHE_RESET_FREQ: '3',
    });
    assert.deepEqual(request.inputs, {
      retries: '7',
      cleanup: 'true',
      'cache-type': 'registry',
      'cache-reset-frequency': '3',
    });
  });

  it('takes every action input as a flag', () => {
    const argv = INPUT_NAMES.flatMap((name) => [`--${name}`, `value of ${name}`]);
    const { inputs } = parseCliArgs(argv, {});
    assert.deepEqual(Object.keys(inputs).sort(), [...INPUT_NAMES].sort());
    for (const name of INPUT_NAMES) assert.equal(inputs[name], `value of ${name}`);
  });

  it('throws on an unknown flag', () => {
    assert.throws(() => parseCliArgs(['--retrys', '3'], {}), /retrys/);
    assert.throws(() => parseCliArgs(['--no-cleanup'], {}));
  });

  it('throws on a positional argument', () => {
    assert.throws(() => parseCliArgs(['moby/buildkit:v0.9.0'], {}));
  });

  it('throws on an input flag without its value', () => {
    assert.throws(() => parseCliArgs(['--retries'], {}));
  });

  it('asks for help with --help or -h', () => {
    assert.equal(parseCliArgs(['--help'], {}).help, true);
    assert.equal(parseCliArgs(['-h'], {}).help, true);
    assert.equal(parseCliArgs(['--retries', '3'], {}).help, false);
  });

  it('takes the summary file from --summary', () => {
    const request = parseCliArgs(['--summary', '/tmp/summary.md', '--retries', '3'], {});
    assert.equal(request.summaryFile, '/tmp/summary.md');
    assert.deepEqual(request.inputs, { retries: '3' });
    assert.equal(parseCliArgs([], {}).summaryFile, undefined);
  });

  it('gives inputs that parseSettings reads as the seed script meant', () => {
    const { inputs } = parseCliArgs(['--cache-dir', ''], { NO_CLEANUP: '', SKIP_TESTS: '', RETRIES: '8' });
    const settings = parseSettings(inputs, {
      workspace: process.cwd(),
      bundledRepro: fileURLToPath(new URL('../../fixtures/repro', import.meta.url)),
    });
    assert.equal(settings.cleanup, false);
    assert.equal(settings.runAttempts, false);
    assert.equal(settings.retries, 8);
  });
});

describe('usage', () => {
  it('names every input and the seed variables', () => {
    const text = usage();
    for (const name of INPUT_NAMES) assert.match(text, new RegExp(`^  --${name} +\\S`, 'm'), name);
    assert.match(text, /--retries +attempts to run \(default 20\)/);
    for (const variable of ['BUILDKIT_IMAGE', 'RETRIES', 'CACHE_RESET_FREQ', 'NO_CLEANUP', 'SKIP_TESTS']) {
      assert.ok(text.includes(variable), variable);
    }
  });
});

describe('the fuzz command', () => {
  it('renames its short flags, splits a flag at its =, and never a value that holds one', () => {
    const { inputs, outDir } = fuzzCliArgs([
      '--seed=5',
      '--case',
      '3',
      '--mirror-images',
      'lost-layer-testbed/alpine:latest=library/alpine:latest',
      '--out',
      '/tmp/x',
      '--buildkitd-container-options=--security-opt seccomp=unconfined',
    ]);
    assert.equal(outDir, '/tmp/x');
    assert.deepEqual(inputs, [
      '--fuzz',
      'true',
      '--fuzz-seed=5',
      '--fuzz-case',
      '3',
      '--mirror-images',
      'lost-layer-testbed/alpine:latest=library/alpine:latest',
      '--buildkitd-container-options=--security-opt seccomp=unconfined',
    ]);
    const request = parseCliArgs(inputs, {});
    assert.equal(request.inputs['mirror-images'], 'lost-layer-testbed/alpine:latest=library/alpine:latest');
    assert.equal(request.inputs['fuzz-seed'], '5');
    assert.equal(request.inputs['buildkitd-container-options'], '--security-opt seccomp=unconfined');
    assert.throws(() => fuzzCliArgs(['--out']), /--out needs a folder/);
  });
});
