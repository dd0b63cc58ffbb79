import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BedSuite } from '../support/bed-suite.js';
import { assertNothingLeft } from '../support/leftovers.js';

/**
 * A cache made from yesterday's inputs, imported by a build of today's: the way every CI pipeline uses a
 * cache. The steps before the change come from the cache, the ones it reaches run, and the image must equal
 * today's inputs built without a cache, by files and config. Every step writes files, so no two cache
 * records share a result and the exporter's half of #2198 stays out of it (v0.9.1 would give config-differs
 * for that alone, with or without a change).
 */
const DOCKERFILE = [
  'FROM alpine:latest',
  'RUN mkdir -p /out && echo one > /out/one',
  'COPY a.txt /out/a.txt',
  'COPY b.txt /out/b.txt',
  'RUN cat /out/a.txt /out/b.txt > /out/ab.txt',
  '',
].join('\n');

function writeVersion(dir: string, dockerfile: string, b: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a, the same in both versions\n');
  fs.writeFileSync(path.join(dir, 'b.txt'), b);
}

describe('a cache made from other inputs (cache-dockerfile, cache-context)', () => {
  const suite = BedSuite.open();
  const releases = () => suite.bed.versions.filter((v) => v !== 'v0.9.0');

  /** Yesterday's version in `yesterday/`, today's in `today/`, in the runner's workspace. */
  function versions(edit: { dockerfile?: string; b?: string }): Record<string, string> {
    writeVersion(path.join(suite.dirs.workspace, 'yesterday'), DOCKERFILE, 'b, yesterday\n');
    writeVersion(
      path.join(suite.dirs.workspace, 'today'),
      edit.dockerfile ?? DOCKERFILE,
      edit.b ?? 'b, yesterday\n',
    );
    return { context: 'today', 'cache-context': 'yesterday', 'expect-paths': 'out/ab.txt' };
  }

  for (const version of ['v0.9.1', 'v0.10.6', 'newest']) {
    it(`${version}: a changed file: the steps before it from the cache, the rest run, the image today's: intact`, async (t) => {
      const release = version === 'newest' ? releases().at(-1) : version;
      if (!release || !suite.bed.versions.includes(release)) return t.skip(`${version} is not on the bed`);
      const run = await suite.act(
        suite.inputs(release, 'rootless', { ...versions({ b: 'b, today\n' }), retries: '8' }),
      );
      assert.equal(run.outputs['verdict'], 'clean', run.main.stdout);
      assert.equal(run.main.exitCode, 0);
      const report = JSON.parse(fs.readFileSync(run.outputs['report'] ?? '', 'utf8')) as {
        attempts: { freshState: boolean; outcome: { kind: string; stepsRan?: string[] } }[];
        configComparison?: { compared: boolean };
      };
      assert.equal(report.attempts.length, 8);
      for (const record of report.attempts) {
        assert.equal(record.outcome.kind, 'intact');
        // From a fresh state the changed steps run; later attempts find all in the daemon's own state.
        const expected = record.freshState
          ? ['COPY b.txt /out/b.txt', 'RUN cat /out/a.txt /out/b.txt > /out/ab.txt']
          : [];
        assert.deepEqual([...(record.outcome.stepsRan ?? ['(none recorded)'])].sort(), expected);
      }
      assert.deepEqual(report.configComparison, { compared: true }, 'config held to the reference too');
      assert.match(
        run.summary,
        /The cache was made from other inputs\. Attempt 1 \(fresh state\): ran `COPY b\.txt \/out\/b\.txt`, `RUN cat/,
      );
      assertNothingLeft(run);
    });
  }

  it('newest: a change that reaches the first step leaves the cache nothing to give: an error, never clean', async () => {
    const edited = DOCKERFILE.replace('echo one', 'echo uno');
    const run = await suite.act(
      suite.inputs(releases().at(-1) ?? '', 'rootless', {
        ...versions({ dockerfile: edited }),
        retries: '4',
      }),
    );
    assert.equal(run.outputs['verdict'], 'error', run.main.stdout);
    assert.match(run.main.stdout, /no step came from the imported cache/);
    assertNothingLeft(run);
  });
});
