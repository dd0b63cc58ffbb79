import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  CHANGE_KINDS,
  CONSTRUCTS,
  type BuildInput,
  type ContextEntry,
  type FuzzCase,
} from '../../src/fuzz/case-model.js';
import { CASE_MTIME, describeCase, writeCaseInput } from '../../src/fuzz/case-files.js';
import { coverage } from '../../src/fuzz/coverage.js';
import { constructsFor, generateCase } from '../../src/fuzz/generator.js';
import { caseRandom } from '../../src/fuzz/random.js';
import { parseDockerfile } from '../../src/minimize/dockerfile.js';

const SEED = 1;
const CASES = Array.from({ length: 300 }, (_, i) => generateCase(SEED, i));
const inputsOf = (c: FuzzCase): BuildInput[] => [c.base, ...(c.changed ? [c.changed.input] : [])];
const linesOf = (dockerfile: string) => dockerfile.split('\n').filter((l) => l !== '');

/** The context path a link points at, or undefined when it leaves the context. */
function linkTarget(entry: Extract<ContextEntry, { type: 'symlink' }>): string | undefined {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(entry.path), entry.target));
  return joined.startsWith('..') || path.posix.isAbsolute(entry.target) ? undefined : joined;
}

/**
 * The first RUN, COPY or ADD of the stages the last one starts from (by FROM), with those stages' lines up to
 * it: what a changed version must keep for the cache to have a step to give.
 */
function firstChainStep(dockerfile: string): { text: string; lines: string[] } | undefined {
  const stages: { name?: string; base: string; lines: string[] }[] = [];
  for (const i of parseDockerfile(dockerfile).instructions) {
    if (i.keyword === 'FROM')
      stages.push({ name: i.stageName, base: (i.base ?? '').toLowerCase(), lines: [] });
    stages.at(-1)?.lines.push(i.text);
  }
  const chain: typeof stages = [];
  for (let stage = stages.at(-1); stage; stage = stages.find((s) => s.name === stage?.base))
    chain.unshift(stage);
  const lines = chain.flatMap((s) => s.lines);
  const index = lines.findIndex((line) => /^(RUN|COPY|ADD) /.test(line));
  return index < 0 ? undefined : { text: lines[index] ?? '', lines: lines.slice(0, index + 1) };
}

/** Whether a step reads a context entry: a COPY/ADD source (a folder's tree, a link and its target, a wildcard
 * at the top) or a bind mount's source. */
function readBy(step: { text: string }, entry: ContextEntry, context: readonly ContextEntry[]): boolean {
  const words = step.text.split(' ').slice(1);
  const sources = step.text.startsWith('RUN')
    ? words.flatMap((w) => /source=([^,\s]+)/.exec(w)?.[1] ?? [])
    : words.filter((w) => !w.startsWith('--')).slice(0, -1);
  return sources.some((source) => {
    if (source.startsWith('*')) return !entry.path.includes('/') && entry.path.endsWith(source.slice(1));
    const named = context.find((e) => e.path === source);
    const target = named?.type === 'symlink' ? linkTarget(named) : undefined;
    return entry.path === source || entry.path.startsWith(`${source}/`) || entry.path === target;
  });
}

const FLAG = /^--([a-z]+)(?:=(\S+))?$/;

/** A stage as the build sees it: the files it surely holds, its folder, whether it runs as root. */
interface SimStage {
  name?: string;
  files: Set<string>;
  cwd: string;
  root: boolean;
}

/** The files a COPY/ADD source puts under `dest` (a folder when it ends in '/'), or undefined when missing. */
function copied(context: readonly ContextEntry[], source: string, dest: string): string[] | undefined {
  const into = (name: string) => (dest.endsWith('/') ? path.posix.join(dest, name) : dest);
  if (source.startsWith('*')) {
    const matches = context.filter(
      (e) => !e.path.includes('/') && e.type === 'file' && e.path.endsWith(source.slice(1)),
    );
    return matches.length > 0 ? matches.map((e) => into(e.path)) : undefined;
  }
  const entry = context.find((e) => e.path === source);
  if (entry?.type === 'dir') {
    const inside = context.filter((e) => e.type === 'file' && e.path.startsWith(`${source}/`));
    return inside.map((e) => path.posix.join(dest, e.path.slice(source.length + 1)));
  }
  if (entry?.type === 'symlink') {
    const target = linkTarget(entry);
    if (target === undefined || context.find((e) => e.path === target)?.type !== 'file') return undefined;
  }
  return entry ? [into(path.posix.basename(source))] : undefined;
}

