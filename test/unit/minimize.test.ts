import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { seededRandom } from '../../scripts/lib/seeded-random.js';
import { listContextFiles, writeCandidate } from '../../src/minimize/candidate-files.js';
import { attemptsForConfidence, detectionChance } from '../../src/minimize/confidence.js';
import { ddmin } from '../../src/minimize/delta-debugging.js';
import {
  buildsALayer,
  foldEmptyStages,
  parseDockerfile,
  renderDockerfile,
  unreachedStages,
} from '../../src/minimize/dockerfile.js';
import type { Judgement } from '../../src/model/minimization.js';

/** The padded fixture's removable instructions, by a short name. */
const PADDED = [
  'WORKDIR',
  'ENV',
  'LABEL',
  'COPY a',
  'RUN 1',
  'COPY b',
  'RUN 2',
  'USER',
  'RUN 3',
  'COPY c',
  'RUN done',
];

/** A deterministic judge: reproduces when `needed` are all kept; invalid when a kept item lacks its dependency. */
function scripted(needed: string[], dependsOn: Record<string, string> = {}) {
  const seen: string[] = [];
  const judge = async (subset: readonly string[]): Promise<Judgement> => {
    seen.push(subset.join(','));
    if (subset.some((item) => dependsOn[item] && !subset.includes(dependsOn[item]))) return 'invalid';
    return needed.every((n) => subset.includes(n)) ? 'reproduces' : 'does-not-reproduce';
  };
  return { judge, seen };
}

describe('ddmin over a scripted judge', () => {
  it('finds the two instructions that lose the layer, and proves it 1-minimal', async () => {
    const { judge, seen } = scripted(['COPY c', 'RUN done']);
    const result = await ddmin({ items: PADDED, judge, outOfTime: () => false });
    assert.deepEqual(result.smallest, ['COPY c', 'RUN done']);
    assert.equal(result.proven, true);
    // Every single removal from the result was judged, and none reproduced.
    assert.ok(seen.includes('RUN done') && seen.includes('COPY c'));
    // Nothing judged twice, and the count is what the judge saw.
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(result.judged, seen.length);
  });

  it('keeps what a needed line depends on (a candidate without it is invalid, not clean)', async () => {
    const { judge } = scripted(['COPY b', 'RUN 2'], { 'RUN 2': 'WORKDIR' });
    const result = await ddmin({ items: PADDED, judge, outOfTime: () => false });
    assert.deepEqual(result.smallest, ['WORKDIR', 'COPY b', 'RUN 2']);
    assert.equal(result.proven, true);
    assert.ok(result.invalid > 0);
  });

  it('tries the empty list last: a single item that is not needed goes too', async () => {
    const { judge } = scripted([]);
    const result = await ddmin({ items: ['only'], judge, outOfTime: () => false });
    assert.deepEqual(result.smallest, []);
    assert.equal(result.proven, true);
  });

  it('keeps the whole list when every removal stops the loss', async () => {
    const { judge } = scripted(['a', 'b', 'c']);
    const result = await ddmin({ items: ['a', 'b', 'c'], judge, outOfTime: () => false });
    assert.deepEqual(result.smallest, ['a', 'b', 'c']);
    assert.equal(result.proven, true);
  });

  it('stops at the time budget with the smallest seen to reproduce, not proven', async () => {
    const { judge, seen } = scripted(['COPY c', 'RUN done']);
    const result = await ddmin({ items: PADDED, judge, outOfTime: () => seen.length >= 3 });
    assert.equal(result.proven, false);
    assert.equal(result.judged, 3);
    assert.ok(result.smallest.includes('COPY c') && result.smallest.includes('RUN done'));
    assert.ok(result.smallest.length < PADDED.length, 'three candidates already halved it');
  });

  it('passes an error of the judge on: an infrastructure failure is no judgement', async () => {
    await assert.rejects(
      ddmin({
        items: PADDED,
        judge: () => Promise.reject(new Error('registry gone')),
        outOfTime: () => false,
      }),
      /registry gone/,
    );
  });
});

