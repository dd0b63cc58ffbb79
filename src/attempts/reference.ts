import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../inputs/settings.js';
import {
  type BuiltOutput,
  outputFileName,
  readOutput,
  type ReferenceKind,
} from '../inspection/output-types.js';
import type { Log } from '../log.js';
import { referenceOutput } from './cache-build.js';
import { CACHE_BACKENDS } from '../backends/backends.js';

/*
 * The reference of a cache kept in a cache-dir for a later run (create-cache: false): the image the build
 * that made the cache wrote, the release that built it, and a digest of the Dockerfile and context it was
 * built from. A reference built again later, without a cache, is not the same image: a step that runs
 * writes new timestamps, so its layers get new diff_ids. A kept reference is trusted as far as the
 * cache-dir is: whoever can change the cache there can change it too.
 */

/** The reference every attempt is held to. */
export interface Reference {
  output: BuiltOutput;
  /** The release that built it ('' when not known). */
  buildkitVersion: string;
  /**
   * The build that made the cache; or built again now without a cache, because the cache came without its
   * own (`rebuilt`) or was made from other inputs (`other-inputs`): see ReferenceKind.
   */
  kind: ReferenceKind;
}

const BASE = 'lost-layer-reference';

interface SavedFacts {
  buildkitVersion: string;
  outputType: string;
  /** inputsDigest of the build that wrote it. */
  inputs: string;
}

/** Files of the reference kept in a cache-dir. */
function savedFiles(dir: string, outputType: Settings['outputType']) {
  return { facts: path.join(dir, `${BASE}.json`), output: path.join(dir, outputFileName(BASE, outputType)) };
}

/** Removes a kept reference before the cache it belonged to is made again: it would be another build's. */
export function forgetReference(settings: Pick<Settings, 'cacheType' | 'cacheDir'>): void {
  const dir = CACHE_BACKENDS[settings.cacheType].keptDir(settings);
  if (dir === undefined || !fs.existsSync(dir)) return;
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith(`${BASE}.`)))
    fs.rmSync(path.join(dir, file));
}

/**
 * The Dockerfile and every file of the context (path, bytes, link target), as one sha256: a reference
 * kept for other inputs is no reference for these.
 */
export function inputsDigest(settings: Pick<Settings, 'dockerfile' | 'context'>): string {
  const hash = createHash('sha256').update(fs.readFileSync(settings.dockerfile));
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relative = `${prefix}${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, `${relative}/`);
      else if (entry.isSymbolicLink()) hash.update(`\0l ${relative} ${fs.readlinkSync(full)}`);
      else hash.update(`\0f ${relative} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`);
    }
  };
  walk(settings.context, '');
  return `sha256:${hash.digest('hex')}`;
}

/** Keeps the reference beside a cache that outlives the run (cache-type local with a cache-dir). */
export function saveReference(
  settings: Pick<Settings, 'cacheType' | 'cacheDir' | 'outputType' | 'dockerfile' | 'context'>,
  workDir: string,
  buildkitVersion: string,
  log: Log,
): void {
  const dir = CACHE_BACKENDS[settings.cacheType].keptDir(settings);
  if (dir === undefined) return;
  const files = savedFiles(dir, settings.outputType);
  fs.copyFileSync(referenceOutput(workDir, settings.outputType), files.output);
  const facts: SavedFacts = {
    buildkitVersion,
    outputType: settings.outputType,
    inputs: inputsDigest(settings),
  };
  fs.writeFileSync(files.facts, `${JSON.stringify(facts)}\n`);
  log.info(`reference kept beside the cache in ${dir}, for runs that import it later`);
}

/**
 * The reference an earlier run kept beside its cache, of this output type and these inputs; or why there
 * is none to use.
 */
export async function savedReference(
  settings: Pick<Settings, 'cacheType' | 'cacheDir' | 'outputType' | 'dockerfile' | 'context'>,
): Promise<Reference | string> {
  const dir = CACHE_BACKENDS[settings.cacheType].keptDir(settings);
  if (dir === undefined) return `a ${settings.cacheType} cache keeps no reference`;
  const files = savedFiles(dir, settings.outputType);
  if (!fs.existsSync(files.facts) || !fs.existsSync(files.output))
    return `the cache-dir holds no reference of a ${settings.outputType} output`;
  const facts = JSON.parse(fs.readFileSync(files.facts, 'utf8')) as Partial<SavedFacts>;
  if (facts.outputType !== settings.outputType)
    return `its kept reference is a ${String(facts.outputType)} output`;
  if (facts.inputs !== inputsDigest(settings))
    return 'its kept reference was built from another Dockerfile or context';
  return {
    output: await readOutput(files.output, settings.outputType),
    buildkitVersion: typeof facts.buildkitVersion === 'string' ? facts.buildkitVersion : '',
    kind: 'cache-build',
  };
}

/** What the reference is (see ReferenceKind): the cache's own build, or one of other inputs or made later. */
export function referenceKindOf(
  settings: Pick<Settings, 'createCache' | 'cacheContext' | 'cacheDockerfile'>,
): ReferenceKind {
  if (!settings.createCache) return 'rebuilt';
  return settings.cacheContext || settings.cacheDockerfile ? 'other-inputs' : 'cache-build';
}
