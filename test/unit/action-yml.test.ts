import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_BUILDCTL_URL, INPUT_NAMES, INPUTS } from '../../src/inputs/input-table.js';
import { parseSettings, type PathContext } from '../../src/inputs/settings.js';
import { outputsOf } from '../../src/report/json-report.js';
import { fuzzOutputsOf } from '../../src/fuzz/fuzz-outputs.js';
import type { FuzzRunFacts } from '../../src/fuzz/fuzz-result.js';
import type { RunResult } from '../../src/model/run-result.js';

interface ActionInput {
  description?: unknown;
  required?: unknown;
  default?: unknown;
}

interface ActionYml {
  inputs: Record<string, ActionInput>;
  outputs: Record<string, { description?: unknown }>;
  runs: { using: string; main: string; post: string };
}

const actionYml = parse(
  fs.readFileSync(fileURLToPath(new URL('../../action.yml', import.meta.url)), 'utf8'),
) as ActionYml;
const bundledRepro = fileURLToPath(new URL('../../fixtures/repro', import.meta.url));

let paths: PathContext;
before(() => {
  paths = { workspace: fs.mkdtempSync(path.join(os.tmpdir(), 'action-yml-test-')), bundledRepro };
});
after(() => {
  fs.rmSync(paths.workspace, { recursive: true, force: true });
});

const ymlDefault = (name: string): unknown => actionYml.inputs[name]?.default;

describe('action.yml', () => {
  it('declares the inputs of INPUT_NAMES, in the same order', () => {
    assert.deepEqual(Object.keys(actionYml.inputs), [...INPUT_NAMES]);
  });

  it('runs dist/index.js on node24, main and post', () => {
    assert.equal(actionYml.runs.using, 'node24');
    assert.equal(actionYml.runs.main, 'dist/index.js');
    assert.equal(actionYml.runs.post, 'dist/index.js');
  });

  it('describes every input and output', () => {
    for (const [name, input] of Object.entries(actionYml.inputs)) {
      assert.equal(typeof input.description, 'string', name);
      assert.ok(String(input.description).trim().length > 0, name);
      assert.equal(input.required, false, `${name} is optional`);
    }
    for (const [name, output] of Object.entries(actionYml.outputs)) {
      assert.ok(typeof output.description === 'string' && output.description.trim() !== '', name);
    }
  });

  it('gives every default as a string', () => {
    for (const name of INPUT_NAMES) assert.equal(typeof ymlDefault(name), 'string', name);
  });

  it('has the defaults of the input table, and the table those parseSettings uses', () => {
    for (const input of INPUTS) {
      const written = 'actionDefault' in input ? input.actionDefault : input.default;
      assert.equal(ymlDefault(input.name), written, input.name);
    }
    const defaults = parseSettings({}, paths);
    assert.equal(ymlDefault('retries'), String(defaults.retries));
    assert.equal(ymlDefault('cache-reset-frequency'), String(defaults.cacheResetFrequency));
    assert.equal(ymlDefault('cache-type'), defaults.cacheType);
    assert.equal(ymlDefault('cache-reset-mode'), defaults.cacheResetMode);
    assert.equal(ymlDefault('output-type'), defaults.outputType);
    assert.equal(ymlDefault('attempt-timeout'), String(defaults.attemptTimeoutSeconds));
    assert.equal(ymlDefault('buildkit-image'), defaults.buildkitImage);
    assert.equal(ymlDefault('registry-image'), defaults.registryImage);
    assert.equal(ymlDefault('expect-paths'), defaults.expectPaths.join(','));
    assert.equal(ymlDefault('fail-on'), defaults.failOn.join(','));
    assert.equal(ymlDefault('fail-on-reproduce'), '');
    assert.equal(ymlDefault('mirror-upstream'), defaults.mirrorUpstream);
    assert.equal(ymlDefault('buildctl-url'), DEFAULT_BUILDCTL_URL);
    assert.equal(ymlDefault('buildctl-url'), defaults.buildctlUrl);
    for (const [name, value] of [
      ['create-cache', defaults.createCache],
      ['run-attempts', defaults.runAttempts],
      ['cleanup', defaults.cleanup],
      ['cache-binary', defaults.cacheBinary],
    ] as const) {
      assert.equal(ymlDefault(name), String(value), name);
    }
  });

  it('names, for every input, a field of Settings', () => {
    const defaults = parseSettings({}, paths);
    for (const input of INPUTS) assert.ok(input.setting in defaults, `${input.name}: ${input.setting}`);
  });

  it('gives, input by input, the same settings as leaving the input out', () => {
    const defaults = parseSettings({}, paths);
    for (const name of INPUT_NAMES) {
      const value = ymlDefault(name);
      // ${{ github.token }} is filled in by the runner; parseSettings has no default token.
      if (typeof value !== 'string' || value.startsWith('${{')) continue;
      assert.deepEqual(parseSettings({ [name]: value }, paths), defaults, `${name}: ${value}`);
    }
  });

  it('defaults github-token to the job token', () => {
    assert.equal(ymlDefault('github-token'), '${{ github.token }}');
  });

  it('declares exactly the outputs that outputsOf and, with fuzz, fuzzOutputsOf set', () => {
    const result: RunResult = {
      runId: 'r',
      verdict: {
        kind: 'clean',
        attemptsRun: 1,
        classes: { 'lost-layer': 0, 'content-differs': 0, 'config-differs': 0, intact: 1 },
      },
      records: [{ attempt: 1, freshState: true, resetMs: 300, durationMs: 1, outcome: { kind: 'intact' } }],
      buildkitVersion: 'v0.9.0',
      startedAt: '',
      finishedAt: '',
      daemonLogFiles: [],
    };
    assert.deepEqual(
      Object.keys(actionYml.outputs).sort(),
      [
        ...Object.keys(outputsOf(result, 'report.json')),
        ...Object.keys(fuzzOutputsOf({ schemaVersion: 1, run: {} as FuzzRunFacts, cases: [] }, 'r', 'd')),
      ].sort(),
    );
  });
});