describe('ddmin over a flaky judge (a loss at a set rate per attempt)', () => {
  const needed = ['COPY c', 'RUN done'];
  const truly = (subset: readonly string[]) => needed.every((n) => subset.includes(n));

  async function search(seed: number, rate: number, attempts: number) {
    const random = seededRandom(seed);
    const judge = async (subset: readonly string[]): Promise<Judgement> => {
      if (!truly(subset)) return 'does-not-reproduce';
      for (let i = 0; i < attempts; i++) if (random() < rate) return 'reproduces';
      return 'does-not-reproduce';
    };
    return ddmin({ items: PADDED, judge, outOfTime: () => false });
  }

  it('never returns a list that does not reproduce, and at the stated risk almost always the true minimum', async () => {
    const rate = 0.15;
    const attempts = attemptsForConfidence(rate, 0.99);
    assert.equal(attempts, 29);
    let exact = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const result = await search(seed, rate, attempts);
      assert.ok(truly(result.smallest), `seed ${seed}: ${result.smallest.join(', ')}`);
      if (result.smallest.length === needed.length) exact += 1;
    }
    // Each judgement of a reproducing candidate misses with a chance of at most 1%, and a search makes a
    // handful of them: the true minimum in at least 95% of searches is what the risk promises.
    assert.ok(exact >= 190, `true minimum in ${exact} of 200`);
  });

  it('without the stated number of attempts (one per candidate) the search mostly stops too early', async () => {
    let exact = 0;
    for (let seed = 1; seed <= 200; seed++) {
      if ((await search(seed, 0.15, 1)).smallest.length === needed.length) exact += 1;
    }
    assert.ok(exact < 40, `true minimum in ${exact} of 200 with one attempt per candidate`);
  });
});

describe('attemptsForConfidence', () => {
  it('is the least n whose chance of a loss reaches the confidence', () => {
    for (const [rate, confidence, n] of [
      [0.15, 0.99, 29],
      [0.2, 0.99, 21],
      [0.1, 0.99, 44],
      [0.5, 0.75, 2],
      [0.9, 0.99, 2],
      [0.01, 0.99, 459],
    ] as const) {
      const found = attemptsForConfidence(rate, confidence);
      assert.equal(found, n, `rate ${rate}, confidence ${confidence}`);
      assert.ok(detectionChance(rate, found) >= confidence - 1e-12);
      if (found > 1) assert.ok(detectionChance(rate, found - 1) < confidence);
    }
  });

  it('needs one attempt when every attempt loses, caps a tiny rate, and refuses a rate of zero', () => {
    assert.equal(attemptsForConfidence(1, 0.99), 1);
    assert.equal(attemptsForConfidence(1e-9, 0.99), 10_000);
    assert.throws(() => attemptsForConfidence(0, 0.99), RangeError);
    assert.throws(() => attemptsForConfidence(0.1, 1), RangeError);
  });
});

