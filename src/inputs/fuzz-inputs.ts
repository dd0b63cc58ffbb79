import { inputGiven, inputText, type RawInputs } from './input-table.js';
import type { FuzzSettings, Settings } from './settings-types.js';
import { boolean, integer, InputError, list, oneOf, versionFromImageTag } from './validators.js';
import { cacheSettingsInputs } from './backend-inputs.js';
import { backendProblem, CACHE_TYPES, releaseProblem } from '../backends/backends.js';

/**
 * The fuzzer's inputs (fuzz-*): undefined when fuzz is false, and then none of them may be given. A fuzz run
 * makes its own Dockerfiles, so it takes no dockerfile or context, and makes its caches, so no earlier one.
 */
export function fuzzInputs(
  raw: RawInputs,
  settings: Pick<
    Settings,
    'cacheType' | 'createCache' | 'cacheOptions' | 'cacheSettings' | 'buildkitImage' | 'cacheBuildkitImage'
  >,
): FuzzSettings | undefined {
  const names = [
    'fuzz-seed',
    'fuzz-cases',
    'fuzz-case',
    'fuzz-budget',
    'fuzz-shard',
    'fuzz-cache-types',
  ] as const;
  if (!boolean('fuzz', inputText(raw, 'fuzz'))) {
    const given = names.find((name) => inputGiven(raw, name));
    if (given) throw new InputError(given, 'is used with fuzz: true only');
    return undefined;
  }
  for (const input of ['dockerfile', 'context', 'cache-dockerfile', 'cache-context', 'expect-paths'] as const)
    if (inputGiven(raw, input))
      throw new InputError(input, 'fuzz makes its own Dockerfiles and contexts, and knows what they hold');
  if (!settings.createCache) throw new InputError('create-cache', 'false: fuzz makes a cache for every case');
  // Every case is its own run: kept, a long fuzz run would fill the machine.
  if (!boolean('cleanup', inputText(raw, 'cleanup')))
    throw new InputError('cleanup', 'false: fuzz removes each case as it ends');
  const caseText = inputText(raw, 'fuzz-case');
  if (caseText && inputGiven(raw, 'fuzz-cases'))
    throw new InputError('fuzz-cases', 'fuzz-case runs one case only: give one of the two');
  return {
    seed: integer('fuzz-seed', inputText(raw, 'fuzz-seed'), 0, 2 ** 31 - 1),
    cases: integer('fuzz-cases', inputText(raw, 'fuzz-cases'), 1, 100_000),
    ...(caseText ? { onlyCase: integer('fuzz-case', caseText, 0, 10_000_000) } : {}),
    budgetSeconds: integer('fuzz-budget', inputText(raw, 'fuzz-budget'), 0, 7 * 86_400),
    shard: shard(inputText(raw, 'fuzz-shard')),
    cacheTypes: cacheTypes(inputText(raw, 'fuzz-cache-types'), settings),
  };
}

function shard(text: string): FuzzSettings['shard'] {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || count < 1 || count > 1000 || index < 1 || index > count)
    throw new InputError('fuzz-shard', `"${text}" is not I/N with 1 <= I <= N <= 1000`);
  return { index, count };
}

/** The settings of a type given no input of its own; one that needs some is refused. */
function withoutInputs(type: Settings['cacheType']): Settings['cacheSettings'] {
  try {
    return cacheSettingsInputs({}, {}, type, true);
  } catch {
    throw new InputError('fuzz-cache-types', `${type} needs inputs of its own: give it as cache-type`);
  }
}

/**
 * The cache-types the cases take turns with, each checked as cache-type is: a type on a server of its own
 * (s3, gha, azblob) has its settings only as cache-type, so only there; the export options and the
 * releases the images name must suit every type.
 */
function cacheTypes(text: string, settings: Parameters<typeof fuzzInputs>[1]): FuzzSettings['cacheTypes'] {
  const words = list(text);
  if (words.length === 0) return [settings.cacheType];
  const types = [...new Set(words.map((word) => oneOf('fuzz-cache-types', word, CACHE_TYPES)))];
  for (const type of types) {
    const own = type === settings.cacheType ? settings.cacheSettings : withoutInputs(type);
    const problem = backendProblem(type, {
      cacheDir: '',
      createCache: true,
      cacheOptions: settings.cacheOptions,
      own,
    });
    if (problem) throw new InputError('fuzz-cache-types', `${type}: ${problem.input} ${problem.reason}`);
    for (const image of [settings.buildkitImage, settings.cacheBuildkitImage]) {
      const release = versionFromImageTag(image);
      const tooOld = release && releaseProblem(type, release, settings.cacheOptions, 'maker', own);
      if (tooOld) throw new InputError('fuzz-cache-types', tooOld);
    }
  }
  return types;
}
