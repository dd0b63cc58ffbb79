import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../inputs/settings.js';
import { type BuiltOutput, outputFileName, readOutput } from '../inspection/output-types.js';
import type { Log } from '../log.js';
import { localCacheDir, referenceOutput } from './cache-build.js';

/*
 * The reference of a cache kept in a cache-dir for a later run (create-cache: false): the image the build
 * that made the cache wrote, and the release that built it. A reference built again later, without a cache,
 * is not the same image: a step that runs writes new timestamps, so its layers get new diff_ids.
 */

/** The reference every attempt is held to. */
export interface Reference {
  output: BuiltOutput;
  /** The release that built it ('' when not known). */
  buildkitVersion: string;
  /**
   * Built again now, without a cache, because the cache came without its own: its layers are not the
   * cache's, so outputs are compared by their files, and config and history not at all.
   */
  rebuilt: boolean;
}

const BASE = 'lost-layer-reference';

interface SavedFacts {
  buildkitVersion: string;
  outputType: string;
}

/** Keeps the reference beside a cache that outlives the run (cache-type local with a cache-dir). */
export function saveReference(
  settings: Pick<Settings, 'cacheType' | 'cacheDir' | 'outputType'>,
  workDir: string,
  buildkitVersion: string,
  log: Log,
): void {
  if (settings.cacheType !== 'local' || !settings.cacheDir) return;
  const dir = localCacheDir(settings, workDir);
  fs.copyFileSync(
    referenceOutput(workDir, settings.outputType),
    path.join(dir, outputFileName(BASE, settings.outputType)),
  );
  const facts: SavedFacts = { buildkitVersion, outputType: settings.outputType };
  fs.writeFileSync(path.join(dir, `${BASE}.json`), `${JSON.stringify(facts)}\n`);
  log.info(`reference kept beside the cache in ${dir}, for runs that import it later`);
}

/** The reference an earlier run kept beside its cache, of this output type; undefined when there is none. */
export async function savedReference(
  settings: Pick<Settings, 'cacheDir' | 'outputType'>,
  workDir: string,
): Promise<Reference | undefined> {
  const dir = localCacheDir(settings, workDir);
  const factsFile = path.join(dir, `${BASE}.json`);
  const output = path.join(dir, outputFileName(BASE, settings.outputType));
  if (!fs.existsSync(factsFile) || !fs.existsSync(output)) return undefined;
  const facts = JSON.parse(fs.readFileSync(factsFile, 'utf8')) as Partial<SavedFacts>;
  if (facts.outputType !== settings.outputType) return undefined;
  return {
    output: await readOutput(output, settings.outputType),
    buildkitVersion: typeof facts.buildkitVersion === 'string' ? facts.buildkitVersion : '',
    rebuilt: false,
  };
}