describe('parseDockerfile', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    '# escape=\\',
    'ARG BASE=alpine:latest',
    'FROM ${BASE} AS build',
    '# a comment the candidates drop',
    '',
    'RUN echo 1 \\',
    '  # a comment inside the line',
    '  && echo 2',
    'run <<EOT',
    'echo heredoc',
    'EOT',
    'COPY --chown=1:1 a.txt /srv/',
    'FROM build',
    'ENV A=1',
  ].join('\n');

  it('keeps parser directives, splits instructions with their continuation and heredoc lines', () => {
    const parsed = parseDockerfile(text);
    assert.deepEqual(parsed.directives, ['# syntax=docker/dockerfile:1', '# escape=\\']);
    assert.deepEqual(
      parsed.instructions.map((i) => i.keyword),
      ['ARG', 'FROM', 'RUN', 'RUN', 'COPY', 'FROM', 'ENV'],
    );
    assert.equal(parsed.instructions[2]?.text, 'RUN echo 1 \\\n  # a comment inside the line\n  && echo 2');
    assert.equal(parsed.instructions[3]?.text, 'run <<EOT\necho heredoc\nEOT');
  });

  it('renders a candidate: directives, then the kept instructions, without the comments between them', () => {
    const parsed = parseDockerfile(text);
    const kept = parsed.instructions.filter((i) => ['FROM', 'COPY'].includes(i.keyword));
    assert.equal(
      renderDockerfile(parsed.directives, kept),
      '# syntax=docker/dockerfile:1\n# escape=\\\nFROM ${BASE} AS build\nCOPY --chown=1:1 a.txt /srv/\nFROM build\n',
    );
  });

  it('reads CRLF files and says whether anything makes a layer', () => {
    const parsed = parseDockerfile('FROM alpine\r\nENV A=1\r\nLABEL b=2\r\n');
    assert.deepEqual(
      parsed.instructions.map((i) => i.text),
      ['FROM alpine', 'ENV A=1', 'LABEL b=2'],
    );
    assert.equal(buildsALayer(parsed.instructions), false);
    assert.equal(buildsALayer(parseDockerfile('FROM a\nadd x /\n').instructions), true);
  });

  it('counts only the layers of stages the last stage reaches (by FROM, COPY --from name or index)', () => {
    const builds = (text: string) => buildsALayer(parseDockerfile(text).instructions);
    assert.equal(builds('FROM a AS tools\nRUN x\nFROM a\nENV A=1\n'), false, 'a stage nothing reaches');
    assert.equal(builds('FROM a AS Tools\nRUN x\nFROM tools\nENV A=1\n'), true, 'FROM a stage, any case');
    assert.equal(builds('FROM a AS tools\nRUN x\nFROM a\nCOPY --from=tools /x /y\n'), true);
    assert.equal(builds('FROM a\nRUN x\nFROM b\nLABEL l=1\nFROM c\nCOPY --from=1 /x /y\n'), true, 'a COPY');
    assert.equal(builds('FROM a\nRUN x\nFROM b\nFROM tools\n'), false, 'a later stage is an image');
    assert.equal(builds('ARG B=a\nFROM ${B}\nWORKDIR /x\n'), false);
    assert.equal(builds(''), false);
  });

  it('names the stages the last one does not reach, FROM and all', () => {
    const unreached = (text: string) =>
      unreachedStages(parseDockerfile(text).instructions).map((i) => i.text);
    assert.deepEqual(unreached('ARG B=a\nFROM ${B} AS tools\nFROM ${B}\nRUN echo 1\n'), [
      'FROM ${B} AS tools',
    ]);
    assert.deepEqual(unreached('FROM a AS x\nRUN 1\nFROM a AS y\nRUN 2\nFROM a\nCOPY --from=x /1 /\n'), [
      'FROM a AS y',
      'RUN 2',
    ]);
    assert.deepEqual(unreached('FROM a AS x\nFROM x AS y\nFROM y\n'), []);
    assert.deepEqual(
      unreached('FROM a AS x\nRUN 1\nFROM a\nRUN --mount=type=bind,from=x,target=/t true\n'),
      [],
      'RUN --mount from= reaches a stage',
    );
    // A stage named by its index: dropping an earlier one would renumber it, so none is offered.
    assert.deepEqual(unreached('FROM a AS unused\nFROM a\nRUN 1\nFROM b\nCOPY --from=1 /x /y\n'), []);
  });

  it('folds a stage holding only its FROM into the stages that start from it', () => {
    const fold = (text: string) =>
      foldEmptyStages(parseDockerfile(text).instructions)?.map((i) => `${i.text} (${i.base ?? ''})`);
    assert.deepEqual(fold('FROM a AS s0\nFROM s0 AS s1\nRUN 1\n'), ['FROM a AS s1 (a)', 'RUN 1 ()']);
    assert.deepEqual(
      fold('FROM a:1 AS x\nFROM X AS y\nFROM --platform=p y AS z\nRUN 1\nFROM a\nCOPY --from=z /1 /\n'),
      ['FROM --platform=p a:1 AS z (a:1)', 'RUN 1 ()', 'FROM a (a)', 'COPY --from=z /1 / ()'],
      'a chain of empty stages folds into the first non-empty one, whatever the case of the name',
    );
    assert.equal(fold('FROM a AS s0\nRUN 1\nFROM s0\nRUN 2\n'), undefined, 'no stage is empty');
    assert.equal(fold('FROM a AS s0\nRUN 1\nFROM s0 AS s1\n'), undefined, 'the last stage stays');
    assert.equal(fold('FROM a AS s0\nFROM b\nCOPY --from=s0 /1 /\n'), undefined, 'read by --from');
    assert.equal(fold('FROM a AS s0\nFROM b\nRUN --mount=from=s0,target=/t 1\n'), undefined);
    assert.equal(fold('FROM a AS s0\nFROM 0 AS s1\nRUN 1\n'), undefined, 'a stage named by index');
    assert.equal(fold('FROM --platform=p a AS s0\nFROM s0\nRUN 1\n'), undefined, 'its flags would go');
    assert.equal(fold('ARG S=s0\nFROM a AS s0\nFROM ${S}\nRUN 1\n'), undefined, 'by variable');
  });

  it('takes a reference through a variable as reaching any earlier stage', () => {
    const builds = (text: string) => buildsALayer(parseDockerfile(text).instructions);
    assert.equal(builds('ARG B=build\nFROM a AS build\nRUN x\nFROM ${B}\nENV A=1\n'), true);
    assert.equal(builds('ARG B=alpine\nFROM a AS build\nRUN x\nFROM ${B}\nENV A=1\n'), false, 'an image');
    assert.equal(builds('FROM a AS build\nRUN x\nFROM $UNSET\nENV A=1\n'), true, 'unresolved: any');
    assert.equal(builds('ARG S=build\nFROM a AS build\nRUN x\nFROM a\nCOPY --from=${S} /x /y\n'), true);
  });

  it('parses the padded fixture into twelve instructions', () => {
    const fixture = fs.readFileSync(
      new URL('../../fixtures/minimize/padded/Dockerfile', import.meta.url),
      'utf8',
    );
    assert.equal(parseDockerfile(fixture).instructions.length, 12);
  });
});

