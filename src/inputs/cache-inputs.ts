import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheSettingsInputs } from './backend-inputs.js';
import { type InputName, inputText, type RawInputs } from './input-table.js';
import type { Settings } from './settings-types.js';
import { boolean, InputError, oneOf, versionFromImageTag } from './validators.js';
import {
  backendProblem,
  CACHE_BACKENDS,
  CACHE_OPTION_NAMES,
  CACHE_OPTIONS,
  CACHE_TYPES,
  type CacheOptions,
  releaseProblem,
} from '../backends/backends.js';

type Part<K extends keyof Settings> = Pick<Settings, K>;

/**
 * Where the cache goes (its backend, checked against the releases the images name), and whether this run
 * makes it.
 */
export function cacheInputs(
  raw: RawInputs,
  cacheDir: string,
  images: Pick<Settings, 'buildkitImage' | 'cacheBuildkitImage'>,
  environment: RawInputs,
): Part<'cacheType' | 'cacheDir' | 'createCache' | 'cacheOptions' | 'cacheSettings'> {
  const cacheType = oneOf('cache-type', inputText(raw, 'cache-type'), CACHE_TYPES);
  const createCache = boolean('create-cache', inputText(raw, 'create-cache'));
  const cacheOptions = cacheExportOptions(raw);
  const cacheSettings = cacheSettingsInputs(raw, environment, cacheType, createCache);
  const problem = backendProblem(cacheType, { cacheDir, createCache, cacheOptions, own: cacheSettings });
  if (problem) throw new InputError(problem.input, problem.reason);
  const kept = CACHE_BACKENDS[cacheType].keptDir({ cacheDir });
  if (!createCache && kept !== undefined && !fs.existsSync(path.join(kept, 'index.json'))) {
    throw new InputError('cache-dir', `${kept} holds no cache (no index.json) and create-cache is false`);
  }
  // An image whose tag names a release is checked now; any other once its daemon says: the cache maker for
  // every export option, the importer for the caches only newer releases read.
  const checks = [
    ['cache-buildkit-image', images.cacheBuildkitImage, 'maker'],
    ['buildkit-image', images.buildkitImage, 'importer'],
  ] as const;
  for (const [input, image, role] of checks) {
    const release = versionFromImageTag(image);
    const tooOld = release && releaseProblem(cacheType, release, cacheOptions, role, cacheSettings);
    if (tooOld) throw new InputError(input, tooOld);
  }
  return { cacheType, cacheDir, createCache, cacheOptions, cacheSettings };
}

/** The cache export options given, each one of its words; one left empty is left out. */
function cacheExportOptions(raw: RawInputs): CacheOptions {
  const options: CacheOptions = {};
  for (const name of CACHE_OPTION_NAMES) {
    const { input, values } = CACHE_OPTIONS[name];
    const text = inputText(raw, input as InputName);
    if (text !== '') options[name] = oneOf(input, text, values);
  }
  return options;
}
