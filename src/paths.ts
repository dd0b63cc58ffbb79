import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The seed's reproduction shipped with us: fixtures/repro, found upward from this module (src/ or dist/). */
export function bundledRepro(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'fixtures', 'repro');
    if (fs.existsSync(path.join(candidate, 'Dockerfile'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`fixtures/repro not found above ${from}`);
  }
}

/** A short id that names this run's containers, volumes and network. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

export function runWorkDir(tempRoot: string, runId: string): string {
  return path.join(tempRoot, `lost-layer-${runId}`);
}
