import * as semver from 'semver';

/**
 * The verdict a release of the ladder gives with the bundled Dockerfile and its own cache when it does not
 * lose a layer: v0.9.x shifts the history's empty_layer marks on every cache import (BuildKit's own bug,
 * gone in v0.10.0 when empty layers stopped being dropped), so its images differ from the reference in
 * their config; later releases give the reference itself.
 */
export function verdictWithoutLoss(version: string): 'config-differs' | 'clean' {
  return semver.lt(version, '0.10.0') ? 'config-differs' : 'clean';
}