/** A RUN's commands, checked against what the stage holds; the files they write are added to it. */
function runProblems(line: string, stage: SimStage, context: readonly ContextEntry[]): string[] {
  const problems: string[] = [];
  const bind = /--mount=type=bind,source=([^,]+),target=(\S+)/.exec(line);
  if (bind && context.find((e) => e.path === bind[1])?.type !== 'file')
    problems.push(`${line}: bind source missing`);
  if (/(>|mkdir|cp |ln |chmod|--mount)/.test(line) && !stage.root)
    problems.push(`${line}: writes as user 1000`);
  const command = line.replace(/^RUN (--mount=\S+ )?/, '');
  for (const part of command.split(' && ')) {
    const cp = /^cp (\S+) (\S+)$/.exec(part);
    const echo = /^echo \S+ > (\S+)$/.exec(part);
    if (cp?.[1] && cp[2]) {
      const from = path.posix.resolve(stage.cwd, cp[1]);
      if (!stage.files.has(from) && from !== bind?.[2]) problems.push(`${line}: cp of a missing ${from}`);
      const dest = cp[2].endsWith('/') ? path.posix.join(cp[2], path.posix.basename(from)) : cp[2];
      stage.files.add(path.posix.resolve(stage.cwd, dest));
    }
    if (echo?.[1]) stage.files.add(path.posix.resolve(stage.cwd, echo[1]));
  }
  return problems;
}