describe('candidate files', () => {
  it('lists the context without the Dockerfile in it, and writes a candidate with only the chosen files', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'candidate-test-'));
    const context = path.join(root, 'ctx');
    fs.mkdirSync(path.join(context, 'docs', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM a\n');
    fs.writeFileSync(path.join(context, 'a.txt'), 'a\n');
    fs.writeFileSync(path.join(context, '.dockerignore'), 'x\n');
    fs.writeFileSync(path.join(context, 'docs', 'deep', 'b.txt'), 'b\n', { mode: 0o751 });
    fs.symlinkSync('a.txt', path.join(context, 'link'));
    const files = listContextFiles(context, path.join(context, 'Dockerfile'));
    assert.deepEqual(files, ['.dockerignore', 'a.txt', 'docs/deep/b.txt', 'link']);

    const written = writeCandidate(path.join(root, 'cand'), 'FROM a\nCOPY . /\n', context, [
      'docs/deep/b.txt',
      'link',
    ]);
    assert.equal(fs.readFileSync(written.dockerfile, 'utf8'), 'FROM a\nCOPY . /\n');
    assert.deepEqual(listContextFiles(written.context, written.dockerfile), ['docs/deep/b.txt', 'link']);
    assert.equal(fs.statSync(path.join(written.context, 'docs', 'deep', 'b.txt')).mode & 0o777, 0o751);
    assert.equal(fs.readlinkSync(path.join(written.context, 'link')), 'a.txt');
    // Written again, a candidate folder holds only the new choice.
    writeCandidate(path.join(root, 'cand'), 'FROM a\n', context, []);
    assert.deepEqual(listContextFiles(written.context, written.dockerfile), []);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
