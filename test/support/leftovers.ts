import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { ActionRun } from './action-runner.js';

const docker = (args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

/**
 * Containers, volumes (the run's own and those made for its images' declared VOLUMEs, all labelled) and
 * networks that still carry the label (`key` or `key=value`); with `since`, only those created after it.
 */
export function leftovers(label: string, since?: Date): string[] {
  const kinds = [
    {
      kind: 'container',
      list: ['ps', '--all'],
      field: 'Names',
      inspect: ['container', 'inspect'],
      created: '.Created',
    },
    {
      kind: 'volume',
      list: ['volume', 'ls'],
      field: 'Name',
      inspect: ['volume', 'inspect'],
      created: '.CreatedAt',
    },
    {
      kind: 'network',
      list: ['network', 'ls'],
      field: 'Name',
      inspect: ['network', 'inspect'],
      created: '.Created',
    },
  ];
  return kinds.flatMap(({ kind, list, field, inspect, created }) =>
    docker([...list, '--filter', `label=${label}`, '--format', `{{.${field}}}`])
      .filter((name) => {
        if (!since) return true;
        const [when] = docker([...inspect, '--format', `{{${created}}}`, name]);
        // Docker writes times three ways, with their offset; volumes to the second only, hence the slack.
        const parts = /(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d{1,3})?\d*(?:\s*(Z|[+-]\d\d:?\d\d))?/.exec(
          when ?? '',
        );
        if (!parts) return true;
        const offset = (parts[4] ?? 'Z').replace(/^([+-]\d\d)(\d\d)$/, '$1:$2');
        return Date.parse(`${parts[1]}T${parts[2]}${parts[3] ?? ''}${offset}`) >= since.getTime() - 1000;
      })
      .map((name) => `${kind} ${name}`),
  );
}

/** Image tags named after a registry published on 127.0.0.1: what filling a run's mirror leaves if cut short. */
export function mirrorTags(): string[] {
  return docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).filter((tag) =>
    tag.startsWith('127.0.0.1:'),
  );
}

/** A run of the bundled action that saved its run id, its post step passed, and nothing of it is left. */
export function assertNothingLeft(run: ActionRun): void {
  assert.ok(run.state['runId'], 'the main step saved its run id for the post step');
  assert.equal(run.post.exitCode, 0, run.post.stdout + run.post.stderr);
  assert.deepEqual(leftovers(`dev.lost-layer.run=${run.state['runId']}`), []);
}

/** A secret the run was given appears in no published place: the summary, the report, the outputs, the log. */
export function assertSecretHidden(run: ActionRun, secret: string): void {
  const report = run.outputs['report'] ? fs.readFileSync(run.outputs['report'], 'utf8') : '';
  assert.ok(!run.summary.includes(secret), 'the secret is in the job summary');
  assert.ok(!report.includes(secret), 'the secret is in the report');
  assert.ok(!JSON.stringify(run.outputs).includes(secret), 'the secret is in the outputs');
  // The runner masks what ::add-mask:: names; no other line may carry it.
  const lines = `${run.main.stdout}\n${run.post.stdout}`.split('\n').filter((line) => line.includes(secret));
  assert.ok(
    lines.every((line) => line === `::add-mask::${secret}`),
    `the secret outside its masking line: ${lines.join('\n')}`,
  );
}
