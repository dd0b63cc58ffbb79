import { inputText, type RawInputs } from './input-table.js';
import { InputError } from './validators.js';
import { type RegistryCacheSettings, splitReference } from '../backends/backends.js';

/**
 * cache-ref: a registry cache a pipeline made, with the login to read it (username and password, else the
 * runner's Docker login, which buildctl reads as docker/build-push-action's builders do).
 */
export function registryCacheInputs(raw: RawInputs): RegistryCacheSettings | undefined {
  const ref = inputText(raw, 'cache-ref');
  const username = inputText(raw, 'cache-username');
  const password = inputText(raw, 'cache-password');
  if (!ref) {
    const given = username ? 'cache-username' : password ? 'cache-password' : undefined;
    if (given) throw new InputError(given, 'is the login for cache-ref, which is not given');
    return undefined;
  }
  if (!splitReference(ref)) {
    throw new InputError(
      'cache-ref',
      `"${ref}" is not REGISTRY/REPOSITORY:TAG with the registry named (ghcr.io/org/app:buildcache, 127.0.0.1:5000/cache:main)`,
    );
  }
  if (Boolean(username) !== Boolean(password)) {
    throw new InputError(
      username ? 'cache-password' : 'cache-username',
      'give cache-username and cache-password together',
    );
  }
  return { ref, username, password };
}
