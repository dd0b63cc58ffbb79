import { inputGiven, inputText, type RawInputs } from './input-table.js';
import type { FuzzSettings, Settings } from './settings-types.js';
import { boolean, integer, InputError, list, oneOf } from './validators.js';
import { CACHE_TYPES } from '../backends/backends.js';

/**
 * The fuzzer's inputs (fuzz-*): undefined when fuzz is false, and then none of them may be given. A fuzz run
 * makes its own Dockerfiles, so it takes no dockerfile or context, and makes its caches, so no earlier one.
 */
export function fuzzInputs(
  raw: RawInputs,
  settings: Pick<Settings, 'cacheType' | 'createCache' | 'cacheContext' | 'cacheDockerfile'>,
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
  const caseText = inputText(raw, 'fuzz-case');
  return {
    seed: integer('fuzz-seed', inputText(raw, 'fuzz-seed'), 0, 2 ** 31 - 1),
    cases: integer('fuzz-cases', inputText(raw, 'fuzz-cases'), 1, 100_000),
    ...(caseText ? { onlyCase: integer('fuzz-case', caseText, 0, 10_000_000) } : {}),
    budgetSeconds: integer('fuzz-budget', inputText(raw, 'fuzz-budget'), 0, 7 * 86_400),
    shard: shard(inputText(raw, 'fuzz-shard')),
    cacheTypes: cacheTypes(inputText(raw, 'fuzz-cache-types'), settings.cacheType),
  };
}

function shard(text: string): FuzzSettings['shard'] {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || count < 1 || count > 1000 || index < 1 || index > count)
    throw new InputError('fuzz-shard', `"${text}" is not I/N with 1 <= I <= N <= 1000`);
  return { index, count };
}

function cacheTypes(text: string, cacheType: Settings['cacheType']): FuzzSettings['cacheTypes'] {
  const words = list(text);
  if (words.length === 0) return [cacheType];
  return [...new Set(words.map((word) => oneOf('fuzz-cache-types', word, CACHE_TYPES)))];
}