/** COPY or ADD: every source in the context (or, with --from, in an earlier stage); adds what it copies. */
function copyProblems(line: string, words: string[], stages: SimStage[], input: BuildInput): string[] {
  const stage = stages[stages.length - 1] as SimStage;
  const from = words.map((w) => FLAG.exec(w)).find((m) => m?.[1] === 'from')?.[2];
  const [dest = '', ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
  const absolute = path.posix.resolve(stage.cwd, dest) + (dest.endsWith('/') ? '/' : '');
  if (from !== undefined) {
    const source = stages.slice(0, -1).find((s) => s.name === from);
    if (!source) return [`${line}: --from names no earlier stage`];
    if (!source.files.has(sources[0] ?? '')) return [`${line}: ${sources[0]} is not in ${from}`];
    stage.files.add(path.posix.join(absolute, path.posix.basename(sources[0] ?? '')));
    return [];
  }
  const problems: string[] = [];
  for (const s of sources) {
    const files = copied(input.context, s, absolute);
    if (!files) problems.push(`${line}: ${s} is missing from the context`);
    for (const f of files ?? []) stage.files.add(f);
  }
  return problems;
}

/** Everything that would make the case fail to build, found by following it as BuildKit would. */
function buildProblems(input: BuildInput): string[] {
  const problems: string[] = [];
  const stages: SimStage[] = [];
  for (const line of linesOf(input.dockerfile)) {
    const [keyword = '', ...words] = line.split(' ');
    const stage = stages[stages.length - 1];
    if (keyword === 'FROM') {
      const parent = stages.find((s) => s.name === words[0]);
      if (words[0] !== 'alpine:latest' && !parent) problems.push(`${line}: no such earlier stage`);
      const files = new Set(parent?.files ?? ['/etc/passwd', '/etc/group']);
      stages.push({ name: words[2], files, cwd: parent?.cwd ?? '/', root: parent?.root ?? true });
    } else if (!stage) problems.push(`${line}: before FROM`);
    else if (keyword === 'USER') stage.root = words[0] === '0';
    else if (keyword === 'WORKDIR') stage.cwd = path.posix.resolve(stage.cwd, words[0] ?? '');
    else if (keyword === 'COPY' || keyword === 'ADD')
      problems.push(...copyProblems(line, words, stages, input));
    else if (keyword === 'RUN') problems.push(...runProblems(line, stage, input.context));
  }
  return problems;
}

describe('generateCase', () => {
  it('reaches every construct over 300 cases of one seed', () => {
    const used = new Set(CASES.flatMap((c) => c.constructs));
    assert.deepEqual(
      CONSTRUCTS.filter((c) => !used.has(c)),
      [],
    );
  });

  it('reaches every kind of change', () => {
    const used = new Set(CASES.flatMap((c) => c.changed?.changes.map((ch) => ch.kind) ?? []));
    assert.deepEqual(
      CHANGE_KINDS.filter((k) => !used.has(k)),
      [],
    );
  });

  it('gives the same case for the same (seed, case), whatever was generated before', () => {
    assert.deepEqual(generateCase(SEED, 57), CASES[57]);
    assert.deepEqual(generateCase(9, 3), generateCase(9, 3));
    assert.deepEqual(caseRandom(5, 6).next(), caseRandom(5, 6).next());
  });

  it('gives different Dockerfiles for different case numbers and seeds, mostly', () => {
    assert.ok(new Set(CASES.map((c) => c.base.dockerfile)).size >= 270);
    const other = CASES.slice(0, 50).filter(
      (c, i) => generateCase(2, i).base.dockerfile !== c.base.dockerfile,
    );
    assert.ok(other.length >= 45);
  });

  it('writes Dockerfiles that parse, start with FROM alpine:latest and have 3 to 12 instructions', () => {
    for (const input of CASES.flatMap(inputsOf)) {
      const lines = linesOf(input.dockerfile);
      const parsed = parseDockerfile(input.dockerfile);
      assert.equal(parsed.instructions.length, lines.length, input.dockerfile);
      assert.deepEqual(parsed.directives, []);
      assert.match(lines[0] ?? '', /^FROM alpine:latest( AS s0)?$/);
      assert.ok(lines.length >= 3 && lines.length <= 12, input.dockerfile);
      assert.ok(parsed.instructions.some((i) => ['RUN', 'COPY', 'ADD'].includes(i.keyword)));
    }
  });

  it('writes cases that build: sources in the context, earlier stages, root for every write', () => {
    for (const c of CASES) {
      for (const input of inputsOf(c)) assert.deepEqual(buildProblems(input), [], describeCase(c));
    }
  });

  it('keeps commands deterministic and offline', () => {
    for (const line of CASES.flatMap((c) => inputsOf(c).flatMap((i) => linesOf(i.dockerfile)))) {
      if (line.startsWith('RUN')) assert.doesNotMatch(line, /date|\$RANDOM|\/dev\/urandom|wget|curl/);
    }
  });

  it('keeps contexts small, named plainly, with links inside the context', () => {
    for (const input of CASES.flatMap(inputsOf)) {
      assert.ok(input.context.length >= 1 && input.context.length <= 8);
      for (const entry of input.context) {
        assert.match(entry.path, /^[a-z0-9._/-]+$/);
        if (entry.type === 'symlink') assert.notEqual(linkTarget(entry), undefined, entry.target);
        if (entry.type === 'file') assert.ok(entry.content.length >= 1 && entry.content.length <= 4096);
        const parent = path.posix.dirname(entry.path);
        if (parent !== '.') assert.equal(input.context.find((e) => e.path === parent)?.type, 'dir');
      }
    }
  });

  it('uses only the constructs it is allowed', () => {
    const allowed = constructsFor('v0.8.3');
    for (let i = 0; i < 200; i++) {
      const c = generateCase(3, i, { constructs: allowed });
      assert.deepEqual(
        c.constructs.filter((k) => !allowed.includes(k)),
        [],
      );
      assert.doesNotMatch(c.base.dockerfile, /--link/);
    }
    const narrow = generateCase(3, 1, { constructs: ['env'] });
    assert.ok(linesOf(narrow.base.dockerfile).length >= 3);
  });

  it('has a changed version as often as asked', () => {
    assert.equal(
      CASES.slice(0, 40).filter((_, i) => generateCase(SEED, i, { changedShare: 0 }).changed).length,
      0,
    );
    // Always, but for a case whose kept step would copy from another stage (see below).
    const always = CASES.map((_, i) => generateCase(SEED, i, { changedShare: 1 }));
    const unchanged = always.filter((c) => !c.changed);
    assert.ok(unchanged.length < 0.1 * always.length, String(unchanged.length));
    for (const c of unchanged) assert.match(firstChainStep(c.base.dockerfile)?.text ?? '', /^COPY --from=/);
    const share = CASES.filter((c) => c.changed).length / CASES.length;
    assert.ok(share > 0.35 && share < 0.65, String(share));
  });
});

describe('changed versions', () => {
  const changed = CASES.filter((c) => c.changed);
  const single = (kind: string) =>
    changed.filter((c) => c.changed?.changes.length === 1 && c.changed.changes[0]?.kind === kind);
  const entry = (input: BuildInput, p: string | undefined) => input.context.find((e) => e.path === p);
  const without = (input: BuildInput, p: string | undefined) => input.context.filter((e) => e.path !== p);

  it('differ from their base, with one to three described changes', () => {
    for (const c of changed) {
      assert.notDeepEqual(c.changed?.input, c.base);
      assert.ok((c.changed?.changes.length ?? 0) >= 1 && (c.changed?.changes.length ?? 0) <= 3);
      for (const ch of c.changed?.changes ?? []) assert.ok(ch.description.length > 10);
    }
  });

  it('change exactly the content, the mode or the target they name', () => {
    for (const kind of ['file-content', 'file-mode', 'symlink-target'] as const) {
      assert.ok(single(kind).length > 0, kind);
      for (const c of single(kind)) {
        const [input, ch] = [c.changed?.input as BuildInput, c.changed?.changes[0]];
        assert.equal(input.dockerfile, c.base.dockerfile);
        assert.deepEqual(without(input, ch?.path), without(c.base, ch?.path));
        assert.notDeepEqual(entry(input, ch?.path), entry(c.base, ch?.path));
        assert.match(ch?.description ?? '', new RegExp(ch?.path ?? '-'));
      }
    }
  });

  it('add or remove exactly the file they name, the Dockerfile unchanged', () => {
    for (const c of [...single('file-added'), ...single('file-removed')]) {
      const [input, ch] = [c.changed?.input as BuildInput, c.changed?.changes[0]];
      assert.equal(input.dockerfile, c.base.dockerfile);
      assert.deepEqual(without(input, ch?.path), without(c.base, ch?.path));
      assert.equal(entry(ch?.kind === 'file-added' ? c.base : input, ch?.path), undefined);
      assert.notEqual(entry(ch?.kind === 'file-added' ? input : c.base, ch?.path), undefined);
    }
  });

  it('rename a file, and update the Dockerfile exactly when it says so', () => {
    assert.ok(single('file-name').length > 0);
    for (const c of single('file-name')) {
      const [input, ch] = [c.changed?.input as BuildInput, c.changed?.changes[0]];
      const from = /^(\S+) renamed to/.exec(ch?.description ?? '')?.[1];
      const [before, after] = [entry(c.base, from), entry(input, ch?.path)];
      assert.ok(before?.type === 'file' && after?.type === 'file');
      assert.equal(after.content, before.content);
      assert.equal(entry(input, from), undefined);
      const updated = ch?.description.includes('updated to match') ?? false;
      assert.equal(input.dockerfile !== c.base.dockerfile, updated, ch?.description);
    }
  });

  it('leave alone the first step the last stage starts from, its stages up to it and what it reads', () => {
    for (const c of changed) {
      const [before, after] = [c.base, c.changed?.input as BuildInput];
      const kept = firstChainStep(before.dockerfile);
      assert.ok(kept && !kept.text.startsWith('COPY --from='), before.dockerfile);
      assert.deepEqual(firstChainStep(after.dockerfile), kept, `${before.dockerfile}\n${after.dockerfile}`);
      const reads = (input: BuildInput) => input.context.filter((e) => readBy(kept, e, before.context));
      assert.deepEqual(reads(after), reads(before), `${kept.text}: ${JSON.stringify(c.changed?.changes)}`);
    }
  });

  it('edit one instruction only', () => {
    assert.ok(single('instruction-edited').length > 0);
    for (const c of single('instruction-edited')) {
      const [a, b] = [linesOf(c.base.dockerfile), linesOf(c.changed?.input.dockerfile ?? '')];
      assert.equal(a.length, b.length);
      assert.equal(a.filter((line, i) => line !== b[i]).length, 1);
      assert.deepEqual(c.changed?.input.context, c.base.context);
    }
  });
});

describe('constructsFor', () => {
  it('leaves out what the built-in frontend of a release lacks', () => {
    const v083 = constructsFor('v0.8.3');
    assert.ok(!v083.includes('copy-link'));
    assert.ok(
      v083.includes('run-mount-cache') && v083.includes('run-mount-bind') && v083.includes('copy-chmod'),
    );
    assert.ok(!constructsFor('v0.9.1').includes('copy-link'));
    const v07 = constructsFor('v0.7.0');
    for (const lacking of ['run-mount-cache', 'run-mount-bind', 'copy-chmod', 'copy-link'] as const)
      assert.ok(!v07.includes(lacking), lacking);
    assert.ok(constructsFor('v0.10.0').includes('copy-link'));
    assert.ok(constructsFor('0.10.0-rc1').includes('copy-link'));
    assert.deepEqual(constructsFor('v0.34.2'), [...CONSTRUCTS]);
    assert.deepEqual(constructsFor('latest'), [...CONSTRUCTS]);
    assert.deepEqual(constructsFor('3f1a2b4'), [...CONSTRUCTS]);
  });
});

describe('writeCaseInput', () => {
  it('writes the Dockerfile beside the context, with modes and link targets as modelled', () => {
    const c = CASES.find((x) => x.base.context.some((e) => e.type === 'symlink') && x.changed) as FuzzCase;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-case-'));
    try {
      for (const input of inputsOf(c)) {
        const where = path.join(dir, input === c.base ? 'base' : 'changed');
        const written = writeCaseInput(input, where);
        assert.equal(fs.readFileSync(written.dockerfile, 'utf8'), input.dockerfile);
        assert.equal(written.context, path.join(where, 'context'));
        for (const e of input.context) {
          const at = path.join(written.context, ...e.path.split('/'));
          const stat = fs.lstatSync(at);
          if (e.type === 'symlink') assert.equal(fs.readlinkSync(at), e.target);
          else assert.equal(stat.mode & 0o777, e.mode, e.path);
          if (e.type === 'file') assert.equal(fs.readFileSync(at, 'utf8'), e.content);
          if (e.type === 'dir') assert.ok(stat.isDirectory());
          assert.equal(stat.mtimeMs, CASE_MTIME.getTime(), e.path);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('describeCase and coverage', () => {
  it('says the case, the seed, the stages and the changes in one line', () => {
    const c = CASES.find((x) => x.changed) as FuzzCase;
    const line = describeCase(c);
    assert.match(
      line,
      new RegExp(`^case ${c.caseNumber} \\(seed ${SEED}\\): \\d+ stages?, \\d+ instructions`),
    );
    assert.match(line, /; changed: /);
    assert.doesNotMatch(line, /\n/);
  });

  it('counts per 100 cases', () => {
    const cov = coverage(CASES);
    for (const construct of CONSTRUCTS) assert.ok(cov.constructs[construct] > 0, construct);
    for (const kind of CHANGE_KINDS) assert.ok(cov.changes[kind] > 0, kind);
    const runs = CASES.filter((c) => c.constructs.includes('run-write')).length;
    assert.equal(cov.constructs['run-write'], Math.round((runs * 1000) / 300) / 10);
    assert.equal(coverage([]).constructs.env, 0);
  });
});
