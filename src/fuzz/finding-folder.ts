/*
 * A finding as a bug report (issue 21, item 3): a folder a person can zip, read and paste into a
 * moby/buildkit issue, with every input the attempts built and the commands that reproduce it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FuzzCase } from './case-model.js';
import { writeCaseInput } from './case-files.js';
import { findingReadme, type ReproduceCommands } from './finding-readme.js';
import { groupKeyOf, signatureOf } from './findings.js';
import type { CaseResult, FuzzRunFacts } from './fuzz-result.js';

export interface FindingInput {
  fuzzCase: FuzzCase;
  result: CaseResult;
  facts: Pick<FuzzRunFacts, 'buildkitImage' | 'retries'>;
  /** The minimizer's smallest Dockerfile and its context folder, when it found one. */
  minimized?: { dockerfilePath: string; contextDir: string };
}

/** What the commands need to know of a finding. */
export interface CommandSpec {
  seed: number;
  caseNumber: number;
  cacheType: string;
  buildkitImage: string;
  retries: number;
  /** The cache was made from another version of the inputs (cache/). */
  changed: boolean;
  minimized: boolean;
}

/** Where the attempts' inputs, the cache's and the minimized ones are in a finding's folder. */
export const FOLDER_LAYOUT = {
  dockerfile: 'Dockerfile',
  context: 'context',
  cacheDockerfile: 'cache/Dockerfile',
  cacheContext: 'cache/context',
  minimizedDockerfile: 'minimized/Dockerfile',
  minimizedContext: 'minimized/context',
} as const;

/** Every path the checks read (`bin/sh`): it is in the base image, so only a lost layer removes it. */
const EXPECT_PATHS = 'bin/sh';

export function reproduceCommands(spec: CommandSpec): ReproduceCommands {
  const common = (dockerfile: string, context: string, cache: string[]) => [
    ...['--buildkit-image', spec.buildkitImage, '--cache-type', spec.cacheType],
    ...['--dockerfile', dockerfile, '--context', context, ...cache],
    ...['--retries', String(spec.retries), '--expect-paths', EXPECT_PATHS],
  ];
  const cache = spec.changed
    ? ['--cache-dockerfile', FOLDER_LAYOUT.cacheDockerfile, '--cache-context', FOLDER_LAYOUT.cacheContext]
    : [];
  const commands: ReproduceCommands = {
    check: common(FOLDER_LAYOUT.dockerfile, FOLDER_LAYOUT.context, cache),
    regenerate: [
      ...['fuzz', '--seed', String(spec.seed), '--case', String(spec.caseNumber)],
      ...['--buildkit-image', spec.buildkitImage, '--fuzz-cache-types', spec.cacheType],
    ],
  };
  // The minimizer shrinks one version of the inputs, which both the cache and the attempts are built from.
  if (spec.minimized)
    commands.checkMinimized = common(FOLDER_LAYOUT.minimizedDockerfile, FOLDER_LAYOUT.minimizedContext, []);
  return commands;
}

/** A folder name from a signature: readable words, and a hash so that two signatures never share one. */
export function signatureSlug(signature: string): string {
  const words = signature
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(signature).digest('hex').slice(0, 8);
  return `${words || 'finding'}-${hash}`;
}

/** The case's folder, relative to outDir; another backend's finding of the same case gets its own. */
function caseFolder(outDir: string, groupKey: string, result: CaseResult): string {
  const group = path.join('findings', signatureSlug(groupKey));
  const plain = path.join(group, `case-${result.seed}-${result.caseNumber}`);
  if (!fs.existsSync(path.join(outDir, plain))) return plain;
  const slug = result.cacheType.replace(/[^a-z0-9]+/gi, '-');
  const withBackend = path.join(group, `case-${result.seed}-${result.caseNumber}-${slug}`);
  // The same case, backend and signature written again (a run repeated into one folder): the new one wins.
  fs.rmSync(path.join(outDir, withBackend), { recursive: true, force: true });
  return withBackend;
}

/** The minimized inputs as the minimizer left them; a link stays a link with its target as written. */
function copyMinimized(minimized: NonNullable<FindingInput['minimized']>, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(minimized.dockerfilePath, path.join(dir, 'Dockerfile'));
  fs.cpSync(minimized.contextDir, path.join(dir, 'context'), {
    recursive: true,
    dereference: false,
    verbatimSymlinks: true,
    preserveTimestamps: true,
  });
}

/**
 * Writes findings/<slug of its group key>/case-<seed>-<caseNumber>/ under outDir and returns it relative to
 * outDir: the attempts' inputs (Dockerfile, context/), for a changed case the cache's (cache/), the
 * minimized ones (minimized/), finding.json (the case's result and the commands) and README.md.
 */
export function writeFindingFolder(outDir: string, input: FindingInput): string {
  const { fuzzCase, facts } = input;
  const result = withMinimizedText(input);
  // Recomputed, not taken from the result: the folder and the summary's group must agree. The folder is
  // the group's (its key), so that a bug's minimized case and its other cases sit side by side.
  const signature = signatureOf(result);
  const relative = caseFolder(outDir, groupKeyOf(result), result);
  const dir = path.join(outDir, relative);
  fs.mkdirSync(dir, { recursive: true });
  writeCaseInput(fuzzCase.changed?.input ?? fuzzCase.base, dir);
  if (fuzzCase.changed) writeCaseInput(fuzzCase.base, path.join(dir, 'cache'));
  if (input.minimized) copyMinimized(input.minimized, path.join(dir, 'minimized'));
  const commands = reproduceCommands({
    seed: result.seed,
    caseNumber: result.caseNumber,
    cacheType: result.cacheType,
    buildkitImage: facts.buildkitImage,
    retries: facts.retries,
    changed: fuzzCase.changed !== undefined,
    minimized: input.minimized !== undefined,
  });
  const findingDir = relative.split(path.sep).join('/');
  const recorded: CaseResult = { ...result, signature, findingDir };
  fs.writeFileSync(path.join(dir, 'finding.json'), `${JSON.stringify({ ...recorded, commands }, null, 2)}\n`);
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    findingReadme({ fuzzCase, result: recorded, buildkitImage: facts.buildkitImage, commands }),
  );
  return findingDir;
}

/** The result with the minimized Dockerfile's text, read from its file when the result lacks it. */
function withMinimizedText(input: FindingInput): CaseResult {
  const { result, minimized } = input;
  if (!minimized || result.minimizedDockerfile !== undefined) return result;
  return { ...result, minimizedDockerfile: fs.readFileSync(minimized.dockerfilePath, 'utf8') };
}
